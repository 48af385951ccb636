"""The service's tables, as SQLAlchemy 2 typed models. The schema itself is made by the
Alembic migrations in ``overture.app.migrations``; these classes must match them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from overture.app.db import utcnow

ROLES = ("listener", "creator", "admin")
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATES = ("queued", "running")
VISIBILITIES = ("private", "public")


def new_id() -> str:
    """A random public id: unguessable, so ids in URLs reveal nothing about other users."""
    return secrets.token_hex(12)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="creator")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuthSession(Base):
    """A signed-in browser. Only the SHA-256 of its token is kept: a copy of the database
    does not let anyone sign in."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class MediaObject(Base):
    """A file in the media store, named by the SHA-256 of its bytes."""

    __tablename__ = "media_objects"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Track(Base):
    __tablename__ = "tracks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str | None] = mapped_column(String(64))
    mood: Mapped[str | None] = mapped_column(String(200))
    tempo: Mapped[float | None] = mapped_column(Float)
    key: Mapped[str | None] = mapped_column(String(32))
    duration: Mapped[float | None] = mapped_column(Float)
    lyrics: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    mix_key: Mapped[str] = mapped_column(String(64))
    instrumental_key: Mapped[str | None] = mapped_column(String(64))
    midi_key: Mapped[str | None] = mapped_column(String(64))
    musicxml_key: Mapped[str | None] = mapped_column(String(64))
    lrc_key: Mapped[str | None] = mapped_column(String(64))
    song_json_key: Mapped[str | None] = mapped_column(String(64))
    stems: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # stem name -> key
    extra_files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name -> key
    # A remix credits what it came from, and keeps the credit when the source is deleted.
    # These four are written once, when the track is made, and never change (LINEAGE_COLUMNS:
    # the database refuses an update, see migration 0004, and so does ``_lineage_guard``).
    source_track_id: Mapped[str | None] = mapped_column(String(32), index=True)
    source_title: Mapped[str | None] = mapped_column(String(200))
    source_creator: Mapped[str | None] = mapped_column(String(100))
    # How it was made from its source: the engine's lineage from the remix's song.json (the
    # operation, its options and the parents, each with its own lineage), with the source's
    # track and creator ids added to the parent it was made from.
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    play_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_tracks_public", "visibility", "published_at"),
        Index("ix_tracks_popular", "visibility", "play_count"),
    )


LINEAGE_COLUMNS = ("source_track_id", "source_title", "source_creator", "lineage")


class LineageChanged(Exception):
    """Something tried to change a track's source or lineage after it was made."""


@event.listens_for(Track, "before_update")
def _lineage_guard(_mapper: Any, _connection: Any, track: Track) -> None:
    """Refuse, before it reaches the database, a flush that changes a track's credit."""
    state = inspect(track)
    changed = [c for c in LINEAGE_COLUMNS if state.attrs[c].history.has_changes()]
    if changed:
        raise LineageChanged(f"a track's source and lineage cannot change ({', '.join(changed)})")


class Job(Base):
    """One request for a song, and the queue entry a worker leases to make it."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    step: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    track_id: Mapped[str | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"))
    # Every track the job made, in order (``track_id`` is the first): a job of variations
    # makes one track per take. None for a job that made none, or made one before 0005.
    track_ids: Mapped[list[str] | None] = mapped_column(JSON)
    # The engine's steps and verdicts as they happened ("chorus1 draft 2: 0.71", ...).
    log: Mapped[list[str] | None] = mapped_column(JSON)
    publish: Mapped[bool] = mapped_column(Boolean, default=False)  # publish the track when done

    __table_args__ = (Index("ix_jobs_state_created", "state", "created_at"),)


class Play(Base):
    """A listener played a track on a day (counted once per listener and day)."""

    __tablename__ = "plays"

    track_id: Mapped[str] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    listener: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RateLimit(Base):
    """A fixed-window counter, for rate limits when Redis is not configured."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer)
