"""Task heartbeats and run creation times (dead-run healing); run counters = sums of tasks.

Revision ID: 006_run_heartbeat
Revises: 005_task_credits_spent
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "006_run_heartbeat"
down_revision = "005_task_credits_spent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "006_run_heartbeat.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "006_run_heartbeat_down.sql").read_text(encoding="utf-8"))
