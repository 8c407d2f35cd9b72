"""Per-record enrichment results (URLs, tags, engagement, near-duplicates) and their versions.

Revision ID: 012_enrichments
Revises: 011_erasure_log
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "012_enrichments"
down_revision = "011_erasure_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "012_enrichments.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "012_enrichments_down.sql").read_text(encoding="utf-8"))
