"""The engine's own lossless score: every note of every part, in beats, with section labels.

Time is counted in quarter-note beats from the start of the song; the tempo turns beats into
seconds. ``score.json`` is this value written out, and every later operation (extend, restyle,
regenerate a section) starts from it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from overture.theory import Key, TimeSignature, parse_key, parse_time_signature

SCORE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Note:
    pitch: int  # MIDI note number; for drums, the GM percussion key
    start: float  # beats from the start of the song
    duration: float  # beats
    velocity: int  # 1-127
    # A sung note's syllable: on the syllable's first note; "" on the notes a melisma carries
    # it on (and on every instrumental note).
    lyric: str = ""

    @property
    def end(self) -> float:
        return self.start + self.duration


def _row(n: Note) -> list[Any]:
    row: list[Any] = [n.pitch, n.start, n.duration, n.velocity]
    if n.lyric:
        row.append(n.lyric)
    return row


def _note(row: list[Any]) -> Note:
    lyric = str(row[4]) if len(row) > 4 else ""
    return Note(int(row[0]), float(row[1]), float(row[2]), int(row[3]), lyric)


@dataclass(slots=True)
class Part:
    """One instrument's line, rendered as one stem and written as one MIDI track."""

    name: str  # "drums", "bass", "chords", "lead", "pad", ...
    instrument: str  # canonical instrument name, see overture.instruments
    program: int  # General MIDI program 0-127 (ignored for drums)
    is_drums: bool = False
    bank: int = 0
    volume: int = 100  # MIDI CC7
    pan: int = 64  # MIDI CC10: 0 left, 64 centre, 127 right
    reverb: int = 40  # MIDI CC91: reverb send
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SectionMark:
    id: str  # "verse1", "chorus2", ...
    kind: str  # "verse", "chorus", ...
    start_bar: int  # 0-based, inclusive
    end_bar: int  # 0-based, exclusive


@dataclass(slots=True)
class Score:
    tempo: float  # quarter notes per minute
    time_signature: TimeSignature
    key: Key
    bars: int  # number of whole bars of music
    end_beat: float  # where the last note ends (the final chord may ring past the last bar)
    duration: float  # seconds of audio, release tail included
    sections: list[SectionMark]
    chords: list[str]  # one chord symbol per bar
    parts: list[Part]
    loop: bool = False  # a seamless loop: what rings past the end sounds again at the start

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo

    def seconds(self, beat: float) -> float:
        return beat * 60.0 / self.tempo

    def bar_start(self, bar: int) -> float:
        """Beat at which 0-based ``bar`` starts."""
        return bar * self.time_signature.beats_per_bar

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SCORE_FORMAT,
            "tempo": self.tempo,
            "time_signature": str(self.time_signature),
            "key": self.key.name,
            "bars": self.bars,
            "end_beat": self.end_beat,
            "duration": self.duration,
            "sections": [asdict(s) for s in self.sections],
            "chords": list(self.chords),
            "loop": self.loop,
            "parts": [
                {
                    "name": p.name,
                    "instrument": p.instrument,
                    "program": p.program,
                    "is_drums": p.is_drums,
                    "bank": p.bank,
                    "volume": p.volume,
                    "pan": p.pan,
                    "reverb": p.reverb,
                    # Compact rows keep long songs small: [pitch, start, duration, velocity],
                    # and a sung note's syllable as a fifth item.
                    "notes": [_row(n) for n in p.notes],
                }
                for p in self.parts
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        if data.get("format") != SCORE_FORMAT:
            raise ValueError(f"unsupported score format: {data.get('format')!r}")
        return cls(
            tempo=float(data["tempo"]),
            time_signature=parse_time_signature(data["time_signature"]),
            key=parse_key(data["key"]),
            bars=int(data["bars"]),
            end_beat=float(data["end_beat"]),
            duration=float(data["duration"]),
            sections=[SectionMark(**s) for s in data["sections"]],
            chords=list(data["chords"]),
            loop=bool(data.get("loop", False)),
            parts=[
                Part(
                    name=p["name"],
                    instrument=p["instrument"],
                    program=int(p["program"]),
                    is_drums=bool(p["is_drums"]),
                    bank=int(p["bank"]),
                    volume=int(p["volume"]),
                    pan=int(p["pan"]),
                    reverb=int(p["reverb"]),
                    notes=[_note(row) for row in p["notes"]],
                )
                for p in data["parts"]
            ],
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def load(cls, path: Path) -> Score:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
