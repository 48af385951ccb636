"""Melodies (and chorale harmonies) extracted from music21's bundled corpus.

Sources (music21 corpus folder -> ``Melody.source``):

* ``essenFolksong`` -> ``"essen"``: the Essen folk song collection (ABC).
* ``oneills1850`` -> ``"oneills"``: O'Neill's Music of Ireland (ABC).
* ``ryansMammoth`` -> ``"ryans"``: Ryan's Mammoth Collection (ABC).
* ``airdsAirs`` -> ``"airds"``: Aird's Airs (ABC).
* ``miscFolk`` -> ``"miscfolk"``: an American fife book and Northumbrian minstrelsy (ABC).
* ``nottingham-dataset`` -> ``"nottingham"``: the two tunes music21 bundles, with chord symbols
  (the only ABC source whose quoted strings are read as chords).
* ``bach`` chorales -> ``"bach"``: the soprano line, with the chord sounding at each note (from
  the chordified four voices), plus the Roman-numeral progression of each phrase (for the harmony
  model; see :class:`ChoraleHarmony`).

Nothing is transposed: pitches are the written ones and the key is recorded. The key comes from
the ABC ``K:`` field when it names a mode (``Am``, ``A Dorian`` -> A minor, ``D Mixolydian`` ->
D major). A bare ``K:D`` is the tonic in the Essen collection (its minor tunes are written
``K:D`` with explicit naturals), the mode then coming from music21's key analysis (major or minor
on that tonic, whichever fits better); elsewhere it is a key signature, and the choice between
D major and B minor is the tune's final note when that is one of the two tonics, else the key
analysis. Chorales use music21's key analysis.

Onsets count quarter notes from the downbeat of the first (possibly incomplete) bar, so
``onset % beats_per_bar`` is the position in the bar. Times are quantised to 1/48 of a quarter
note. Exact duplicates (same intervals and durations) are kept once.

The extraction (:func:`extract_corpus`) parses every piece with music21 on worker processes and
takes minutes; :func:`load_melodies` reads the shipped ``overture/models/melodies.npz`` instead.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import itertools
import multiprocessing
import re
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from overture.learn import MODELS_DIR

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)``: the project's progress-callback convention."""

TICKS_PER_QUARTER = 48
MIN_NOTES = 8
HELDOUT_PER_MILLE = 100  # ~10 % of the pieces are held out
MELODIES_FILE = "melodies.npz"
FORMAT_VERSION = 1

ABC_COLLECTIONS: tuple[tuple[str, str], ...] = (
    ("essenFolksong", "essen"),
    ("oneills1850", "oneills"),
    ("ryansMammoth", "ryans"),
    ("airdsAirs", "airds"),
    ("miscFolk", "miscfolk"),
    ("nottingham-dataset", "nottingham"),
)
SOURCES: tuple[str, ...] = (*(s for _, s in ABC_COLLECTIONS), "bach")
CHORD_SOURCES = frozenset({"nottingham"})  # ABC sources whose quoted strings are chords

_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)


@dataclass(frozen=True, slots=True)
class Melody:
    """One monophonic melody of the corpus, at its written pitch."""

    id: str  # stable, "collection/file:index" (index: 0-based position of the tune in the file)
    source: str  # one of SOURCES
    pitches: tuple[int, ...]  # MIDI note numbers, in time order (rests are gaps)
    onsets: tuple[float, ...]  # quarter notes from the downbeat of the first bar
    durations: tuple[float, ...]  # quarter notes
    tonic: int  # pitch class 0-11 of the key
    mode: str  # "major" | "minor"
    time_signature: str  # "6/8"
    beats_per_bar: float  # quarter notes per bar (6/8 -> 3.0)
    chords: tuple[str, ...] = ()  # chord symbol sounding at each note's onset ("" if none)


@dataclass(frozen=True, slots=True)
class ChoraleHarmony:
    """The Roman-numeral progression of a chorale, one tuple of tokens per phrase (fermata)."""

    id: str
    tonic: int
    mode: str
    phrases: tuple[tuple[str, ...], ...]


@dataclass(slots=True)
class Corpus:
    """What :func:`extract_corpus` found."""

    melodies: list[Melody]
    chorales: list[ChoraleHarmony]
    pieces: int  # pieces attempted
    failures: int  # pieces music21 could not parse (or too short / not monophonic-able)
    duplicates: int  # exact duplicates dropped
    seconds: float
    failed_ids: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Splitting


