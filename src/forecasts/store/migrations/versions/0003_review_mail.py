"""review and mail: the outbox, the prompt log, resolution proposals, and the reviewers
of each resolution

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forecasts.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_mail_outbox_key"),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_outbox_status"), ["status"], unique=False)

    op.create_table(
        "review_prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("handle", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["handle"], ["person.handle"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "question_id", "handle", "day", name="uq_review_prompt_question_handle_day"
        ),
    )
    with op.batch_alter_table("review_prompt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_prompt_handle"), ["handle"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_prompt_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "resolution_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("by", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("correction", sa.Boolean(), nullable=False),
        sa.Column("correction_reason", sa.String(), nullable=True),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("resolution_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["by"], ["person.handle"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["resolution_id"], ["resolution.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resolution_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resolution_proposal_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resolution_proposal_state"), ["state"], unique=False)

    # Every existing resolution was made by one reviewer: its `by`.
    with op.batch_alter_table("resolution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewers", sa.JSON(), nullable=True))
    resolution = sa.table(
        "resolution",
        sa.column("id", sa.Integer()),
        sa.column("by", sa.String()),
        sa.column("reviewers", sa.JSON()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(resolution.c.id, resolution.c.by)).all()
    for rid, by in rows:
        conn.execute(resolution.update().where(resolution.c.id == rid).values(reviewers=[by]))
    with op.batch_alter_table("resolution", schema=None) as batch_op:
        batch_op.alter_column("reviewers", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("resolution", schema=None) as batch_op:
        batch_op.drop_column("reviewers")

    with op.batch_alter_table("resolution_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resolution_proposal_state"))
        batch_op.drop_index(batch_op.f("ix_resolution_proposal_question_id"))
    op.drop_table("resolution_proposal")

    with op.batch_alter_table("review_prompt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_prompt_question_id"))
        batch_op.drop_index(batch_op.f("ix_review_prompt_handle"))
    op.drop_table("review_prompt")

    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_mail_outbox_next_attempt_at"))
    op.drop_table("mail_outbox")
