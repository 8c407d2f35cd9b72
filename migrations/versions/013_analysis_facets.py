"""Persisted facets of the standard analysis scope, their state and the change log its
triggers fill (incremental analyses, issue 20).

Revision ID: 013_analysis_facets
Revises: 012_enrichments
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "013_analysis_facets"
down_revision = "012_enrichments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "013_analysis_facets.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "013_analysis_facets_down.sql").read_text(encoding="utf-8"))