def split_of(melody_id: str, seed: int = 0) -> str:
    """``"train"`` or ``"heldout"``: a deterministic hash split holding out ~10 % of the ids."""
    digest = hashlib.sha256(f"{seed}:{melody_id}".encode()).digest()
    return "heldout" if int.from_bytes(digest[:8], "big") % 1000 < HELDOUT_PER_MILLE else "train"


# --------------------------------------------------------------------------------------------
# Chords: quality from pitch classes, chord symbols and Roman-numeral tokens

_QUALITY_SYMBOL = {
    "major": "",
    "minor": "m",
    "diminished": "dim",
    "augmented": "aug",
    "dom7": "7",
    "maj7": "maj7",
    "min7": "m7",
    "hdim7": "m7b5",
    "dim7": "dim",
}
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


def chord_quality(root: int, pitch_classes: Iterable[int]) -> str | None:
    """Classify a sonority by the intervals above ``root``.

    Returns one of ``major minor diminished augmented dom7 maj7 min7 hdim7 dim7``, or ``None``
    when there is no third (an open fifth, a bare octave) or the sonority is not tertian.
    """
    iv = {(pc - root) % 12 for pc in pitch_classes}
    if 4 in iv and 3 not in iv:
        if 8 in iv and 7 not in iv:
            return "augmented"
        if 10 in iv:
            return "dom7"
        return "maj7" if 11 in iv else "major"
    if 3 in iv and 4 not in iv:
        if 6 in iv and 7 not in iv:
            if 9 in iv:
                return "dim7"
            return "hdim7" if 10 in iv else "diminished"
        return "min7" if 10 in iv else "minor"
    return None


def chord_symbol(root: int, quality: str) -> str:
    """A lead-sheet symbol parseable by ``overture.theory.parse_chord``: ``"Bb"``, ``"F#m7b5"``."""
    return _FLAT_NAMES[root % 12] + _QUALITY_SYMBOL[quality]


def chord_symbol_root(symbol: str) -> int | None:
    """Root pitch class of a chord symbol (``"F#m7"`` -> 6), ``None`` for ``""``."""
    m = re.match(r"([A-G])([#b]?)", symbol or "")
    if not m:
        return None
    base = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[m.group(1)]
    return (base + {"#": 1, "b": -1, "": 0}[m.group(2)]) % 12


_DEGREE_NAMES = ("i", "ii", "iii", "iv", "v", "vi", "vii")
# Chromatic roots spelled as a flat/sharp of the major scale degree (chord_from_roman's rule).
_CHROMATIC = {
    "major": {1: ("b", 2), 3: ("b", 3), 6: ("#", 4), 8: ("b", 6), 10: ("b", 7)},
    "minor": {1: ("b", 2), 6: ("#", 4)},
}


def roman_token(root_interval: int, quality: str, mode: str) -> str | None:
    """A Roman-numeral token that ``overture.theory.chord_from_roman`` parses, or ``None``.

    ``root_interval`` is the root above the tonic in semitones. Diatonic roots are relative to the
    major scale (major keys) or natural minor (minor keys), the convention of ``chord_from_roman``:
    in C minor ``"V"`` is G major and ``"VII"`` Bb major. Chromatic roots get a ``b``/``#``
    (``bVII``, ``bVI``, ``bII``, ``#iv°``). The vocabulary is kept small: major-seventh chords
    become triads, and a fully diminished seventh, or a diminished triad whose root cannot be
    spelled (the leading-tone triad of a minor key), becomes the dominant seventh a major third
    below it, of which it is the rootless form (``vii°7`` -> ``V7``). Roots that still cannot be
    spelled (e.g. A or B major in C minor) give ``None``.
    """
    steps = _MAJOR_STEPS if mode == "major" else _MINOR_STEPS
    root_interval %= 12
    if quality == "dim7" or (
        quality == "diminished"
        and root_interval not in steps
        and root_interval not in _CHROMATIC[mode]
    ):
        root_interval, quality = (root_interval - 4) % 12, "dom7"
    if root_interval in steps:
        prefix, degree = "", steps.index(root_interval) + 1
    elif root_interval in _CHROMATIC[mode]:
        prefix, degree = _CHROMATIC[mode][root_interval]
    else:
        return None
    name = _DEGREE_NAMES[degree - 1]
    if quality in {"major", "maj7"}:
        return prefix + name.upper()
    if quality == "dom7":
        return prefix + name.upper() + "7"
    if quality == "augmented":
        return prefix + name.upper() + "+"
    if quality == "minor":
        return prefix + name
    if quality == "min7":
        return prefix + name + "7"
    if quality == "diminished":
        return prefix + name + "°"
    if quality == "hdim7":
        return prefix + name + "°7"
    return None


