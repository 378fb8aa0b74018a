"""The server's start-up warm-up (app.py): the first page run after a start finds the interface
strings, the rubric, the scenarios and their line banks already parsed, in the same process-wide
caches the pages read."""

from __future__ import annotations

import streamlit as st

from simulator import scenario
from ui import context, i18n


def test_warm_up_fills_the_caches_the_pages_read(monkeypatch):
    st.cache_resource.clear()
    i18n._strings.cache_clear()
    built = []
    original = scenario.ScenarioLibrary.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(scenario.ScenarioLibrary, "__init__", counting_init)
    context.warm_up()
    assert i18n._strings.cache_info().currsize == 1
    assert len(built) == 1
    library, rubric = context._builtin_library(), context.rubric()  # what a page run asks for
    assert len(built) == 1, "the page parsed the scenarios again"
    assert library.ids() and rubric is context.rubric()
