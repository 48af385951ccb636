"""Lyrics for the song engine to sing: a lyric sheet as sections, lines and syllables.

English syllables carry CMU phonemes and stress, Mandarin syllables pinyin and tone; a line
may mix both. ``parse_lyrics`` reads a sheet's text, ``read_lyrics`` a UTF-8 file, and
``split_line`` cuts a line too long for one phrase.
"""

from __future__ import annotations

from overture.lyrics.english import syllabify_english
from overture.lyrics.model import (
    MAX_CHARS,
    LyricLine,
    LyricSection,
    LyricsError,
    LyricSheet,
    Syllable,
)
from overture.lyrics.parse import parse_lyrics, read_lyrics
from overture.lyrics.split import split_line

__all__ = [
    "MAX_CHARS",
    "LyricLine",
    "LyricSection",
    "LyricSheet",
    "LyricsError",
    "Syllable",
    "parse_lyrics",
    "read_lyrics",
    "split_line",
    "syllabify_english",
]
