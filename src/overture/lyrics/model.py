"""The lyric sheet as the song engine sees it: sections of lines of syllables.

A syllable carries what the melody writer needs to set it (stress, tone, where its word starts
and ends) and what the singer needs to voice it (onset, nucleus and coda phonemes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overture.errors import InvalidInputError

MAX_CHARS = 3000  # a long song's lyrics fit; a pasted book does not


class LyricsError(InvalidInputError):
    """The lyrics cannot be used: too long, empty, unreadable or nothing left to sing."""


@dataclass(frozen=True, slots=True)
class Syllable:
    """One sung syllable, English (ARPAbet phonemes) or Mandarin (pinyin initial and final)."""

    text: str  # the written syllable: "hap", "py", "你"; an English word's texts join to it
    lang: str  # "en" or "zh"
    word: int  # index of its word within the line (``LyricLine.words``)
    word_text: str  # the whole written word: "happy"; for Chinese, the character
    word_start: bool
    word_end: bool
    stress: int  # English: 1 primary, 2 secondary, 0 unstressed; Chinese: 0
    tone: int  # Chinese: 1..4, 5 for the neutral tone; English: 0
    onset: tuple[str, ...]  # English: ("HH",); Chinese: the pinyin initial ("zh",) or ()
    nucleus: tuple[str, ...]  # English: one vowel ("AE",); Chinese: the toneless final ("iang",)
    coda: tuple[str, ...]  # English: the consonants closing the syllable; Chinese: ()
    pinyin: str  # Chinese: numbered pinyin as written, "ni3", "yi1"; English: ""

    @property
    def phonemes(self) -> tuple[str, ...]:
        return self.onset + self.nucleus + self.coda


@dataclass(frozen=True, slots=True)
class LyricLine:
    """One line of the sheet: a phrase to sing in one breath, unless ``split_line`` cuts it."""

    text: str  # the cleaned line as shown (numbers spelled out, unsupported characters removed)
    syllables: tuple[Syllable, ...]
    words: tuple[str, ...]  # written words in order (one per Chinese character)

    @property
    def syllable_count(self) -> int:
        return len(self.syllables)


@dataclass(frozen=True, slots=True)
class LyricSection:
    """A section of the song's form; zero lines is an instrumental section (a bare ``[intro]``)."""

    kind: str  # "intro", "verse", "pre-chorus", "chorus", "bridge", "outro", ...
    lines: tuple[LyricLine, ...]
    label: str  # the tag as written ("Verse 2"), or "" when the kind was inferred

    @property
    def syllable_count(self) -> int:
        return sum(len(line.syllables) for line in self.lines)


@dataclass(frozen=True, slots=True)
class LyricSheet:
    """The whole sheet, with what was changed on the way in (``warnings``, ``stripped``)."""

    sections: tuple[LyricSection, ...]
    language: str  # "en", "zh" or "mixed"
    tagged: bool  # the sheet gave section tags; otherwise kinds were inferred from stanzas
    warnings: tuple[str, ...]
    stripped: tuple[str, ...]  # distinct removed characters, in order of first appearance

    @property
    def syllable_count(self) -> int:
        return sum(s.syllable_count for s in self.sections)

    @property
    def lines(self) -> tuple[LyricLine, ...]:
        return tuple(line for s in self.sections for line in s.lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary for song.json: the form, each line and its syllables."""
        return {
            "language": self.language,
            "tagged": self.tagged,
            "syllables": self.syllable_count,
            "sections": [
                {
                    "type": s.kind,
                    "label": s.label,
                    "syllables": s.syllable_count,
                    "lines": [
                        {"text": line.text, "syllables": [syl.text for syl in line.syllables]}
                        for line in s.lines
                    ],
                }
                for s in self.sections
            ],
            "warnings": list(self.warnings),
            "stripped": list(self.stripped),
        }
