"""Sign-ins that survive a reload, a link and a new tab: the ``tenang_session`` cookie.

Flow (no Streamlit here; the app shell and ``ui/cookie_routes.py`` call these):

1. The password is checked in the app; :meth:`SignIns.start` records a sign-in and returns a
   one-time hand-off code (random, signed, valid :data:`HANDOFF_MAX_AGE` seconds).
2. The page posts that code to ``/_tenang/session`` (same origin); :meth:`SignIns.redeem` turns it
   into a fresh random token exactly once, and the route sets it as a signed, expiring,
   ``HttpOnly``, ``SameSite=Lax`` cookie. The token itself never appears in the page.
3. Every new browser session (reload, link, new tab) sends the cookie with its websocket;
   :meth:`SignIns.resolve` checks the signature, the absolute and idle expiry, the revocation and
   that the user is still active.

Signing uses itsdangerous (maintained, the Pallets project's signed-token library) with the key
``TENANG_SESSION_SECRET``, or a random key generated once and kept in the database so every
replica shares it. Only SHA-256 hashes of codes and tokens are stored. A sign-in is revoked on
sign-out, on a password change and when an admin disables the user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from simulator.store.models import AppSecret, SignIn, User
from simulator.store.repository import Repository

COOKIE_NAME = "tenang_session"
HANDOFF_MAX_AGE = 120  # seconds between the password check and the browser redeeming the code
TOUCH_EVERY = timedelta(minutes=1)  # last-seen is written at most this often
_SECRET_NAME = "session_signing_key"


@dataclass(frozen=True)
class Policy:
    idle: timedelta = timedelta(minutes=480)
    absolute: timedelta = timedelta(hours=168)


@dataclass(frozen=True)
class Pending:
    sign_in_id: int
    code: str


@dataclass(frozen=True)
class Resolved:
    sign_in_id: int
    user_id: int


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def shared_secret(repo: Repository, configured: str | None = None) -> str:
    """``configured`` when given, else the generated key stored in the database (made once)."""
    if configured:
        return configured
    with repo._read() as session:
        value = session.scalar(select(AppSecret.value).where(AppSecret.name == _SECRET_NAME))
    if value:
        return value
    try:
        with repo._write() as session:
            session.add(AppSecret(name=_SECRET_NAME, value=secrets.token_urlsafe(48)))
    except IntegrityError:  # another replica made it first
        pass
    with repo._read() as session:
        return session.scalar(select(AppSecret.value).where(AppSecret.name == _SECRET_NAME))


class SignIns:
    def __init__(self, repo: Repository, secret: str, policy: Policy | None = None) -> None:
        self.repo = repo
        self.policy = policy or Policy()
        self._cookies = URLSafeTimedSerializer(secret, salt="tenang-session-cookie")
        self._handoffs = URLSafeTimedSerializer(secret, salt="tenang-session-handoff")

    @property
    def cookie_max_age(self) -> int:
        return int(self.policy.absolute.total_seconds())

    # -- sign in

    def start(self, user_id: int, now: datetime | None = None) -> Pending:
        """Record a sign-in of ``user_id`` (password already checked); the one-time code."""
        now = now or datetime.now(UTC)
        nonce = secrets.token_urlsafe(32)
        with self.repo._write() as session:
            row = SignIn(user_id=user_id, handoff_hash=_hash(nonce), created_at=now, last_seen_at=now)
            session.add(row)
            session.flush()
            sign_in_id = row.id
        return Pending(sign_in_id, self._handoffs.dumps(nonce))

    def redeem(self, code: str, now: datetime | None = None) -> str | None:
        """The signed cookie value for a valid, unused hand-off code; None otherwise."""
        try:
            nonce = self._handoffs.loads(code, max_age=HANDOFF_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(nonce, str):
            return None
        now = now or datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        with self.repo._write() as session:
            row = session.scalar(select(SignIn).where(SignIn.handoff_hash == _hash(nonce)))
            if row is None or row.revoked_at is not None or row.token_hash is not None:
                return None
            if now - _aware(row.created_at) > timedelta(seconds=HANDOFF_MAX_AGE):
                return None
            row.handoff_hash = None  # single use
            row.token_hash = _hash(token)
        return self._cookies.dumps(token)

    def redeemed(self, sign_in_id: int) -> bool:
        with self.repo._read() as session:
            return bool(session.scalar(select(SignIn.token_hash).where(SignIn.id == sign_in_id)))

    # -- every new browser session

    def resolve(self, cookie: str | None, now: datetime | None = None) -> Resolved | None:
        """Who the cookie signs in, or None (bad signature, expired, revoked, user disabled)."""
        if not cookie:
            return None
        try:
            token = self._cookies.loads(cookie, max_age=self.cookie_max_age)
        except BadSignature:
            return None
        if not isinstance(token, str):
            return None
        with self.repo._read() as session:
            row = session.scalar(select(SignIn).where(SignIn.token_hash == _hash(token)))
            found = Resolved(row.id, row.user_id) if row is not None else None
        if found is None or not self.still_valid(found.sign_in_id, now):
            return None
        return found

    def still_valid(self, sign_in_id: int, now: datetime | None = None) -> bool:
        """Not revoked, within the idle and absolute limits, user active; notes the activity."""
        now = now or datetime.now(UTC)
        with self.repo._write() as session:
            row = session.get(SignIn, sign_in_id)
            if row is None or row.revoked_at is not None:
                return False
            user = session.get(User, row.user_id)
            expired = (
                now - _aware(row.created_at) > self.policy.absolute
                or now - _aware(row.last_seen_at) > self.policy.idle
            )
            if user is None or not user.active or expired:
                if expired:
                    row.revoked_at = now
                return False
            if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
                row.last_seen_at = now
            return True

    # -- revoke

    def revoke(self, sign_in_id: int, now: datetime | None = None) -> None:
        with self.repo._write() as session:
            session.execute(
                update(SignIn)
                .where(SignIn.id == sign_in_id, SignIn.revoked_at.is_(None))
                .values(revoked_at=now or datetime.now(UTC))
            )

    def revoke_cookie(self, cookie: str | None) -> None:
        """Revoke whatever sign-in ``cookie`` belongs to (the sign-out route)."""
        if not cookie:
            return
        try:
            token = self._cookies.loads(cookie)
        except BadSignature:
            return
        if isinstance(token, str):
            with self.repo._write() as session:
                session.execute(
                    update(SignIn)
                    .where(SignIn.token_hash == _hash(token), SignIn.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC))
                )


def revoke_user(repo: Repository, user_id: int, now: datetime | None = None) -> None:
    """End every sign-in of ``user_id`` (password changed, account disabled)."""
    with repo._write() as session:
        session.execute(
            update(SignIn)
            .where(SignIn.user_id == user_id, SignIn.revoked_at.is_(None))
            .values(revoked_at=now or datetime.now(UTC))
        )
