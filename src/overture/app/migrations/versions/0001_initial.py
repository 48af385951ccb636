"""The first schema: users, sessions, media objects, tracks and jobs.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "media_objects",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tracks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "owner_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("genre", sa.String(64)),
        sa.Column("mood", sa.String(200)),
        sa.Column("tempo", sa.Float),
        sa.Column("key", sa.String(32)),
        sa.Column("duration", sa.Float),
        sa.Column("lyrics", sa.Text),
        sa.Column("seed", sa.Integer),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("published_at", sa.DateTime),
        sa.Column("mix_key", sa.String(64), nullable=False),
        sa.Column("instrumental_key", sa.String(64)),
        sa.Column("midi_key", sa.String(64)),
        sa.Column("musicxml_key", sa.String(64)),
        sa.Column("lrc_key", sa.String(64)),
        sa.Column("song_json_key", sa.String(64)),
        sa.Column("stems", sa.JSON, nullable=False),
        sa.Column("extra_files", sa.JSON, nullable=False),
        sa.Column("source_track_id", sa.String(32)),
        sa.Column("source_title", sa.String(200)),
        sa.Column("source_creator", sa.String(100)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("deleted_at", sa.DateTime),
    )
    op.create_index("ix_tracks_public", "tracks", ["visibility", "published_at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("step", sa.String(200)),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("track_id", sa.String(32), sa.ForeignKey("tracks.id", ondelete="SET NULL")),
    )
    op.create_index("ix_jobs_state_created", "jobs", ["state", "created_at"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("tracks")
    op.drop_table("media_objects")
    op.drop_table("sessions")
    op.drop_table("users")
