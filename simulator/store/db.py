"""Engines and migrations.

``make_engine(url)``      an Engine configured for concurrent use (SQLite: WAL, foreign keys,
                          busy timeout, explicit transactions; PostgreSQL: pre-ping, connect
                          timeout, and plain ``postgresql://`` URLs use the psycopg 3 driver).
``migrate(engine)``       upgrade the schema to the newest Alembic revision. Idempotent and safe
                          to call at every start-up, also from several processes at once.
``open_repository(url)``  both, returning a :class:`Repository`.

Migrations live in ``simulator/store/migrations`` and are driven programmatically (no
alembic.ini). To write a new revision after changing ``models.py``::

    from alembic import command
    from simulator.store.db import alembic_config
    command.revision(alembic_config(url="sqlite:///data/tenang.db"), message="...", autogenerate=True)

How SQLite transactions work here: the ``sqlite3`` driver's own (legacy) BEGIN handling is
switched off and SQLAlchemy emits ``BEGIN`` itself, so reads, writes and DDL are properly
transactional. Write transactions opened with the ``IMMEDIATE`` execution option (see
:data:`IMMEDIATE`) start with ``BEGIN IMMEDIATE``: they take SQLite's single write lock up front
(waiting up to the busy timeout), so a read-then-write sequence such as "next turn index" cannot
interleave with another writer, in this process or another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from alembic.config import Config

    from simulator.store.repository import Repository

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest migration's revision. Start-up compares the database with it in plain SQL, so a
#: process whose schema is current never imports Alembic (0.4 s of every CLI call). A test checks
#: it against the migrations directory: a new migration must update it.
HEAD_REVISION = "0110_session_summary"
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
#: Execution option: on SQLite, begin this transaction with BEGIN IMMEDIATE (take the write lock).
IMMEDIATE = "tenang_sqlite_immediate"


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A short ORM session for reads; objects stay usable after it closes."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A write transaction, committed on success. SQLite: BEGIN IMMEDIATE (see ``make_engine``)."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={IMMEDIATE: True})
        yield session
        session.commit()
# Arbitrary constant key for the PostgreSQL advisory lock that serialises migrations.
_PG_MIGRATION_LOCK = 0x7E4A4E47
# Alembic's `context` proxy is module-global: two threads must not run env.py at once.
_migrate_lock = threading.Lock()


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:") or url.query.get("uri"):
        return None
    return Path(database)


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An Engine for ``url``. For a SQLite file, its parent folder is created when missing."""
    url = make_url(url)
    if url.drivername in ("postgres", "postgresql"):  # plain URLs as hosting providers hand them out
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite":
        connect_args = {}
        if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
            # An unreachable server fails fast (and the session service retries) instead of hanging.
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)

    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # SQLAlchemy, not the driver, emits BEGIN (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                cursor.execute("PRAGMA journal_mode = WAL")  # persistent; a no-op once set
                cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster commits
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """An Alembic Config pointing at our migrations (no ini file)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision in the migrations directory, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _at_head(engine: Engine) -> bool:
    """Whether the database is already at :data:`HEAD_REVISION` (read without Alembic)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]
    except exc.DBAPIError:  # no version table yet: never migrated
        return False


def _upgrade_once(engine: Engine) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw = conn.connection.driver_connection if sqlite else None
        if sqlite:
            # Batch migrations on SQLite copy and drop tables; with foreign keys ON, dropping a
            # parent table would cascade-delete its children. The pragma only works outside a
            # transaction, so it is set on the driver connection before BEGIN.
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            conn = conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
                # Re-checked under the lock: a concurrent process may have just finished.
                if MigrationContext.configure(conn).get_current_revision() == head_revision():
                    return
                command.upgrade(alembic_config(conn), "head")
                if sqlite:
                    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise RuntimeError(f"migration left foreign-key violations: {problems[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def migrate(engine: Engine, *, attempts: int = 5) -> None:
    """Upgrade the database to the newest revision; a no-op when it is already there.

    Concurrency: on SQLite the whole upgrade runs in one ``BEGIN IMMEDIATE`` transaction (SQLite
    has transactional DDL), so a second process waits for the first and then finds the schema at
    head; PostgreSQL takes a transaction-scoped advisory lock. Should a race still surface as an
    error (say, "table already exists" from a process that does not take the lock), the revision
    is re-read: at head means someone else did the work; otherwise the upgrade is retried.
    """
    if _at_head(engine):
        return
    head = head_revision()
    with _migrate_lock:
        for attempt in range(1, attempts + 1):
            try:
                _upgrade_once(engine)
                return
            except (exc.OperationalError, exc.ProgrammingError, exc.IntegrityError) as error:
                try:
                    if current_revision(engine) == head:
                        log.info("migrate: schema was brought to head concurrently (%s)", error.orig)
                        return
                except exc.DBAPIError:
                    pass
                if attempt == attempts:
                    raise
                log.warning("migrate: attempt %d failed (%s); retrying", attempt, error.orig)
                time.sleep(0.2 * attempt)


def open_repository(url: str | URL) -> Repository:
    """Engine + migrations + repository: what the app and the CLI call at start-up."""
    from simulator.store.repository import Repository

    engine = make_engine(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Repository(engine)
