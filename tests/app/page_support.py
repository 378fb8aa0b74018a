"""Helpers shared by the AppTest page tests (tests/app, tests/security): opening a page the way
an address bar does, and reading back what it rendered."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from simulator.session import InputError, validate_turn_text
from ui.i18n import translate

TEXT_KINDS = ("title", "subheader", "markdown", "caption", "error", "warning", "info", "success")


def tr(key: str, lang: str = "en", **values) -> str:
    return translate(key, lang, **values)


def refusal(text: str) -> str:
    """The service's own message for a refused trainee turn."""
    with pytest.raises(InputError) as refused:
        validate_turn_text(text)
    return str(refused.value)


def open_page(at: AppTest, page: str, **params: str) -> AppTest:
    """What typing ``/<page>?<params>`` into the address bar does (signed in already)."""
    at.run()  # registers the pages of st.navigation
    at.query_params.clear()
    at.query_params.update(params)
    return at.switch_page(page).run()


def unescape(markdown: str) -> str:
    """The text of Markdown written with ui.context.escape_md."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def raw_texts(at: AppTest) -> str:
    """The Markdown source of every title, subheader, markdown, caption and alert, one per line."""
    return "\n".join(str(e.value) for kind in TEXT_KINDS for e in getattr(at, kind))


def texts(at: AppTest) -> str:
    """:func:`raw_texts` with escape_md's backslashes removed."""
    return unescape(raw_texts(at))


def chat(at: AppTest) -> list[tuple[str, str]]:
    """(name, text) of every chat message on the page."""
    return [(m.name, unescape(" ".join(str(e.value) for e in m.markdown))) for m in at.chat_message]


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """What clicking the tab ``label`` of the ``st.tabs(key=key, on_change="rerun")`` does."""
    at.session_state[key] = label
    return at.run()
