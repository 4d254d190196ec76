"""news: sources, per-question source state, articles and matches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from forecasts.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "news_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_attempt", UTCDateTime(), nullable=True),
        sa.Column("last_success", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_allowed_at", UTCDateTime(), nullable=True),
        sa.Column("last_items", sa.Integer(), nullable=True),
        sa.Column("last_new", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_news_source_name"),
    )
    op.create_table(
        "news_source_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_attempt", UTCDateTime(), nullable=True),
        sa.Column("last_success", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["news_source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "question_id", name="uq_news_source_question"),
    )
    with op.batch_alter_table("news_source_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_news_source_question_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_news_source_question_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("published", UTCDateTime(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url", name="uq_article_url"),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_published"), ["published"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_source"), ["source"], unique=False)

    op.create_table(
        "article_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("resolution_terms", sa.JSON(), nullable=False),
        sa.Column("possible_resolution", sa.Boolean(), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=True),
        sa.Column("marked_at", UTCDateTime(), nullable=True),
        sa.Column("matched_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "question_id", name="uq_article_match_article_question"),
    )
    with op.batch_alter_table("article_match", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_match_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_article_match_matched_at"), ["matched_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_article_match_question_id"), ["question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("article_match", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_match_question_id"))
        batch_op.drop_index(batch_op.f("ix_article_match_matched_at"))
        batch_op.drop_index(batch_op.f("ix_article_match_article_id"))
    op.drop_table("article_match")

    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_source"))
        batch_op.drop_index(batch_op.f("ix_article_published"))
    op.drop_table("article")

    with op.batch_alter_table("news_source_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_news_source_question_source_id"))
        batch_op.drop_index(batch_op.f("ix_news_source_question_question_id"))
    op.drop_table("news_source_question")

    op.drop_table("news_source")
