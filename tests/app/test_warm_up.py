"""The server's start-up warm-up (app.py): the first page run after a start finds the interface
strings, the rubric, the scenarios and their line banks already parsed, in the same process-wide
caches the pages read."""

from __future__ import annotations

import threading
import time

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



def test_a_page_run_waits_for_the_warm_up_and_never_runs_beside_it(monkeypatch):
    """Two threads importing one package at once can see it half initialised: the shell holds its
    run until the warm-up is done."""
    release = threading.Event()
    finished = []
    monkeypatch.setattr(context, "warm_up_session", lambda: release.wait(10))
    monkeypatch.setattr(context, "warm_up", lambda: finished.append(True))
    monkeypatch.setattr(context, "_warmed", threading.Event())
    monkeypatch.setattr(context, "_warm_up_thread", None)  # restored afterwards
    context.start_warm_up()
    page_run = threading.Thread(target=context.wait_for_warm_up)
    page_run.start()
    page_run.join(0.3)
    assert page_run.is_alive(), "the page run did not wait for the warm-up"
    release.set()
    page_run.join(10)
    assert not page_run.is_alive() and finished


def test_without_a_warm_up_a_page_run_does_not_wait(monkeypatch):
    """``streamlit run streamlit_app.py`` starts no warm-up: nothing to wait for."""
    monkeypatch.setattr(context, "_warm_up_thread", None)
    monkeypatch.setattr(context, "_warmed", threading.Event())
    started = time.monotonic()
    context.wait_for_warm_up(timeout=5)
    assert time.monotonic() - started < 1
