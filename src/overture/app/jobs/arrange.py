"""Arrange a demo: an uploaded recording (hummed, sung or played) or MIDI file becomes the
lead of a full arrangement in the style a prompt asks for (the studio's ``arrange``).

``POST /api/jobs/arrange`` takes the demo as ``multipart/form-data``. The upload is
untrusted, so it is handled in this order, each step refusing what it can before the next
costs anything: the asker's role and room in the queue; the declared size
(``Content-Length``, 413 at once); the body itself, streamed through a byte counter so that
a larger one is refused part-way (413) and never held whole; the file's name (a recording:
wav, flac, mp3, ogg, m4a; or MIDI: .mid, else 415); then the engine's own checks, which read
the file's header and no more (``probe_audio``: an archive renamed ``.wav``, a header that
claims ten hours, ...) or read the MIDI's melody (``read_melody``), with the prompt and
options resolved as ``generate`` would (422 with the engine's words). What passes goes into
the content-addressed media store, so a worker on another machine can fetch it, and a retry
after a killed worker still has it; the job's stored options (``ArrangeOptions``) name it by
its key. Some demos are found wanting only when transcribed (silence, a recording with no
pitched notes): that job fails with the engine's one-line reason.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from overture.app.errors import AppError, Invalid, TooLarge, UnsupportedMedia
from overture.app.media.storage import Storage
from overture.app.tracks.service import add_media
from overture.errors import InvalidInputError, OvertureError
from overture.studio.arrange import MIDI_SUFFIXES, arrange, check_keep_voice
from overture.studio.demo_audio import ACCEPTED_FORMATS, probe_audio

ARRANGE = "arrange"
DEMO_FIELD = "demo"
AUDIO_SUFFIXES = tuple(f".{fmt}" for fmt in ACCEPTED_FORMATS)  # what the engine can read
FORM_SLACK = 64 * 1024  # the other fields and the multipart framing, beside the file
MAX_FIELDS = 12
MAX_FIELD_BYTES = 8 * 1024
COPY_CHUNK = 1 << 20

NOT_MULTIPART = "send the demo as multipart/form-data, in a file field named 'demo'"
NO_DEMO = "no demo: send the recording or MIDI file in a file field named 'demo'"
DEMO_GONE = "the uploaded demo is no longer stored, so it could not be arranged; upload it again"


class ArrangeFailed(OvertureError):
    """An arrange job that cannot be done, in words for the person who asked for it."""


def too_large(limit: int) -> str:
    return f"the demo is too large: at most {limit / 2**20:.3g} MB"


def not_a_demo(name: str) -> str:
    return (
        f"{name} is not a demo the studio can read: send a recording (wav, flac, mp3, ogg or "
        "m4a) or a MIDI file (.mid)"
    )


class ArrangeFields(BaseModel):
    """The form's fields beside the demo file."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field("", max_length=1000, description="The style to arrange it in.")
    keep_voice: bool = Field(
        False,
        description="Keep the recording itself as the lead (a recording only): the song takes "
        "its tempo and key and lasts as long as its melody.",
    )
    duration: float | None = Field(None, ge=1, le=900, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    think: Literal["none", "low", "medium", "high"] | None = None


class ArrangeOptions(ArrangeFields):
    """An arrange job's stored options: what was asked, and the demo in the media store."""

    operation: Literal["arrange"] = ARRANGE
    demo_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    demo_name: str = Field(min_length=1, max_length=120)
    demo_kind: Literal["audio", "midi"]
    demo_seconds: float | None = None  # a recording's length, as its header states it
    demo_notes: int | None = None  # a MIDI melody's notes

    @field_validator("demo_name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if name != safe_name(name):
            raise ValueError("not a plain file name")
        return name


ARRANGE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [DEMO_FIELD],
                    "properties": {
                        DEMO_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "The demo: a recording (wav, flac, mp3, ogg, m4a; "
                            "2-60 s) or a MIDI file (.mid). At most 25 MB unless the service "
                            "is configured otherwise (OVERTURE_MAX_UPLOAD_MB).",
                        },
                        "prompt": {"type": "string", "maxLength": 1000},
                        "keep_voice": {"type": "boolean", "default": False},
                        "duration": {"type": "number", "minimum": 1, "maximum": 900},
                        "seed": {"type": "integer", "minimum": 0, "default": 0},
                        "think": {"type": "string", "enum": ["none", "low", "medium", "high"]},
                    },
                }
            }
        },
    }
}


def safe_name(filename: str | None) -> str:
    """A plain file name for an uploaded file's name: its last path part, letters, digits,
    ``.``, ``-``, ``_`` and spaces only, at most 80 characters before a lower-cased suffix;
    ``demo`` when nothing is left."""
    raw = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = re.sub(r"[^\w.\- ]+", "_", raw).strip(" .")
    stem, dot, suffix = clean.rpartition(".")
    if not dot:
        stem, suffix = clean, ""
    stem = stem.strip(" .")[:80].strip(" .") or "demo"
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())[:8]
    return f"{stem}.{suffix}" if suffix else stem


def demo_kind(name: str) -> Literal["audio", "midi"] | None:
    suffix = Path(name).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return "midi"
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    return None


class _Over(Exception):
    """The request body ran past its limit."""


