"""Serve Tenang: ``streamlit run app.py`` (what ``make run`` and the Docker image do).

``streamlit_app.py`` is the app itself; this file adds the two routes that set and clear the
HttpOnly sign-in cookie (``ui/cookie_routes.py``), which a Streamlit script alone cannot do.
Started as ``streamlit run streamlit_app.py`` the app still works, but a reload asks for the
password again (and the first turn of each language waits for the warm-up below).
"""

import logging
import threading

import streamlit as st

from simulator.session import warm_up
from ui import context
from ui.cookie_routes import routes


def _warm_up() -> None:
    """Best effort, in the background while the server starts: a failure only means the first
    turn or page loads what it needs itself."""
    try:
        warm_up()
        context.warm_up()
    except Exception:  # noqa: BLE001
        logging.getLogger("tenang").warning("warm-up failed; the first turn will load the analyser", exc_info=True)


threading.Thread(target=_warm_up, name="tenang-warm-up", daemon=True).start()
app = st.App("streamlit_app.py", routes=routes())
