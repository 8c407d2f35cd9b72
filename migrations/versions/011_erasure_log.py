"""erasure_log (what each GDPR erasure did, no personal data) and an index on the pseudonym.

Revision ID: 011_erasure_log
Revises: 010_design_files
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "011_erasure_log"
down_revision = "010_design_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "011_erasure_log.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "011_erasure_log_down.sql").read_text(encoding="utf-8"))
