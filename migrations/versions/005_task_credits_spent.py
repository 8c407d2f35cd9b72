"""Per-task credit cost, so settlement after a crash charges each arena exactly.

Revision ID: 005_task_credits_spent
Revises: 004_credit_ledger_functions
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "005_task_credits_spent"
down_revision = "004_credit_ledger_functions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "005_task_credits_spent.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "005_task_credits_spent_down.sql").read_text(encoding="utf-8"))
