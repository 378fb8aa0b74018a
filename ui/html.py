"""The only place the app writes raw HTML (``st.html``): a few fixed pieces that no user or
scenario text ever reaches. Every value put into the markup is a number, a constant, an
interface string passed through ``html.escape``, or JSON (``json.dumps``) inside a script.

- :func:`post_to`  a script that POSTs form fields to one of our own routes (the sign-in
  cookie hand-off, the cookie's deletion on sign-out); see ui/cookie_routes.py.
- :func:`sticky`   CSS that keeps one keyed container in sight while the page scrolls.
- :func:`hidden`   CSS that keeps one keyed container out of sight (and out of the layout).
- :func:`scroll_to_message` a script that brings one chat message to the top of the view.
- :func:`mood_bar` a bar coloured by what the value means, with the meaning in words.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

import streamlit as st

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies): good, so-so, bad.
LEVEL_COLOURS = {"good": "#0072B2", "mid": "#E69F00", "bad": "#D55E00"}


def post_to(path: str, fields: dict[str, str]) -> None:
    body = urlencode(fields)  # only [A-Za-z0-9%._~+-]: cannot close the script element
    script = (
        "<script>fetch(" + json.dumps(path) + ", {method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: " + json.dumps(body) + "});</script>"
    )
    st.html(script, unsafe_allow_javascript=True)


def sticky(key: str, top_rem: float = 3.75) -> None:
    """Keep ``st.container(key=key)`` in sight while the page scrolls (wide screens).

    A sticky box moves only inside its parent. Streamlit (1.67) wraps every container in a
    ``stLayoutWrapper`` exactly as tall as the container, so the wrapper is what must stick
    (inside the tall column); the container itself sticks where it has no such wrapper.
    tests/e2e/test_browser.py checks the result in Chromium.
    """
    st.html(
        f"<style>{_container(key)}{{position:sticky;top:{float(top_rem)}rem;align-self:flex-start;z-index:2;"
        "background:var(--background-color, #fff)}</style>"
    )


def hidden(key: str) -> None:
    """Keep ``st.container(key=key)`` and its wrapper out of sight; what is inside still loads."""
    st.html(f"<style>{_container(key)}{{display:none}}</style>")


def scroll_to_message(index: int) -> None:
    """Bring chat message number ``index`` (in page order, from 0) to the top of the view, below
    the app's header: the trainee's last turn, so the customer's answer follows it in sight. On a
    phone the page would otherwise stay where it was, the answer hidden below the chat input. The
    index is part of the script, so each new turn mounts (and runs) a new one."""
    selector = json.dumps('[data-testid="stChatMessage"]')
    st.html(
        "<style>[data-testid=\"stChatMessage\"]{scroll-margin-top:4rem}</style>"
        f"<script>requestAnimationFrame(() => {{const m = document.querySelectorAll({selector})[{int(index)}];"
        " if (m) m.scrollIntoView({block: 'start'});});</script>",
        unsafe_allow_javascript=True,
    )


def _container(key: str) -> str:
    """The CSS selector of ``st.container(key=key)`` and of the wrapper Streamlit puts around it."""
    if not key.replace("_", "").isalnum():
        raise ValueError(f"not a plain widget key: {key!r}")
    return f'.st-key-{key}, [data-testid="stLayoutWrapper"]:has(> .st-key-{key})'


def level(value: float, higher_is_better: bool) -> str:
    """good / mid / bad for a 0-10 value (high anger is bad, high trust is good)."""
    goodness = value if higher_is_better else 10 - value
    return "good" if goodness >= 6 else "mid" if goodness >= 3.5 else "bad"


def mood_bar(value: float, higher_is_better: bool, words: dict[str, str]) -> None:
    """A 0-10 bar, coloured and labelled (``words[level]``) by what the value means."""
    name = level(float(value), higher_is_better)
    width = min(max(float(value) / 10, 0.0), 1.0) * 100
    colour = LEVEL_COLOURS[name]
    st.html(
        f'<div class="tenang-mood-bar" data-level="{name}" style="display:flex;align-items:center;gap:.5rem">'
        f'<div style="flex:1;height:.6rem;border-radius:.3rem;background:#e5e7eb">'
        f'<div style="width:{width:.0f}%;height:100%;border-radius:.3rem;background:{colour}"></div></div>'
        f'<span style="font-size:.8rem;color:{colour};font-weight:600">{html.escape(words[name])}</span></div>'
    )
