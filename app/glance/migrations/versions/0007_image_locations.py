"""An image's data in several stores (``copies``).

With multiple stores an image's data may sit in more than one store
(``all_stores`` import, ``copy-image``).  ``location`` stays where the data
was first written (what v1 and the single-store code read); ``copies`` holds
the URIs of its other copies, a JSON list.  One nullable column: the upgrade
writes no rows and every image keeps its location; the downgrade forgets the
copies (their data stays in its stores).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("copies", sa.Text))


def downgrade():
    with op.batch_alter_table("images") as batch:
        batch.drop_column("copies")