# --------------------------------------------------------------------------------------------
# Keys

_MODE_WORDS = {
    "": None,
    "maj": "major",
    "major": "major",
    "ion": "major",
    "mix": "major",
    "lyd": "major",
    "m": "minor",
    "min": "minor",
    "minor": "minor",
    "aeo": "minor",
    "dor": "minor",
    "phr": "minor",
    "loc": "minor",
}
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_abc_key(text: str) -> tuple[int, str | None] | None:
    """``(tonic, mode)`` from an ABC ``K:`` value; mode ``None`` when only a signature is given.

    Church modes map onto the nearer of major and minor (Dorian, Phrygian, Aeolian, Locrian ->
    minor; Ionian, Mixolydian, Lydian -> major) on the same tonic. ``None`` if not a key.
    """
    m = re.match(r"\s*([A-Ga-g])\s*([#b]?)\s*([A-Za-z]*)", text)
    if not m:
        return None
    tonic = (_LETTERS[m.group(1).upper()] + {"#": 1, "b": -1, "": 0}[m.group(2)]) % 12
    word = m.group(3).lower()
    if word in {"m", "min", "minor", "major"}:
        return tonic, _MODE_WORDS[word]
    return tonic, _MODE_WORDS.get(word[:3])


def decide_key(
    source: str, key_field: str | None, pitches: Sequence[int], durations: Sequence[float]
) -> tuple[int, str]:
    """The (tonic, mode) of an ABC tune from its ``K:`` field and notes.

    A named mode wins. A bare ``K:X`` is read as the tonic in the Essen collection (converted
    from EsAC, whose key field is the tonic: minor tunes there read ``K:D`` with explicit
    naturals), the mode being the better of X major and X minor by key analysis; elsewhere as a
    key signature (ABC's convention: X major), see :func:`_mode_from_signature`. No usable
    field: key analysis alone.
    """
    parsed = parse_abc_key(key_field) if key_field is not None else None
    if parsed is not None and parsed[1] is not None:
        return parsed[0], parsed[1]
    ranked = analyse_key(pitches, durations)
    if parsed is None:
        return ranked[0]
    if source == "essen":
        return next(k for k in ranked if k[0] == parsed[0])
    return _mode_from_signature(parsed[0], pitches, ranked)


def _mode_from_signature(
    major_tonic: int, pitches: Sequence[int], ranked: Sequence[tuple[int, str]]
) -> tuple[int, str]:
    """Between ``major_tonic`` major and its relative minor: the final note, else the analysis."""
    minor_tonic = (major_tonic + 9) % 12
    last = pitches[-1] % 12
    if last == major_tonic:
        return major_tonic, "major"
    if last == minor_tonic:
        return minor_tonic, "minor"
    for k in ranked:
        if k in {(major_tonic, "major"), (minor_tonic, "minor")}:
            return k
    return major_tonic, "major"


@lru_cache(maxsize=1)
def _key_profiles() -> np.ndarray:
    """music21's default key-finding weights (Aarden-Essen), rows: 12 major then 12 minor keys."""
    from music21.analysis.discrete import AardenEssen

    rows = []
    for mode in ("major", "minor"):
        w = np.asarray(AardenEssen().getWeights(mode), dtype=np.float64)
        rows.extend(np.roll(w, tonic) for tonic in range(12))
    return np.asarray(rows)


def analyse_key(pitches: Sequence[int], durations: Sequence[float]) -> list[tuple[int, str]]:
    """All 24 keys, most likely first: music21's ``analyze("key")`` computed directly.

    The correlation of the duration-weighted pitch-class distribution with music21's default
    (Aarden-Essen) key profiles; the same ranking without building 24 ``Key`` objects per tune.
    """
    dist = np.zeros(12)
    np.add.at(dist, np.asarray(pitches, dtype=np.int64) % 12, np.asarray(durations, dtype=float))
    profiles = _key_profiles()
    d = dist - dist.mean()
    p = profiles - profiles.mean(axis=1, keepdims=True)
    denom = np.sqrt((p * p).sum(axis=1) * (d * d).sum())
    corr = (p @ d) / np.where(denom > 0, denom, 1.0)
    order = sorted(range(24), key=lambda i: (-corr[i], i))
    return [(i % 12, "major" if i < 12 else "minor") for i in order]


