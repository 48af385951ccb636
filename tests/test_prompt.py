"""Prompt understanding: the public eval prompts, each pattern, used/ignored words, robustness."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from overture.errors import InvalidInputError
from overture.instruments import INSTRUMENTS
from overture.prompt import (
    GENRE_WORDS,
    INSTRUMENT_WORDS,
    METER_WORDS,
    MOOD_WORDS,
    STOP_WORDS,
    TEMPO_WORDS,
    parse_prompt,
)
from overture.spec import build_spec
from overture.styles import STYLES
from overture.theory import SUPPORTED_TIME_SIGNATURES, TimeSignature

EVAL_PROMPTS = Path(__file__).parents[2] / "shared/eval/prompts.json"


def _eval_cases() -> list[Any]:
    if not EVAL_PROMPTS.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{EVAL_PROMPTS} not found"))]
    prompts = json.loads(EVAL_PROMPTS.read_text(encoding="utf-8"))["prompts"]
    return [pytest.param(p, id=p["id"]) for p in prompts]


# --- the public eval prompts -------------------------------------------------------------------


@pytest.mark.parametrize("case", _eval_cases())
def test_eval_prompt_states_what_it_expects(case: dict[str, Any]) -> None:
    info = parse_prompt(case["prompt"])
    expect = case["expect"]
    if "tempo" in expect:
        assert info.tempo == float(expect["tempo"])
    if "key" in expect:
        assert info.key is not None and info.key.name == expect["key"]
    if "duration" in expect:
        assert info.duration == float(expect["duration"])
    if "genre" in expect:
        assert info.genre == expect["genre"]
    if "time_signature" in expect:
        assert str(info.time_signature) == expect["time_signature"]
    assert not set(info.used) & set(info.ignored)


@pytest.mark.parametrize("case", _eval_cases())
def test_eval_prompt_builds_a_spec(case: dict[str, Any]) -> None:
    spec = build_spec(case["prompt"], seed=7)
    expect = case["expect"]
    assert spec.genre in STYLES
    if "tempo" in expect:
        assert spec.tempo == float(expect["tempo"]) and spec.sources["tempo"] == "prompt"
    if "key" in expect:
        assert spec.key.name == expect["key"]
    if "duration" in expect:
        assert spec.duration == float(expect["duration"])
    if "time_signature" in expect:
        assert str(spec.time_signature) == expect["time_signature"]


def test_build_spec_uses_the_parser() -> None:
    spec = build_spec("upbeat pop song, 120 bpm, G major, 60 seconds", seed=7)
    assert (spec.genre, spec.tempo, spec.key.name, spec.duration) == ("pop", 120.0, "G major", 60.0)
    assert spec.moods == ("upbeat",)
    assert spec.used_words == ("upbeat", "pop", "120 bpm", "G major", "60 seconds")
    assert spec.ignored_words == ()
    assert {k: spec.sources[k] for k in ("genre", "tempo", "key", "duration")} == dict.fromkeys(
        ("genre", "tempo", "key", "duration"), "prompt"
    )


def test_build_spec_picks_tempo_from_a_tempo_word() -> None:
    spec = build_spec("慢板 钢琴", seed=3)
    assert 50 <= spec.tempo <= 70 and spec.sources["tempo"] == "prompt"


def test_build_spec_rejects_an_out_of_range_tempo_clearly() -> None:
    with pytest.raises(InvalidInputError, match="1000 bpm"):
        build_spec("rock, 1000 bpm")


# --- tempo ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tempo"),
    [
        ("120 bpm", 120.0),
        ("120bpm", 120.0),
        ("120 BPM", 120.0),
        ("96.5 bpm", 96.5),
        ("tempo 120", 120.0),
        ("tempo: 90", 90.0),
        ("tempo of 100", 100.0),
        ("bpm=132", 132.0),
        ("72 beats per minute", 72.0),
        ("每分钟120拍", 120.0),
        ("每分钟 90 拍", 90.0),
        ("每分钟一百二十拍", 120.0),
        ("120拍", 120.0),
        ("一百四十拍", 140.0),
        ("速度100", 100.0),
        ("速度：100", 100.0),  # full-width colon
        ("１２０ bpm", 120.0),  # full-width digits
        ("1000 bpm", 1000.0),  # reported as stated; build_spec rejects it
        ("0 bpm", 0.0),
    ],
)
def test_tempo(text: str, tempo: float) -> None:
    assert parse_prompt(text).tempo == tempo


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("slow", (60.0, 80.0)),
        ("very slow", (40.0, 60.0)),
        ("fast", (130.0, 160.0)),
        ("very fast", (160.0, 200.0)),
        ("moderate", (90.0, 115.0)),
        ("mid-tempo", (90.0, 115.0)),
        ("uptempo", (120.0, 140.0)),
        ("up-tempo", (120.0, 140.0)),
        ("adagio", (66.0, 76.0)),
        ("Allegro", (120.0, 156.0)),
        ("andante", (76.0, 108.0)),
        ("presto", (168.0, 200.0)),
        ("largo", (40.0, 60.0)),
        ("慢板", (50.0, 70.0)),
        ("慢", (60.0, 80.0)),
        ("快板", (120.0, 156.0)),
        ("快", (130.0, 160.0)),
        ("中速", (90.0, 115.0)),
        ("快节奏的", (130.0, 160.0)),
    ],
)
def test_tempo_words(text: str, span: tuple[float, float]) -> None:
    info = parse_prompt(text)
    assert info.tempo_range == span and info.tempo is None


def test_tempo_words_do_not_hide_inside_other_words() -> None:
    assert parse_prompt("快乐 欢快").tempo_range is None  # 快 belongs to "happy", "cheerful"
    assert parse_prompt("breakfast").tempo_range is None
    assert parse_prompt("upbeat").tempo_range is None  # a mood, not a tempo


def test_explicit_tempo_and_tempo_word_both_reported() -> None:
    info = parse_prompt("slow jam at 70 bpm")
    assert info.tempo == 70.0 and info.tempo_range == (60.0, 80.0)


# --- key -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("in A minor", "A minor"),
        ("A minor", "A minor"),
        ("a minor", "A minor"),
        ("E major", "E major"),
        ("B flat major", "Bb major"),
        ("Bb major", "Bb major"),
        ("B♭ major", "Bb major"),
        ("E-flat minor", "Eb minor"),
        ("F# minor", "F# minor"),
        ("F sharp minor", "F# minor"),
        ("C大调", "C major"),
        ("A小调", "A minor"),
        ("c小调", "C minor"),
        ("降B大调", "Bb major"),
        ("升F小调", "F# minor"),
        ("D调", "D major"),
        ("key of D", "D major"),
        ("in the key of Bb minor", "Bb minor"),
        ("in G", "G major"),
        ("in G, 60 seconds", "G major"),
        ("in E flat", "Eb major"),
        ("a jingle in A", "A major"),
        ("Am", "A minor"),
        ("F#m", "F# minor"),
        ("Cmaj", "C major"),
        ("D minor key", "D minor"),
    ],
)
def test_key(text: str, key: str) -> None:
    info = parse_prompt(text)
    assert info.key is not None and info.key.name == key


@pytest.mark.parametrize(
    "text",
    [
        "a 5 second jingle",
        "minor",
        "major",
        "a song in a dreamy mood",
        "in A dreamy forest",  # "A" here is an article
        "made with a b c",
        "the game",  # "e" inside a word
        "I am happy",  # lower-case "am" is not A minor
        "admin panel",
    ],
)
def test_not_a_key(text: str) -> None:
    assert parse_prompt(text).key is None


# --- duration ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90 seconds", 90.0),
        ("90 s", 90.0),
        ("90s", 90.0),
        ("90 sec", 90.0),
        ("90secs", 90.0),
        ("2 minutes", 120.0),
        ("2 min", 120.0),
        ("2m", 120.0),
        ("1.5 minutes", 90.0),
        ("2:30", 150.0),
        ("2 minutes 30 seconds", 150.0),
        ("2m30s", 150.0),
        ("1 min and 15 sec", 75.0),
        ("a 5 second jingle", 5.0),
        ("a 5-second jingle", 5.0),
        ("one minute", 60.0),
        ("two minutes", 120.0),
        ("twenty seconds", 20.0),
        ("twenty-five seconds", 25.0),
        ("a minute", 60.0),
        ("half a minute", 30.0),
        ("a minute and a half", 90.0),
        ("one and a half minutes", 90.0),
        ("2 hours", 7200.0),  # reported as stated; build_spec rejects it
        ("30秒", 30.0),
        ("90秒钟", 90.0),
        ("一分钟", 60.0),
        ("两分钟", 120.0),
        ("三分钟", 180.0),
        ("1分30秒", 90.0),
        ("一分三十秒", 90.0),
        ("十五秒", 15.0),
        ("二十秒", 20.0),
        ("三十秒", 30.0),
        ("两分半", 150.0),
        ("半分钟", 30.0),
        ("约60秒", 60.0),
        ("６０秒", 60.0),
    ],
)
def test_duration(text: str, seconds: float) -> None:
    assert parse_prompt(text).duration == seconds


@pytest.mark.parametrize(
    "text",
    ["80s synth", "90s hip hop", "the 90s", "1980s", "808s", "8-bit", "十分欢快", "4/4", "3 songs"],
)
def test_not_a_duration(text: str) -> None:
    assert parse_prompt(text).duration is None


def test_decade_word_is_kept_out_of_duration_but_not_understood() -> None:
    info = parse_prompt("90s hip hop, 60 seconds")
    assert info.duration == 60.0 and info.genre == "hip hop" and "90s" in info.ignored


# --- time signature ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "meter"),
    [
        ("3/4", "3/4"),
        ("6/8", "6/8"),
        ("in 3/4 time", "3/4"),
        ("12/8 shuffle", "12/8"),
        ("waltz", "3/4"),
        ("a slow Waltz", "3/4"),
        ("华尔兹", "3/4"),
        ("圆舞曲", "3/4"),
        ("3/4拍", "3/4"),
        ("四三拍", "3/4"),
        ("八六拍", "6/8"),
        ("四分之三拍", "3/4"),
        ("三拍子", "3/4"),
    ],
)
def test_time_signature(text: str, meter: str) -> None:
    info = parse_prompt(text)
    assert info.time_signature == TimeSignature(*map(int, meter.split("/")))
    assert info.tempo is None  # "四三拍" is a metre, not 43 bpm


def test_waltz_is_reported_as_used() -> None:
    info = parse_prompt("waltz in A major, 60 seconds")
    assert info.used == ["waltz", "A major", "60 seconds"]


@pytest.mark.parametrize("text", ["7/4", "in 7/4 time", "13/8", "1/2"])
def test_unsupported_time_signature_is_ignored(text: str) -> None:
    info = parse_prompt(text)
    assert info.time_signature is None
    assert info.ignored and info.ignored[0].startswith(text.removeprefix("in ")[:3])


# --- genre ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "genre"),
    [
        ("pop", "pop"),
        ("流行", "pop"),
        ("ballad", "ballad"),
        ("抒情", "ballad"),
        ("情歌", "ballad"),
        ("rock", "rock"),
        ("摇滚", "rock"),
        ("heavy metal", "metal"),
        ("金属", "metal"),
        ("EDM", "edm"),
        ("house", "edm"),
        ("techno", "edm"),
        ("electronic", "edm"),
        ("dance", "edm"),
        ("drop", "edm"),
        ("电子", "edm"),
        ("电音", "edm"),
        ("drum and bass", "drum and bass"),
        ("drum & bass", "drum and bass"),
        ("dnb", "drum and bass"),
        ("d&b", "drum and bass"),
        ("jungle", "drum and bass"),
        ("synthwave", "synthwave"),
        ("retrowave", "synthwave"),
        ("80s synth", "synthwave"),
        ("hip hop", "hip hop"),
        ("hip-hop", "hip hop"),
        ("hiphop", "hip hop"),
        ("rap", "hip hop"),
        ("嘻哈", "hip hop"),
        ("说唱", "hip hop"),
        ("trap", "trap"),
        ("lo-fi", "lo-fi"),
        ("lofi", "lo-fi"),
        ("lo fi", "lo-fi"),
        ("chillhop", "lo-fi"),
        ("jazz", "jazz"),
        ("爵士", "jazz"),
        ("swing", "jazz"),
        ("blues", "blues"),
        ("布鲁斯", "blues"),
        ("蓝调", "blues"),
        ("funk", "funk"),
        ("funky", "funk"),
        ("放克", "funk"),
        ("r&b", "r&b"),
        ("R&B", "r&b"),
        ("rnb", "r&b"),
        ("soul", "r&b"),
        ("节奏布鲁斯", "r&b"),
        ("country", "country"),
        ("乡村", "country"),
        ("folk", "folk"),
        ("acoustic folk", "folk"),
        ("民谣", "folk"),
        ("reggae", "reggae"),
        ("雷鬼", "reggae"),
        ("salsa", "salsa"),
        ("latin", "salsa"),
        ("bossa nova", "bossa nova"),
        ("bossa", "bossa nova"),
        ("tango", "tango"),
        ("探戈", "tango"),
        ("classical", "classical"),
        ("古典", "classical"),
        ("orchestral", "orchestral"),
        ("orchestra", "orchestral"),
        ("symphonic", "orchestral"),
        ("管弦", "orchestral"),
        ("交响", "orchestral"),
        ("cinematic", "cinematic"),
        ("film score", "cinematic"),
        ("trailer", "cinematic"),
        ("soundtrack", "cinematic"),
        ("underscore", "cinematic"),
        ("horror", "cinematic"),
        ("电影", "cinematic"),
        ("配乐", "cinematic"),
        ("ambient", "ambient"),
        ("drone", "ambient"),
        ("meditation", "ambient"),
        ("氛围", "ambient"),
        ("chiptune", "chiptune"),
        ("8-bit", "chiptune"),
        ("8 bit", "chiptune"),
        ("chip", "chiptune"),
        ("芯片", "chiptune"),
        ("8位", "chiptune"),
        ("国风", "chinese-traditional"),
        ("中国风", "chinese-traditional"),
        ("古风", "chinese-traditional"),
        ("chinese traditional", "chinese-traditional"),
        ("guofeng", "chinese-traditional"),
    ],
)
def test_genre_synonyms(text: str, genre: str) -> None:
    assert parse_prompt(text).genre == genre


@pytest.mark.parametrize(
    ("text", "genre"),
    [
        ("lo-fi hip hop", "lo-fi"),
        ("hip hop lo-fi", "lo-fi"),  # by tier, not by order
        ("piano ballad", "ballad"),
        ("pop ballad", "ballad"),
        ("epic orchestral trailer", "orchestral"),
        ("trailer with orchestral hits", "cinematic"),  # "orchestral hit" is an instrument
        ("trap beat", "trap"),
        ("hard rock", "rock"),
        ("rock and metal", "metal"),
        ("jazz trio with swing", "jazz"),
        ("swing with a pop feel", "pop"),  # swing is a genre only when nothing else is
        ("bossa nova with nylon guitar", "bossa nova"),
        ("electronic synthwave", "synthwave"),
        ("latin jazz", "jazz"),
        ("dance pop", "pop"),
        ("suspenseful horror underscore", "cinematic"),
        ("classical guitar solo", None),  # an instrument, not a genre
        ("jazz guitar solo", "jazz"),  # an instrument that hints a genre
        ("rock with a jazz guitar", "rock"),
        ("128位", None),  # "8位" must start a word
        ("rock pop", "rock"),  # same tier: the first stated wins
        ("国风 电子", "chinese-traditional"),
    ],
)
def test_genre_priority(text: str, genre: str | None) -> None:
    assert parse_prompt(text).genre == genre


def test_losing_genre_words_are_still_used() -> None:
    info = parse_prompt("lo-fi hip hop beat")
    assert info.genre == "lo-fi" and info.used == ["lo-fi", "hip hop"]


# --- moods and instruments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moods"),
    [
        ("happy", ["happy"]),
        ("upbeat and energetic", ["upbeat", "energetic"]),
        ("sad melancholic", ["sad", "melancholic"]),
        ("calm, dreamy, dark", ["calm", "dreamy", "dark"]),
        ("epic romantic", ["epic", "romantic"]),
        ("aggressive suspenseful tense", ["aggressive", "suspenseful", "tense"]),
        (
            "playful bright nostalgic smooth chill",
            ["playful", "bright", "nostalgic", "smooth", "chill"],
        ),
        ("peaceful relaxed cheerful", ["peaceful", "relaxed", "cheerful"]),
        ("快乐", ["happy"]),
        ("欢快", ["cheerful"]),
        ("轻快", ["cheerful", "upbeat"]),
        ("伤感", ["sad"]),
        ("悲伤", ["sad"]),
        ("忧郁", ["melancholic"]),
        ("激昂", ["energetic"]),
        ("平静 宁静", ["calm"]),
        ("梦幻", ["dreamy"]),
        ("浪漫", ["romantic"]),
        ("史诗", ["epic"]),
        ("紧张", ["tense"]),
        ("黑暗", ["dark"]),
        ("温暖", ["warm"]),
        ("happy happy joyful", ["happy"]),
    ],
)
def test_moods(text: str, moods: list[str]) -> None:
    assert parse_prompt(text).moods == moods


@pytest.mark.parametrize(
    ("text", "instruments"),
    [
        ("piano", ["piano"]),
        ("钢琴", ["piano"]),
        ("guitar", ["acoustic guitar"]),
        ("吉他", ["acoustic guitar"]),
        ("acoustic guitars", ["acoustic guitar"]),
        ("distorted guitars", ["distortion guitar"]),
        ("electric guitar", ["clean guitar"]),
        ("nylon guitar", ["nylon guitar"]),
        ("bass", ["electric bass"]),
        ("贝斯", ["electric bass"]),
        ("808", ["synth bass"]),
        ("808 bass", ["synth bass"]),
        ("808s", ["synth bass"]),
        ("strings", ["strings"]),
        ("弦乐", ["strings"]),
        ("violins and cellos", ["violin", "cello"]),
        ("小提琴 大提琴", ["violin", "cello"]),
        ("fiddle", ["fiddle"]),
        ("flute", ["flute"]),
        ("长笛", ["flute"]),
        ("sax", ["tenor sax"]),
        ("saxophone", ["tenor sax"]),
        ("萨克斯", ["tenor sax"]),
        ("trumpet", ["trumpet"]),
        ("小号", ["trumpet"]),
        ("synth", ["synth lead"]),
        ("synths", ["synth lead"]),
        ("合成器", ["synth lead"]),
        ("pad", ["synth pad"]),
        ("organ", ["organ"]),
        ("harp", ["harp"]),
        ("choir", ["choir"]),
        ("合唱", ["choir"]),
        ("drums", ["drums"]),
        ("鼓", ["drums"]),
        ("guzheng", ["guzheng"]),
        ("古筝", ["guzheng"]),
        ("erhu", ["erhu"]),
        ("二胡", ["erhu"]),
        ("dizi", ["dizi"]),
        ("笛子", ["dizi"]),
        ("pipa", ["pipa"]),
        ("琵琶", ["pipa"]),
        ("koto", ["koto"]),
        ("shakuhachi", ["shakuhachi"]),
        ("sitar", ["sitar"]),
        ("music box", ["music box"]),
        ("音乐盒", ["music box"]),  # longer than the stop word 音乐
        ("bells", ["glockenspiel"]),
        ("piano, strings and a cello", ["piano", "strings", "cello"]),
        ("piano piano", ["piano"]),
    ],
)
def test_instruments(text: str, instruments: list[str]) -> None:
    assert parse_prompt(text).instruments == instruments


# --- used and ignored ----------------------------------------------------------------------------


def test_used_keeps_the_prompt_spelling_and_order() -> None:
    info = parse_prompt("upbeat pop song, 120 bpm, G major, 60 seconds")
    assert info.used == ["upbeat", "pop", "120 bpm", "G major", "60 seconds"]
    assert info.ignored == []  # "song" is a stop word: in neither list


def test_ignored_words_are_lower_cased_and_in_order() -> None:
    info = parse_prompt("Dreamy synthwave for Night Driving!!")
    assert info.used == ["Dreamy", "synthwave"]
    assert info.ignored == ["night", "driving"]


def test_chinese_used_and_ignored() -> None:
    info = parse_prompt("国风 古筝 轻快 游戏背景音乐 60秒")
    assert info.used == ["国风", "古筝", "轻快", "60秒"]
    assert info.ignored == ["游戏"]  # 背景音乐 is filler


def test_mixed_languages() -> None:
    info = parse_prompt("lo-fi风格的钢琴, 85bpm, 两分钟")
    assert (info.genre, info.instruments, info.tempo, info.duration) == (
        "lo-fi",
        ["piano"],
        85.0,
        120.0,
    )
    assert info.used == ["lo-fi", "钢琴", "85bpm", "两分钟"]


def test_conflicting_second_value_is_ignored_not_used() -> None:
    info = parse_prompt("100 bpm, later 120 bpm, C major then D minor")
    assert info.tempo == 100.0 and info.key is not None and info.key.name == "C major"
    assert info.used == ["100 bpm", "C major"]
    assert info.ignored == ["later", "120 bpm", "then", "D minor"]


def test_repeated_equal_value_is_used() -> None:
    info = parse_prompt("waltz in 3/4")
    assert info.used == ["waltz", "3/4"] and info.ignored == []


def test_stop_words_are_in_neither_list() -> None:
    info = parse_prompt("a song with the music of the track, 的 歌曲 音乐")
    assert info.used == [] and info.ignored == []


def test_punctuation_and_emoji_are_dropped() -> None:
    info = parse_prompt("🎹🎶 !!! ... ??? 😀 — “” 「」")
    assert info.used == [] and info.ignored == []


# --- robustness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\t\r",
        "!!!???...,,,;;;",
        "🎸🥁🎹" * 100,
        "أغنية هادئة مع بيانو",  # Arabic, right to left
        "שיר שקט עם פסנתר",  # Hebrew
        "\u202egnos pop\u202c",  # bidi override
        "\x00\x01\x02\x7f\x1b[31m",
        "ｐｏｐ，１２０ ｂｐｍ",
        "9" * 5000 + " bpm",  # too large to be a number: rejected, not a crash
        "9" * 400 + " seconds",
        "一" * 5000 + "秒",
        "in A",
        "A",
        "s",
        "bpm",
        "2:",
        ":30",
        "1/0",
        "0/0 time",
        "99/99",
        "tempo",
        "key of",
        "降",
        "b flat",
        "İstanbul ǅ ß ﬁ",  # lower() changes the length of some of these
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    info = parse_prompt(text)
    assert info.text == text
    assert all(isinstance(w, str) and w for w in info.used + info.ignored)


def test_huge_numbers_are_rejected_not_reported() -> None:
    info = parse_prompt("9" * 400 + " bpm")
    assert info.tempo is None and info.ignored == ["9" * 400 + " bpm"]


def test_fullwidth_text_reports_original_spelling() -> None:
    info = parse_prompt("ｐｏｐ，１２０ ｂｐｍ")
    assert info.genre == "pop" and info.tempo == 120.0
    assert info.used == ["ｐｏｐ", "１２０ ｂｐｍ"]


def test_random_strings_never_raise() -> None:
    rng = random.Random(20240611)
    alphabet = (
        "abcdefgABCDEFG#b♭♯ 0123456789/:.,-'&"
        "bpm sec min major minor key in of waltz"
        "一二两三十百分钟秒拍子调大小降升每速度半个小时"
        "钢琴国风快慢"
        "😀🎵éüßØ\u0627\u05d0\u202e\x00\n\t"
    )
    words = ["120 bpm", "A minor", "2:30", "3/4", "lo-fi", "降B大调", "1分30秒", "in G", "80s"]
    for _ in range(2000):
        parts = [
            rng.choice(words) if rng.random() < 0.2 else rng.choice(alphabet)
            for _ in range(rng.randint(0, 60))
        ]
        text = "".join(parts)
        info = parse_prompt(text)
        assert info.text == text
        if info.genre is not None:
            assert info.genre in STYLES
        assert all(name in INSTRUMENTS for name in info.instruments)


def test_a_100kb_prompt_parses() -> None:
    # How fast it parses is measured by bench/prompt.py, not asserted here.
    chunk = "upbeat pop song, 120 bpm, G major, 60 seconds, 国风 古筝 轻快 游戏 1 a 2:30 in "
    text = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    info = parse_prompt(text)
    assert info.tempo == 120.0 and info.genre == "chinese-traditional"


ADVERSARIAL = [
    "1 " * 50_000,
    "a " * 50_000,
    "Am " * 33_000,
    "1/" * 50_000,
    "一" * 100_000,
    "in " * 33_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_adversarial_100kb_prompts_parse(text: str) -> None:
    info = parse_prompt(text)
    assert info.text == text
    assert info.tempo is None and info.genre is None and info.duration is None


# --- the vocabulary itself -----------------------------------------------------------------------


def test_vocabulary_names_are_canonical() -> None:
    assert set(GENRE_WORDS) <= set(STYLES)
    assert set(INSTRUMENT_WORDS) <= set(INSTRUMENTS)
    assert set(METER_WORDS.values()) <= set(SUPPORTED_TIME_SIGNATURES)
    assert all(lo < hi for lo, hi in TEMPO_WORDS.values())


def test_every_style_has_words_in_both_languages() -> None:
    for genre in STYLES:
        words = [w for tier in GENRE_WORDS.get(genre, {}).values() for w in tier]
        assert any(w.isascii() for w in words), genre
        if genre != "salsa":  # "latin" → salsa has 拉丁; salsa itself has 萨尔萨
            assert any(not w.isascii() for w in words), genre


def test_each_phrase_names_one_genre_and_one_instrument() -> None:
    seen: dict[str, str] = {}
    for genre, tiers in GENRE_WORDS.items():
        for word in (w for tier in tiers.values() for w in tier):
            assert seen.setdefault(word, genre) == genre, word
    seen = {}
    for name, words in INSTRUMENT_WORDS.items():
        for word in words:
            assert seen.setdefault(word, name) == name, word


def test_every_vocabulary_word_is_understood_alone() -> None:
    for genre, tiers in GENRE_WORDS.items():
        for word in (w for tier in tiers.values() for w in tier):
            assert parse_prompt(word).genre == genre, word
    for mood, words in MOOD_WORDS.items():
        for word in words:
            assert mood in parse_prompt(word).moods, word
    for name, words in INSTRUMENT_WORDS.items():
        for word in words:
            assert name in parse_prompt(word).instruments, word
    for word, (lo, hi) in TEMPO_WORDS.items():
        assert parse_prompt(word).tempo_range == (lo, hi), word
    for word in STOP_WORDS:
        info = parse_prompt(word)
        assert info.used == [] and info.ignored == [], word
