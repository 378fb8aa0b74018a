"""The two HTTP routes that set and clear the sign-in cookie (served by ``app.py``'s ``st.App``).

A Streamlit script cannot set an ``HttpOnly`` cookie (it only talks over the websocket), so the
signed-in page posts its one-time hand-off code here (see :mod:`simulator.signins`):

``POST /_tenang/session``   form field ``code`` -> 204 and ``Set-Cookie: tenang_session=...;
                            HttpOnly; SameSite=Lax; Max-Age=<absolute expiry>`` (``Secure`` over
                            HTTPS), or 403 for a bad, used or expired code.
``POST /_tenang/sign-out``  revokes the cookie's sign-in and deletes the cookie.

Both refuse a request whose ``Origin`` is another site. Behind ``server.baseUrlPath`` (say
``tenang``) the routes are ``/tenang/_tenang/...`` and the cookie's ``Path`` is ``/tenang``: st.App
mounts its own routes under that path but not ours, so :func:`url` adds it. This runs in the
server, outside any script run: of Streamlit it reads only the configuration.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.config import load_settings
from simulator.signins import COOKIE_NAME, Policy, SignIns, shared_secret
from simulator.store.db import open_repository

SESSION_PATH = "/_tenang/session"
SIGN_OUT_PATH = "/_tenang/sign-out"


def base_path() -> str:
    """Streamlit's ``server.baseUrlPath`` as a path prefix: "" (served at /) or "/tenang"."""
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def url(path: str) -> str:
    """Where the browser reaches one of our routes (``SESSION_PATH``, ``SIGN_OUT_PATH``)."""
    return base_path() + path


def cookie_path() -> str:
    """The sign-in cookie's ``Path``: the app's own, so it is sent to the app and its routes only."""
    return base_path() or "/"


@lru_cache(maxsize=4)
def _signins(url: str) -> SignIns:
    return build_signins(open_repository(url))


def build_signins(repo) -> SignIns:
    """The sign-in service on ``repo`` with the configured key and expiry (also used by the app)."""
    settings = load_settings()
    configured = settings.session_secret.get_secret_value() if settings.session_secret else None
    policy = Policy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    return SignIns(repo, shared_secret(repo, configured), policy)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not sent by every browser for same-origin requests
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


async def set_session(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    form = await request.form()
    code = str(form.get("code") or "")
    signins = _signins(load_settings().database_url)
    cookie = await run_in_threadpool(signins.redeem, code) if code else None
    if cookie is None:
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=signins.cookie_max_age,
        path=cookie_path(),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


async def sign_out(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    signins = _signins(load_settings().database_url)
    await run_in_threadpool(signins.revoke_cookie, request.cookies.get(COOKIE_NAME))
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE_NAME, path=cookie_path(), httponly=True, samesite="lax", secure=_secure(request))
    return response


def routes() -> list[Route]:
    return [
        Route(url(SESSION_PATH), set_session, methods=["POST"]),
        Route(url(SIGN_OUT_PATH), sign_out, methods=["POST"]),
    ]
