"""``/api/tracks``: the library, publishing, remixing, new versions of one's own songs (the
studio's operations), and the files (audio with byte ranges). No route changes a track's
content or credit: a derived track's source and lineage are written once, by the worker."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from overture.app.deps import CurrentUser, Limit, Offset, client_ip, optional_user, services
from overture.app.errors import Forbidden, NotFound
from overture.app.jobs.derive import (
    NOT_YOURS,
    DeriveRequest,
    track_sections,
    validate_derive,
)
from overture.app.jobs.remix import RemixRequest, validate_remix
from overture.app.media.http import bytes_response, media_response
from overture.app.media.storage import LocalStorage, Storage, content_type_for
from overture.app.models import Track, User
from overture.app.tracks.art import WAVEFORM_FILE, WAVEFORM_POINTS, cover_svg, waveform_peaks
from overture.app.tracks.service import file_key
from overture.app.views import job_view, sources_of, track_view, track_views

router = APIRouter(prefix="/api/tracks", tags=["tracks"])


def _view(request: Request, track: Track, user: User | None) -> dict[str, Any]:
    svc = services(request)
    creator = svc.tracks.creator_name(track)
    mine = user is not None and user.id == track.owner_id
    visible = bool(svc.tracks.visible_ids(sources_of([track]), user))
    return track_view(track, creator=creator, mine=mine, source_visible=visible)


def _views(request: Request, tracks: list[Track], user: User | None) -> list[dict[str, Any]]:
    svc = services(request)
    visible = svc.tracks.visible_ids(sources_of(tracks), user)
    return track_views(tracks, svc.catalog.creator_names(tracks), user, visible)


@router.get("")
def my_tracks(
    request: Request,
    user: CurrentUser,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Your tracks, private and public, newest first."""
    tracks = services(request).tracks.list_mine(user, limit=limit, offset=offset)
    return {"tracks": _views(request, tracks, user)}


