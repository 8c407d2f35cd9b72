"""analysis_facets with free space on each page, so a refresh's updates are heap-only tuples.

Revision ID: 019_analysis_facets_fillfactor
Revises: 018_link_reference_checks
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "019_analysis_facets_fillfactor"
down_revision = "018_link_reference_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "019_analysis_facets_fillfactor.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "019_analysis_facets_fillfactor_down.sql").read_text(encoding="utf-8"))
