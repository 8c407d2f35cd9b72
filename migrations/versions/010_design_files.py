"""Query designs as files: source file, content hash, collection fingerprint and revision time on
query_designs; AND-group number on search_terms.

Revision ID: 010_design_files
Revises: 009_records_attributed
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "010_design_files"
down_revision = "009_records_attributed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "010_design_files.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "010_design_files_down.sql").read_text(encoding="utf-8"))
