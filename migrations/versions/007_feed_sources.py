"""Cross-run HTTP validators per source URL (http_cache); skipped sources and 304s per task.

Revision ID: 007_feed_sources
Revises: 006_run_heartbeat
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "007_feed_sources"
down_revision = "006_run_heartbeat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "007_feed_sources.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "007_feed_sources_down.sql").read_text(encoding="utf-8"))
