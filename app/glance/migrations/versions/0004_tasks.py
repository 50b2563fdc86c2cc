"""Tasks: the records of v2 imports and of legacy import tasks (/v2/tasks).

A new table only: images and the metadata definitions are not touched, so
the upgrade takes no time on a populated database, and the downgrade drops
nothing but the tasks (records that expire after task_time_to_live anyway).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-14
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = (sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
             .with_variant(mysql.DATETIME(fsp=6), "mariadb"))


def upgrade():
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("owner", sa.String(255)),
        sa.Column("image_id", sa.String(36)),
        sa.Column("user_id", sa.String(255)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("input", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("expires_at", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )
    for key in ("created_at", "updated_at"):
        op.create_index(f"ix_tasks_{key}", "tasks", [key, "id"])
    for key in ("expires_at", "image_id", "owner"):
        op.create_index(f"ix_tasks_{key}", "tasks", [key])


def downgrade():
    """Back to 0003: the task records are dropped."""
    op.drop_table("tasks")
