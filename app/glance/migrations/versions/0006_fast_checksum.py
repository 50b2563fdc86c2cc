"""The fast checksum of image data (``fast_checksum``, ``crc32:<hex>``).

Recorded at upload beside the MD5 and the multihash, and verified by every
whole download at memory speed.  Images stored before this revision have
none: their downloads verify the MD5, as before.  One nullable column, so the
upgrade writes no rows; the downgrade drops the column and its values.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("fast_checksum", sa.String(64)))


def downgrade():
    with op.batch_alter_table("images") as batch:
        batch.drop_column("fast_checksum")
