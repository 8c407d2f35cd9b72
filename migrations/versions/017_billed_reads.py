"""Reads a pay-per-use platform bills once per UTC day per credential (X API v2).

Revision ID: 017_billed_reads
Revises: 016_enrichment_terms
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "017_billed_reads"
down_revision = "016_enrichment_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "017_billed_reads.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "017_billed_reads_down.sql").read_text(encoding="utf-8"))
