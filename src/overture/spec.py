"""``SongSpec``: what the user asked for, resolved into concrete values.

The prompt parser (``overture.prompt``) reads what a prompt states; options override it; the
style of the genre and the seed fill in the rest. Every value records where it came from.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overture.errors import InvalidInputError
from overture.styles import DEFAULT_STYLE, STYLES
from overture.theory import (
    Chord,
    Key,
    TimeSignature,
    chord_from_roman,
    parse_chord,
    parse_key,
    parse_time_signature,
)

if TYPE_CHECKING:
    from overture.lyrics import LyricSheet
    from overture.melody_input import ImportedMelody

MIN_DURATION, MAX_DURATION = 1.0, 900.0
MIN_TEMPO, MAX_TEMPO = 30.0, 300.0
MAX_CHORDS = 256
MAX_SECTIONS = 64

# Section kinds a structure may name, with the words that mean them (English and Chinese).
SECTION_KINDS = (
    "intro",
    "verse",
    "pre-chorus",
    "chorus",
    "bridge",
    "interlude",
    "breakdown",
    "solo",
    "outro",
    "theme",
    "variation",
)
_SECTION_ALIASES = {
    "prechorus": "pre-chorus",
    "pre chorus": "pre-chorus",
    "build": "pre-chorus",
    "buildup": "pre-chorus",
    "build-up": "pre-chorus",
    "hook": "chorus",
    "refrain": "chorus",
    "drop": "chorus",
    "instrumental": "interlude",
    "break": "breakdown",
    "coda": "outro",
    "ending": "outro",
    "前奏": "intro",
    "主歌": "verse",
    "导歌": "pre-chorus",
    "预副歌": "pre-chorus",
    "副歌": "chorus",
    "桥段": "bridge",
    "间奏": "interlude",
    "尾奏": "outro",
}
# Natural length of each kind in bars, when the duration is not stated.
SECTION_BARS = {
    "intro": 4,
    "verse": 8,
    "pre-chorus": 4,
    "chorus": 8,
    "bridge": 8,
    "interlude": 4,
    "breakdown": 4,
    "solo": 8,
    "outro": 4,
    "theme": 8,
    "variation": 8,
}


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
    chords: tuple[Chord, ...] = ()  # given chords, one per bar, cycled through the song
    structure: tuple[str, ...] = ()  # given section kinds, in order
    loop: bool = False  # a seamless loop: whole bars, the end leads back into the start
    melody: ImportedMelody | None = None  # a given melody that becomes the lead
    budget: int = 4  # drafts the composer considers per section (``overture.think``)
    think: str | None = "medium"  # the named thinking level the budget came from, if any
    lyrics: LyricSheet | None = None  # words to sing: the song's form follows them
    voice: str = "female"  # the singing voice (``overture.voice.VOICES``), with lyrics

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.chords:
            extra["chords"] = [c.symbol(self.key) for c in self.chords]
        if self.structure:
            extra["structure"] = list(self.structure)
        if self.melody is not None:
            extra["melody"] = self.melody.to_dict()
        if self.lyrics is not None:
            extra["lyrics"] = {
                "language": self.lyrics.language,
                "syllables": self.lyrics.syllable_count,
                "lines": len(self.lyrics.lines),
            }
            extra["voice"] = self.voice
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
            "loop": self.loop,
            "thinking": {"budget": self.budget, "level": self.think},
            **extra,
        }


def parse_chords(text: str | list[str] | tuple[str, ...]) -> tuple[Chord, ...]:
    """``"Am F C G"`` (spaces, commas or bar lines between chords) -> one chord per bar."""
    tokens = text if not isinstance(text, str) else re.split(r"[\s,|;]+", text)
    chords = tuple(parse_chord(t) for t in tokens if t.strip())
    if not chords:
        raise InvalidInputError('no chords given (e.g. --chords "Am F C G")')
    if len(chords) > MAX_CHORDS:
        raise InvalidInputError(f"{len(chords)} chords is more than {MAX_CHORDS}")
    return chords


def parse_structure(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``"intro verse chorus outro"`` -> the section kinds, checked; numbers are ignored."""
    if isinstance(text, str):
        text = re.sub(r"pre[\s_]+chorus", "pre-chorus", text, flags=re.IGNORECASE)
        tokens = [t for t in re.split(r"[\s,|;>→]+", text) if t]
    else:
        tokens = [str(t) for t in text]
    kinds = []
    for token in tokens:
        word = re.sub(r"\d+$", "", token.strip().lower())  # "verse2" -> "verse"
        kind = _SECTION_ALIASES.get(word, word)
        if kind not in SECTION_KINDS:
            raise InvalidInputError(
                f"unknown section {token!r} in structure (choose from {', '.join(SECTION_KINDS)})"
            )
        kinds.append(kind)
    if not kinds:
        raise InvalidInputError('empty structure (e.g. --structure "intro verse chorus outro")')
    if len(kinds) > MAX_SECTIONS:
        raise InvalidInputError(f"{len(kinds)} sections is more than {MAX_SECTIONS}")
    return tuple(kinds)


