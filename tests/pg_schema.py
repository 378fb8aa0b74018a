"""A fresh, empty schema on a PostgreSQL server, selected through ``search_path`` and dropped
afterwards. Used by tests/conftest.py's ``db_url`` fixture and by bench/load.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def fresh_schema(server_url: str, prefix: str = "tenang_test") -> Iterator[str]:
    """A URL for a new, empty schema ``<prefix>_<random>`` on the server at ``server_url``."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(server_url)
        options = " ".join(filter(None, [url.query.get("options"), f"-csearch_path={schema}"]))
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
