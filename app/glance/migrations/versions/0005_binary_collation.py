"""MariaDB/MySQL: compare ids, owners, members, names and tags exactly.

The tables were made ``utf8mb4`` with the charset's default collation, which
ignores case and trailing spaces: tenant ``PA`` listed ``pa``'s images, and
properties or tags differing only in case (``Foo``, ``foo``) collided in the
unique keys (a 503).  Every registry table becomes a binary collation that
does not pad (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on
MySQL 8; plain ``utf8mb4_bin`` where neither exists), as PostgreSQL and
SQLite already compare.  Nothing changes on other databases.

The upgrade rebuilds each table (it takes as long as copying it).  The
downgrade goes back to the charset's default collation; it fails if names
that differ only in case or trailing spaces exist by then.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EXACT = ("utf8mb4_nopad_bin", "utf8mb4_0900_bin", "utf8mb4_bin")


def _tables(bind):
    return [name for name in sa.inspect(bind).get_table_names() if name != "alembic_version"]


def _convert(collation):
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        return
    if collation is None:
        available = {row[0] for row in bind.execute(sa.text(
            "SELECT COLLATION_NAME FROM information_schema.COLLATIONS "
            "WHERE CHARACTER_SET_NAME = 'utf8mb4'"))}
        collation = next(name for name in EXACT if name in available)
        clause = f"COLLATE {collation}"
    else:
        clause = ""             # the charset's default
    # MariaDB will not change a column a foreign key uses (image_properties.image_id
    # and images.id...), even with foreign_key_checks off: drop the keys, then make
    # them again once both sides have the new collation.
    inspector = sa.inspect(bind)
    tables = _tables(bind)
    keys = [(table, key) for table in tables for key in inspector.get_foreign_keys(table)]
    for table, key in keys:
        op.drop_constraint(key["name"], table, type_="foreignkey")
    for table in tables:
        bind.execute(sa.text(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 {clause}"))
    for table, key in keys:
        op.create_foreign_key(key["name"], table, key["referred_table"],
                              key["constrained_columns"], key["referred_columns"],
                              **{k: v for k, v in (key.get("options") or {}).items()
                                 if k in ("ondelete", "onupdate")})


def upgrade():
    _convert(None)


def downgrade():
    """Back to 0004: the charset's default collation (case-insensitive)."""
    _convert("default")