# --------------------------------------------------------------------------------------------
# Parsing one piece (runs on worker processes)


@dataclass(frozen=True, slots=True)
class _Task:
    id: str
    source: str
    kind: str  # "abc" | "chorale"
    payload: str  # ABC text of one tune, or the corpus name of a chorale


def _ticks(x: float) -> int:
    return round(float(x) * TICKS_PER_QUARTER)


def _time_signature(stream_obj: object) -> tuple[str, float]:
    from music21 import meter

    ts = stream_obj.recurse().getElementsByClass(meter.TimeSignature).first()
    if ts is None:
        return "4/4", 4.0
    return f"{ts.numerator}/{ts.denominator}", float(ts.barDuration.quarterLength)


def _pickup(part: object) -> float:
    from music21 import stream

    first = part.getElementsByClass(stream.Measure).first()
    return float(first.paddingLeft) if first is not None else 0.0


def _line(part: object) -> tuple[list[int], list[int], list[int], list[tuple[int, int, str]]]:
    """Monophonic top line of a part: (pitches, onset ticks, duration ticks, chord symbols).

    Tied notes are merged, grace notes dropped, chords reduced to their top note, and
    simultaneous onsets to the highest pitch. Chord symbols come as (tick, root, quality).
    """
    from music21 import harmony

    pad = _pickup(part)
    by_onset: dict[int, list[int]] = {}  # onset -> [midi, onset, duration]
    symbols: list[tuple[int, int, str]] = []
    last: list[int] | None = None  # the previous note, to merge ties into
    for el in part.flatten().notes:
        if isinstance(el, harmony.Harmony):
            if isinstance(el, harmony.NoChord):
                symbols.append((_ticks(el.offset + pad), -1, ""))
                continue
            try:
                root = el.root().pitchClass
                quality = chord_quality(root, [p.pitchClass for p in el.pitches])
            except Exception:
                continue
            symbols.append((_ticks(el.offset + pad), root, quality or ""))
            continue
        ql = float(el.duration.quarterLength)
        if ql <= 0 or el.duration.isGrace:
            continue
        midi = max(p.midi for p in el.pitches)
        onset, dur = _ticks(el.offset + pad), _ticks(ql)
        if dur <= 0 or not 0 <= midi <= 127:
            continue
        tie = el.tie.type if el.tie is not None else None
        if tie in {"stop", "continue"} and last is not None and last[0] == midi:
            last[2] = max(last[2], onset + dur - last[1])
            continue
        if onset not in by_onset or by_onset[onset][0] < midi:
            last = [midi, onset, dur]
            by_onset[onset] = last
    onsets = sorted(by_onset)
    pitches = [by_onset[o][0] for o in onsets]
    durations = [by_onset[o][2] for o in onsets]
    for i in range(len(onsets) - 1):  # overlapping voices inside one part: clip
        durations[i] = min(durations[i], onsets[i + 1] - onsets[i])
    return pitches, onsets, durations, symbols


def _chords_at(onsets: Sequence[int], symbols: Sequence[tuple[int, int, str]]) -> tuple[str, ...]:
    if not symbols:
        return ()
    symbols = sorted(symbols, key=lambda s: s[0])
    out, j, current = [], 0, ""
    for o in onsets:
        while j < len(symbols) and symbols[j][0] <= o:
            _, root, quality = symbols[j]
            current = chord_symbol(root, quality) if root >= 0 and quality else ""
            j += 1
        out.append(current)
    return tuple(out) if any(out) else ()


def _parse_abc(task: _Task) -> Melody | None:
    from music21 import abcFormat
    from music21.abcFormat import translate

    handler = abcFormat.ABCHandler()
    handler.process(task.payload)
    score = translate.abcToStreamScore(handler)
    parts = list(score.parts)
    part = parts[0] if parts else score
    pitches, onsets, durations, symbols = _line(part)
    if len(pitches) < MIN_NOTES:
        return None
    ts, bpb = _time_signature(part)
    m = re.search(r"(?m)^K:(.*)$", task.payload)
    tonic, mode = decide_key(task.source, m.group(1) if m else None, pitches, durations)
    return Melody(
        id=task.id,
        source=task.source,
        pitches=tuple(pitches),
        onsets=tuple(o / TICKS_PER_QUARTER for o in onsets),
        durations=tuple(d / TICKS_PER_QUARTER for d in durations),
        tonic=tonic,
        mode=mode,
        time_signature=ts,
        beats_per_bar=bpb,
        # Only the Nottingham tunes carry real chord symbols: elsewhere quoted ABC text is
        # annotation ("Fine", part letters) that music21 would read as chords.
        chords=_chords_at(onsets, symbols) if task.source in CHORD_SOURCES else (),
    )


