"""Serve Tenang: ``streamlit run app.py`` (what ``make run`` and the Docker image do).

``streamlit_app.py`` is the app itself; this file adds the two routes that set and clear the
HttpOnly sign-in cookie (``ui/cookie_routes.py``), which a Streamlit script alone cannot do, and
starts the warm-up (``ui.context.start_warm_up``). Started as ``streamlit run streamlit_app.py``
the app still works, but a reload asks for the password again, and the first turn and page after
a start load what they need themselves.
"""

import streamlit as st

from ui import context
from ui.cookie_routes import routes

context.start_warm_up()
app = st.App("streamlit_app.py", routes=routes())
