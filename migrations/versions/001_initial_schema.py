"""Initial schema: the original's fifteen tables, content_records partitioned by month.

Revision ID: 001_initial_schema
Revises:
"""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

revision = "001_initial_schema"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((SQL_DIR / "001_initial_schema.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute((SQL_DIR / "001_initial_schema_down.sql").read_text(encoding="utf-8"))
