"""Cutting a line too long to sing in one phrase, at its pauses, never inside a word."""

from __future__ import annotations

import itertools
from dataclasses import replace

from overture.lyrics.model import LyricLine, LyricsError
from overture.lyrics.text import is_cjk

# Marks where a singer would breathe anyway.
_PAUSES = frozenset(",.;:!?…—–，。！？；：、")
_OPENERS = frozenset("([{“‘«《「『【（")


def split_line(line: LyricLine, max_syllables: int) -> list[LyricLine]:
    """``line`` cut into phrases of at most ``max_syllables`` syllables.

    A cut goes at a pause (a comma, a full stop, a dash) when there is one that leaves neither
    side tiny, or that leaves both sides short enough; otherwise at the word boundary nearest
    the middle. The parts are cut again until each fits; a single word longer than the limit
    stays whole. Each part's syllables count their words from 0 again.
    """
    if max_syllables < 1:
        raise LyricsError(f"a phrase must hold at least 1 syllable, not {max_syllables}")
    n_words = len(line.words)
    total = len(line.syllables)
    if total <= max_syllables or n_words < 2:
        return [line]
    counts = [0] * n_words
    for s in line.syllables:
        counts[s.word] += 1
    before = [0]
    for c in counts:
        before.append(before[-1] + c)
    spans = _word_spans(line)
    half = total / 2

    def nearest(cands: list[int]) -> int:
        return min(cands, key=lambda b: (abs(before[b] - half), b))

    def usable(b: int) -> bool:
        left, right = before[b], total - before[b]
        fits = left <= max_syllables and right <= max_syllables
        return fits or min(left, right) >= max(1, total // 4)

    pauses = [
        b
        for b in range(1, n_words)
        if spans is not None and _PAUSES & set(line.text[spans[b - 1][1] : spans[b][0]])
    ]
    pauses = [b for b in pauses if usable(b) and 0 < before[b] < total]
    inner = [b for b in range(1, n_words) if 0 < before[b] < total] or list(range(1, n_words))
    cut = nearest(pauses) if pauses else nearest(inner)
    left = _part(line, 0, cut, spans)
    right = _part(line, cut, n_words, spans)
    return split_line(left, max_syllables) + split_line(right, max_syllables)


def _word_spans(line: LyricLine) -> list[tuple[int, int]] | None:
    """Where each word sits in the line's text, or None if the text does not hold them."""
    spans = []
    pos = 0
    for w in line.words:
        at = line.text.find(w, pos)
        if at < 0:
            return None
        spans.append((at, at + len(w)))
        pos = at + len(w)
    return spans


def _cut_at(text: str, end: int, start: int) -> int:
    """Where the text between two words divides: at a space, before an opening bracket or
    quote, else after all of it (a closing mark stays with the word it closes)."""
    gap = text[end:start]
    for i, ch in enumerate(gap):
        if ch.isspace() or ch in _OPENERS:
            return end + i
    return start


def _part(line: LyricLine, a: int, b: int, spans: list[tuple[int, int]] | None) -> LyricLine:
    words = line.words[a:b]
    if spans is not None:
        lo = 0 if a == 0 else _cut_at(line.text, spans[a - 1][1], spans[a][0])
        hi = (
            len(line.text)
            if b == len(line.words)
            else _cut_at(line.text, spans[b - 1][1], spans[b][0])
        )
        text = line.text[lo:hi].strip()
    else:
        text = words[0] if words else ""
        for prev, w in itertools.pairwise(words):
            text += ("" if is_cjk(prev[-1:] or " ") and is_cjk(w[:1] or " ") else " ") + w
    syllables = tuple(replace(s, word=s.word - a) for s in line.syllables if a <= s.word < b)
    return LyricLine(text=text, syllables=syllables, words=words)
