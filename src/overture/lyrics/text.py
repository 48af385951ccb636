"""Characters: which are sung, which are shown but not sung, which are removed; words.

The engine sings English and Mandarin, so the sung characters are Latin letters and CJK
ideographs. Punctuation (ASCII and CJK) stays in the shown line but is not sung. Anything else
(other scripts, emoji, music symbols) is removed and reported, since a singer cannot voice it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

APOSTROPHES = "'’ʼ´`"
# Elisions written with a leading apostrophe: the apostrophe belongs to the word.
_ELISIONS = frozenset({
    "'cause", "'cos", "'coz", "'cuz", "'til", "'till", "'em", "'bout", "'round", "'tis",
    "'twas", "'fore", "'neath", "'n",
})  # fmt: skip
_CJK_RANGES = (
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2FA1F),  # extensions B.. and compatibility supplement
)
_PUNCT_BLOCKS = (
    (0x00A1, 0x00BF),  # Latin-1: ¡ « » ¿ ·
    (0x2010, 0x205E),  # general punctuation: dashes, quotes, …
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、。「」《》【】
    (0x30FB, 0x30FB),  # katakana middle dot, used in Chinese names
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE6F),  # CJK compatibility and small forms
    (0xFF01, 0xFF65),  # fullwidth and halfwidth forms: ，！？（）
)
_EXTRA_PUNCT = frozenset("～〜×´ʼ")  # symbols that lyric sheets use as punctuation
# Marks where a removed character was, until spacing is settled: a removed symbol between two
# letters parts two words ("love☺you"); a removed letter does not (a Cyrillic "е" typed in
# "hеllo" is a look-alike inside one word).
_STRIPPED_SYMBOL, _STRIPPED_LETTER = "\x00", "\x01"
_JOIN_AROUND_STRIPPED = re.compile(
    r"(?<=[0-9A-Za-z\u00C0-\u024F])[\x00\x01]*\x00[\x00\x01]*(?=[0-9A-Za-z\u00C0-\u024F])"
)
# Single-character folds for letters without a decomposition; the spelling keeps its length.
_FOLD = {"ß": "s", "æ": "a", "œ": "o", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "t", "ı": "i"}


def is_cjk(ch: str) -> bool:
    """A Chinese character (or 〇), sung as one syllable."""
    cp = ord(ch)
    return cp == 0x3007 or any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def is_latin(ch: str) -> bool:
    """A Latin letter, accented or not: part of an English word."""
    if ch.isascii():
        return ch.isalpha()
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")


def is_punct(ch: str) -> bool:
    """Allowed punctuation: shown in the line, never sung."""
    if ch.isascii():
        return not ch.isalnum() and ch.isprintable() and not ch.isspace()
    if ch in _EXTRA_PUNCT:
        return True
    cp = ord(ch)
    return unicodedata.category(ch).startswith("P") and any(
        lo <= cp <= hi for lo, hi in _PUNCT_BLOCKS
    )


def fold_char(ch: str) -> str:
    """One lower-case ASCII-ish character for ``ch``: "É" -> "e", "ß" -> "s"."""
    low = ch.lower()
    if low in _FOLD:
        return _FOLD[low]
    base = unicodedata.normalize("NFKD", low)[:1]
    return base if base.isascii() else low


def fold_word(word: str) -> str:
    """The dictionary spelling of a written word: lower case, plain letters, straight '."""
    out = []
    for ch in word:
        if ch in APOSTROPHES:
            out.append("'")
        elif ch.lower() == "ß":
            out.append("ss")
        elif ch.lower() in ("æ", "œ"):
            out.append({"æ": "ae", "œ": "oe"}[ch.lower()])
        else:
            out.append(fold_char(ch))
    return "".join(out)


def _is_silent(ch: str) -> bool:
    """Invisible characters removed without a warning: controls, joiners, variation selectors,
    combining marks left without a base, emoji skin tones."""
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Mn", "Me", "Cs") or 0x1F3FB <= ord(ch) <= 0x1F3FF


def clean_text(text: str) -> tuple[str, list[str]]:
    """``text`` with unsupported characters removed: the cleaned text and what was removed.

    Line breaks become "\\n", other white space a plain space; fullwidth letters and digits
    become ASCII. A removed symbol between two letters leaves a space, so that the words
    around it stay apart.
    """
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]", "\n", text)
    out: list[str] = []
    stripped: list[str] = []
    seen: set[str] = set()
    for ch in text:
        cp = ord(ch)
        if ch == "\n":
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
        elif 0xFF10 <= cp <= 0xFF19 or 0xFF21 <= cp <= 0xFF3A or 0xFF41 <= cp <= 0xFF5A:
            out.append(chr(cp - 0xFEE0))  # fullwidth "Ａ１" -> "A1"
        elif ch.isascii():
            if ch.isprintable():
                out.append(ch)
        elif is_cjk(ch) or is_latin(ch) or is_punct(ch):
            out.append(ch)
        elif _is_silent(ch):
            continue
        else:
            out.append(_STRIPPED_LETTER if ch.isalpha() else _STRIPPED_SYMBOL)
            if ch not in seen:
                seen.add(ch)
                stripped.append(ch)
    cleaned = _JOIN_AROUND_STRIPPED.sub(" ", "".join(out))
    cleaned = cleaned.replace(_STRIPPED_SYMBOL, "").replace(_STRIPPED_LETTER, "")
    return cleaned, stripped


def squeeze(line: str) -> str:
    """One space between words, none at the ends."""
    return " ".join(line.split())


@dataclass(frozen=True, slots=True)
class Token:
    """A sung word of a line: an English word or one Chinese character."""

    lang: str  # "en" or "zh"
    text: str


def tokenize(line: str) -> list[Token]:
    """The sung words of ``line`` in order.

    An English word is a run of Latin letters, with apostrophes inside it (don't,
    rock'n'roll), a trailing one after "in" (lovin') and a leading one in a known elision
    ('cause); hyphens and other punctuation separate words. Each CJK character is a word.
    """
    tokens: list[Token] = []
    n = len(line)
    i = 0
    while i < n:
        ch = line[i]
        if is_cjk(ch):
            tokens.append(Token("zh", ch))
            i += 1
            continue
        if not is_latin(ch):
            i += 1
            continue
        j = i
        while j < n and is_latin(line[j]):
            j += 1
            if j + 1 < n and line[j] in APOSTROPHES and is_latin(line[j + 1]):
                j += 1
        start = i
        after_apostrophe = i > 0 and line[i - 1] in APOSTROPHES
        if after_apostrophe and (i == 1 or not is_latin(line[i - 2])):
            start = i - 1 if fold_word(line[i - 1 : j]) in _ELISIONS else i
        if j < n and line[j] in APOSTROPHES and (j + 1 == n or not is_latin(line[j + 1])):
            word = fold_word(line[start:j])
            if word.endswith("in") or word == "'n":
                j += 1  # lovin', rock 'n' roll
        tokens.append(Token("en", line[start:j]))
        i = j
    return tokens
