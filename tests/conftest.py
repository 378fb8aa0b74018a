"""Shared fixtures.

``db_url``  a fresh, empty (unmigrated) database URL for one test: a SQLite file in tmp_path, or,
            when ``TENANG_TEST_DATABASE_URL`` is set (a PostgreSQL URL), a fresh schema on that
            server (selected through ``search_path``; dropped after the test).
``engine``  ``make_engine(db_url)``, migrated to head; disposed after the test.
``repo``    a :class:`simulator.store.Repository` on ``engine``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from simulator.store import Repository, make_engine, migrate

TEST_DATABASE_ENV = "TENANG_TEST_DATABASE_URL"


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get(TEST_DATABASE_ENV, "").strip()
    if not server:
        yield f"sqlite:///{tmp_path / 'tenang.db'}"
        return
    schema = f"tenang_test_{secrets.token_hex(6)}"
    admin = create_engine(server)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(server)
        options = " ".join(filter(None, [url.query.get("options"), f"-csearch_path={schema}"]))
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


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
