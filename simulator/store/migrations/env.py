"""Alembic environment for Tenang. Run through ``simulator.store.db`` (no alembic.ini needed).

``simulator.store.db.migrate(engine)`` passes an open connection, already inside a transaction,
in ``config.attributes["connection"]``; migrations run on it and the caller commits.
For offline SQL generation, set the URL with ``config.set_main_option("sqlalchemy.url", ...)``.
"""

from __future__ import annotations

from alembic import context

from simulator.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates tables
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Stand-alone use (e.g. `alembic` driven by a hand-written Config): open our own engine.
    from simulator.store.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
