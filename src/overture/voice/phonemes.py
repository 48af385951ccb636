"""From ``Phones`` to what espeak-ng is asked to say, and what its phoneme events mean.

English: ARPAbet (the CMU dictionary's symbols) maps to espeak-ng's English phoneme mnemonics
(``phsource/ph_english`` and the ``-x`` output of espeak-ng 1.51, e.g. ``AY -> aI``,
``ER -> 3:``, ``NG -> N``) and each syllable is spoken on its own as ``[[str'aInd]]``, with
primary stress so that every sung vowel is a full vowel. Mandarin: the ``cmn-latn-pinyin``
voice reads numbered pinyin; every syllable is spoken in the first tone (level), because the
melody carries the tone and a level, steady voice is what the vocoder analyses best.

Unknown symbols never fail: an unknown English vowel becomes a schwa, an unknown consonant
is left out, an unreadable pinyin syllable falls back on its initial plus ``e``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from overture.voice.types import Phones

log = logging.getLogger(__name__)

EN_VOWELS: dict[str, str] = {
    "AA": "A:",
    "AE": "a",
    "AH": "V",  # sung on a note, unstressed schwas open towards the strut vowel
    "AO": "O:",
    "AW": "aU",
    "AY": "aI",
    "EH": "E",
    "ER": "3:",
    "EY": "eI",
    "IH": "I",
    "IY": "i:",
    "OW": "oU",
    "OY": "OI",
    "UH": "U",
    "UW": "u:",
    # Less common ARPAbet vowels (TIMIT-style), for lyrics that use them.
    "AX": "@",
    "AXR": "3",
    "IX": "I",
    "UX": "u:",
    "EL": "@L",
    "EM": "@m",
    "EN": "@n",
}
EN_DIPHTHONGS = frozenset({"AW", "AY", "EY", "OW", "OY"})
EN_CONSONANTS: dict[str, str] = {
    "B": "b",
    "CH": "tS",
    "D": "d",
    "DH": "D",
    "F": "f",
    "G": "g",
    "HH": "h",
    "JH": "dZ",
    "K": "k",
    "L": "l",
    "M": "m",
    "N": "n",
    "NG": "N",
    "P": "p",
    "R": "r",
    "S": "s",
    "SH": "S",
    "T": "t",
    "TH": "T",
    "V": "v",
    "W": "w",
    "Y": "j",
    "Z": "z",
    "ZH": "Z",
    "WH": "w",
    "DX": "d",
    "NX": "n",
    "Q": "",  # glottal stop: nothing to say
}
EN_UNVOICED = frozenset({"P", "T", "K", "F", "TH", "S", "SH", "CH", "HH"})

ZH_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h")
ZH_INITIALS += ("j", "q", "x", "r", "z", "c", "s")
# Mandarin's "voiced" stops b d g z zh j are voiceless unaspirated: only m n l r are voiced.
ZH_VOICED_INITIALS = frozenset({"m", "n", "l", "r"})
ZH_FINALS = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "a o e ê i u ü er ai ei ao ou an en ang eng ong ia ie iao iou ian in iang ing iong "
        "ua uo uai uei uan uen uang ueng üe üan ün"
    ).split()
)
_PINYIN = re.compile(r"^([a-zü:]+)([1-5]?)$")

# Where the vowel's steadiest part lies, as fractions of the vowel espeak-ng spoke: that part
# is what a long note holds. Diphthongs hold their first target and glide at the end;
# Mandarin finals with a medial glide (``ia``, ``uo``) hold the vowel after it.
HOLD_MONOPHTHONG = (0.2, 0.8)
HOLD_FALLING = (0.1, 0.45)  # aI, aU, ai, ao, ou: first target held
HOLD_RISING = (0.45, 0.85)  # ia, uo, üe: second target held
HOLD_TRIPHTHONG = (0.35, 0.6)  # iao, uai: the middle vowel held

_VOWEL_START = frozenset("aeiouyAEIOUVY@3&0")
# Voiceless consonant mnemonics of espeak-ng's English and Mandarin tables start with these:
# p t k f s S (sh) T (th) h x X (Mandarin h) c, and the affricates tS ts (tS; tS;h ts.).
_VOICELESS_START = frozenset("ptkfsSThxXc")


@dataclass(frozen=True, slots=True)
class Plan:
    """What espeak-ng says for one syllable and how to read the result."""

    text: str  # espeak-ng input
    lang: str  # "en" or "zh": picks the espeak-ng voice
    hold: tuple[float, float]  # steady part of the vowel, as fractions of it
    onset_count: int  # phonemes expected before the vowel
    unvoiced_onset: bool  # the phoneme just before the vowel is voiceless
    coda_count: int = 0  # phonemes expected after the vowel (Mandarin: a final n or ng)

    @property
    def key(self) -> tuple[str, str]:
        return (self.lang, self.text)


def is_vowel(name: str) -> bool:
    """Whether an espeak-ng phoneme mnemonic (en or cmn) is a vowel (or syllabic)."""
    return bool(name) and name[0] in _VOWEL_START


def is_voiceless(name: str) -> bool:
    """Whether an espeak-ng consonant mnemonic is voiceless (its frames carry no pitch).

    DIO reports voicing inside some of espeak-ng's fricatives (its /s/ before a stop has a
    weak periodic component), which the vocoder would turn into a buzz; the phoneme's identity
    is the safer guide.
    """
    return bool(name) and name[0] in _VOICELESS_START and not is_vowel(name)


def is_stop(name: str) -> bool:
    """Whether an espeak-ng mnemonic is a plosive or affricate (``p``, ``tS``, ``ts.``...)."""
    return bool(name) and name[0] in "ptkbdgc" and not is_vowel(name)


def is_pause(name: str) -> bool:
    return not name or name.startswith("_")


def _arpabet(symbol: str) -> str:
    return re.sub(r"\d", "", symbol.strip().upper())


def plan_en(phones: Phones) -> Plan:
    """espeak-ng input for an English syllable (see the module's docstring)."""
    onset = [EN_CONSONANTS.get(_arpabet(s)) for s in phones.onset]
    coda = [EN_CONSONANTS.get(_arpabet(s)) for s in phones.coda]
    for symbol, mapped in zip((*phones.onset, *phones.coda), (*onset, *coda), strict=True):
        if mapped is None:
            log.debug("unknown consonant %r in %r: left out", symbol, phones.text)
    nucleus = [_arpabet(s) for s in phones.nucleus if _arpabet(s)]
    vowels = [EN_VOWELS[s] for s in nucleus if s in EN_VOWELS]
    if not vowels:
        if nucleus:
            log.debug("unknown vowel %r in %r: sung as a schwa", nucleus, phones.text)
        vowels = ["V"]
    first = next((s for s in nucleus if s in EN_VOWELS), "")
    hold = HOLD_FALLING if first in EN_DIPHTHONGS or len(vowels) > 1 else HOLD_MONOPHTHONG
    onset_s = [m for m in onset if m]
    coda_s = [m for m in coda if m]
    last_onset = next(
        (_arpabet(s) for s in reversed(phones.onset) if EN_CONSONANTS.get(_arpabet(s))), ""
    )
    text = "[[" + "".join(onset_s) + "'" + "".join(vowels) + "".join(coda_s) + "]]"
    return Plan(text, "en", hold, len(onset_s), last_onset in EN_UNVOICED, len(coda_s))


def split_pinyin(syllable: str) -> tuple[str, str, int] | None:
    """``"xiang1" -> ("x", "iang", 1)``: initial, canonical final (``ü``, ``iou``...), tone.

    Spelling rules undone: ``y``/``w`` at the start, ``u`` for ``ü`` after j/q/x/y, the short
    ``iu``/``ui``/``un``. Returns None when the syllable is not pinyin.
    """
    s = syllable.strip().lower().replace("u:", "ü").replace("v", "ü")
    m = _PINYIN.match(s)
    if not m:
        return None
    body, tone = m.group(1), int(m.group(2) or 5)
    initial = next((i for i in ZH_INITIALS if body.startswith(i)), "")
    final = body[len(initial) :]
    if not initial and final[:1] in ("y", "w"):
        glide, rest = final[0], final[1:]
        if glide == "y":
            if rest.startswith(("i", "ü")):
                final = rest
            elif rest.startswith("u"):
                final = "ü" + rest[1:]
            else:
                final = "i" + rest
        else:
            final = rest if rest.startswith("u") else "u" + rest
    elif initial in ("j", "q", "x") and final.startswith("u"):
        final = "ü" + final[1:]
    elif initial:
        final = {"iu": "iou", "ui": "uei", "un": "uen"}.get(final, final)
    if final not in ZH_FINALS:
        return None
    return initial, final, tone


def spell_pinyin(initial: str, final: str, tone: int) -> str:
    """The written numbered pinyin of ``(initial, canonical final)``: inverse of split."""
    f = final
    if not initial:
        if f in ("i", "in", "ing"):
            f = "y" + f
        elif f.startswith("ü"):
            f = "yu" + f[1:]
        elif f == "iou":
            f = "you"
        elif f.startswith("i"):
            f = "y" + f[1:]
        elif f == "u":
            f = "wu"
        elif f.startswith("u"):
            f = "w" + f[1:]
    else:
        f = {"iou": "iu", "uei": "ui", "uen": "un"}.get(f, f)
        if f.startswith("ü"):
            f = ("u" if initial in ("j", "q", "x") else "v") + f[1:]
    return f"{initial}{f}{tone}"


def _hold_zh(final: str) -> tuple[float, float]:
    core = final[:-2] if final.endswith("ng") else final[:-1] if final.endswith("n") else final
    if len(core) >= 3:
        return HOLD_TRIPHTHONG
    if core in ("ai", "ei", "ao", "ou"):
        return HOLD_FALLING
    if len(core) == 2 and core[0] in "iuü" and core != "iu":
        return HOLD_RISING
    return HOLD_MONOPHTHONG


def plan_zh(phones: Phones) -> Plan:
    """espeak-ng input for a Mandarin syllable: its numbered pinyin, in the level tone."""
    parsed = split_pinyin(phones.pinyin) if phones.pinyin else None
    if parsed is None:
        initial = (phones.onset[0] if phones.onset else "").strip().lower()
        final = "".join(phones.nucleus).strip().lower().replace("v", "ü")
        parsed = split_pinyin(spell_pinyin(initial, final, 1)) if final else None
        if parsed is None:
            initial = initial if initial in ZH_INITIALS else ""
            log.debug("unreadable pinyin %r (%r): sung as %se", phones.pinyin, phones.text, initial)
            parsed = (initial, "e", 5)
    initial, final, _tone = parsed
    text = spell_pinyin(initial, final, 1)
    onset_count = 1 if initial else 0
    unvoiced = bool(initial) and initial not in ZH_VOICED_INITIALS
    coda_count = 1 if final.endswith("n") or final.endswith("ng") else 0
    return Plan(text, "zh", _hold_zh(final), onset_count, unvoiced, coda_count)


def plan(phones: Phones) -> Plan:
    """What espeak-ng says for ``phones``; anything but ``"zh"`` is read as English."""
    if phones.lang.lower().startswith("zh") or phones.lang.lower() == "cmn":
        return plan_zh(phones)
    return plan_en(phones)


def phones_from_arpabet(symbols: str | list[str] | tuple[str, ...], text: str = "") -> Phones:
    """English ``Phones`` of one syllable from ARPAbet (``"S T R AY1 N D"``), split at its vowel.

    A convenience for tests and tools: the consonants before the first vowel are the onset,
    those after the last vowel the coda.
    """
    seq = symbols.split() if isinstance(symbols, str) else list(symbols)
    clean = [_arpabet(s) for s in seq if _arpabet(s)]
    vowel_at = [i for i, s in enumerate(clean) if s in EN_VOWELS]
    if not vowel_at:
        return Phones("en", tuple(clean), (), (), text=text)
    first, last = vowel_at[0], vowel_at[-1]
    return Phones(
        "en",
        tuple(clean[:first]),
        tuple(clean[first : last + 1]),
        tuple(clean[last + 1 :]),
        text=text,
    )


def phones_from_pinyin(syllable: str, text: str = "") -> Phones:
    """Mandarin ``Phones`` from numbered pinyin (``"xiang1"``); unreadable: all in ``pinyin``."""
    parsed = split_pinyin(syllable)
    if parsed is None:
        return Phones("zh", (), (), (), pinyin=syllable, text=text)
    initial, final, tone = parsed
    onset = (initial,) if initial else ()
    return Phones("zh", onset, (final,), (), tone=tone, pinyin=syllable, text=text or syllable)
