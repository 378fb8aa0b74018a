"""Calibration (issue 15): trainers' grades, blind calibration sets and tag corrections.

calibration_sets          a named set of sessions picked for several graders (demo flag)
calibration_set_sessions  which sessions are in a set
calibration_set_graders   who grades a set (blind until they submit)
grade_submissions         one grader's grading of one session (who, when, which set); never replaced
grade_scores              per rubric dimension: the human score (NULL: does not apply) and a comment
tag_corrections           a grader's corrected tags and referral target for one trainee turn

The automatic scores in ``scores`` are never touched.

Revision ID: 0100_calibration
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0100_calibration"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen copy of the JSON type at this revision (see 0001).
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "calibration_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("filters", JSONType, nullable=True),
        sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_calibration_sets_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_sets")),
        sa.UniqueConstraint("name", name=op.f("uq_calibration_sets_name")),
    )
    op.create_table(
        "calibration_set_sessions",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["calibration_sets.id"],
                                name=op.f("fk_calibration_set_sessions_set_id_calibration_sets"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_calibration_set_sessions_session_id_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("set_id", "session_id", name=op.f("pk_calibration_set_sessions")),
    )
    op.create_index(op.f("ix_calibration_set_sessions_session_id"), "calibration_set_sessions", ["session_id"])
    op.create_table(
        "calibration_set_graders",
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["set_id"], ["calibration_sets.id"],
                                name=op.f("fk_calibration_set_graders_set_id_calibration_sets"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calibration_set_graders_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("set_id", "user_id", name=op.f("pk_calibration_set_graders")),
    )
    op.create_index(op.f("ix_calibration_set_graders_user_id"), "calibration_set_graders", ["user_id"])
    op.create_table(
        "grade_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("grader_id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=True),
        sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_grade_submissions_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["grader_id"], ["users.id"], name=op.f("fk_grade_submissions_grader_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["set_id"], ["calibration_sets.id"],
                                name=op.f("fk_grade_submissions_set_id_calibration_sets"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_submissions")),
    )
    op.create_index(op.f("ix_grade_submissions_grader_id"), "grade_submissions", ["grader_id"])
    op.create_index(op.f("ix_grade_submissions_set_id"), "grade_submissions", ["set_id"])
    op.create_index("ix_grade_submissions_session_id_grader_id", "grade_submissions", ["session_id", "grader_id"])
    op.create_table(
        "grade_scores",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name=op.f("ck_grade_scores_score_range")),
        sa.ForeignKeyConstraint(["submission_id"], ["grade_submissions.id"],
                                name=op.f("fk_grade_scores_submission_id_grade_submissions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id", "dimension", name=op.f("pk_grade_scores")),
    )
    op.create_table(
        "tag_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("turn_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("corrector_id", sa.Integer(), nullable=True),
        sa.Column("tags", JSONType, nullable=False),
        sa.Column("referral_target", sa.String(16), nullable=True),
        sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("referral_target IS NULL OR referral_target IN ('legal', 'security', 'other')",
                           name=op.f("ck_tag_corrections_referral_target")),
        sa.ForeignKeyConstraint(["turn_id"], ["turns.id"], name=op.f("fk_tag_corrections_turn_id_turns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_tag_corrections_session_id_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["corrector_id"], ["users.id"], name=op.f("fk_tag_corrections_corrector_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_corrections")),
    )
    op.create_index(op.f("ix_tag_corrections_turn_id"), "tag_corrections", ["turn_id"])
    op.create_index(op.f("ix_tag_corrections_session_id"), "tag_corrections", ["session_id"])


def downgrade() -> None:
    op.drop_table("tag_corrections")
    op.drop_table("grade_scores")
    op.drop_table("grade_submissions")
    op.drop_table("calibration_set_graders")
    op.drop_table("calibration_set_sessions")
    op.drop_table("calibration_sets")
