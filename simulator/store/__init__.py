"""Persistence: SQLAlchemy models, Alembic migrations and the repository the app talks to.

Typical start-up::

    from simulator.store import open_repository
    repo = open_repository(settings.database_url)   # engine + migrate to head + Repository
"""

from simulator.store.db import make_engine, migrate, open_repository
from simulator.store.models import (
    ENGINES,
    OUTCOMES,
    ROLES,
    SESSION_LANGS,
    SPEAKERS,
    STATUSES,
    UI_LANGS,
    Role,
)
from simulator.store.repository import (
    ConflictError,
    NotFoundError,
    Repository,
    ScoreRecord,
    ScoreRow,
    SessionRecord,
    SessionUsage,
    StoreError,
    TurnRecord,
    UserRecord,
    usage_totals,
)

__all__ = [
    "ENGINES",
    "OUTCOMES",
    "ROLES",
    "SESSION_LANGS",
    "SPEAKERS",
    "STATUSES",
    "UI_LANGS",
    "ConflictError",
    "NotFoundError",
    "Repository",
    "Role",
    "ScoreRecord",
    "ScoreRow",
    "SessionRecord",
    "SessionUsage",
    "StoreError",
    "TurnRecord",
    "UserRecord",
    "make_engine",
    "migrate",
    "open_repository",
    "usage_totals",
]
