"""records_attributed on tasks and runs: records new to the design; backfilled from
records_collected.

Revision ID: 009_records_attributed
Revises: 008_record_attribution
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "009_records_attributed"
down_revision = "008_record_attribution"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "009_records_attributed.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "009_records_attributed_down.sql").read_text(encoding="utf-8"))
