"""Lyric sheets: validation, cleaning, sections (tagged and inferred), lines, splitting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overture.errors import InvalidInputError
from overture.lyrics import (
    MAX_CHARS,
    LyricLine,
    LyricsError,
    parse_lyrics,
    read_lyrics,
    split_line,
)
from overture.lyrics.parse import TAG_KINDS, infer_kinds

VERSE_1 = "I walked along the empty road\nThe city lights were fading slow"
VERSE_2 = "You called my name across the rain\nAnd nothing ever felt the same"
CHORUS = "Hold on, hold on to me tonight\nWe'll dance until the morning light"
BRIDGE = "And if the sky falls down\nI will still be around"


def kinds(text: str) -> list[str]:
    return [s.kind for s in parse_lyrics(text).sections]


def syllable_texts(line: LyricLine) -> list[str]:
    return [s.text for s in line.syllables]


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\n\t  ", "☺☺ ♪♪\n🎵", "...\n—", "[Intro]\n[Outro]"])
def test_nothing_to_sing_is_an_error(text: str) -> None:
    with pytest.raises(LyricsError, match="no words to sing"):
        parse_lyrics(text)


def test_too_long_is_an_error_naming_length_and_limit() -> None:
    text = "la " * 1000 + "la"  # 3002 characters
    with pytest.raises(LyricsError) as err:
        parse_lyrics(text)
    assert str(err.value) == f"the lyrics are 3002 characters long; the limit is {MAX_CHARS}"
    assert isinstance(err.value, InvalidInputError)
    assert "\n" not in str(err.value)


def test_surrounding_whitespace_does_not_count_towards_the_limit() -> None:
    body = ("la " * 1000)[:MAX_CHARS].strip() + "a"
    assert len(body) == MAX_CHARS
    sheet = parse_lyrics("\n\n   " + body + "   \n\n")
    assert sheet.syllable_count > 900


def test_unsupported_characters_are_stripped_with_a_warning() -> None:
    sheet = parse_lyrics("I love you ☺ Привет\n我爱你😀")
    assert sheet.stripped == ("☺", "П", "р", "и", "в", "е", "т", "😀")
    assert sheet.warnings[0] == "stripped unsupported characters: ☺ П р и в е т 😀"
    first, second = sheet.sections[0].lines
    assert first.text == "I love you"
    assert first.words == ("I", "love", "you")
    assert second.text == "我爱你"
    assert sheet.language == "mixed"


def test_a_stripped_symbol_parts_words_a_stripped_letter_does_not() -> None:
    assert parse_lyrics("love☺you").sections[0].lines[0].words == ("love", "you")
    sheet = parse_lyrics("h\u0435llo")  # a Cyrillic look-alike "е" inside a Latin word
    assert sheet.sections[0].lines[0].words == ("hllo",)
    assert sheet.stripped == ("\u0435",)


def test_punctuation_is_shown_but_not_sung() -> None:
    line = parse_lyrics('"Hello, world!" (she said...)').sections[0].lines[0]
    assert line.text == '"Hello, world!" (she said...)'
    assert syllable_texts(line) == ["Hel", "lo", "world", "she", "said"]
    zh = parse_lyrics("你好，世界！《再见》……").sections[0].lines[0]
    assert zh.text == "你好，世界！《再见》……"
    assert syllable_texts(zh) == ["你", "好", "世", "界", "再", "见"]
    assert not parse_lyrics("你好，世界！").warnings


def test_apostrophes_inside_words() -> None:
    line = parse_lyrics("Don't stop, I'm rock'n'roll ’cause I’m lovin' it").sections[0].lines[0]
    assert line.words == ("Don't", "stop", "I'm", "rock'n'roll", "’cause", "I’m", "lovin'", "it")
    assert [s.word for s in line.syllables if s.word_text == "rock'n'roll"] == [3, 3, 3]


def test_numbers_are_spelled_in_the_language_of_their_line() -> None:
    sheet = parse_lyrics("Born in 1999, I was 18\n我今年18岁\n我爱你 3000 years 1000年")
    en, zh, mixed = sheet.sections[0].lines
    assert en.text == "Born in nineteen ninety-nine, I was eighteen"
    assert en.words[2:5] == ("nineteen", "ninety", "nine")
    assert zh.text == "我今年十八岁"
    assert [s.pinyin for s in zh.syllables][3:5] == ["shi2", "ba1"]
    assert mixed.words[3:5] == ("three", "thousand")  # a mixed line reads English...
    assert mixed.text.endswith("years 一千年")  # ...but a number against a character Chinese
    assert all(not any(ch.isdigit() for ch in line.text) for line in sheet.lines)


def test_mixed_line_keeps_order() -> None:
    sheet = parse_lyrics("我爱你 baby tonight")
    line = sheet.sections[0].lines[0]
    assert sheet.language == "mixed"
    assert line.words == ("我", "爱", "你", "baby", "tonight")
    assert [s.lang for s in line.syllables] == ["zh"] * 3 + ["en"] * 4
    assert syllable_texts(line) == ["我", "爱", "你", "ba", "by", "to", "night"]
    assert [s.word for s in line.syllables] == [0, 1, 2, 3, 3, 4, 4]
    assert [s.pinyin for s in line.syllables[:3]] == ["wo3", "ai4", "ni3"]


def test_language_of_single_language_sheets() -> None:
    assert parse_lyrics("hello there").language == "en"
    assert parse_lyrics("月亮代表我的心").language == "zh"


# --- sections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("[verse]", "verse"),
        ("[Verse 1]", "verse"),
        ("[VERSE 2: lead]", "verse"),
        ("[chorus]", "chorus"),
        ("[pre-chorus]", "pre-chorus"),
        ("[Prechorus]", "pre-chorus"),
        ("[hook]", "chorus"),
        ("[Refrain]", "chorus"),
        ("[bridge]", "bridge"),
        ("[Intro]", "intro"),
        ("[outro]", "outro"),
        ("(Chorus)", "chorus"),
        ("Chorus:", "chorus"),
        ("[Final Chorus]", "chorus"),
        ("[主歌]", "verse"),
        ("[副歌]", "chorus"),
        ("【副歌】", "chorus"),
        ("（副歌）", "chorus"),
        ("[桥段]", "bridge"),
        ("[前奏]", "intro"),
        ("[尾奏]", "outro"),
        ("[结尾]", "outro"),
    ],
)
def test_section_tags(tag: str, kind: str) -> None:
    sheet = parse_lyrics(f"{tag}\nla la la")
    assert sheet.tagged
    assert [s.kind for s in sheet.sections] == [kind]
    assert sheet.sections[0].label == tag.strip("[]()【】（）:")


def test_tag_kinds_are_kinds_the_planner_knows() -> None:
    from overture.spec import SECTION_BARS

    assert set(TAG_KINDS.values()) <= set(SECTION_BARS)


def test_unknown_tag_is_a_verse_with_a_warning() -> None:
    sheet = parse_lyrics("[Spoken Word]\nla la la")
    assert [s.kind for s in sheet.sections] == ["verse"]
    assert sheet.warnings == ("unknown section tag [Spoken Word]: sung as a verse",)


def test_empty_tagged_section_is_kept_for_an_instrumental() -> None:
    sheet = parse_lyrics(f"[Intro]\n\n[Verse]\n{VERSE_1}\n[Outro]")
    assert [(s.kind, len(s.lines)) for s in sheet.sections] == [
        ("intro", 0),
        ("verse", 2),
        ("outro", 0),
    ]
    assert sheet.sections[0].syllable_count == 0


def test_parenthesised_backing_vocals_are_sung_not_tags() -> None:
    sheet = parse_lyrics("(ooh yeah)\nhere we go")
    assert not sheet.tagged
    assert sheet.sections[0].lines[0].words == ("ooh", "yeah")


def test_repeat_marks() -> None:
    sheet = parse_lyrics("[Chorus x2]\nsing it loud (x2)")
    assert [(s.kind, s.label) for s in sheet.sections] == [("chorus", "Chorus x2")] * 2
    assert [line.text for line in sheet.sections[0].lines] == ["sing it loud"] * 2


def test_inline_square_bracket_notes_are_not_sung() -> None:
    sheet = parse_lyrics("la la [laughs] la")
    assert sheet.sections[0].lines[0].words == ("la", "la", "la")
    assert any("[laughs]" in w for w in sheet.warnings)


def test_repeated_stanza_is_the_chorus_every_time() -> None:
    sheet = parse_lyrics(f"{VERSE_1}\n\n{CHORUS}\n\n{VERSE_2}\n\n{CHORUS}")
    assert not sheet.tagged
    assert [s.kind for s in sheet.sections] == ["verse", "chorus", "verse", "chorus"]
    assert all(s.label == "" for s in sheet.sections)


def test_repeat_ignores_case_spacing_and_punctuation() -> None:
    shouted = CHORUS.upper().replace(",", "!").replace(" ", "  ")
    assert kinds(f"{VERSE_1}\n\n{CHORUS}\n\n{VERSE_2}\n\n{shouted}") == [
        "verse",
        "chorus",
        "verse",
        "chorus",
    ]


def test_no_repeats_means_no_invented_chorus() -> None:
    assert kinds(f"{VERSE_1}\n\n{VERSE_2}\n\n{BRIDGE}") == ["verse", "verse", "verse"]


SHAPES = {
    "V C V C B C": [
        ("Verse 1", VERSE_1),
        ("Chorus", CHORUS),
        ("Verse 2", VERSE_2),
        ("Chorus", CHORUS),
        ("Bridge", BRIDGE),
        ("Chorus", CHORUS),
    ],
    "V C V C C": [
        ("Verse 1", VERSE_1),
        ("Chorus", CHORUS),
        ("Verse 2", VERSE_2),
        ("Chorus", CHORUS),
        ("Chorus", CHORUS),
    ],
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_tagged_and_untagged_sheets_agree(shape: str) -> None:
    blocks = SHAPES[shape]
    tagged = parse_lyrics("\n\n".join(f"[{tag}]\n{body}" for tag, body in blocks))
    untagged = parse_lyrics("\n\n".join(body for _, body in blocks))
    expected = [t.split()[0].lower() for t, _ in blocks]
    assert tagged.tagged and not untagged.tagged
    assert [s.kind for s in tagged.sections] == expected
    assert [s.kind for s in untagged.sections] == expected
    assert [s.lines for s in tagged.sections] == [s.lines for s in untagged.sections]


def test_inference_rules() -> None:
    v1, v2, v3 = ("a", "b"), ("c", "d"), ("e", "f")
    c, p = ("x", "y", "z"), ("p", "q")
    assert infer_kinds([v1, p, c, v2, p, c, v3, c]) == [
        "verse",
        "pre-chorus",
        "chorus",
        "verse",
        "pre-chorus",
        "chorus",
        "bridge",
        "chorus",
    ]
    # a verse before the first chorus is not a bridge; a chorus with a line added still is one
    assert infer_kinds([v1, c, v2, (*c, "w")]) == ["verse", "chorus", "verse", "chorus"]
    assert infer_kinds([c, v1, c, v2, c]) == ["chorus", "verse", "chorus", "verse", "chorus"]


def test_untagged_chorus_repeat_in_a_tagged_sheet() -> None:
    sheet = parse_lyrics(f"[Verse]\n{VERSE_1}\n\n[Chorus]\n{CHORUS}\n\n{VERSE_2}\n\n{CHORUS}")
    assert [(s.kind, s.label) for s in sheet.sections] == [
        ("verse", "Verse"),
        ("chorus", "Chorus"),
        ("verse", ""),
        ("chorus", ""),
    ]


def test_to_dict_is_json_safe() -> None:
    sheet = parse_lyrics(f"[Verse]\n{VERSE_1}\n\n[Chorus]\n{CHORUS} ☺")
    data = json.loads(json.dumps(sheet.to_dict(), ensure_ascii=False))
    assert data["language"] == "en"
    assert data["syllables"] == sheet.syllable_count
    assert [s["type"] for s in data["sections"]] == ["verse", "chorus"]
    assert data["sections"][0]["lines"][0]["syllables"][:3] == ["I", "walked", "a"]
    assert data["stripped"] == ["☺"]


# --- files -----------------------------------------------------------------------------------


def test_read_lyrics_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "song.txt"
    path.write_bytes("\ufeff[Chorus]\n你好 hello\n".encode())
    sheet = read_lyrics(path)
    assert sheet.sections[0].kind == "chorus"
    assert sheet.sections[0].lines[0].words == ("你", "好", "hello")
    assert not sheet.stripped


def test_read_lyrics_errors(tmp_path: Path) -> None:
    with pytest.raises(LyricsError, match="not found"):
        read_lyrics(tmp_path / "missing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(LyricsError, match="not UTF-8"):
        read_lyrics(latin1)
    with pytest.raises(LyricsError, match="folder"):
        read_lyrics(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(LyricsError, match="no words to sing"):
        read_lyrics(empty)


# --- splitting -------------------------------------------------------------------------------


def _line(text: str) -> LyricLine:
    return parse_lyrics(text).sections[0].lines[0]


def test_split_line_prefers_punctuation() -> None:
    line = _line("Oh I wanna dance with somebody, I wanna feel the heat with somebody")
    parts = split_line(line, 12)
    assert [p.text for p in parts] == [
        "Oh I wanna dance with somebody,",
        "I wanna feel the heat with somebody",
    ]


def test_split_line_keeps_words_whole_and_renumbers() -> None:
    line = _line("we are the champions of the world and we will keep on fighting")
    parts = split_line(line, 4)
    assert len(parts) > 1
    assert sum((p.words for p in parts), ()) == line.words
    assert [s.text for p in parts for s in p.syllables] == syllable_texts(line)
    for p in parts:
        assert len(p.syllables) <= 4 or len(p.words) == 1
        assert p.syllables[0].word == 0
        assert {s.word for s in p.syllables} == set(range(len(p.words)))
        assert all(p.words[s.word] == s.word_text for s in p.syllables)
        assert p.syllables[0].word_start
    assert " ".join(p.text for p in parts) == line.text


def test_split_line_chinese_at_the_comma() -> None:
    parts = split_line(_line("我爱你，爱着你，就像老鼠爱大米"), 8)
    assert [p.text for p in parts] == ["我爱你，爱着你，", "就像老鼠爱大米"]


def test_a_long_word_stays_whole() -> None:
    line = _line("supercalifragilisticexpialidocious")
    assert split_line(line, 3) == [line]
    assert split_line(_line("hello"), 5) == [_line("hello")]
