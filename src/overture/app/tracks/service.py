"""The track library: turning a song folder into a stored ``Track``, who may see it, and
which stored file each download name means.

A private track is invisible to everyone but its owner: asking for it answers 404, exactly as
for a track that does not exist, so ids cannot be probed. A deleted track is kept (its row,
for credits of remixes) but answers 404 to everyone.

A remix's credit (``source_*`` and ``lineage``) is set once, when the worker makes the track,
and nothing here ever changes it: publishing, unpublishing and deleting touch other columns,
and the database refuses an update of it (migration 0004).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, false, select, update
from sqlalchemy.orm import Session

from overture.app.catalog.service import reindex
from overture.app.db import session_factory, upsert_insert, utcnow
from overture.app.errors import Forbidden, NotFound
from overture.app.media.storage import Storage, content_type_for
from overture.app.models import MediaObject, Play, Track, User

# Download name -> the track column holding its key.
NAMED_FILES = {
    "song.flac": "mix_key",
    "song_instrumental.flac": "instrumental_key",
    "song.mid": "midi_key",
    "song.musicxml": "musicxml_key",
    "song.lrc": "lrc_key",
    "song.json": "song_json_key",
}


def store_folder(storage: Storage, folder: Path) -> dict[str, str]:
    """Put every file of a song folder into ``storage``: relative name -> key."""
    keys: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            keys[path.relative_to(folder).as_posix()] = storage.put(path)
    return keys


def add_media(s: Session, storage: Storage, keys: dict[str, str]) -> None:
    """Record the stored files; a key already known (the same bytes) is left as it is."""
    for name, key in keys.items():
        s.execute(
            upsert_insert(s.get_bind(), MediaObject)
            .values(
                key=key,
                size=storage.size(key),
                content_type=content_type_for(name),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )


def new_track(
    owner_id: int, options: dict[str, Any], keys: dict[str, str], song: dict[str, Any]
) -> Track:
    """A private track from a song folder's stored files and its ``song.json``."""
    spec = song.get("spec", {})
    columns = {col: keys.get(name) for name, col in NAMED_FILES.items()}
    if not columns["mix_key"]:
        raise ValueError("the song folder has no song.flac")
    stems = {
        Path(n).stem: k for n, k in keys.items() if n.startswith("stems/") and n.endswith(".flac")
    }
    extra = {n: k for n, k in keys.items() if n not in NAMED_FILES and not n.startswith("stems/")}
    moods = spec.get("moods") or []
    return Track(
        owner_id=owner_id,
        title=str(song.get("title") or spec.get("title") or "Untitled")[:200],
        prompt=options.get("prompt", ""),
        genre=spec.get("genre"),
        mood=", ".join(moods)[:200] or None,
        tempo=spec.get("tempo"),
        key=spec.get("key"),
        duration=spec.get("duration"),
        lyrics=options.get("lyrics"),
        seed=song.get("seed", options.get("seed")),
        visibility="private",
        stems=stems,
        extra_files=extra,
        created_at=utcnow(),
        **columns,
    )


def publish(s: Session, track: Track) -> None:
    """Make ``track`` public (from now, unless it already was) and put it in the catalog."""
    if track.visibility != "public":
        track.published_at = utcnow()
    track.visibility = "public"
    reindex(s, track)


