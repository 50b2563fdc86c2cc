"""The v2 image API: visibility, os_hidden, multihash, tags, member status.

``visibility`` replaces ``is_public`` as the truth, filled by Glance's own
rule (its Ocata migration): public stays public, a non-public image with
undeleted members becomes ``shared``, any other ``private``.  Members that
exist already came through v1, which has no accept step: they are
``accepted``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = (sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
             .with_variant(mysql.DATETIME(fsp=6), "mariadb"))
MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}

# Lightweight tables for the data steps (no model imports: models move on).
images = sa.table("images", sa.column("id", sa.String), sa.column("is_public", sa.Boolean),
                  sa.column("visibility", sa.String))
members = sa.table("image_members", sa.column("image_id", sa.String),
                   sa.column("deleted", sa.Boolean), sa.column("status", sa.String))


def upgrade():
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("visibility", sa.String(16)))
        batch.add_column(sa.Column("os_hidden", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("os_hash_algo", sa.String(64)))
        batch.add_column(sa.Column("os_hash_value", sa.String(128)))
    has_members = (sa.select(sa.literal(1)).select_from(members)
                   .where(members.c.image_id == images.c.id, members.c.deleted == sa.false())
                   .exists())
    op.execute(images.update().values(visibility=sa.case(
        (images.c.is_public == sa.true(), "public"),
        (has_members, "shared"),
        else_="private")))
    with op.batch_alter_table("images") as batch:
        batch.alter_column("visibility", existing_type=sa.String(16), nullable=False)
        batch.drop_column("is_public")

    with op.batch_alter_table("image_members") as batch:
        batch.add_column(sa.Column("status", sa.String(20)))
    op.execute(members.update().values(status="accepted"))
    with op.batch_alter_table("image_members") as batch:
        batch.alter_column("status", existing_type=sa.String(20), nullable=False)

    op.create_table(
        "image_tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("image_id", sa.String(36), sa.ForeignKey("images.id"), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP),
        sa.Column("deleted_at", TIMESTAMP),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.UniqueConstraint("image_id", "value", name="uq_image_tags_image_id_value"),
        **MYSQL,
    )
    op.create_index("ix_image_tags_value", "image_tags", ["value"])


def downgrade():
    """Back to 0001: is_public from visibility; tags, hashes and member status are lost."""
    op.drop_index("ix_image_tags_value", table_name="image_tags")
    op.drop_table("image_tags")
    with op.batch_alter_table("image_members") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("is_public", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.execute(images.update().where(images.c.visibility == "public")
               .values(is_public=sa.true()))
    with op.batch_alter_table("images") as batch:
        batch.alter_column("is_public", existing_type=sa.Boolean, server_default=None)
        batch.drop_column("os_hash_value")
        batch.drop_column("os_hash_algo")
        batch.drop_column("os_hidden")
        batch.drop_column("visibility")
