"""A read model for analytics: one wide summary row per ended session.

session_summary   the session's user, scenario, language, outcome, overall, branch flag, start
                  and end, and one column per rubric dimension (NULL where it did not apply).
                  Written by the repository in the same transaction as the scores and the end of
                  the session, so the dashboard reads it without pivoting the scores table.

Back-fills every ended session that has scores (the pivot the dashboard used to run on each
cold load, run once here).

Revision ID: 0110_session_summary
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0110_session_summary"
down_revision = "0100_calibration"
branch_labels = None
depends_on = None

# Frozen copy of the rubric's dimension keys at this revision (simulator.rubric.DIMENSIONS).
DIMENSIONS = ("listening", "empathy", "apology", "non_defensive", "diagnosis", "referral", "commitment",
              "resolution", "composure")


def backfill_sql(dimensions=DIMENSIONS, where: str = "") -> str:
    """INSERT ... SELECT of the summary rows of ended sessions with scores (``where``: an extra
    condition on ``s``, the sessions table). Portable between SQLite and PostgreSQL."""
    dims = ", ".join(dimensions)
    pivots = ", ".join(
        f"MAX(CASE WHEN sc.dimension = '{key}' AND sc.applies THEN sc.score END) AS {key}" for key in dimensions
    )
    return (
        f"INSERT INTO session_summary (session_id, user_id, scenario_id, lang, outcome, overall, branch, "
        f"started_at, ended_at, {dims}) "
        f"SELECT s.id, s.user_id, s.scenario_id, s.lang, s.outcome, s.overall, s.parent_id IS NOT NULL, "
        f"s.started_at, s.ended_at, {', '.join('p.' + k for k in dimensions)} "
        f"FROM sessions s JOIN (SELECT sc.session_id, {pivots} FROM scores sc GROUP BY sc.session_id) p "
        f"ON p.session_id = s.id WHERE s.status = 'ended'{' AND ' + where if where else ''}"
    )


def upgrade() -> None:
    op.create_table(
        "session_summary",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scenario_id", sa.String(128), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("overall", sa.Double(), nullable=True),
        sa.Column("branch", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        *[sa.Column(key, sa.Double(), nullable=True) for key in DIMENSIONS],
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_session_summary_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_summary")),
    )
    op.create_index(op.f("ix_session_summary_user_id"), "session_summary", ["user_id"])
    op.create_index(op.f("ix_session_summary_ended_at"), "session_summary", ["ended_at"])
    op.execute(backfill_sql())


def downgrade() -> None:
    op.drop_index(op.f("ix_session_summary_ended_at"), table_name="session_summary")
    op.drop_index(op.f("ix_session_summary_user_id"), table_name="session_summary")
    op.drop_table("session_summary")
