"""The studio's live side: the reasoning log of a job as it runs, jobs that publish their
track when done (the demo catalog), play counts for "popular", and the counters that rate
limits keep when there is no Redis.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("log", sa.JSON, nullable=True))
        batch.add_column(
            sa.Column("publish", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("tracks") as batch:
        batch.add_column(
            sa.Column("play_count", sa.Integer, nullable=False, server_default=sa.text("0"))
        )
    op.create_index("ix_tracks_popular", "tracks", ["visibility", "play_count"])
    # One row per listener, track and day: a play counts once a day per listener.
    op.create_table(
        "plays",
        sa.Column(
            "track_id",
            sa.String(32),
            sa.ForeignKey("tracks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("listener", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.DateTime, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_table("plays")
    op.drop_index("ix_tracks_popular", "tracks")
    with op.batch_alter_table("tracks") as batch:
        batch.drop_column("play_count")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("publish")
        batch.drop_column("log")
