"""news: article_match.gdelt_only (a match only GDELT made, not the question's query)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Matches stored before this revision were all counted as full matches.
    with op.batch_alter_table("article_match", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gdelt_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("article_match", schema=None) as batch_op:
        batch_op.drop_column("gdelt_only")
