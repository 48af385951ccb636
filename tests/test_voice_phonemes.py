"""What the singing voice asks espeak-ng to say, and how it reads pinyin (no audio here)."""

from __future__ import annotations

import pytest

from overture.voice import Phones, phones_from_arpabet, phones_from_pinyin
from overture.voice.phonemes import (
    HOLD_FALLING,
    HOLD_MONOPHTHONG,
    HOLD_RISING,
    HOLD_TRIPHTHONG,
    is_voiceless,
    is_vowel,
    plan,
    spell_pinyin,
    split_pinyin,
)


def test_arpabet_maps_to_espeak_mnemonics_with_stress_on_the_vowel() -> None:
    p = plan(phones_from_arpabet("S T R AY1 N D"))
    assert p.text == "[[str'aInd]]"
    assert p.lang == "en"
    assert p.hold == HOLD_FALLING  # a diphthong holds its first target
    assert p.onset_count == 3 and p.coda_count == 2
    assert not p.unvoiced_onset  # R comes last before the vowel
    assert plan(phones_from_arpabet("S T AA R")).unvoiced_onset is True
    assert plan(phones_from_arpabet("L AH V")).unvoiced_onset is False
    assert plan(phones_from_arpabet("K AH L")).unvoiced_onset is True
    assert plan(phones_from_arpabet("DH AH")).text == "[[D'V]]"
    assert plan(phones_from_arpabet("HH IY R")).hold == HOLD_MONOPHTHONG


def test_phones_from_arpabet_splits_at_the_vowel() -> None:
    p = phones_from_arpabet("S T R AY1 N D", text="strained")
    assert p == Phones("en", ("S", "T", "R"), ("AY",), ("N", "D"), text="strained")
    assert phones_from_arpabet("AY").onset == ()


def test_unknown_symbols_fall_back_instead_of_failing() -> None:
    weird = Phones("en", ("QX", "T"), ("ZZ",), ("KX",), text="???")
    p = plan(weird)
    assert p.text == "[[t'V]]"  # unknown consonants left out, unknown vowel sung as a schwa
    assert plan(Phones("en", (), (), ())).text == "[['V]]"
    assert plan(Phones("fr", ("M",), ("AA",), ())).text == "[[m'A:]]"  # other languages: English
    zh = plan(Phones("zh", ("zz",), ("qqq",), (), tone=9, pinyin="???"))
    assert zh.lang == "zh" and zh.text == "e1"


@pytest.mark.parametrize(
    ("pinyin", "expected"),
    [
        ("xiang1", ("x", "iang", 1)),
        ("yi1", ("", "i", 1)),
        ("wo3", ("", "uo", 3)),
        ("you3", ("", "iou", 3)),
        ("yue4", ("", "üe", 4)),
        ("ju2", ("j", "ü", 2)),
        ("lv4", ("l", "ü", 4)),
        ("lü4", ("l", "ü", 4)),
        ("gui4", ("g", "uei", 4)),
        ("liu2", ("l", "iou", 2)),
        ("zhong1", ("zh", "ong", 1)),
        ("de", ("d", "e", 5)),
        ("er2", ("", "er", 2)),
    ],
)
def test_pinyin_is_split_into_initial_and_canonical_final(
    pinyin: str, expected: tuple[str, str, int]
) -> None:
    assert split_pinyin(pinyin) == expected
    initial, final, tone = expected
    assert split_pinyin(spell_pinyin(initial, final, tone)) == expected


def test_mandarin_is_spoken_in_the_level_tone_with_its_final_shape() -> None:
    p = plan(phones_from_pinyin("xiang3"))
    assert p.text == "xiang1"  # the melody carries the tone
    assert p.unvoiced_onset and p.onset_count == 1 and p.coda_count == 1
    assert p.hold == HOLD_RISING
    assert plan(phones_from_pinyin("hao3")).hold == HOLD_FALLING
    assert plan(phones_from_pinyin("xiao3")).hold == HOLD_TRIPHTHONG
    assert plan(phones_from_pinyin("ma1")).hold == HOLD_MONOPHTHONG
    assert not plan(phones_from_pinyin("ni3")).unvoiced_onset  # n is voiced
    assert plan(phones_from_pinyin("lv4")).text == "lv1"
    assert plan(phones_from_pinyin("qu4")).text == "qu1"
    # Without the written pinyin, the initial and final are enough.
    assert plan(Phones("zh", ("zh",), ("ong",), (), tone=1)).text == "zhong1"
    assert plan(Phones("zh", (), ("iou",), (), tone=3)).text == "you1"


def test_espeak_mnemonic_classes() -> None:
    assert all(is_vowel(v) for v in ("aI", "V", "@L", "3:", "iA", "y&", "i."))
    assert not any(is_vowel(c) for c in ("s", "D", "N", "tS;", "w", "j", "_:"))
    assert all(is_voiceless(c) for c in ("s", "S", "T", "tS", "ts.", "S;", "X", "k", "p", "h"))
    assert not any(is_voiceless(c) for c in ("z", "D", "l", "m", "N", "r", "w", "dZ", "b"))
