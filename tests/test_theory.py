from __future__ import annotations

import pytest

from overture.errors import InvalidInputError
from overture.theory import (
    chord_from_roman,
    parse_chord,
    parse_key,
    parse_time_signature,
    pitch_class,
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("B flat major", "Bb major"),
        ("Bb major", "Bb major"),
        ("B♭ major", "Bb major"),
        ("Bb", "Bb major"),
        ("bb major", "Bb major"),
        ("A minor", "A minor"),
        ("Am", "A minor"),
        ("a min", "A minor"),
        ("F sharp minor", "F# minor"),
        ("C大调", "C major"),
        ("A小调", "A minor"),
        ("Gb major", "Gb major"),
        ("A# minor", "A# minor"),
    ],
)
def test_keys_accept_common_spellings(text: str, name: str) -> None:
    assert parse_key(text).name == name


@pytest.mark.parametrize("bad", ["H major", "", "major", "C dorian flat", "X"])
def test_unknown_keys_raise_a_clear_error(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="unknown key"):
        parse_key(bad)


def test_key_signatures_and_scales() -> None:
    assert parse_key("Bb major").sharps == -2
    assert parse_key("E minor").sharps == 1
    assert parse_key("C# major").sharps == 7
    assert parse_key("Eb minor").sharps == -6
    d_minor = parse_key("D minor")
    assert [d_minor.note_name(p) for p in d_minor.scale] == ["D", "E", "F", "G", "A", "Bb", "C"]
    assert parse_key("C major").relative.name == "A minor"
    assert parse_key("A minor").relative.name == "C major"


def test_roman_numerals_follow_the_key() -> None:
    a_minor = parse_key("A minor")
    assert chord_from_roman("i", a_minor).symbol(a_minor) == "Am"
    assert chord_from_roman("V7", a_minor).symbol(a_minor) == "E7"
    assert chord_from_roman("VI", a_minor).symbol(a_minor) == "F"
    c = parse_key("C major")
    assert chord_from_roman("bVII", c).symbol(c) == "Bb"
    assert chord_from_roman("ii7", c).symbol(c) == "Dm7"
    assert chord_from_roman("vii°", c).symbol(c) == "Bdim"


def test_chords_and_pitch_classes() -> None:
    assert parse_chord("Am7").pitch_classes == (9, 0, 4, 7)
    assert parse_chord("Bbmaj7").pitch_classes == (10, 2, 5, 9)
    assert pitch_class("B♭") == 10
    with pytest.raises(InvalidInputError):
        parse_chord("Hm")


def test_time_signatures() -> None:
    assert parse_time_signature("3/4").beats_per_bar == 3
    assert parse_time_signature("6/8").beats_per_bar == 3
    assert parse_time_signature("6/8").is_compound
    for bad in ["3/5", "waltz", "0/4", "4"]:
        with pytest.raises(InvalidInputError, match="time signature"):
            parse_time_signature(bad)


def test_key_from_profile_finds_the_key_of_a_weighting() -> None:
    from overture.theory import MAJOR_PROFILE, MINOR_PROFILE, key_from_profile

    d_major = [MAJOR_PROFILE[(pc - 2) % 12] for pc in range(12)]
    assert key_from_profile(d_major).name == "D major"
    f_minor = [MINOR_PROFILE[(pc - 5) % 12] for pc in range(12)]
    assert key_from_profile(f_minor).name == "F minor"
    # A C major scale, tonic and fifth weighted most, is C major rather than A minor.
    c_scale = [3, 0, 1, 0, 1.5, 1, 0, 2.5, 0, 1, 0, 1]
    assert key_from_profile(c_scale).name == "C major"
