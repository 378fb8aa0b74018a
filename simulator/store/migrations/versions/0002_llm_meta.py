"""LLM mode: per-turn call metadata; judge/rules detail and "needs review" on scores.

turns.meta      nullable JSON: the model call behind a customer turn (model, tokens in/out,
                latency, fallback, error) or an injection flag on a trainee turn.
scores.needs_review  boolean, default false: judge and rules disagree by more than the margin.
scores.detail   nullable JSON: how the score came about (rules score, judge score, quotes).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copy of the JSON type at this revision (see 0001).
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.add_column(sa.Column("meta", JSONType, nullable=True))
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("needs_review", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("detail", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("detail")
        batch.drop_column("needs_review")
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("meta")
