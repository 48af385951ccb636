"""A lyric sheet's text to sections, lines and syllables.

Sections come from tags ("[Verse 1]", "(Chorus)", "[副歌]", "Chorus:") when the sheet has
them, else from its stanzas (blocks between blank lines): a stanza sung more than once is the
chorus, the others verses, and a new stanza between the last two choruses, once two verses
have been sung, the bridge (the verse-chorus-verse-chorus-bridge-chorus shape). A tagged
sheet and the same sheet without its tags give the same form for these common shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from overture.lyrics import chinese, english
from overture.lyrics.model import (
    MAX_CHARS,
    LyricLine,
    LyricSection,
    LyricsError,
    LyricSheet,
    Syllable,
)
from overture.lyrics.numbers import spell_numbers
from overture.lyrics.text import Token, clean_text, fold_word, is_cjk, is_latin, squeeze, tokenize

# Tag names (lower case, without spaces, hyphens or dots) and the section kinds they mean.
# The instrumental kinds are those the planner knows (overture.spec.SECTION_KINDS).
TAG_KINDS = {
    "intro": "intro",
    "verse": "verse",
    "prechorus": "pre-chorus",
    "build": "pre-chorus",
    "buildup": "pre-chorus",
    "chorus": "chorus",
    "hook": "chorus",
    "refrain": "chorus",
    "postchorus": "chorus",
    "bridge": "bridge",
    "middleeight": "bridge",
    "outro": "outro",
    "coda": "outro",
    "ending": "outro",
    "interlude": "interlude",
    "instrumental": "interlude",
    "solo": "solo",
    "break": "breakdown",
    "breakdown": "breakdown",
    "前奏": "intro",
    "主歌": "verse",
    "导歌": "pre-chorus",
    "预副歌": "pre-chorus",
    "副歌": "chorus",
    "桥段": "bridge",
    "间奏": "interlude",
    "尾奏": "outro",
    "结尾": "outro",
}
_VERBATIM = frozenset({"chorus", "pre-chorus"})
_BY_LENGTH = sorted(TAG_KINDS, key=len, reverse=True)
MAX_REPEAT = 8  # "x99" is a typo or a joke; nobody sings a line 99 times

_BRACKETED = re.compile(r"^[\[【(（]\s*(?P<inner>[^\[\]【】()（）]*?)\s*[\]】)）]\s*[:：]?$")
_BARE = re.compile(r"^(?P<inner>[^\W\d_][^\[\]【】()（）:：]{0,30}?)\s*[:：]?$")
_LEADING_TAG = re.compile(r"^(?P<tag>[\[【(（][^\[\]【】()（）]*[\]】)）])\s*(?P<rest>\S.*)$")
_REPEAT = re.compile(
    r"(?:[\[(（【]\s*(?:[x×]\s*(?P<a>\d+)|(?P<b>\d+)\s*[x×])\s*[\])）】]"
    r"|(?<![\w'])(?:[x×](?P<c>\d+)|(?P<d>\d+)[x×]))",
    re.IGNORECASE,
)
_REPEAT_AT_END = re.compile(rf"(?:{_REPEAT.pattern})\s*$", re.IGNORECASE)
_TRAILING_NUMBER = re.compile(
    r"(?:\s*#?(?:\d+|[一二三四五六七八九十]+|one|two|three|four|five|six)|\s+[ivx]+)$",
    re.IGNORECASE,
)
_INLINE_NOTE = re.compile(r"\[[^\]]*\]|【[^】]*】")


@dataclass(frozen=True, slots=True)
class _Tag:
    kind: str
    label: str
    repeat: int
    known: bool


@dataclass(slots=True)
class _RawLine:
    text: str
    tokens: list[Token]
    repeat: int


@dataclass(slots=True)
class _Section:
    kind: str
    label: str
    repeat: int = 1
    lines: list[LyricLine] = field(default_factory=list)


_Item = _Tag | _RawLine | None  # None: a blank line


def read_lyrics(path: str | Path) -> LyricSheet:
    """Parse the lyric sheet in the UTF-8 text file ``path`` (a byte-order mark is fine)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > 4 * MAX_CHARS + 65536:  # no UTF-8 text this size holds only MAX_CHARS
            raise LyricsError(
                f"the lyrics file {p} is {size} bytes; the limit is {MAX_CHARS} characters"
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise LyricsError(f"lyrics file not found: {p}") from None
    except IsADirectoryError:
        raise LyricsError(f"the lyrics path {p} is a folder, not a text file") from None
    except OSError as e:
        raise LyricsError(f"cannot read the lyrics file {p}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LyricsError(f"the lyrics file {p} is not UTF-8 text") from None
    return parse_lyrics(text)


def parse_lyrics(text: str) -> LyricSheet:
    """Sections, lines and syllables of a lyric sheet in English, Mandarin or both.

    Raises ``LyricsError`` when the text is longer than ``MAX_CHARS`` or holds nothing to sing.
    """
    text = text.strip()
    if len(text) > MAX_CHARS:
        raise LyricsError(f"the lyrics are {len(text)} characters long; the limit is {MAX_CHARS}")
    if not text:
        raise LyricsError("the lyrics file has no words to sing")
    cleaned, stripped = clean_text(text)
    warnings: list[str] = []
    items = _read_lines(cleaned, warnings)
    lines = _sing(items, stripped, warnings)
    if not lines:
        raise LyricsError("the lyrics file has no words to sing")
    if stripped:
        shown = " ".join(stripped[:20]) + (
            f" (and {len(stripped) - 20} more)" if len(stripped) > 20 else ""
        )
        warnings.insert(0, f"stripped unsupported characters: {shown}")
    tagged = any(isinstance(it, _Tag) for it in items)
    sections = _tagged_sections(items, lines) if tagged else _stanza_sections(items, lines)
    langs = {s.lang for sec in sections for line in sec.lines for s in line.syllables}
    language = "mixed" if len(langs) > 1 else langs.pop()
    return LyricSheet(
        sections=tuple(sections),
        language=language,
        tagged=tagged,
        warnings=tuple(warnings),
        stripped=tuple(stripped),
    )


# --- lines -----------------------------------------------------------------------------------


def _tag(line: str, warnings: list[str]) -> _Tag | None:
    """The section tag that ``line`` is, or None when it is a line to sing.

    Square brackets always make a tag (an unknown one is a verse, with a warning), and may
    qualify a kind ("[Final Chorus]"); parentheses and a bare "Chorus:" only for a known name,
    since "(ooh yeah)" is a backing vocal and "Sing the chorus" a line.
    """
    m = _BRACKETED.match(line)
    square = m is not None and line.startswith(("[", "【"))
    if m is None:
        m = _BARE.match(line)
    if m is None:
        return None
    label = m.group("inner").strip()
    head = re.split(r"[:：]", label, maxsplit=1)[0]
    repeat = 1
    r = _REPEAT.search(head)
    if r is not None:
        repeat = _count(r)
        head = head[: r.start()] + head[r.end() :]
    head = _TRAILING_NUMBER.sub("", head.strip())
    name = re.sub(r"[\s\-_.]", "", head.lower())
    kind = TAG_KINDS.get(name)
    if kind is None and square:  # "Final Chorus", "Guitar Solo", "Rap Verse"
        suffix = next((k for k in _BY_LENGTH if name.endswith(k)), None)
        kind = None if suffix is None else TAG_KINDS[suffix]
    if kind is not None:
        return _Tag(kind, label, repeat, True)
    if square and name:
        warnings.append(f"unknown section tag [{label}]: sung as a verse")
        return _Tag("verse", label, repeat, False)
    return None


def _count(m: re.Match[str]) -> int:
    digits = next(g for g in m.group("a", "b", "c", "d") if g is not None)
    return max(1, min(MAX_REPEAT, int(digits)))


def _read_lines(cleaned: str, warnings: list[str]) -> list[_Item]:
    """Each line as a tag, a line to sing or a blank (None), in order."""
    items: list[_Item] = []
    has_latin = any(is_latin(ch) for ch in cleaned)
    has_cjk = any(is_cjk(ch) for ch in cleaned)
    default_lang = "zh" if has_cjk and not has_latin else "en"
    notes: list[str] = []
    for raw in cleaned.split("\n"):
        line = squeeze(raw)
        if not line:
            items.append(None)
            continue
        tag = _tag(line, warnings)
        if tag is not None:
            items.append(tag)
            continue
        lead = _LEADING_TAG.match(line)
        if lead is not None:
            tag = _tag(lead.group("tag"), [])
            if tag is not None and tag.known:  # "[Chorus] Here we go": a tag, then a line
                items.append(tag)
                line = lead.group("rest")
        repeat = 1
        rep = _REPEAT_AT_END.search(line)
        if rep is not None:
            repeat = _count(rep)
            line = line[: rep.start()].strip()
            if not line:
                warnings.append(f"ignored a repeat mark on a line of its own: {rep.group(0)}")
                continue
        for note in _INLINE_NOTE.findall(line):
            notes.append(note)
        line = squeeze(_INLINE_NOTE.sub(" ", line))
        latin, cjk = any(is_latin(ch) for ch in line), any(is_cjk(ch) for ch in line)
        lang = "mixed" if latin and cjk else "en" if latin else "zh" if cjk else default_lang
        line = squeeze(spell_numbers(line, lang))
        tokens = tokenize(line)
        items.append(_RawLine(line, tokens, repeat) if tokens else None)
    if notes:
        warnings.append(f"ignored bracketed notes (not sung): {' '.join(dict.fromkeys(notes))}")
    return items


def _sing(items: list[_Item], stripped: list[str], warnings: list[str]) -> dict[int, LyricLine]:
    """The ``LyricLine`` of each line to sing, by its item index (lines left empty are absent)."""
    words = [
        t.text for it in items if isinstance(it, _RawLine) for t in it.tokens if t.lang == "en"
    ]
    phones, guessed = english.pronounce(words)
    if guessed:
        warnings.append(
            "no dictionary or espeak-ng pronunciation; guessed from the spelling: "
            + ", ".join(guessed)
        )
    out: dict[int, LyricLine] = {}
    for i, it in enumerate(items):
        if isinstance(it, _RawLine):
            line = _line(it, phones, stripped)
            if line is not None:
                out[i] = line
    return out


def _zh_runs(tokens: list[Token], text: str) -> list[list[int]]:
    """Indices of the Chinese tokens, grouped into runs of adjacent characters."""
    runs: list[list[int]] = []
    pos = 0
    prev_end = -1
    for k, t in enumerate(tokens):
        at = text.find(t.text, pos)
        pos = at + len(t.text)
        if t.lang != "zh":
            prev_end = -1
            continue
        if runs and prev_end == at:
            runs[-1].append(k)
        else:
            runs.append([k])
        prev_end = pos
    return runs


def _line(
    raw: _RawLine, phones: dict[str, tuple[str, ...]], stripped: list[str]
) -> LyricLine | None:
    text, tokens = raw.text, raw.tokens
    readings: dict[int, str] = {}
    for run in _zh_runs(tokens, text):
        got = chinese.read_run("".join(tokens[k].text for k in run))
        for k, p in zip(run, got, strict=True):
            if p is not None:
                readings[k] = p
    unread = [t.text for k, t in enumerate(tokens) if t.lang == "zh" and k not in readings]
    if unread:  # a character pypinyin cannot read: removed like an unsupported one
        for ch in unread:
            if ch not in stripped:
                stripped.append(ch)
            text = text.replace(ch, "")
        text = squeeze(text)
        tokens = tokenize(text)
        if not tokens:
            return None
        return _line(_RawLine(text, tokens, raw.repeat), phones, stripped)
    syllables: list[Syllable] = []
    for k, t in enumerate(tokens):
        if t.lang == "zh":
            syllables.append(chinese.zh_syllable(t.text, readings[k], index=k))
        else:
            syllables += english.word_syllables(t.text, phones[fold_word(t.text)], index=k)
    return LyricLine(text=text, syllables=tuple(syllables), words=tuple(t.text for t in tokens))


# --- sections ---------------------------------------------------------------------------------


def _norm(line: LyricLine) -> str:
    """A line as compared between stanzas: its words, lower case, without punctuation."""
    return " ".join(w.casefold() for w in line.words)


def _stanzas(
    items: Iterable[tuple[int, _Item]], lines: dict[int, LyricLine]
) -> list[list[LyricLine]]:
    out: list[list[LyricLine]] = [[]]
    for i, it in items:
        if it is None:
            if out[-1]:
                out.append([])
        elif isinstance(it, _RawLine) and i in lines:
            out[-1] += [lines[i]] * it.repeat
    return [s for s in out if s]


def _same(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same stanza, or a chorus sung again with a line or two added at its end."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 2 and len(long_) - len(short) <= 2 and long_[: len(short)] == short


def infer_kinds(stanzas: list[tuple[str, ...]]) -> list[str]:
    """Section kinds of untagged stanzas (each a tuple of normalised lines).

    A stanza that occurs more than once is a chorus. A repeated stanza always followed by
    another, longer repeated stanza, after a verse, is the pre-chorus before it. The rest are
    verses, except new stanzas between the last two choruses once two verses have passed: the
    bridge. Stanzas that never repeat stay verses: no chorus is invented.
    """
    group: list[int] = []
    for i, s in enumerate(stanzas):
        group.append(next((group[j] for j in range(i) if _same(stanzas[j], s)), i))
    repeated = {g for g in group if group.count(g) > 1}
    kinds = ["chorus" if g in repeated else "verse" for g in group]
    n = len(stanzas)
    for g in repeated:
        at = [i for i in range(n) if group[i] == g]
        after = {group[i + 1] if i + 1 < n else None for i in at}
        if len(after) != 1:
            continue
        nxt = after.pop()
        if nxt is None or nxt == g or nxt not in repeated:
            continue
        if len(stanzas[at[0]]) < len(stanzas[nxt]) and any(
            group[q] not in repeated for q in range(at[0])
        ):
            for i in at:
                kinds[i] = "pre-chorus"
    choruses = [i for i, k in enumerate(kinds) if k == "chorus"]
    if len(choruses) >= 2:
        for i in range(choruses[-2] + 1, choruses[-1]):
            if kinds[i] == "verse" and kinds[:i].count("verse") >= 2:
                kinds[i] = "bridge"
    return kinds


def _stanza_sections(items: list[_Item], lines: dict[int, LyricLine]) -> list[LyricSection]:
    stanzas = _stanzas(enumerate(items), lines)
    kinds = infer_kinds([tuple(_norm(line) for line in s) for s in stanzas])
    return [
        LyricSection(kind=k, lines=tuple(s), label="") for k, s in zip(kinds, stanzas, strict=True)
    ]


def _tagged_sections(items: list[_Item], lines: dict[int, LyricLine]) -> list[LyricSection]:
    """Sections of a tagged sheet: each tag starts one, which runs to the next tag.

    An untagged stanza that repeats a tagged one (the chorus written out again without its
    tag) becomes a section of that kind. Another untagged stanza continues the section before
    it, unless that is a chorus or pre-chorus (sung the same each time, so new words after it
    are a verse); lines before the first tag are a verse.
    """
    blocks: list[tuple[_Tag | None, list[list[LyricLine]]]] = []
    start = 0
    for i, it in enumerate([*items, _Tag("", "", 1, True)]):
        if isinstance(it, _Tag):
            prev = items[start - 1] if start > 0 else None
            tag = prev if isinstance(prev, _Tag) else None
            stanzas = _stanzas(((j, items[j]) for j in range(start, i)), lines)
            if tag is not None or stanzas:
                blocks.append((tag, stanzas))
            start = i + 1
    known: dict[tuple[str, ...], str] = {}
    for tag, stanzas in blocks:
        if tag is not None and stanzas:
            known.setdefault(tuple(_norm(line) for line in stanzas[0]), tag.kind)
    sections: list[_Section] = []
    for tag, stanzas in blocks:
        if tag is not None:
            sections.append(_Section(tag.kind, tag.label, tag.repeat))
        for j, st in enumerate(stanzas):
            kind = known.get(tuple(_norm(line) for line in st))
            if tag is not None and j == 0:
                sections[-1].lines += st
            elif kind is not None or not sections or sections[-1].kind in _VERBATIM:
                sections.append(_Section(kind or "verse", "", 1, list(st)))
            else:
                sections[-1].lines += st
    return [
        LyricSection(kind=s.kind, lines=tuple(s.lines), label=s.label)
        for s in sections
        for _ in range(s.repeat)
    ]
