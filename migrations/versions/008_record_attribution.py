"""content_record_collections: every design (and run) that collected a record; rows carried over.

Revision ID: 008_record_attribution
Revises: 007_feed_sources
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "008_record_attribution"
down_revision = "007_feed_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "008_record_attribution.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "008_record_attribution_down.sql").read_text(encoding="utf-8"))
