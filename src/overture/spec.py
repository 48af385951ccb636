"""``SongSpec``: what the user asked for, resolved into concrete values.

The prompt parser (``overture.prompt``) reads what a prompt states; options override it; the
style of the genre and the seed fill in the rest. Every value records where it came from.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from overture.errors import InvalidInputError
from overture.styles import DEFAULT_STYLE, STYLES
from overture.theory import Key, TimeSignature, parse_key, parse_time_signature

MIN_DURATION, MAX_DURATION = 1.0, 900.0
MIN_TEMPO, MAX_TEMPO = 30.0, 300.0


@dataclass(slots=True)
class PromptInfo:
    """What a prompt states explicitly. ``None`` means the prompt does not say."""

    text: str
    genre: str | None = None
    moods: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)  # canonical names (overture.instruments)
    tempo: float | None = None
    tempo_range: tuple[float, float] | None = None  # from words like "slow" or "慢板"
    key: Key | None = None
    duration: float | None = None
    time_signature: TimeSignature | None = None
    used: list[str] = field(default_factory=list)  # words and phrases understood, in order
    ignored: list[str] = field(default_factory=list)  # words not understood, in order


@dataclass(frozen=True, slots=True)
class SongSpec:
    prompt: str
    genre: str
    moods: tuple[str, ...]
    instruments: tuple[str, ...]  # instruments the prompt or options asked for
    tempo: float
    key: Key
    time_signature: TimeSignature
    duration: float
    seed: int
    title: str
    sources: dict[str, str]  # field -> "option" | "prompt" | "style" | "random"
    used_words: tuple[str, ...] = ()
    ignored_words: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "title": self.title,
            "genre": self.genre,
            "moods": list(self.moods),
            "instruments": list(self.instruments),
            "tempo": self.tempo,
            "key": self.key.name,
            "time_signature": str(self.time_signature),
            "duration": self.duration,
            "seed": self.seed,
            "sources": dict(self.sources),
            "prompt_words": {"used": list(self.used_words), "ignored": list(self.ignored_words)},
        }


def check_duration(seconds: float) -> float:
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise InvalidInputError(
            f"duration {seconds:g} s is outside {MIN_DURATION:g}-{MAX_DURATION:g} s"
        )
    return float(seconds)


def check_tempo(bpm: float) -> float:
    if not MIN_TEMPO <= bpm <= MAX_TEMPO:
        raise InvalidInputError(f"tempo {bpm:g} bpm is outside {MIN_TEMPO:g}-{MAX_TEMPO:g} bpm")
    return float(bpm)


_ENERGETIC = {"upbeat", "energetic", "happy", "cheerful", "epic", "aggressive", "playful"}
_CALM = {"calm", "sad", "melancholic", "dreamy", "relaxed", "peaceful", "romantic", "dark"}


def build_spec(
    prompt: str = "",
    *,
    duration: float | None = None,
    tempo: float | None = None,
    key: str | Key | None = None,
    time_signature: str | TimeSignature | None = None,
    instruments: list[str] | None = None,
    seed: int = 0,
) -> SongSpec:
    """Resolve a prompt and options into a complete ``SongSpec``. Options override the prompt."""
    from overture.prompt import parse_prompt

    info = parse_prompt(prompt or "")
    rng = random.Random(f"spec:{seed}")
    sources: dict[str, str] = {}

    def pick(name: str, option: Any, stated: Any) -> Any:
        if option is not None:
            sources[name] = "option"
            return option
        if stated is not None:
            sources[name] = "prompt"
            return stated
        return None

    genre = info.genre
    if genre is None:
        # An empty or style-less prompt gets a random style, reported in song.json.
        genre = rng.choice(sorted(STYLES)) if not info.text.strip() else DEFAULT_STYLE
        sources["genre"] = "random" if not info.text.strip() else "style"
    else:
        sources["genre"] = "prompt"
    st = STYLES[genre]

    if isinstance(key, str):
        key = parse_key(key)
    if isinstance(time_signature, str):
        time_signature = parse_time_signature(time_signature)

    the_tempo = pick("tempo", tempo, info.tempo)
    if the_tempo is None:
        lo, hi = info.tempo_range or st.tempo
        if info.tempo_range is None:
            moods = set(info.moods)
            mid = (lo + hi) / 2
            if moods & _ENERGETIC:
                lo = mid
            elif moods & _CALM:
                hi = mid
        the_tempo = float(round(rng.uniform(lo, hi)))
        sources["tempo"] = "prompt" if info.tempo_range else "style"
    the_tempo = check_tempo(float(the_tempo))

    the_key = pick("key", key, info.key)
    if the_key is None:
        minor = rng.random() < _minor_weight(st.minor_weight, info.moods)
        tonics = [0, 2, 4, 5, 7, 9] if not minor else [9, 4, 2, 7, 0, 11]
        the_key = Key(rng.choice(tonics), "minor" if minor else "major")
        sources["key"] = "style"

    ts = pick("time_signature", time_signature, info.time_signature)
    if ts is None:
        ts = parse_time_signature(st.time_signature)
        sources["time_signature"] = "style"

    the_duration = pick("duration", duration, info.duration)
    if the_duration is None:
        the_duration = st.default_duration
        sources["duration"] = "style"
    the_duration = check_duration(float(the_duration))

    asked = list(instruments) if instruments is not None else list(info.instruments)
    if instruments is not None:
        sources["instruments"] = "option"

    return SongSpec(
        prompt=prompt or "",
        genre=genre,
        moods=tuple(info.moods),
        instruments=tuple(dict.fromkeys(asked)),
        tempo=the_tempo,
        key=the_key,
        time_signature=ts,
        duration=the_duration,
        seed=seed,
        title=make_title(prompt or "", genre, info.moods),
        sources=sources,
        used_words=tuple(info.used),
        ignored_words=tuple(info.ignored),
    )


def _minor_weight(base: float, moods: list[str]) -> float:
    if set(moods) & {"sad", "melancholic", "dark", "suspenseful", "epic", "tense"}:
        return 0.9
    if set(moods) & {"happy", "cheerful", "upbeat", "bright", "playful"}:
        return 0.1
    return base


def make_title(prompt: str, genre: str, moods: list[str]) -> str:
    """A short title: the prompt's first clause, or the mood and genre for an empty prompt."""
    clause = re.split(r"[,，。;；\n]", prompt.strip(), maxsplit=1)[0].strip()
    if clause:
        words = clause.split()
        if len(words) > 1:
            return " ".join(w[:1].upper() + w[1:] for w in words[:6])[:60]
        return clause[:24]
    return " ".join(w.capitalize() for w in [*moods[:1], genre])
