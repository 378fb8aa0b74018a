"""Initial schema: users, sessions, turns, scores.

Revision ID: 0001
Revises:
Create Date: 2025-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the type used by the models at this revision (do not import models here:
# a migration must keep meaning what it meant when it was written).
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("ui_lang", sa.String(8), server_default="en", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('trainee', 'trainer', 'hr', 'admin')", name=op.f("ck_users_role")),
        sa.CheckConstraint("ui_lang IN ('en', 'id')", name=op.f("ck_users_ui_lang")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scenario_id", sa.String(128), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("scenario_version", sa.Integer(), nullable=True),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("branch_turn", sa.Integer(), nullable=True),
        sa.Column("state_json", JSONType, nullable=False),
        sa.Column("overall", sa.Double(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("engine IN ('scripted', 'llm')", name=op.f("ck_sessions_engine")),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_sessions_status")),
        sa.ForeignKeyConstraint(["parent_id"], ["sessions.id"], name=op.f("fk_sessions_parent_id_sessions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_parent_id"), "sessions", ["parent_id"])
    op.create_index(op.f("ix_sessions_scenario_id"), "sessions", ["scenario_id"])
    op.create_index(op.f("ix_sessions_status"), "sessions", ["status"])
    op.create_index("ix_sessions_user_id_started_at", "sessions", ["user_id", "started_at"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("analysis_json", JSONType, nullable=True),
        sa.Column("mood_json", JSONType, nullable=True),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("speaker IN ('customer', 'trainee')", name=op.f("ck_turns_speaker")),
        sa.CheckConstraint("idx >= 0", name=op.f("ck_turns_idx_nonnegative")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_turns_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turns")),
        sa.UniqueConstraint("session_id", "idx", name=op.f("uq_turns_session_id_idx")),
    )
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("applies", sa.Boolean(), nullable=False),
        sa.Column("evidence_json", JSONType, nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("better", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_scores_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint("session_id", "dimension", name=op.f("uq_scores_session_id_dimension")),
    )


def downgrade() -> None:
    op.drop_table("scores")
    op.drop_table("turns")
    op.drop_index("ix_sessions_user_id_started_at", table_name="sessions")
    op.drop_index(op.f("ix_sessions_status"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_scenario_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_parent_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("users")
