"""Syllables of English and Mandarin words: counts, stress, tones, phonemes, numbers."""

from __future__ import annotations

import shutil

import pytest

from overture.lyrics import LyricsError, parse_lyrics, syllabify_english
from overture.lyrics import english as en
from overture.lyrics.chinese import read_run, zh_syllable
from overture.lyrics.numbers import chinese_cardinal, english_cardinal, spell_numbers


def texts(word: str) -> list[str]:
    return [s.text for s in syllabify_english(word)]


def stresses(word: str) -> list[int]:
    return [s.stress for s in syllabify_english(word)]


# --- English ---------------------------------------------------------------------------------


def test_happy_two_syllables_stressed_on_the_first() -> None:
    syl = syllabify_english("happy")
    assert [s.text for s in syl] == ["hap", "py"]
    assert [s.stress for s in syl] == [1, 0]
    assert syl[0].phonemes == ("HH", "AE")  # the P opens the second syllable (maximal onset)
    assert syl[1].phonemes == ("P", "IY")
    assert [(s.word_start, s.word_end) for s in syl] == [(True, False), (False, True)]
    assert all(s.lang == "en" and s.word_text == "happy" and s.tone == 0 for s in syl)


def test_beautiful_three_syllables() -> None:
    assert texts("beautiful") == ["beau", "ti", "ful"]
    assert stresses("beautiful") == [1, 0, 0]


def test_tonight_stressed_on_the_second() -> None:
    assert texts("tonight") == ["to", "night"]
    assert stresses("tonight") == [0, 1]


@pytest.mark.parametrize("word", ["the", "a", "of", "to", "and"])
def test_function_words_are_unstressed(word: str) -> None:
    syl = syllabify_english(word)
    assert len(syl) == 1
    assert syl[0].stress == 0


def test_content_monosyllables_keep_their_stress() -> None:
    assert stresses("love") == [1]
    assert stresses("night") == [1]


@pytest.mark.parametrize(
    ("word", "count"),
    [("fire", 2), ("little", 2), ("someone", 2), ("instrument", 3), ("remember", 3), ("I", 1)],
)
def test_syllable_counts_follow_the_dictionary(word: str, count: int) -> None:
    syl = syllabify_english(word)
    assert len(syl) == count
    assert "".join(s.text for s in syl) == word  # the written pieces make up the word
    assert all(s.text for s in syl)


def test_written_division_of_common_words() -> None:
    assert texts("someone") == ["some", "one"]
    assert texts("children") == ["chil", "dren"]
    assert texts("little") == ["lit", "tle"]
    assert texts("Baby") == ["Ba", "by"]  # case kept as written


def test_maximal_legal_onset() -> None:
    extra = syllabify_english("extra")
    assert extra[0].coda == ("K",)
    assert extra[1].onset == ("S", "T", "R")
    # "NG" never starts a syllable: singer is S IH NG . ER
    singer = syllabify_english("singer")
    assert singer[0].coda == ("NG",)
    assert singer[1].onset == ()


def test_every_syllable_has_one_vowel_and_legal_onsets() -> None:
    words = ["strength", "beautiful", "rhythm", "extraordinary", "hmm", "understand", "twelfths"]
    for w in words:
        syl = syllabify_english(w)
        for k, s in enumerate(syl):
            assert len(s.nucleus) == 1 and s.nucleus[0] in en.VOWELS, (w, s)
            assert not any(ch.isdigit() for p in s.phonemes for ch in p)
            if k > 0:
                assert s.onset == () or s.onset in en.LEGAL_ONSETS, (w, s)


@pytest.mark.parametrize("word", ["blorptastic", "overture-ish", "zorbliness"])
def test_unknown_words_get_vowelled_syllables(word: str) -> None:
    syl = syllabify_english(word)
    assert len(syl) >= 2
    assert all(s.nucleus and s.nucleus[0] in en.VOWELS for s in syl)
    assert sum(s.stress == 1 for s in syl) >= 1
    assert syl[0].word_start and syl[-1].word_end
    assert not any(s.word_end for s in syl[:-1])


