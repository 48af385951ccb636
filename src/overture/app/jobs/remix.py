"""Remix jobs: a song made from another track, credited to it for good.

A remix is asked for with ``POST /api/tracks/{id}/remix`` (a ``RemixRequest``) and stored as
the job's options in a shape of its own, ``RemixOptions`` (``{"operation": "remix",
"source_track_id": ..., ...}``), beside the ``JobOptions`` of a song made from a prompt (which
have no ``operation``): ``operation_of`` tells the two apart, and each is checked by its own
model, so neither loosens the other. With a ``style`` the remix is the engine's ``restyle``
(a cover: the same tune, lyrics, form and chords played by that style's band); without one it
is a ``vary`` take that keeps the melody and structure (and the lyrics) and writes a new band
part and harmony.

The request is checked when it is made, by the engine's own rules, so a bad one never waits
in the queue. The worker then reads the source's ``score.json`` and ``song.json`` back from
the media store into a song folder (``materialise``), runs the studio operation on it, and
stores the result as a track that credits its source (``credit``): the source's id, title and
creator's name, and the engine's lineage with the source's track and creator ids added.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from overture.app.errors import AppError, Invalid
from overture.app.media.storage import Storage
from overture.app.models import Track, User
from overture.errors import InvalidInputError, OvertureError

REMIX = "remix"
DEFAULT_KEEP = ("melody", "structure")  # a sung song's lyrics are always kept as well
SEED = Field(
    0, ge=0, le=2**31 - 1, description="Draws the new parts; the same seed, the same remix."
)

DELETED = "the song to remix was deleted, so it could not be remixed"
HIDDEN = "the song to remix was made private by its creator, so it could not be remixed"
NO_FILES = "the song to remix has lost its stored score, so it cannot be remixed"
DAMAGED = "the song to remix has a damaged stored score, so it cannot be remixed"
NOT_REMIXABLE = "this song cannot be remixed: its score was not kept"


class RemixFailed(OvertureError):
    """A remix job that cannot be done, in words for the person who asked for it."""


@dataclass(frozen=True, slots=True)
class Words:
    """Why a job made from a track could not be done, in words that name the job: a remix
    (``REMIX_WORDS``), or a new version of one's own song (``overture.app.jobs.derive``)."""

    deleted: str
    hidden: str
    no_files: str
    damaged: str


REMIX_WORDS = Words(DELETED, HIDDEN, NO_FILES, DAMAGED)


class RemixRequest(BaseModel):
    """What ``POST /api/tracks/{id}/remix`` takes."""

    model_config = ConfigDict(extra="forbid")

    style: str | None = Field(
        None,
        max_length=1000,
        description='A style to restyle to ("jazz trio", "lo-fi hip hop"): a cover with the '
        "same tune, lyrics, form and chords. Without one, a variation with a new band part.",
    )
    keep: list[str] | None = Field(
        None,
        max_length=8,
        description="For a variation: what to keep exactly (melody, chords, structure, "
        "lyrics); melody and structure when not given. A sung song keeps its lyrics always.",
    )
    seed: int = SEED