def key_of_chords(chords: tuple[Chord, ...]) -> Key:
    """The key a chord loop is most plausibly in: its chords diatonic, its first chord the tonic.

    Each candidate key scores the share of chord tones in its scale, plus a bonus when the loop
    starts (or ends) on its tonic triad, so "Am F C G" is A minor and "C G Am F" is C major.
    """
    best: tuple[float, int, int, str] = (-1.0, 0, 0, "major")
    for tonic in range(12):
        for mode in ("major", "minor"):
            key = Key(tonic, mode)
            scale = set(key.scale)
            fit = sum(
                sum(pc in scale for pc in c.pitch_classes) / len(c.pitch_classes) for c in chords
            ) / len(chords)
            home = chord_from_roman("i" if mode == "minor" else "I", key)

            def is_home(c: Chord, home: Chord = home) -> bool:
                return c.root == home.root and c.is_minor == home.is_minor

            bonus = 0.3 * is_home(chords[0]) + 0.15 * is_home(chords[-1])
            # Ties (relative keys with the same tones) go to the mode of the first chord.
            best = max(best, (round(fit + bonus, 6), int(is_home(chords[0])), -tonic, mode))
    return Key(-best[2], best[3])


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
    chords: str | list[str] | tuple[Chord, ...] | None = None,
    structure: str | list[str] | tuple[str, ...] | None = None,
    loop: bool = False,
    melody: str | Path | ImportedMelody | None = None,
    think: str | None = None,
    budget: int | None = None,
    lyrics: str | Path | LyricSheet | None = None,
    voice: str | None = None,
) -> SongSpec:
    """Resolve a prompt and options into a complete ``SongSpec``. Options override the prompt.

    ``chords`` (one per bar, cycled), ``structure`` (section kinds in order), ``loop`` (a
    seamless loop of whole bars) and ``melody`` (a MIDI file, or an ``ImportedMelody``, that
    becomes the lead) are followed exactly. Without a stated duration, a given structure or
    melody sets the song's length.

    ``lyrics`` (the text of a lyric sheet, a path to one, or a ``LyricSheet``) are sung by
    ``voice`` (default female): the form follows them, and a stated duration is met with
    instrumental bars and, unless the tempo is stated, the tempo; never by leaving words out.
    """
    from overture.melody_input import ImportedMelody, read_melody
    from overture.prompt import parse_prompt
    from overture.think import resolve_budget

    the_budget, the_level = resolve_budget(think, budget)

    the_chords: tuple[Chord, ...] = ()
    if chords is not None:
        the_chords = (
            chords
            if isinstance(chords, tuple) and all(isinstance(c, Chord) for c in chords)
            else parse_chords(chords)  # type: ignore[arg-type]
        )
    the_structure = parse_structure(structure) if structure is not None else ()
    the_melody = None
    if melody is not None:
        the_melody = melody if isinstance(melody, ImportedMelody) else read_melody(melody)

    the_lyrics = read_lyric_input(lyrics) if lyrics is not None else None
    the_voice = "female"
    if voice is not None:
        from overture.voice import VOICES

        if voice not in VOICES:
            raise InvalidInputError(f"unknown voice {voice!r} (choose from {', '.join(VOICES)})")
        the_voice = voice
    if the_lyrics is not None:
        clash = ["--melody"] * (the_melody is not None) + ["--structure"] * bool(the_structure)
        if loop:
            clash.append("--loop")
        if clash:
            raise InvalidInputError(f"lyrics set the song's form and tune: drop {clash[0]}")

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
    if the_tempo is None and the_melody is not None and the_melody.tempo is not None:
        the_tempo = the_melody.tempo
        sources["tempo"] = "melody"
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
    if the_key is None and the_melody is not None:
        the_key = the_melody.key
        sources["key"] = "melody"
    if the_key is None and the_chords:
        the_key = key_of_chords(the_chords)
        sources["key"] = "chords"
    if the_key is None:
        minor = rng.random() < _minor_weight(st.minor_weight, info.moods)
        tonics = [0, 2, 4, 5, 7, 9] if not minor else [9, 4, 2, 7, 0, 11]
        the_key = Key(rng.choice(tonics), "minor" if minor else "major")
        sources["key"] = "style"

    ts = pick("time_signature", time_signature, info.time_signature)
    if ts is None and the_melody is not None and the_melody.time_signature is not None:
        ts = the_melody.time_signature
        sources["time_signature"] = "melody"
    if ts is None:
        ts = parse_time_signature(st.time_signature)
        sources["time_signature"] = "style"

    if the_melody is not None and (the_melody.key.tonic, the_melody.key.mode) != (
        the_key.tonic,
        the_key.mode,
    ):
        the_melody = the_melody.transposed(_shortest_shift(the_melody.key, the_key))
    bar_s = ts.beats_per_bar * 60.0 / the_tempo
    the_duration = pick("duration", duration, info.duration)
    if the_lyrics is not None:
        asked_tempo, asked_duration = the_tempo, the_duration
        the_tempo, the_duration = fit_lyrics(
            the_lyrics,
            the_tempo,
            ts,
            the_duration,
            tempo_fixed=tempo is not None or info.tempo is not None,
            tempo_range=info.tempo_range or st.tempo,
        )
        if the_tempo != asked_tempo:
            sources["tempo"] = "lyrics"
        if asked_duration is None:
            sources["duration"] = "lyrics"
        bar_s = ts.beats_per_bar * 60.0 / the_tempo
    if the_duration is None and the_structure:
        bars = sum(SECTION_BARS[k] for k in the_structure)
        the_duration = bars * bar_s if loop else duration_for_bars(bars, bar_s)
        sources["duration"] = "structure"
    if the_duration is None and the_melody is not None:
        bars = max(1, math.ceil(the_melody.end_beat / ts.beats_per_bar - 1e-6))
        the_duration = bars * bar_s if loop else duration_for_bars(bars, bar_s)
        sources["duration"] = "melody"
    if the_duration is None:
        the_duration = st.default_duration
        sources["duration"] = "style"
    the_duration = check_duration(float(the_duration))
    if loop:
        # A loop is a whole number of bars, with no release tail: it ends where it starts.
        bars = max(1, round(the_duration / bar_s))
        while bars > 1 and bars * bar_s > MAX_DURATION:
            bars -= 1
        the_duration = check_duration(bars * bar_s)

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
        chords=the_chords,
        structure=the_structure,
        loop=bool(loop),
        melody=the_melody,
        budget=the_budget,
        think=the_level,
        lyrics=the_lyrics,
        voice=the_voice,
    )


