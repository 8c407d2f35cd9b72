"""Each record's n-gram counts (enrichment record_terms), read by emergent terms.

Revision ID: 016_enrichment_terms
Revises: 015_enrichment_changes
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "016_enrichment_terms"
down_revision = "015_enrichment_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "016_enrichment_terms.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "016_enrichment_terms_down.sql").read_text(encoding="utf-8"))
