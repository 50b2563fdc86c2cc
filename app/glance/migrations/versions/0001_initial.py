"""The Diablo/Essex schema: images with UUID ids, properties, members.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Microseconds on MySQL so creation order survives within one second.
TIMESTAMP = (sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
             .with_variant(mysql.DATETIME(fsp=6), "mariadb"))
MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _soft_delete():
    return [
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP),
        sa.Column("deleted_at", TIMESTAMP),
        sa.Column("deleted", sa.Boolean, nullable=False),
    ]


def upgrade():
    op.create_table(
        "images",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("disk_format", sa.String(20)),
        sa.Column("container_format", sa.String(20)),
        sa.Column("size", sa.BigInteger),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("is_public", sa.Boolean, nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("checksum", sa.String(32)),
        sa.Column("min_disk", sa.Integer, nullable=False),
        sa.Column("min_ram", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(255)),
        sa.Column("protected", sa.Boolean, nullable=False),
        *_soft_delete(),
        **MYSQL,
    )
    # One (key, id) index per sort key: keyset paging seeks, never sorts.  The
    # registry sorts NULLs first (as SQLite and MySQL do); PostgreSQL puts them
    # last unless the index says otherwise.
    postgresql = op.get_bind().dialect.name == "postgresql"
    for key in ("created_at", "updated_at", "name", "size", "status", "disk_format",
                "container_format"):
        nullable = key not in ("created_at", "status")
        first = sa.text(f"{key} NULLS FIRST") if postgresql and nullable else key
        op.create_index(f"ix_images_{key}", "images", [first, "id"])
    op.create_index("ix_images_checksum", "images", ["checksum"])
    op.create_index("ix_images_owner", "images", ["owner"])

    op.create_table(
        "image_properties",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.Text),
        *_soft_delete(),
        sa.UniqueConstraint("image_id", "name", name="uq_image_properties_image_id_name"),
        **MYSQL,
    )
    op.create_index("ix_image_properties_name", "image_properties", ["name"])

    op.create_table(
        "image_members",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
        sa.Column("member", sa.String(255), nullable=False),
        sa.Column("can_share", sa.Boolean, nullable=False),
        *_soft_delete(),
        sa.UniqueConstraint("image_id", "member", name="uq_image_members_image_id_member"),
        **MYSQL,
    )
    op.create_index("ix_image_members_member", "image_members", ["member"])


def downgrade():
    op.drop_table("image_members")
    op.drop_table("image_properties")
    op.drop_table("images")