def read_lyric_input(lyrics: str | Path | LyricSheet) -> LyricSheet:
    """A lyric sheet from its text, a path to a UTF-8 file, or as it is. A one-line string
    naming an existing file is read as that file."""
    from overture.lyrics import LyricSheet, parse_lyrics, read_lyrics

    if isinstance(lyrics, LyricSheet):
        return lyrics
    if isinstance(lyrics, Path):
        return read_lyrics(lyrics)
    text = str(lyrics)
    if "\n" not in text and 0 < len(text) < 1024:
        try:
            if Path(text).expanduser().is_file():
                return read_lyrics(Path(text).expanduser())
        except OSError:
            pass
    return parse_lyrics(text)


def fit_lyrics(
    sheet: LyricSheet,
    tempo: float,
    ts: TimeSignature,
    duration: float | None,
    *,
    tempo_fixed: bool,
    tempo_range: tuple[float, float],
) -> tuple[float, float]:
    """The tempo and duration of a song that sings ``sheet``.

    Without a ``duration`` the song takes its natural length: the lyrics at a relaxed pace,
    framed by an instrumental intro and outro. With one, the tempo (unless ``tempo_fixed``)
    moves within the style's range, widened by 10%, nearest first: to where the singing fills
    55-85% of the song (40-90% further away), else to where it fits relaxed, else to where it
    fits at the fastest singable pace. A duration too short for that (or lyrics longer than
    ``MAX_DURATION`` at it) raises ``InvalidInputError`` naming the shortest duration that
    works.
    """
    from overture.plan import lyric_bars, lyric_form

    bpb = ts.beats_per_bar
    lo = max(MIN_TEMPO, math.floor(tempo_range[0] * 0.9))
    hi = min(MAX_TEMPO, math.ceil(tempo_range[1] * 1.1))
    tempos = [tempo]
    if not tempo_fixed:
        tempos += [float(t) for t in range(int(lo), int(hi) + 1) if t != tempo]
        tempos.sort(key=lambda t: (abs(t - tempo), t))

    if duration is None:
        bars = sum(n for _, n, _ in lyric_form(sheet, tempo, ts))
        natural = duration_for_bars(bars, bpb * 60.0 / tempo)
        if natural <= MAX_DURATION:
            return tempo, natural
        duration = MAX_DURATION
    music = duration - release_tail(duration)
    passes = (
        (False, 0.55, 0.85, 0.12),
        (False, 0.4, 0.9, 1.0),
        (False, 0.0, 1.0, 1.0),
        (True, 0.0, 1.0, 1.0),
    )
    for tight, low_share, high_share, reach in passes:
        for t in tempos:
            if abs(t - tempo) > reach * tempo + 1e-9:
                continue
            bars = int(music / (bpb * 60.0 / t) + 1e-9)
            need = lyric_bars(sheet, t, ts, tight=tight)
            if bars >= 1 and need <= bars and low_share <= need / bars <= high_share:
                return t, float(duration)
    shortest = min(
        duration_for_bars(lyric_bars(sheet, t, ts, tight=True), bpb * 60.0 / t) for t in tempos
    )
    least = math.ceil(shortest * 10 - 1e-6) / 10
    at = f" at {tempo:g} bpm" if tempo_fixed else ""
    what = f"the lyrics ({sheet.syllable_count} syllables) need at least {least:g} s to sing{at}"
    if least > MAX_DURATION:
        raise InvalidInputError(f"{what}, more than the {MAX_DURATION:g} s a song may last")
    raise InvalidInputError(f"{what}; {duration:g} s is too short")


def release_tail(duration: float) -> float:
    """Seconds kept free at the end for the last notes' release (and reverb) to die away."""
    return min(2.0, max(0.25, 0.08 * duration))


def duration_for_bars(bars: int, bar_seconds: float) -> float:
    """The song length whose music (before the release tail) is exactly ``bars`` bars."""
    music = bars * bar_seconds
    if music + 2.0 >= 25.0:  # the tail is at its 2 s cap
        return music + 2.0
    if music + 0.25 <= 3.125:  # the tail is at its 0.25 s floor
        return music + 0.25
    return music / 0.92


def _shortest_shift(src: Key, dst: Key) -> int:
    """Semitones (-6..5) that move ``src``'s tonic onto ``dst``'s (keeping the mode's tonic)."""
    a = src.tonic if src.mode == dst.mode else (src.relative.tonic)
    return (dst.tonic - a + 6) % 12 - 6


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
