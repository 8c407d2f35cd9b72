"""Danish sentiment of each record (enrichment record_sentiment).

Revision ID: 014_enrichment_sentiment
Revises: 013_analysis_facets
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "014_enrichment_sentiment"
down_revision = "013_analysis_facets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "014_enrichment_sentiment.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "014_enrichment_sentiment_down.sql").read_text(encoding="utf-8"))
