"""Task dedup counters and an idempotency key for the credit ledger.

Revision ID: 003_observatory_additions
Revises: 002_arenas_config
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "003_observatory_additions"
down_revision = "002_arenas_config"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "003_observatory_additions.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "003_observatory_additions_down.sql").read_text(encoding="utf-8"))
