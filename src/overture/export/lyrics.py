"""Timed lyrics: the sung lines with when each line, word and syllable is sung.

``lyric_alignment`` is the ``lyrics.lines`` of ``song.json`` (seconds from the song's start,
each syllable with its notes' pitches); ``lrc_text`` is ``song.lrc``, in the enhanced LRC
format: a ``[mm:ss.xx]`` time for each line and a ``<mm:ss.xx>`` time before each word.
Times are when the syllable's note starts, which is where its vowel is sung.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overture.lyrics.text import is_cjk

if TYPE_CHECKING:
    from overture.compose.setting import SetLine, SetSyllable


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    syllables: tuple[SetSyllable, ...]


def _words(line: SetLine) -> list[_Word]:
    out: list[_Word] = []
    current: list[SetSyllable] = []
    for s in line.syllables:
        if current and s.syllable.word != current[0].syllable.word:
            out.append(_Word(current[0].syllable.word_text, tuple(current)))
            current = []
        current.append(s)
    if current:
        out.append(_Word(current[0].syllable.word_text, tuple(current)))
    return out


def _r(seconds: float) -> float:
    return round(seconds, 3)


def lyric_alignment(lines: list[SetLine], tempo: float) -> list[dict[str, Any]]:
    """Per sung line: its text, section, start and end (s), its words (text, start, end) and
    its syllables (text, start, end, and the MIDI pitches of their notes)."""
    spb = 60.0 / tempo
    out = []
    for line in lines:
        syls = line.syllables
        if not syls:
            continue
        out.append(
            {
                "text": line.phrase.line.text,
                "section": line.phrase.section,
                "start": _r(syls[0].start * spb),
                "end": _r(syls[-1].end * spb),
                "words": [
                    {
                        "text": w.text,
                        "start": _r(w.syllables[0].start * spb),
                        "end": _r(w.syllables[-1].end * spb),
                    }
                    for w in _words(line)
                ],
                "syllables": [
                    {
                        "text": s.syllable.text,
                        "start": _r(s.start * spb),
                        "end": _r(s.end * spb),
                        "notes": [n.pitch for n in s.notes],
                    }
                    for s in syls
                ],
            }
        )
    return out


def lrc_time(seconds: float) -> str:
    """``mm:ss.xx`` (hundredths, rounded down so a time never runs ahead of the singing)."""
    cs = max(0, int(seconds * 100 + 1e-6))
    return f"{cs // 6000:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def lrc_text(lines: list[SetLine], tempo: float, *, title: str = "", duration: float = 0.0) -> str:
    """The enhanced LRC of the sung lines: ``[mm:ss.xx]<mm:ss.xx>word <mm:ss.xx>word ...``."""
    spb = 60.0 / tempo
    head = []
    if title:
        head.append(f"[ti:{title}]")
    if duration:
        head.append(f"[length:{lrc_time(duration)[:5]}]")
    head.append("[re:overture]")
    body = []
    for line in lines:
        if not line.syllables:
            continue
        text = ""
        prev = ""
        for w in _words(line):
            joined = is_cjk(prev[-1:] or " ") and is_cjk(w.text[:1] or " ")
            if text and not joined:
                text += " "
            text += f"<{lrc_time(w.syllables[0].start * spb)}>{w.text}"
            prev = w.text
        body.append(f"[{lrc_time(line.syllables[0].start * spb)}]{text}")
    return "\n".join(head + body) + "\n"


def write_lrc(
    lines: list[SetLine], tempo: float, path: Path, *, title: str = "", duration: float = 0.0
) -> None:
    Path(path).write_text(lrc_text(lines, tempo, title=title, duration=duration), encoding="utf-8")