def read_song_json(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "song.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class TrackService:
    """Reading and changing tracks as a given user."""

    def __init__(self, engine: Engine) -> None:
        self.Session = session_factory(engine)

    def _visible(self, s: Session, track_id: str, user: User | None) -> Track:
        track = s.get(Track, track_id)
        if track is None or track.deleted_at is not None:
            raise NotFound("no such track")
        mine = user is not None and track.owner_id == user.id
        if not mine and track.visibility != "public":
            raise NotFound("no such track")
        return track

    def get(self, track_id: str, user: User | None) -> Track:
        """The track if ``user`` may see it (theirs, or public); ``NotFound`` otherwise."""
        with self.Session() as s:
            return self._visible(s, track_id, user)

    def visible_ids(self, ids: set[str], user: User | None) -> set[str]:
        """Which of the track ``ids`` ``user`` may see (theirs or public, not deleted): the
        remix credits that may link to their source."""
        if not ids:
            return set()
        mine = Track.owner_id == user.id if user is not None else false()
        q = select(Track.id).where(
            Track.id.in_(ids), Track.deleted_at.is_(None), (Track.visibility == "public") | mine
        )
        with self.Session() as s:
            return set(s.scalars(q))

    def derived(self, track_id: str, user: User | None, *, limit: int = 50) -> list[Track]:
        """The tracks made from ``track_id`` (remixes, and its creator's new versions of it)
        that ``user`` may see: public ones, and their own private ones; newest first."""
        mine = Track.owner_id == user.id if user is not None else false()
        q = (
            select(Track)
            .where(
                Track.source_track_id == track_id,
                Track.deleted_at.is_(None),
                (Track.visibility == "public") | mine,
            )
            .order_by(Track.created_at.desc(), Track.id)
            .limit(limit)
        )
        with self.Session() as s:
            return list(s.scalars(q))

    def list_mine(self, user: User, *, limit: int = 50, offset: int = 0) -> list[Track]:
        with self.Session() as s:
            q = (
                select(Track)
                .where(Track.owner_id == user.id, Track.deleted_at.is_(None))
                .order_by(Track.created_at.desc(), Track.id)
                .limit(limit)
                .offset(offset)
            )
            return list(s.scalars(q))

    def list_public(self, *, limit: int = 50, offset: int = 0) -> list[Track]:
        with self.Session() as s:
            q = (
                select(Track)
                .where(Track.visibility == "public", Track.deleted_at.is_(None))
                .order_by(Track.published_at.desc(), Track.id)
                .limit(limit)
                .offset(offset)
            )
            return list(s.scalars(q))

    def _changeable(self, s: Session, track_id: str, user: User, *, moderate: bool) -> Track:
        track = self._visible(s, track_id, user)
        if track.owner_id != user.id and not (moderate and user.role == "admin"):
            raise Forbidden("only the track's creator can do that")
        return track

    def set_visibility(self, track_id: str, user: User, visibility: str) -> Track:
        """Publish (``public``) or unpublish (``private``). Only the owner publishes; an
        admin may also unpublish, to moderate."""
        with self.Session.begin() as s:
            track = self._changeable(s, track_id, user, moderate=visibility == "private")
            if visibility == "public":
                publish(s, track)
            else:
                track.published_at = None
                track.visibility = "private"
                reindex(s, track)
        return track

    def delete(self, track_id: str, user: User) -> None:
        """Delete a track (its owner, or an admin moderating a public one). The stored files
        stay: other tracks may share their bytes."""
        with self.Session.begin() as s:
            track = self._changeable(s, track_id, user, moderate=True)
            track.deleted_at = utcnow()
            track.visibility = "private"
            reindex(s, track)

    def record_play(self, track_id: str, user: User | None, listener: str) -> bool:
        """Count a play of a track ``user`` may see, by ``listener`` (a hash that stands for
        the person: their account, or their address and browser). A listener counts once a
        day per track, and a creator's own plays do not count. True when it counted."""
        now = utcnow()
        with self.Session.begin() as s:
            track = self._visible(s, track_id, user)
            if user is not None and user.id == track.owner_id:
                return False
            added = s.execute(
                upsert_insert(s.get_bind(), Play)
                .values(track_id=track.id, listener=listener, day=now.date().isoformat())
                .values(created_at=now)
                .on_conflict_do_nothing()
                .returning(Play.track_id)
            ).first()
            if added is not None:
                s.execute(
                    update(Track)
                    .where(Track.id == track.id)
                    .values(play_count=Track.play_count + 1)
                )
            return added is not None

    def creator_name(self, track: Track) -> str | None:
        with self.Session() as s:
            owner = s.get(User, track.owner_id)
            return owner.display_name if owner else None


def file_key(track: Track, name: str) -> str:
    """The media key of a track's download ``name`` (``song.mid``, ``stems/drums.flac``,
    ...); ``NotFound`` when the track has no such file."""
    key: str | None = None
    if name in NAMED_FILES:
        key = getattr(track, NAMED_FILES[name])
    elif name.startswith("stems/") and name.endswith(".flac"):
        key = (track.stems or {}).get(name[len("stems/") : -len(".flac")])
    else:
        key = (track.extra_files or {}).get(name)
    if not key:
        raise NotFound(f"this track has no file {name!r}")
    return key


def file_names(track: Track) -> list[str]:
    """Every download name of ``track``."""
    names = [n for n, col in NAMED_FILES.items() if getattr(track, col)]
    names += [f"stems/{stem}.flac" for stem in sorted(track.stems or {})]
    names += sorted(track.extra_files or {})
    return names