class RemixOptions(BaseModel):
    """A remix job's stored options: the operation, the source track and what was asked."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["remix"] = REMIX
    source_track_id: str = Field(min_length=1, max_length=32)
    style: str | None = Field(None, max_length=1000)
    keep: list[str] | None = Field(None, max_length=8)
    seed: int = SEED


def operation_of(options: dict[str, Any]) -> str:
    """What a job's stored options make: ``remix`` for a remix, the studio operation for a
    new version of one's own song (``extend``, ``regenerate``, ``restyle``, ``vary``) or an
    arranged demo (``arrange``), ``generate`` for a song from a prompt."""
    return str(options.get("operation") or "generate")


def source_keys(track: Track) -> tuple[str, str] | None:
    """The media keys of a track's ``score.json`` and ``song.json``, which a remix is made
    from; None when either was not stored."""
    score = (track.extra_files or {}).get("score.json")
    if not score or not track.song_json_key:
        return None
    return score, track.song_json_key


def check_style(style: str) -> None:
    """``InvalidInputError`` (the engine's words) when ``restyle`` could not use ``style``:
    it names no style nor instrument, or a tempo out of range."""
    from overture.prompt import parse_prompt
    from overture.spec import check_tempo

    info = parse_prompt(style)
    if info.genre is None and not info.instruments:
        raise InvalidInputError(
            f'no style or instrument in {style!r} to restyle to (e.g. "jazz trio")'
        )
    if info.tempo is not None:
        check_tempo(float(info.tempo))


def validate_remix(source: Track, request: RemixRequest) -> dict[str, Any]:
    """The options to store for a remix of ``source`` (a track the asker may see); ``Invalid``
    with the reason when the engine could not make it."""
    from overture.studio import parse_keep

    if source_keys(source) is None:
        raise Invalid(NOT_REMIXABLE)
    style = (request.style or "").strip() or None
    keep: list[str] | None = None
    try:
        if style is not None:
            if request.keep is not None:
                raise InvalidInputError(
                    "a restyle keeps the tune, lyrics, form and chords: give keep only for a "
                    "variation (without a style)"
                )
            check_style(style)
        else:
            keep = list(parse_keep(DEFAULT_KEEP if request.keep is None else request.keep))
    except InvalidInputError as e:
        raise Invalid(str(e)) from None
    options = RemixOptions(source_track_id=source.id, style=style, keep=keep, seed=request.seed)
    return options.model_dump(exclude_none=True)


# -- the worker side -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemixSource:
    """What the worker needs of the source track, read once at the start of the job."""

    track_id: str
    owner_id: int
    title: str
    creator: str | None
    lyrics: str | None
    lineage: dict[str, Any] | None
    score_key: str
    song_key: str


def source_of(track: Track, creator: str | None, words: Words = REMIX_WORDS) -> RemixSource:
    """What a job needs of ``track`` (a track it is made from), with its creator's name;
    ``RemixFailed`` when its score was not stored."""
    keys = source_keys(track)
    if keys is None:
        raise RemixFailed(words.no_files)
    return RemixSource(
        track_id=track.id,
        owner_id=track.owner_id,
        title=track.title,
        creator=creator,
        lyrics=track.lyrics,
        lineage=track.lineage,
        score_key=keys[0],
        song_key=keys[1],
    )


def remix_source(
    sessions: sessionmaker[Session],
    track_id: str,
    user_id: int,
    *,
    words: Words = REMIX_WORDS,
    owner_only: bool = False,
) -> RemixSource:
    """The source of a remix job of ``user_id``, if it may still be remixed: not deleted, and
    public or the asker's own (with ``owner_only``, the asker's own: a new version of one's
    own song). ``RemixFailed`` says why not, in ``words``."""
    with sessions() as s:
        track = s.get(Track, track_id)
        if track is None or track.deleted_at is not None:
            raise RemixFailed(words.deleted)
        if track.owner_id != user_id and (owner_only or track.visibility != "public"):
            raise RemixFailed(words.hidden)
        owner = s.get(User, track.owner_id)
        return source_of(track, owner.display_name if owner else None, words)


def materialise(
    storage: Storage, source: RemixSource, folder: Path, words: Words = REMIX_WORDS
) -> Any:
    """The source's song folder (its ``score.json`` and ``song.json``) written into
    ``folder`` from the media store and read by the engine (a ``SourceSong``)."""
    from overture.studio import load_source

    folder.mkdir(parents=True, exist_ok=True)
    for name, key in (("score.json", source.score_key), ("song.json", source.song_key)):
        try:
            with storage.open(key) as f, open(folder / name, "wb") as out:
                shutil.copyfileobj(f, out)
        except (AppError, OSError):  # NotFound: the bytes are gone from the store
            raise RemixFailed(words.no_files) from None
    try:
        return load_source(folder)
    except InvalidInputError:  # its words name the worker's folders: not for the user
        raise RemixFailed(words.damaged) from None


def make_remix(
    source: Any,
    options: RemixOptions,
    out: Path,
    *,
    soundfont: Path | None,
    workers: int,
    progress: Callable[[str, float], None],
) -> Path:
    """Write the remix of ``source`` (a ``SourceSong``) under ``out``; returns its folder."""
    from overture.studio import restyle, vary

    if options.style:
        restyle(
            source,
            options.style,
            seed=options.seed,
            out=out,
            soundfont=soundfont,
            workers=workers,
            progress=progress,
        )
        return out
    takes = vary(
        source,
        1,
        keep=options.keep if options.keep is not None else list(DEFAULT_KEEP),
        seed=options.seed,
        out=out,
        soundfont=soundfont,
        workers=workers,
        progress=progress,
    )
    folder = takes[0].out_dir
    assert folder is not None
    return Path(folder)


def credit(source: RemixSource, song: dict[str, Any]) -> dict[str, Any]:
    """The remix track's credit columns: the source's id, title and creator, and the lineage
    of the remix's ``song.json`` with the source's track and creator ids added to its parent
    (and, in place of the parent's own lineage as its song.json has it, the same lineage as
    the source track records it, with the ids all the way up)."""
    lineage = song.get("lineage")
    if not isinstance(lineage, dict) or not lineage.get("parents"):
        raise RuntimeError("the engine wrote a remix without its lineage")
    parents = [dict(p) for p in lineage["parents"]]
    parent = parents[0]
    parent.update(track_id=source.track_id, creator_id=source.owner_id, creator=source.creator)
    if source.lineage is not None:
        parent["lineage"] = source.lineage
    return {
        "source_track_id": source.track_id,
        "source_title": source.title[:200],
        "source_creator": (source.creator or "")[:100] or None,
        "lineage": {**lineage, "parents": parents},
    }
