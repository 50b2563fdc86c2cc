"""The metadata of an image's locations (``location_metadata``).

With ``show_multiple_locations`` v2 shows an image's locations as
``[{"url", "metadata"}]`` and owners add http(s) locations with metadata.  The
URIs stay where they were (``location`` first, then ``copies``); this column
keeps each location's metadata, a JSON object keyed by URI.  One nullable
column: the upgrade writes no rows (every location has no metadata); the
downgrade forgets the metadata, never a location.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("location_metadata", sa.Text))


def downgrade():
    with op.batch_alter_table("images") as batch:
        batch.drop_column("location_metadata")
