"""Credit ledger functions: per-user lock, balance, and one-statement reservation.

Revision ID: 004_credit_ledger_functions
Revises: 003_observatory_additions
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "004_credit_ledger_functions"
down_revision = "003_observatory_additions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "004_credit_ledger_functions.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "004_credit_ledger_functions_down.sql").read_text(encoding="utf-8"))
