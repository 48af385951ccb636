"""``/api/tracks``: the library, publishing, and the files (audio with byte ranges)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from overture.app.deps import CurrentUser, Limit, Offset, optional_user, services
from overture.app.media.http import media_response
from overture.app.media.storage import content_type_for
from overture.app.models import Track, User
from overture.app.tracks.service import file_key
from overture.app.views import track_view

router = APIRouter(prefix="/api/tracks", tags=["tracks"])


def _view(request: Request, track: Track, user: User | None) -> dict[str, Any]:
    creator = services(request).tracks.creator_name(track)
    return track_view(track, creator=creator, mine=user is not None and user.id == track.owner_id)


@router.get("")
def my_tracks(
    request: Request,
    user: CurrentUser,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Your tracks, private and public, newest first."""
    tracks = services(request).tracks.list_mine(user, limit=limit, offset=offset)
    return {"tracks": [_view(request, t, user) for t in tracks]}


@router.get("/public")
def public_tracks(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Published tracks of everyone, most recently published first."""
    user = optional_user(request)
    tracks = services(request).tracks.list_public(limit=limit, offset=offset)
    return {"tracks": [_view(request, t, user) for t in tracks]}


@router.get("/{track_id}")
def get_track(request: Request, track_id: str) -> dict[str, Any]:
    """A track: yours, or anyone's public one (404 otherwise, as for no track at all)."""
    user = optional_user(request)
    return _view(request, services(request).tracks.get(track_id, user), user)


@router.post("/{track_id}/publish")
def publish(request: Request, track_id: str, user: CurrentUser) -> dict[str, Any]:
    """Make your track public."""
    return _view(request, services(request).tracks.set_visibility(track_id, user, "public"), user)


@router.post("/{track_id}/unpublish")
def unpublish(request: Request, track_id: str, user: CurrentUser) -> dict[str, Any]:
    """Make a track private again (yours; an admin may unpublish any)."""
    track = services(request).tracks.set_visibility(track_id, user, "private")
    return _view(request, track, user)


@router.delete("/{track_id}", status_code=204)
def delete_track(request: Request, track_id: str, user: CurrentUser) -> Response:
    """Delete your track (an admin may delete any public one)."""
    services(request).tracks.delete(track_id, user)
    return Response(status_code=204)


@router.get("/{track_id}/audio")
def audio(request: Request, track_id: str) -> Response:
    """The track's mix (FLAC), for a player: byte ranges (206), ETag and 304."""
    svc = services(request)
    track = svc.tracks.get(track_id, optional_user(request))
    return media_response(
        request, svc.storage, track.mix_key, content_type="audio/flac", filename="song.flac"
    )


@router.get("/{track_id}/files/{name:path}")
def download(request: Request, track_id: str, name: str) -> Response:
    """One of the track's files as a download: ``song.flac``, ``song_instrumental.flac``,
    ``stems/NAME.flac``, ``song.mid``, ``song.musicxml``, ``song.lrc``, ``song.json``,
    ``score.json``, ``trace.json``."""
    svc = services(request)
    track = svc.tracks.get(track_id, optional_user(request))
    key = file_key(track, name)
    return media_response(
        request,
        svc.storage,
        key,
        content_type=content_type_for(name),
        filename=name.rsplit("/", 1)[-1],
        inline=False,
    )