def test_unknown_words_without_espeak_are_guessed_from_spelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(en, "ESPEAK", "no-such-espeak-ng-binary")
    monkeypatch.setattr(en, "_OOV_CACHE", {})
    syl = syllabify_english("blorptastic")
    assert [s.text for s in syl] == ["blorp", "tas", "tic"]
    assert all(s.nucleus[0] in en.VOWELS for s in syl)
    sheet = parse_lyrics("the glorptastic night")
    assert any("guessed from the spelling" in w and "glorptastic" in w for w in sheet.warnings)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_unknown_words_of_a_sheet_go_to_espeak_in_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    real_run = en.subprocess.run

    def counting_run(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real_run(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(en, "_OOV_CACHE", {})
    monkeypatch.setattr(en.subprocess, "run", counting_run)
    sheet = parse_lyrics("flimbo quazzle\n\nsnorkelberry drimp")
    assert len(calls) == 1
    assert sheet.syllable_count >= 6
    assert not sheet.warnings


def test_ipa_to_arpabet_marks_stress_and_syllabic_consonants() -> None:
    assert en.ipa_to_arpabet("bˈʌʔn̩") == ("B", "AH1", "T", "AH0", "N")
    assert en.ipa_to_arpabet("tʃˈiːz") == ("CH", "IY1", "Z")


def test_vowelless_interjections_are_hummed() -> None:
    for word in ("hmm", "mmm"):
        syl = syllabify_english(word)
        assert len(syl) == 1
        assert syl[0].nucleus == ("AH",)
        assert syl[0].coda == ("M",)


def test_apostrophes_stay_in_words() -> None:
    assert texts("don't") == ["don't"]
    assert len(syllabify_english("rock'n'roll")) == 3
    lovin = syllabify_english("lovin'")
    assert "".join(s.text for s in lovin) == "lovin'"
    assert lovin[-1].coda == ("N",)  # lovin' ends in N, not NG


def test_syllabify_english_rejects_a_word_without_letters() -> None:
    with pytest.raises(LyricsError):
        syllabify_english("!!!")


# --- Mandarin --------------------------------------------------------------------------------


def _sandhi() -> bool:
    import inspect

    from pypinyin import lazy_pinyin

    return "tone_sandhi" in inspect.signature(lazy_pinyin).parameters


def test_nihao_tones() -> None:
    line = parse_lyrics("你好").sections[0].lines[0]
    got = [(s.pinyin, s.tone) for s in line.syllables]
    assert got == ([("ni2", 2), ("hao3", 3)] if _sandhi() else [("ni3", 3), ("hao3", 3)])
    assert [s.onset for s in line.syllables] == [("n",), ("h",)]
    assert [s.nucleus for s in line.syllables] == [("i",), ("ao",)]
    assert all(s.lang == "zh" and s.stress == 0 and s.coda == () for s in line.syllables)


def test_mama_second_syllable() -> None:
    a, b = parse_lyrics("妈妈").sections[0].lines[0].syllables
    assert (a.pinyin, a.tone) == ("ma1", 1)
    assert b.tone in (1, 5)  # neutral where pypinyin's phrase dictionary says so
    assert b.pinyin == f"ma{b.tone}"


def test_yi_sandhi_and_polyphones_in_context() -> None:
    assert read_run("银行") == ["yin2", "hang2"]
    assert read_run("行走")[0] == "xing2"
    if _sandhi():
        assert read_run("一个") == ["yi2", "ge4"]
        assert read_run("不是") == ["bu2", "shi4"]


def test_y_and_w_are_not_initials() -> None:
    wo = zh_syllable("我", "wo3", index=0)
    assert (wo.onset, wo.nucleus, wo.pinyin, wo.tone) == ((), ("uo",), "wo3", 3)
    yu = zh_syllable("鱼", "yu2", index=0)
    assert (yu.onset, yu.nucleus) == ((), ("ü",))
    you = zh_syllable("有", "you3", index=0)
    assert you.nucleus == ("iou",)
    zhang = zh_syllable("张", "zhang1", index=0)
    assert (zhang.onset, zhang.nucleus, zhang.phonemes) == (("zh",), ("ang",), ("zh", "ang"))


def test_neutral_tone_is_five() -> None:
    syl = parse_lyrics("我们").sections[0].lines[0].syllables
    assert syl[1].pinyin == "men5"
    assert syl[1].tone == 5


# --- numbers ---------------------------------------------------------------------------------


def test_english_numbers() -> None:
    assert english_cardinal(105) == "one hundred five"
    assert english_cardinal(21) == "twenty-one"
    assert english_cardinal(1_000_001) == "one million one"
    assert spell_numbers("born in 1999", "en") == "born in nineteen ninety-nine"
    assert spell_numbers("2000 miles", "en") == "two thousand miles"
    assert spell_numbers("the 21st night", "en") == "the twenty-first night"
    assert spell_numbers("3.5 times", "en") == "three point five times"
    assert spell_numbers("at 9:05", "en") == "at nine oh five"
    assert spell_numbers("100%", "en") == "one hundred percent"
    assert spell_numbers("1,000 ways", "en") == "one thousand ways"
    assert spell_numbers("4ever", "en") == "four ever"


def test_chinese_numbers() -> None:
    assert chinese_cardinal(18) == "十八"
    assert chinese_cardinal(105) == "一百零五"
    assert chinese_cardinal(110) == "一百一十"
    assert chinese_cardinal(10005) == "一万零五"
    assert chinese_cardinal(100_000_005) == "一亿零五"
    assert chinese_cardinal(2222) == "两千二百二十二"
    assert chinese_cardinal(20000) == "两万"
    assert chinese_cardinal(2) == "二"
    assert spell_numbers("我18岁", "zh") == "我十八岁"
    assert spell_numbers("2024年", "zh") == "二零二四年"
    assert spell_numbers("100%", "zh") == "百分之一百"