@router.get("/public")
def public_tracks(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Published tracks of everyone, most recently published first."""
    user = optional_user(request)
    tracks = services(request).tracks.list_public(limit=limit, offset=offset)
    return {"tracks": _views(request, tracks, user)}


@router.get("/{track_id}")
def get_track(request: Request, track_id: str) -> dict[str, Any]:
    """A track: yours, or anyone's public one (404 otherwise, as for no track at all)."""
    user = optional_user(request)
    return _view(request, services(request).tracks.get(track_id, user), user)


@router.get("/{track_id}/remixes")
def remixes(request: Request, track_id: str, limit: Limit = 50) -> dict[str, Any]:
    """The published remixes of a track (one you may see), newest first."""
    svc, user = services(request), optional_user(request)
    track = svc.tracks.get(track_id, user)
    return {"tracks": _views(request, svc.catalog.remixes(track.id, limit=limit), user)}


@router.post("/{track_id}/remix", status_code=201)
def remix(request: Request, track_id: str, body: RemixRequest, user: CurrentUser) -> dict[str, Any]:
    """Remix a track: anyone's published one, or your own. With a ``style`` it is a cover
    in that style (the same tune, lyrics, form and chords, played by that style's band);
    without one a variation that keeps what ``keep`` names (the melody and structure unless
    told; a sung song keeps its lyrics) and writes a new band part and harmony.

    Answers with the queued job (follow it with ``GET /api/jobs/{id}``); its track credits
    this one as its source, with the lineage, for good. 404 for a track you may not see,
    422 with the reason when the engine could not make it, 429 when you already have the
    most songs in progress allowed."""
    if user.role not in ("creator", "admin"):
        raise Forbidden("listeners cannot make songs")
    svc = services(request)
    source = svc.tracks.get(track_id, user)
    stored = validate_remix(source, body)
    job = svc.queue.enqueue(user.id, stored, limit=svc.settings.max_jobs_per_user)
    return job_view(job)


@router.get("/{track_id}/sections")
def sections(request: Request, track_id: str) -> dict[str, Any]:
    """The sections of a track you may see, in order, with their times in seconds:
    ``{"sections": [{"id": "verse1", "kind": "verse", "start": 0.0, "end": 12.8}, ...]}``.
    A section's ``id`` is what ``derive`` with ``regenerate`` repaints. Empty for a song
    that cannot be changed (its score was not kept)."""
    svc = services(request)
    track = svc.tracks.get(track_id, optional_user(request))
    return {"sections": track_sections(svc.storage, track)}


@router.post("/{track_id}/derive", status_code=201)
def derive(
    request: Request,
    track_id: str,
    body: Annotated[DeriveRequest, Body()],
    user: CurrentUser,
) -> dict[str, Any]:
    """Make a new version of your own song with one of the studio's operations, named by
    ``operation``:

    - ``extend``: continue it, with the sections ``add`` names (``"bridge chorus"``) or to
      ``to`` seconds; every bar of it is kept, note for note.
    - ``regenerate``: repaint one ``section`` (an id from ``GET /api/tracks/{id}/sections``,
      e.g. ``"chorus2"``); every other note is kept.
    - ``restyle``: a cover in another ``style`` (``"jazz trio"``), optionally at ``tempo``.
    - ``vary``: ``n`` takes (1-10) that keep what ``keep`` names (melody, chords,
      structure, lyrics); each take becomes a private track of its own.

    The request is checked against the song at once, by the engine's rules: 422 with the
    engine's reason (a section the song does not have, a ``to`` not longer than the song, a
    word ``keep`` does not know, a style it cannot find). Answers with the queued job
    (follow it with ``GET /api/jobs/{id}``; when it succeeds, ``track_ids`` lists the new
    tracks). Each new track is private, and credits this one as its source with the exact
    lineage, for good. 401 signed out, 403 for a listener or a song that is not yours (remix
    it instead: ``POST /api/tracks/{id}/remix``), 404 for a track you may not see, 429 when
    you already have the most songs in progress allowed."""
    if user.role not in ("creator", "admin"):
        raise Forbidden("listeners cannot make songs")
    svc = services(request)
    source = svc.tracks.get(track_id, user)
    if source.owner_id != user.id:
        raise Forbidden(NOT_YOURS)
    stored = validate_derive(svc.storage, source, body)
    job = svc.queue.enqueue(user.id, stored, limit=svc.settings.max_jobs_per_user)
    return job_view(job)


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


@router.post("/{track_id}/play")
def play(request: Request, track_id: str) -> dict[str, Any]:
    """Count a play (the player calls this when a track starts). Signed in or not; a
    listener counts once a day per track, and a creator's own plays do not count."""
    user = optional_user(request)
    if user is not None:
        who = f"user:{user.id}"
    else:
        agent = request.headers.get("user-agent", "")
        who = f"anon:{client_ip(request)}:{agent}"
    listener = hashlib.sha256(who.encode("utf-8")).hexdigest()
    counted = services(request).tracks.record_play(track_id, user, listener)
    return {"counted": counted}


def _stored_json(storage: Storage, key: str | None) -> dict[str, Any] | None:
    if not key:
        return None
    try:
        with storage.open(key) as f:
            value = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@lru_cache(maxsize=256)
def _cover(
    storage: Storage, song_key: str | None, score_key: str | None, title: str, creator: str | None
) -> bytes:
    song = _stored_json(storage, song_key) or {}
    score = _stored_json(storage, score_key)
    return cover_svg(song, title=title, creator=creator, score=score).encode("utf-8")


@lru_cache(maxsize=256)
def _waveform(storage: Storage, mix_key: str) -> bytes:
    path = storage.path(mix_key) if isinstance(storage, LocalStorage) else None
    if path is None:
        raise NotFound("this track has no waveform")
    try:
        peaks = waveform_peaks(path, points=WAVEFORM_POINTS)
    except ValueError:
        raise NotFound("this track's audio cannot be read for a waveform") from None
    return json.dumps({"peaks": peaks}).encode("utf-8")


@router.get("/{track_id}/cover.svg")
def cover(request: Request, track_id: str) -> Response:
    """The track's cover, drawn from the song itself (its key, moods, form, energy and
    tune): the same song always gets the same picture."""
    svc = services(request)
    track = svc.tracks.get(track_id, optional_user(request))
    creator = svc.tracks.creator_name(track)
    score_key = (track.extra_files or {}).get("score.json")
    body = _cover(svc.storage, track.song_json_key, score_key, track.title, creator)
    return bytes_response(request, body, "image/svg+xml")


@router.get("/{track_id}/waveform")
def waveform(request: Request, track_id: str) -> Response:
    """``{"peaks": [...]}``: the mix's loudest level in each of 800 equal slices (0..1),
    for drawing the player's waveform."""
    svc = services(request)
    track = svc.tracks.get(track_id, optional_user(request))
    stored = (track.extra_files or {}).get(WAVEFORM_FILE)
    if stored:
        with svc.storage.open(stored) as f:
            return bytes_response(request, f.read(), "application/json")
    return bytes_response(request, _waveform(svc.storage, track.mix_key), "application/json")


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
