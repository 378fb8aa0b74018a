"""Item 2: session ids are not guessable: >= 128 bits from ``secrets``, never chosen by the caller."""

from __future__ import annotations

import base64
import inspect
import re

import pytest

from simulator.store import repository as repository_module

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def _new(repo, **extra):
    return repo.create_session(scenario_id="water-bill-surge", lang="en", engine="scripted", **extra)


def test_session_ids_are_long_random_and_unique(repo):
    ids = [_new(repo).id for _ in range(400)]
    assert len(set(ids)) == len(ids)
    for sid in ids:
        assert URLSAFE.match(sid), sid
        raw = base64.urlsafe_b64decode(sid + "=" * (-len(sid) % 4))
        assert len(raw) * 8 >= 128, sid
    # no shared prefix or counter: the first characters vary across ids
    assert len({sid[:4] for sid in ids}) > 300


def test_session_ids_come_from_the_secrets_module(repo, monkeypatch):
    calls = []

    def fake_token(nbytes=None):
        calls.append(nbytes)
        return f"from-secrets-{len(calls)}"

    monkeypatch.setattr(repository_module.secrets, "token_urlsafe", fake_token)
    record = _new(repo)
    assert record.id == "from-secrets-1"
    assert calls == [16] or (calls and calls[0] >= 16)


def test_create_session_does_not_accept_a_caller_chosen_id(repo):
    params = inspect.signature(repo.create_session).parameters
    assert not {"id", "session_id"} & set(params)
    with pytest.raises(TypeError):
        _new(repo, id="chosen-by-the-caller")
    with pytest.raises(TypeError):
        _new(repo, session_id="chosen-by-the-caller")
