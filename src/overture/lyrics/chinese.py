"""Mandarin characters to sung syllables: pinyin, tone, initial and final (pypinyin).

A run of characters is read in one call, so that pypinyin resolves polyphones from their
context (银行 hang2, 行走 xing2) and applies the tone sandhi it knows (你好 ni2 hao3, 一个 yi2,
不是 bu2); 3-3-3 chains are left as pypinyin reads them.

Initials and finals use pypinyin's strict reading (``strict=True``): y and w are spelling, not
sounds, so 我 wo3 has no initial and the final "uo", 一 yi1 the final "i", 有 you3 "iou", 鱼 yu2
"ü" (pypinyin's "v", written ü as in the table of finals and in ``overture.voice``). The
singer then sees each syllable's real vowel sequence (the non-strict reading would give 我 the
initial "w" and the final "o"), and the written pinyin ("wo3", "lv4") stays in
``Syllable.pinyin``.
"""

from __future__ import annotations

import functools
import inspect
import re

from overture.lyrics.model import Syllable

_PINYIN = re.compile(r"^([a-zü]+|ê)([1-5])?$")


@functools.lru_cache(maxsize=1)
def _sandhi_supported() -> bool:
    from pypinyin import lazy_pinyin

    return "tone_sandhi" in inspect.signature(lazy_pinyin).parameters


def _read(run: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    opts: dict[str, bool] = {"neutral_tone_with_five": True}
    if _sandhi_supported():
        opts["tone_sandhi"] = True
    return list(lazy_pinyin(run, style=Style.TONE3, **opts))


def read_run(run: str) -> list[str | None]:
    """Numbered pinyin for each character of ``run``, None where pypinyin has no reading."""
    got = _read(run)
    if len(got) != len(run):  # unreadable characters were returned together: one at a time
        got = [(_read(ch) or [ch])[0] for ch in run]
    return [p if _PINYIN.match(p) else None for p in got]


def zh_syllable(char: str, pinyin: str, *, index: int) -> Syllable:
    """The syllable of one character read ``pinyin`` ("ni3"), as word ``index`` of its line."""
    from pypinyin.contrib.tone_convert import to_finals, to_initials

    m = _PINYIN.match(pinyin)
    assert m is not None, pinyin
    bare = m.group(1)
    tone = int(m.group(2) or 5)
    initial = to_initials(bare, strict=True)
    final = to_finals(bare, strict=True).replace("v", "ü")
    if not final:  # a syllabic nasal (嗯 n2, 呣 m2, 哼 hng): the nasal is the nucleus
        rest = bare[len(initial) :]
        initial, final = (initial, rest) if rest else ("", bare)
    return Syllable(
        text=char,
        lang="zh",
        word=index,
        word_text=char,
        word_start=True,
        word_end=True,
        stress=0,
        tone=tone,
        onset=(initial,) if initial else (),
        nucleus=(final,),
        coda=(),
        pinyin=f"{bare}{tone}",
    )
