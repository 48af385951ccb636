"""The JSON shapes the API answers with, in one place so that every route shows a user, a
job or a track the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from overture.app.models import Job, Track, User
from overture.app.tracks.service import file_names


def when(t: datetime | None) -> str | None:
    """An ISO 8601 UTC time, as the API writes every time."""
    return None if t is None else t.isoformat(timespec="seconds") + "Z"


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "created_at": when(user.created_at),
    }


def job_view(
    job: Job, live: tuple[float, str, list[str]] | None = None, *, log_from: int | None = None
) -> dict[str, Any]:
    """A job; with ``log_from``, its log of steps from that line on (``log_size`` says how
    many lines there are, to ask for the next ones)."""
    progress, step, log = job.progress, job.step, job.log or []
    if live is not None and job.state == "running":
        progress, step, log = live
    extra: dict[str, Any] = {}
    if log_from is not None:
        extra = {"log": log[log_from:], "log_from": log_from, "log_size": len(log)}
    return {
        "id": job.id,
        "state": job.state,
        "progress": round(progress or 0.0, 4),
        "step": step,
        "error": job.error,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "options": job.options,
        "created_at": when(job.created_at),
        "started_at": when(job.started_at),
        "finished_at": when(job.finished_at),
        "track_id": job.track_id,
        "track_url": f"/api/tracks/{job.track_id}" if job.track_id else None,
        "track_ids": job.track_ids or ([job.track_id] if job.track_id else []),
        "publish": bool(job.publish),
        **extra,
    }


def track_view(
    track: Track, *, creator: str | None, mine: bool, source_visible: bool = False
) -> dict[str, Any]:
    """A track as a user sees it. A remix's ``source`` credits the track it was made from
    (kept when that track is deleted or made private); its ``url`` is there only while the
    source is visible to the user (``source_visible``). ``lineage`` is how it was made."""
    base = f"/api/tracks/{track.id}"
    source = None
    if track.source_track_id or track.source_title:
        shown = source_visible and track.source_track_id is not None
        source = {
            "track_id": track.source_track_id,
            "title": track.source_title,
            "creator": track.source_creator,
            "url": f"/tracks/{track.source_track_id}" if shown else None,
            "api_url": f"/api/tracks/{track.source_track_id}" if shown else None,
        }
    return {
        "id": track.id,
        "title": track.title,
        "creator": creator,
        "creator_id": track.owner_id,
        "mine": mine,
        "prompt": track.prompt,
        "genre": track.genre,
        "mood": track.mood,
        "tempo": track.tempo,
        "key": track.key,
        "duration": track.duration,
        "lyrics": track.lyrics,
        "seed": track.seed,
        "visibility": track.visibility,
        "published_at": when(track.published_at),
        "created_at": when(track.created_at),
        "audio_url": f"{base}/audio",
        "files": [{"name": n, "url": f"{base}/files/{n}"} for n in file_names(track)],
        "source": source,
        "lineage": track.lineage,
        "remixes_url": f"{base}/remixes",
        "plays": track.play_count or 0,
        "cover_url": f"{base}/cover.svg",
        "waveform_url": f"{base}/waveform",
    }


def track_views(
    tracks: list[Track],
    names: dict[int, str],
    user: User | None,
    visible: set[str] | frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """``tracks`` as ``user`` sees them, with their creators' ``names`` (owner id -> name)
    and the ids of the remix sources they may see (``visible``)."""
    return [
        track_view(
            t,
            creator=names.get(t.owner_id),
            mine=user is not None and user.id == t.owner_id,
            source_visible=t.source_track_id in visible,
        )
        for t in tracks
    ]


def sources_of(tracks: list[Track]) -> set[str]:
    """The ids of the tracks that ``tracks`` (remixes among them) were made from."""
    return {t.source_track_id for t in tracks if t.source_track_id}
