"""content_record_collections: its design and run references checked per statement, not per row.

Revision ID: 018_link_reference_checks
Revises: 017_billed_reads
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "018_link_reference_checks"
down_revision = "017_billed_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "018_link_reference_checks.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "018_link_reference_checks_down.sql").read_text(encoding="utf-8"))
