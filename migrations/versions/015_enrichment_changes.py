"""Incremental enrichment runs: the record changes each enrichment has still to apply.

Revision ID: 015_enrichment_changes
Revises: 014_enrichment_sentiment
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "015_enrichment_changes"
down_revision = "014_enrichment_sentiment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "015_enrichment_changes.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "015_enrichment_changes_down.sql").read_text(encoding="utf-8"))
