"""Jobs that make several tracks: a job of variations makes one private track per take, and
``jobs.track_ids`` lists them all in order (``track_id`` stays the first, as before).

Revision ID: 0005
Revises: 0004
Create Date: 2025-04-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("track_ids", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("track_ids")
