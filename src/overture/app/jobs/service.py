"""What a job asks for: the options of ``overture.generate`` that a person may set over the
web, checked when the job is submitted (by the engine's own rules) rather than minutes later
in the worker, and turned back into ``generate``'s arguments there."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from overture.app.errors import Invalid
from overture.errors import InvalidInputError


class JobOptions(BaseModel):
    """The song a job makes. Unset options are left to the prompt and the engine, as with
    ``overture generate``; file inputs (a melody MIDI, a soundfont) are not offered."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field("", max_length=1000, description="What the song should be, in words.")
    lyrics: str | None = Field(None, max_length=3000, description="Lyrics to sing.")
    voice: Literal["female", "male", "breathy"] | None = Field(None, description="Singing voice.")
    duration: float | None = Field(None, ge=1, le=900, description="Length in seconds.")
    tempo: float | None = Field(None, ge=30, le=300, description="Beats per minute.")
    key: str | None = Field(None, max_length=40, description='e.g. "A minor".')
    time_signature: str | None = Field(None, max_length=8, description='e.g. "3/4".')
    instruments: str | None = Field(None, max_length=300, description='e.g. "piano, strings".')
    chords: str | None = Field(None, max_length=2000, description='One per bar: "Am F C G".')
    structure: str | None = Field(None, max_length=500, description='"intro verse chorus".')
    loop: bool = False
    think: Literal["none", "low", "medium", "high"] | None = None
    budget: int | None = Field(None, ge=1, le=32, description="Drafts per section.")
    seed: int = Field(0, ge=0, le=2**31 - 1)


def generate_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """``overture.generate``'s keyword arguments for stored job ``options``.

    Lyrics are parsed here as text: given as a plain string, the engine would read a one-line
    lyric that names an existing file as that file, which a web user must never reach."""
    from overture.lyrics import parse_lyrics
    from overture.prompt import parse_prompt

    kw = {k: v for k, v in options.items() if v is not None}
    if "lyrics" in kw:
        kw["lyrics"] = parse_lyrics(kw["lyrics"])
    if "instruments" in kw:
        names = parse_prompt(kw["instruments"]).instruments
        if not names:
            raise InvalidInputError(f"no known instrument in {kw['instruments']!r}")
        kw["instruments"] = names
    return kw


def validate_options(options: JobOptions) -> dict[str, Any]:
    """The options to store for a job, after the engine resolves them into a song spec (the
    instant symbolic step); ``Invalid`` with the engine's own message when it cannot."""
    from overture.spec import build_spec

    stored = options.model_dump(exclude_none=True)
    try:
        kw = generate_kwargs(stored)
        prompt = kw.pop("prompt", "")
        build_spec(prompt, **kw)
    except InvalidInputError as e:
        raise Invalid(str(e)) from None
    return stored
