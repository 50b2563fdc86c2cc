"""The metadata definitions catalog: namespaces, their objects, properties, tags
and resource type associations (/v2/metadefs).

New tables only: images and their rows are not touched.  The resource types
Glance's own definitions use are seeded, protected, so that a fresh catalog
already offers them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""
import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = (sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
             .with_variant(mysql.DATETIME(fsp=6), "mariadb"))
MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
NAME = 80
SEEDED = ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate",
          "OS::Nova::Server")


def _times():
    return [sa.Column("created_at", TIMESTAMP, nullable=False),
            sa.Column("updated_at", TIMESTAMP, nullable=False)]


def _in_namespace(table, *columns):
    """A table of things named within a namespace (objects, properties, tags)."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("namespace_id", sa.Integer, sa.ForeignKey("metadef_namespaces.id"),
                  nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        *columns,
        *_times(),
        sa.UniqueConstraint("namespace_id", "name", name=f"uq_{table}_namespace_id_name"),
        **MYSQL,
    )


def upgrade():
    op.create_table(
        "metadef_namespaces",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(NAME), nullable=False),
        sa.Column("display_name", sa.String(NAME)),
        sa.Column("description", sa.Text),
        sa.Column("visibility", sa.String(32), nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("owner", sa.String(255)),
        *_times(),
        sa.UniqueConstraint("namespace", name="uq_metadef_namespaces_namespace"),
        **MYSQL,
    )
    op.create_index("ix_metadef_namespaces_owner", "metadef_namespaces", ["owner"])
    for key in ("created_at", "updated_at"):
        op.create_index(f"ix_metadef_namespaces_{key}", "metadef_namespaces", [key, "id"])

    resource_types = op.create_table(
        "metadef_resource_types",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        *_times(),
        sa.UniqueConstraint("name", name="uq_metadef_resource_types_name"),
        **MYSQL,
    )
    op.create_table(
        "metadef_namespace_resource_types",
        sa.Column("resource_type_id", sa.Integer, sa.ForeignKey("metadef_resource_types.id"),
                  primary_key=True),
        sa.Column("namespace_id", sa.Integer, sa.ForeignKey("metadef_namespaces.id"),
                  primary_key=True),
        sa.Column("properties_target", sa.String(NAME)),
        sa.Column("prefix", sa.String(NAME)),
        *_times(),
        **MYSQL,
    )
    op.create_index("ix_metadef_ns_res_types_namespace_id", "metadef_namespace_resource_types",
                    ["namespace_id"])

    _in_namespace("metadef_objects", sa.Column("description", sa.Text),
                  sa.Column("required", sa.Text),
                  sa.Column("json_schema", sa.Text, nullable=False))
    _in_namespace("metadef_properties", sa.Column("json_schema", sa.Text, nullable=False))
    _in_namespace("metadef_tags")

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(resource_types, [{"name": name, "protected": True, "created_at": now,
                                     "updated_at": now} for name in SEEDED])


def downgrade():
    """Back to 0002: the whole catalog is dropped."""
    for table in ("metadef_tags", "metadef_properties", "metadef_objects",
                  "metadef_namespace_resource_types", "metadef_resource_types",
                  "metadef_namespaces"):
        op.drop_table(table)
