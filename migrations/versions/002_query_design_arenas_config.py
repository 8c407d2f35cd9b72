"""query_designs.arenas_config: which arenas, at which tier, with per-arena options.

Revision ID: 002_arenas_config
Revises: 001_initial_schema
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "002_arenas_config"
down_revision = "001_initial_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "query_designs",
        sa.Column("arenas_config", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )


def downgrade() -> None:
    op.drop_column("query_designs", "arenas_config")