_ROOT_MEMO: dict[tuple, int] = {}  # (pitches, key) -> root of music21's Roman numeral


def _parse_chorale(task: _Task) -> tuple[Melody | None, ChoraleHarmony | None]:
    from music21 import corpus, expressions, roman

    score = corpus.parse(task.payload)
    analysed = score.analyze("key")
    tonic, mode = analysed.tonic.pitchClass, analysed.mode
    if mode not in {"major", "minor"}:
        return None, None
    soprano = score.parts[0]
    pad = _pickup(soprano)
    chordified = score.chordify().flatten().notes
    # Sonorities: (onset tick, end tick, root, quality) where a third makes them tertian.
    sonorities: list[tuple[int, int, int, str | None, object]] = []
    for c in chordified:
        start = _ticks(c.offset + pad)
        end = start + _ticks(c.duration.quarterLength)
        sonorities.append((start, end, -1, None, c))

    def sonority_at(tick: int) -> int | None:
        for i, (s, e, *_rest) in enumerate(sonorities):
            if s <= tick < e:
                return i
        return None

    cache: dict[int, tuple[int, str | None]] = {}

    def analyse(i: int) -> tuple[int, str | None]:
        if i not in cache:
            c = sonorities[i][4]
            names = tuple(sorted(p.nameWithOctave for p in c.pitches))
            memo = (names, analysed.tonic.name, analysed.mode)
            if memo not in _ROOT_MEMO:
                try:
                    _ROOT_MEMO[memo] = roman.romanNumeralFromChord(c, analysed).root().pitchClass
                except Exception:
                    _ROOT_MEMO[memo] = c.root().pitchClass
            root = _ROOT_MEMO[memo]
            cache[i] = (root, chord_quality(root, [p.pitchClass for p in c.pitches]))
        return cache[i]

    # Melody: the soprano with the sonority at each note onset.
    pitches, onsets, durations, _ = _line(soprano)
    chords = []
    for o in onsets:
        i = sonority_at(o)
        root, quality = analyse(i) if i is not None else (-1, None)
        chords.append(chord_symbol(root, quality) if quality else "")
    ts, bpb = _time_signature(soprano)
    melody = None
    if len(pitches) >= MIN_NOTES:
        melody = Melody(
            id=task.id,
            source=task.source,
            pitches=tuple(pitches),
            onsets=tuple(o / TICKS_PER_QUARTER for o in onsets),
            durations=tuple(d / TICKS_PER_QUARTER for d in durations),
            tonic=tonic,
            mode=mode,
            time_signature=ts,
            beats_per_bar=bpb,
            chords=tuple(chords) if any(chords) else (),
        )

    # Harmony: the sonority on every quarter-note beat, phrases cut after each fermata.
    cuts = []
    for n in soprano.flatten().notes:
        if any(isinstance(e, expressions.Fermata) for e in n.expressions):
            cuts.append(_ticks(n.offset + pad) + _ticks(n.duration.quarterLength))
    end = max((e for _, e, *_ in sonorities), default=0)
    phrases: list[list[str]] = [[]]
    cut_index = 0
    for beat in range(0, end, TICKS_PER_QUARTER):
        while cut_index < len(cuts) and beat >= cuts[cut_index]:
            phrases.append([])
            cut_index += 1
        i = sonority_at(beat)
        if i is None:
            continue
        root, quality = analyse(i)
        if quality is None and sonorities[i][1] - beat > TICKS_PER_QUARTER // 2:
            continue
        if quality is None:  # a passing sonority on the beat: try the off-beat
            j = sonority_at(beat + TICKS_PER_QUARTER // 2)
            if j is None:
                continue
            root, quality = analyse(j)
            if quality is None:
                continue
        token = roman_token(root - tonic, quality, mode)
        if token is not None and (not phrases[-1] or phrases[-1][-1] != token):
            phrases[-1].append(token)
    kept = tuple(tuple(p) for p in phrases if len(p) >= 2)
    harmony = ChoraleHarmony(task.id, tonic, mode, kept) if kept else None
    return melody, harmony


@contextlib.contextmanager
def _quiet_music21() -> Iterator[None]:
    """Silence music21's warnings, and skip beaming while parsing: beams are notation only,
    never read here, and ``makeBeams`` is a third of the cost of importing an ABC tune."""
    from music21 import stream

    saved = stream.Stream.makeBeams
    stream.Stream.makeBeams = lambda self, *args, **kwargs: None
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        stream.Stream.makeBeams = saved


def _run_task(task: _Task) -> tuple[str, Melody | None, ChoraleHarmony | None, bool]:
    """Parse one piece; never raises. Returns (id, melody, harmony, failed)."""
    try:
        with _quiet_music21():
            if task.kind == "abc":
                return task.id, _parse_abc(task), None, False
            melody, harmony = _parse_chorale(task)
            return task.id, melody, harmony, False
    except Exception:
        return task.id, None, None, True


# --------------------------------------------------------------------------------------------
# Task list


def corpus_root() -> Path:
    """Folder of music21's bundled corpus."""
    import music21.corpus

    return Path(music21.corpus.__file__).resolve().parent


def _split_abc(text: str) -> list[str]:
    """One ABC text per tune (``X:`` line), each with the file header prepended."""
    chunks = re.split(r"(?m)^(?=X:)", text)
    header = "\n".join(
        line for line in chunks[0].splitlines() if line[:2] not in {"X:", "T:"} and line.strip()
    )
    header = header + "\n" if header else ""
    return [header + c for c in chunks[1:] if re.search(r"(?m)^K:", c)]


def _tasks_by_source() -> dict[str, list[_Task]]:
    root = corpus_root()
    out: dict[str, list[_Task]] = {}
    for folder, source in ABC_COLLECTIONS:
        tasks: list[_Task] = []
        for path in sorted((root / folder).glob("*.abc")):
            text = path.read_text(encoding="utf-8", errors="replace")
            for i, tune in enumerate(_split_abc(text)):
                tasks.append(_Task(f"{folder}/{path.name}:{i}", source, "abc", tune))
        out[source] = tasks
    from music21 import corpus

    names = sorted(set(corpus.chorales.Iterator(returnType="filename")))
    out["bach"] = [_Task(f"{name}:0", "bach", "chorale", name) for name in names]
    return out


def _select(by_source: dict[str, list[_Task]], limit: int | None) -> list[_Task]:
    """All tasks, or the first ``limit`` taken round-robin across sources (a spread slice)."""
    if limit is None:
        return [t for s in SOURCES for t in by_source.get(s, [])]
    queues = [list(by_source.get(s, [])) for s in SOURCES]
    out: list[_Task] = []
    i = 0
    while len(out) < limit and any(queues):
        q = queues[i % len(queues)]
        if q:
            out.append(q.pop(0))
        i += 1
    order = {s: k for k, s in enumerate(SOURCES)}
    return sorted(out, key=lambda t: (order[t.source], t.id))


def _signature(m: Melody) -> tuple:
    p = m.pitches
    return (tuple(b - a for a, b in itertools.pairwise(p)), m.durations)


def extract_corpus(
    *, limit: int | None = None, workers: int = 2, progress: Progress | None = None
) -> Corpus:
    """Parse music21's corpus (all of it, or a ``limit``-piece slice) on ``workers`` processes.

    Pieces music21 cannot parse, and melodies shorter than ``MIN_NOTES`` notes, are skipped;
    exact duplicates (same intervals and durations) are kept once (the first, in source order).
    """
    start = time.perf_counter()
    tasks = _select(_tasks_by_source(), limit)
    results: list[tuple[str, Melody | None, ChoraleHarmony | None, bool]] = []
    total = max(1, len(tasks))
    if workers <= 1 or len(tasks) < 8:
        for k, task in enumerate(tasks):
            results.append(_run_task(task))
            if progress is not None:
                progress("parsing corpus", (k + 1) / total)
    else:
        ctx = multiprocessing.get_context("spawn")
        # Chorales are slow: interleave them so the pool stays busy to the end.
        with ctx.Pool(workers) as pool:
            for k, res in enumerate(pool.imap(_run_task, tasks, chunksize=8)):
                results.append(res)
                if progress is not None and (k % 50 == 0 or k + 1 == total):
                    progress("parsing corpus", (k + 1) / total)
    melodies: list[Melody] = []
    chorales: list[ChoraleHarmony] = []
    seen: set[tuple] = set()
    failures, duplicates = 0, 0
    failed_ids = []
    for task_id, melody, harmony, failed in results:
        if failed:
            failures += 1
            failed_ids.append(task_id)
        if harmony is not None:
            chorales.append(harmony)
        if melody is None:
            if not failed:
                failures += 1
                failed_ids.append(task_id)
            continue
        sig = _signature(melody)
        if sig in seen:
            duplicates += 1
            continue
        seen.add(sig)
        melodies.append(melody)
    return Corpus(
        melodies=melodies,
        chorales=chorales,
        pieces=len(tasks),
        failures=failures,
        duplicates=duplicates,
        seconds=time.perf_counter() - start,
        failed_ids=failed_ids,
    )


def extract_melodies(*, limit: int | None = None, workers: int = 2) -> list[Melody]:
    """Parse music21's corpus into melodies (slow: minutes for all of it; see the module doc)."""
    return extract_corpus(limit=limit, workers=workers).melodies


# --------------------------------------------------------------------------------------------
# The shipped file


def _text_array(items: Sequence[str]) -> np.ndarray:
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _text_list(arr: np.ndarray) -> list[str]:
    text = arr.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A byte-reproducible ``.npz`` (fixed zip timestamps, sorted members, deflated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, buf.getvalue(), compresslevel=6)
    tmp.replace(path)


def save_melodies(path: Path, melodies: Sequence[Melody], *, seed: int = 0) -> None:
    """Write ``melodies`` compactly: int8 pitches, times in 1/48 quarter notes, split flags."""
    counts = np.array([len(m.pitches) for m in melodies], dtype=np.int64)
    offsets = np.zeros(len(melodies) + 1, dtype=np.uint32)
    offsets[1:] = np.cumsum(counts)
    n = int(offsets[-1])
    pitch = np.empty(n, dtype=np.int8)
    ioi = np.empty(n, dtype=np.uint16)  # onset minus previous onset; first note: its onset
    dur = np.empty(n, dtype=np.uint16)
    chord = np.zeros(n, dtype=np.uint16)
    chord_vocab = [""]
    chord_index = {"": 0}
    ts_vocab: list[str] = []
    ts_index: dict[str, int] = {}
    for k, m in enumerate(melodies):
        a, b = int(offsets[k]), int(offsets[k + 1])
        pitch[a:b] = m.pitches
        ticks = np.rint(np.asarray(m.onsets) * TICKS_PER_QUARTER).astype(np.int64)
        d = np.rint(np.asarray(m.durations) * TICKS_PER_QUARTER).astype(np.int64)
        gaps = np.diff(ticks, prepend=0)
        if gaps.min() < 0 or gaps.max() > 65535 or d.min() < 1 or d.max() > 65535:
            raise ValueError(f"{m.id}: times out of range for the compact format")
        ioi[a:b] = gaps
        dur[a:b] = d
        for i, sym in enumerate(m.chords):
            if sym not in chord_index:
                chord_index[sym] = len(chord_vocab)
                chord_vocab.append(sym)
            chord[a + i] = chord_index[sym]
        if m.time_signature not in ts_index:
            ts_index[m.time_signature] = len(ts_vocab)
            ts_vocab.append(m.time_signature)
    source_index = {s: i for i, s in enumerate(SOURCES)}
    arrays = {
        "format": np.array([FORMAT_VERSION, TICKS_PER_QUARTER, seed], dtype=np.int64),
        "offsets": offsets,
        "pitch": pitch,
        "ioi": ioi,
        "dur": dur,
        "chord": chord,
        "has_chords": np.array([bool(m.chords) for m in melodies], dtype=np.uint8),
        "chord_vocab": _text_array(chord_vocab),
        "ids": _text_array([m.id for m in melodies]),
        "source": np.array([source_index[m.source] for m in melodies], dtype=np.uint8),
        "source_names": _text_array(list(SOURCES)),
        "tonic": np.array([m.tonic for m in melodies], dtype=np.uint8),
        "minor": np.array([m.mode == "minor" for m in melodies], dtype=np.uint8),
        "ts": np.array([ts_index[m.time_signature] for m in melodies], dtype=np.uint8),
        "ts_vocab": _text_array(ts_vocab),
        "bpb": np.array([m.beats_per_bar for m in melodies], dtype=np.float32),
        "heldout": np.array([split_of(m.id, seed) == "heldout" for m in melodies], dtype=np.uint8),
    }
    write_npz(path, arrays)


@dataclass(frozen=True, slots=True)
class MelodyArrays:
    """The shipped melodies as flat arrays (what the originality index and evaluation use)."""

    offsets: np.ndarray  # [n_pieces + 1] into the note arrays
    pitch: np.ndarray  # int16 MIDI
    onset_ticks: np.ndarray  # int64, 1/48 quarter notes
    dur_ticks: np.ndarray  # int64
    ids: tuple[str, ...]
    heldout: np.ndarray  # bool per piece
    seed: int


def melodies_path(path: Path | None = None) -> Path:
    return Path(path) if path is not None else MODELS_DIR / MELODIES_FILE


@lru_cache(maxsize=4)
def _load_arrays(path: Path) -> tuple[dict[str, np.ndarray], MelodyArrays]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `overture train` to build it")
    with np.load(path, allow_pickle=False) as z:
        raw = {k: z[k] for k in z.files}
    offsets = raw["offsets"].astype(np.int64)
    ioi = raw["ioi"].astype(np.int64)
    onset = np.cumsum(ioi)
    # cumsum runs across pieces: subtract each piece's running start.
    starts = offsets[:-1]
    piece_base = np.zeros(len(ioi), dtype=np.int64)
    if len(starts):
        before = np.concatenate([[0], onset[starts[1:] - 1]])
        lengths = np.diff(offsets)
        piece_base = np.repeat(before, lengths)
    onset = onset - piece_base
    arrays = MelodyArrays(
        offsets=offsets,
        pitch=raw["pitch"].astype(np.int16),
        onset_ticks=onset,
        dur_ticks=raw["dur"].astype(np.int64),
        ids=tuple(_text_list(raw["ids"])),
        heldout=raw["heldout"].astype(bool),
        seed=int(raw["format"][2]),
    )
    return raw, arrays


def load_arrays(path: Path | None = None) -> MelodyArrays:
    """The shipped melodies as flat numpy arrays (cached per process)."""
    return _load_arrays(melodies_path(path).resolve())[1]


@lru_cache(maxsize=4)
def _load_all(path: Path) -> tuple[Melody, ...]:
    # Millions of small objects: the cyclic collector would run many times for nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_melodies(path)
    finally:
        if enabled:
            gc.enable()


def _build_melodies(path: Path) -> tuple[Melody, ...]:
    raw, arr = _load_arrays(path)
    sources = _text_list(raw["source_names"])
    chord_vocab = _text_list(raw["chord_vocab"])
    ts_vocab = _text_list(raw["ts_vocab"])
    q = float(TICKS_PER_QUARTER)
    # Slices of tuples are tuples: one copy per melody instead of two.
    pitch = tuple(arr.pitch.tolist())
    onset = tuple((arr.onset_ticks / q).tolist())
    dur = tuple((arr.dur_ticks / q).tolist())
    chord = raw["chord"].tolist()
    has_chords = raw["has_chords"].tolist()
    offsets = arr.offsets.tolist()
    tonic = raw["tonic"].tolist()
    minor = raw["minor"].tolist()
    ts = raw["ts"].tolist()
    bpb = raw["bpb"].tolist()
    src = raw["source"].tolist()
    out = []
    for k, mid in enumerate(arr.ids):
        a, b = offsets[k], offsets[k + 1]
        out.append(
            Melody(
                id=mid,
                source=sources[src[k]],
                pitches=pitch[a:b],
                onsets=onset[a:b],
                durations=dur[a:b],
                tonic=tonic[k],
                mode="minor" if minor[k] else "major",
                time_signature=ts_vocab[ts[k]],
                beats_per_bar=bpb[k],
                chords=tuple(chord_vocab[c] for c in chord[a:b]) if has_chords[k] else (),
            )
        )
    return tuple(out)


def load_melodies(
    split: str = "train", *, source: str | None = None, path: Path | None = None
) -> list[Melody]:
    """Melodies from the shipped ``melodies.npz`` (fast; parsed once per process).

    ``split`` is ``"train"``, ``"heldout"`` or ``"all"``; ``source`` filters by
    ``Melody.source`` (see :data:`SOURCES`). The split is the one the shipped models were
    trained with (``split_of(id, seed)`` with the seed recorded in the file).
    """
    if split not in {"train", "heldout", "all"}:
        raise ValueError(f"unknown split {split!r} (train, heldout or all)")
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    p = melodies_path(path).resolve()
    melodies = _load_all(p)
    heldout = _load_arrays(p)[1].heldout
    out = []
    for k, m in enumerate(melodies):
        if split != "all" and bool(heldout[k]) != (split == "heldout"):
            continue
        if source is not None and m.source != source:
            continue
        out.append(m)
    return out
