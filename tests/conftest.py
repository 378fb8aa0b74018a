"""Shared fixtures.

``db_url``  a fresh, empty (unmigrated) database URL for one test: a SQLite file in tmp_path, or,
            when ``TENANG_TEST_DATABASE_URL`` is set (a PostgreSQL URL), a fresh schema on that
            server (selected through ``search_path``; dropped after the test).
``engine``  ``make_engine(db_url)``, migrated to head; disposed after the test.
``repo``    a :class:`simulator.store.Repository` on ``engine``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from simulator.store import Repository, make_engine, migrate
from tests.pg_schema import fresh_schema

TEST_DATABASE_ENV = "TENANG_TEST_DATABASE_URL"


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get(TEST_DATABASE_ENV, "").strip()
    if not server:
        yield f"sqlite:///{tmp_path / 'tenang.db'}"
        return
    with fresh_schema(server, prefix="tenang_test") as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def repo(engine: Engine) -> Repository:
    return Repository(engine)