async def read_upload(request: Request, folder: Path, limit: int) -> tuple[Path, dict[str, str]]:
    """Read a demo upload into ``folder`` (under its plain name) without ever holding more
    than ``limit`` bytes of it: the declared length is checked first, then the body is
    counted as it streams in. Returns the file and the form's other fields."""
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() != "multipart/form-data":
        raise UnsupportedMedia(NOT_MULTIPART)
    most = limit + FORM_SLACK
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise AppError("the Content-Length header is not a number")
        if int(declared) > most:
            raise TooLarge(too_large(limit))
    received = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal received
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise _Over
            yield chunk

    parser = MultiPartParser(
        request.headers,
        body(),  # type: ignore[arg-type]
        max_files=1,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except _Over:
        raise TooLarge(too_large(limit)) from None
    except ClientDisconnect:
        raise AppError("the upload was cut off before it ended") from None
    except MultiPartException as e:
        raise AppError(f"could not read the upload: {e.message}") from None
    try:
        fields: dict[str, str] = {}
        upload = None
        for name, value in form.multi_items():
            if isinstance(value, str):
                if name in fields:
                    raise Invalid(f"{name}: given more than once")
                fields[name] = value
            elif name == DEMO_FIELD:
                upload = value
            else:
                raise Invalid(f"{name}: unexpected file (send the demo in 'demo')")
        if upload is None:
            raise Invalid(NO_DEMO)
        name = safe_name(upload.filename)
        if demo_kind(name) is None:
            raise UnsupportedMedia(not_a_demo(name))
        path = folder / name
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(_copy, upload.file, path, limit)
        return path, fields
    finally:
        await form.close()


def _copy(src: IO[bytes], path: Path, limit: int) -> None:
    src.seek(0)
    size = 0
    with open(path, "wb") as out:
        while chunk := src.read(COPY_CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(too_large(limit))
            out.write(chunk)


def parse_fields(fields: dict[str, str]) -> ArrangeFields:
    """The form's fields as ``ArrangeFields`` (blank ones left out); ``Invalid`` says which
    one is wrong."""
    given = {k: v.strip() for k, v in fields.items() if k != "csrf_token" and v.strip()}
    try:
        return ArrangeFields.model_validate(given)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", "invalid"))
        raise Invalid(f"{loc}: {msg}" if loc else msg) from None


def check_demo(path: Path, fields: ArrangeFields) -> dict[str, Any]:
    """The engine's checks of a demo and what is asked of it, before any work: a recording's
    header (``probe_audio``), a MIDI file's melody (``read_melody``), and the prompt and
    options as ``generate`` resolves them. Returns what the job's options record of the demo;
    ``Invalid`` with the engine's words."""
    from overture.spec import build_spec

    try:
        midi = demo_kind(path.name) == "midi"
        if fields.keep_voice:  # refused before the demo is read, as ``arrange`` does
            check_keep_voice(midi=midi, duration=fields.duration)
        if midi:
            from overture.melody_input import read_melody

            melody = read_melody(path)
            build_spec(
                fields.prompt,
                melody=melody,
                duration=fields.duration,
                seed=fields.seed,
                think=fields.think,
            )
            return {"demo_kind": "midi", "demo_notes": len(melody.notes)}
        info = probe_audio(path)
        # The melody is known only once transcribed (in the worker): the prompt and options
        # are checked on their own here.
        build_spec(fields.prompt, duration=fields.duration, seed=fields.seed, think=fields.think)
        return {"demo_kind": "audio", "demo_seconds": round(info.duration, 3)}
    except InvalidInputError as e:
        raise Invalid(str(e)) from None


def accept_demo(
    storage: Storage, sessions: sessionmaker[Session], path: Path, fields: dict[str, str]
) -> dict[str, Any]:
    """Check an uploaded demo and what is asked of it, and store it: the arrange job's
    options to queue."""
    asked = parse_fields(fields)
    facts = check_demo(path, asked)
    key = storage.put(path)
    with sessions.begin() as s:
        add_media(s, storage, {path.name: key})
    options = ArrangeOptions(**asked.model_dump(), demo_key=key, demo_name=path.name, **facts)
    return options.model_dump(exclude_none=True)


# -- the worker side -----------------------------------------------------------------------


def fetch_demo(storage: Storage, options: ArrangeOptions, folder: Path) -> Path:
    """The job's demo, from the media store into ``folder`` under its plain name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / options.demo_name
    try:
        with storage.open(options.demo_key) as f, open(path, "wb") as out:
            shutil.copyfileobj(f, out)
    except (AppError, OSError):  # NotFound: the bytes are gone from the store
        raise ArrangeFailed(DEMO_GONE) from None
    return path


def make_arrangement(
    demo: Path,
    options: ArrangeOptions,
    out: Path,
    *,
    soundfont: Path | None,
    workers: int,
    progress: Callable[[str, float], None],
) -> Path:
    """Arrange ``demo`` as ``options`` ask, into the song folder ``out``."""
    arrange(
        demo,
        options.prompt,
        keep_voice=options.keep_voice,
        duration=options.duration,
        seed=options.seed,
        think=options.think,
        out=out,
        soundfont=soundfont,
        workers=workers,
        progress=progress,
    )
    return out
