"""New versions of one's own song: the studio's ``extend``, ``regenerate`` (repaint a
section), ``restyle`` and ``vary`` as jobs, for the track's creator.

They are asked for with ``POST /api/tracks/{id}/derive`` (a ``DeriveRequest``: one model per
operation, told apart by its ``operation`` field) and go through the queue as remixes do
(``overture.app.jobs.remix``, whose machinery they share): the request is checked when it is
made, against the song itself (read back from the media store as the engine reads a song
folder) and by the engine's own rules and words, so a bad one never waits in the queue; the
worker reads the song back again, runs the operation, and stores each song it writes as a
private track that credits its source (the source's id, title and creator, and the exact
lineage from the new ``song.json`` with track ids added). ``vary`` writes ``n`` takes: each
becomes a track of its own, and the job lists them all (``track_ids``).

The stored options (``DeriveOptions``: ``{"operation": "extend", "source_track_id": ...,
...}``) name the operation, so ``operation_of`` tells them from a remix and a song made from
a prompt.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from overture.app.errors import AppError, Invalid
from overture.app.jobs.remix import (
    DEFAULT_KEEP,
    RemixFailed,
    Words,
    materialise,
    source_keys,
    source_of,
)
from overture.app.media.storage import Storage
from overture.app.models import Track
from overture.errors import InvalidInputError

OPERATIONS = ("extend", "regenerate", "restyle", "vary")
MAX_TAKES = 10
MAX_SONG_JSON = 8 * 1024 * 1024
SEED = 2**31 - 1

DERIVE_WORDS = Words(
    deleted="the song was deleted, so no new version of it could be made",
    hidden="only the song's creator can make new versions of it",
    no_files="the song has lost its stored score, so no new version of it can be made",
    damaged="the song has a damaged stored score, so no new version of it can be made",
)
NOT_DERIVABLE = "no new version of this song can be made: its score was not kept"
NOT_YOURS = "only the song's creator can make new versions of it; remix it instead"


# -- what is asked -------------------------------------------------------------------------


class ExtendRequest(BaseModel):
    """Continue the song: with the sections ``add`` names, or to ``to`` seconds."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["extend"]
    add: str | None = Field(
        None,
        max_length=1000,
        description='The sections to add, in order ("bridge chorus"); a returning kind (a '
        "chorus) comes back as the song sang or played it, a new kind is written from its "
        "motifs. Give this or ``to``.",
    )
    to: float | None = Field(
        None,
        gt=0,
        le=900,
        allow_inf_nan=False,
        description="The new length in seconds, longer than the song. Give this or ``add``.",
    )


class RegenerateRequest(BaseModel):
    """Repaint one section: its notes in every part written again, every other note kept."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["regenerate"]
    section: str = Field(
        min_length=1,
        max_length=40,
        description='The section\'s id, e.g. "chorus2" (``GET /api/tracks/{id}/sections``).',
    )
    seed: int | None = Field(
        None, ge=0, le=SEED, description="Draws the new notes; the engine's own when not given."
    )


class RestyleRequest(BaseModel):
    """A cover of the song: the same tune, lyrics, form and chords in another style."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["restyle"]
    style: str = Field(
        min_length=1, max_length=1000, description='The style ("jazz trio", "lo-fi hip hop").'
    )
    tempo: float | None = Field(
        None, allow_inf_nan=False, description="Beats per minute; the song's own when not given."
    )
    seed: int | None = Field(None, ge=0, le=SEED, description="Draws the new band part.")


class VaryRequest(BaseModel):
    """``n`` new takes of the song, each keeping what ``keep`` names; each take becomes a
    private track of its own."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["vary"]
    n: int = Field(1, ge=1, le=MAX_TAKES, description="How many takes (1-10).")
    keep: list[str] | None = Field(
        None,
        max_length=8,
        description="What each take keeps exactly (melody, chords, structure, lyrics); melody "
        "and structure when not given. A sung song keeps its lyrics always.",
    )
    seed: int = Field(0, ge=0, le=SEED, description="Draws the takes; the same seed, the same.")


DeriveRequest = Annotated[
    ExtendRequest | RegenerateRequest | RestyleRequest | VaryRequest,
    Field(discriminator="operation"),
]


class DeriveOptions(BaseModel):
    """A new-version job's stored options: the operation, the source track and what was asked
    (checked, in the engine's terms: ``add`` as section kinds, ``keep`` as keep words)."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["extend", "regenerate", "restyle", "vary"]
    source_track_id: str = Field(min_length=1, max_length=32)
    source_title: str | None = Field(None, max_length=200)  # what the job list shows
    add: list[str] | None = Field(None, max_length=64)
    to: float | None = None
    section: str | None = Field(None, max_length=40)
    style: str | None = Field(None, max_length=1000)
    tempo: float | None = None
    keep: list[str] | None = Field(None, max_length=8)
    n: int | None = Field(None, ge=1, le=MAX_TAKES)
    seed: int | None = Field(None, ge=0, le=SEED)


# -- checking a request against the song -----------------------------------------------------


def load_track_song(storage: Storage, track: Track) -> Any:
    """``track``'s song as the engine reads a song folder (a ``SourceSong``), from its stored
    ``score.json`` and ``song.json``; ``Invalid`` when they were not kept or are damaged."""
    if source_keys(track) is None:
        raise Invalid(NOT_DERIVABLE)
    try:
        source = source_of(track, None, DERIVE_WORDS)
        with tempfile.TemporaryDirectory(prefix="overture-check-") as tmp:
            return materialise(storage, source, Path(tmp) / "song", DERIVE_WORDS)
    except RemixFailed as e:
        raise Invalid(str(e)) from None


def check_section(src: Any, section: str) -> None:
    """The engine's words when ``src`` has no section ``section`` (naming the song, not the
    folder it was read from)."""
    ids = [s.id for s in src.plan.sections]
    if section not in ids:
        raise InvalidInputError(f"no section {section!r} in this song (it has {', '.join(ids)})")


def check_extend(src: Any, *, to: float | None, add: str | None) -> list[str] | None:
    """``extend``'s own instant check of a request (``overture.studio.extension``: exactly
    one of ``to`` and ``add``, a song that is not a loop, a ``to`` a bar or more longer than
    the song, known sections, a result within the engine's limits), in its words. Returns
    ``add`` as the section kinds the engine reads it as."""
    from overture.studio import extension

    added = extension(src, to=to, add=add)
    return None if add is None else [kind for kind, _ in added]


def validate_derive(
    storage: Storage,
    source: Track,
    request: ExtendRequest | RegenerateRequest | RestyleRequest | VaryRequest,
) -> dict[str, Any]:
    """The options to store for a new version of ``source`` (the asker's own track);
    ``Invalid`` with the engine's reason when it could not be made."""
    from overture.studio import parse_keep, restyle_target

    src = load_track_song(storage, source)
    options: dict[str, Any] = {
        "operation": request.operation,
        "source_track_id": source.id,
        "source_title": source.title[:200],
    }
    try:
        if isinstance(request, ExtendRequest):
            add = (request.add or "").strip() or None
            kinds = check_extend(src, to=request.to, add=add)
            options.update(add=kinds, to=request.to)
        elif isinstance(request, RegenerateRequest):
            check_section(src, request.section)
            options.update(section=request.section, seed=request.seed)
        elif isinstance(request, RestyleRequest):
            style = request.style.strip()
            if not style:
                raise InvalidInputError('give a style to restyle to (e.g. "jazz trio")')
            restyle_target(src, style, tempo=request.tempo)
            options.update(style=style, tempo=request.tempo, seed=request.seed)
        else:
            keep = parse_keep(DEFAULT_KEEP if request.keep is None else request.keep)
            options.update(keep=list(keep), n=request.n, seed=request.seed)
    except InvalidInputError as e:
        raise Invalid(str(e)) from None
    return DeriveOptions.model_validate(options).model_dump(exclude_none=True)


def track_sections(storage: Storage, track: Track) -> list[dict[str, Any]]:
    """The sections of ``track``'s song, in order, as its stored ``song.json`` lists them:
    ``{"id": "chorus1", "kind": "chorus", "start": 12.8, "end": 25.6}`` (seconds). Empty
    when the song cannot be changed (no stored score) or its ``song.json`` cannot be read."""
    if source_keys(track) is None or not track.song_json_key:
        return []
    try:
        with storage.open(track.song_json_key) as f:
            raw = f.read(MAX_SONG_JSON + 1)
        if len(raw) > MAX_SONG_JSON:
            return []
        form = json.loads(raw).get("plan", {}).get("form", [])
        return [
            {
                "id": str(s["id"]),
                "kind": str(s.get("type") or s.get("kind") or ""),
                "start": s.get("start"),
                "end": s.get("end"),
            }
            for s in form
            if isinstance(s, dict) and s.get("id")
        ]
    except (AppError, OSError, ValueError, AttributeError, TypeError):
        return []


# -- the worker side -----------------------------------------------------------------------


def make_derived(
    source: Any,
    options: DeriveOptions,
    out: Path,
    *,
    soundfont: Path | None,
    workers: int,
    progress: Callable[[str, float], None],
) -> list[Path]:
    """Run the operation on ``source`` (a ``SourceSong``), writing under ``out``; the folders
    of the songs it wrote (one per take of ``vary``, else one)."""
    from overture.studio import extend, regenerate, restyle, vary

    common: dict[str, Any] = {"soundfont": soundfont, "workers": workers, "progress": progress}
    if options.operation == "extend":
        extend(source, to=options.to, add=options.add, out=out, **common)
    elif options.operation == "regenerate":
        assert options.section is not None
        regenerate(source, options.section, seed=options.seed, out=out, **common)
    elif options.operation == "restyle":
        assert options.style is not None
        restyle(source, options.style, tempo=options.tempo, seed=options.seed, out=out, **common)
    else:
        takes = vary(
            source,
            options.n or 1,
            keep=options.keep if options.keep is not None else list(DEFAULT_KEEP),
            seed=options.seed or 0,
            out=out,
            **common,
        )
        return [Path(t.out_dir) for t in takes if t.out_dir is not None]
    return [out]


def derived_title(options: DeriveOptions, title: str) -> str | None:
    """The title of a new version's track where the engine keeps the source's own (an
    extended or repainted song), so the two tell apart in a library; None to keep the
    engine's ("Song (jazz)", "Song (take 2)")."""
    if options.operation == "extend":
        return f"{title} (extended)"[:200]
    if options.operation == "regenerate":
        return f"{title} (new {options.section})"[:200]
    return None
