"""Chord progressions as Roman numerals, learned from the Bach chorales.

Each chorale is chordified, the sonority on every beat is named as a Roman numeral in the
chorale's key (music21's ``romanNumeralFromChord``), simplified to a small vocabulary that
``overture.theory.chord_from_roman`` parses (see :func:`overture.learn.corpus.roman_token`), and
the sequence is cut into phrases at the fermatas, with repeated chords merged: the model is one of
chord *changes*. Major and minor keys are modelled separately.

The model is a variable-order Markov model (orders 0..2 blended with PPM escape method C over a
uniform distribution on the vocabulary, as the melody model does), with a phrase-start symbol so
that it learns how phrases begin. Probabilities never include repeating the previous chord.
Log probabilities are in bits (base 2).
"""

from __future__ import annotations

import gzip
import io
import json
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from overture.learn import MODELS_DIR

MODEL_FILE = "harmony_model.json.gz"
VERSION = "harmony-ppm-1"
DEFAULT_MAX_ORDER = 2
START = "^"
END = "$"
MODES = ("major", "minor")
MIN_TOKEN_COUNT = 20


class HarmonyModel:
    """Roman-numeral chord transitions per mode (``"major"``/``"minor"``)."""

    version: str = VERSION

    def __init__(
        self,
        counts: dict[str, dict[tuple[str, ...], dict[str, int]]],
        vocab: dict[str, list[str]],
        *,
        max_order: int = DEFAULT_MAX_ORDER,
        meta: dict | None = None,
    ) -> None:
        self.counts = counts
        self.vocab = vocab
        self.max_order = max_order
        self.meta = dict(meta or {})
        self.version = self.meta.get("version", VERSION)

    # -- training and storage ---------------------------------------------------------------

    @classmethod
    def train(
        cls,
        phrases: dict[str, Sequence[Sequence[str]]],
        *,
        max_order: int = DEFAULT_MAX_ORDER,
        min_count: int = MIN_TOKEN_COUNT,
    ) -> HarmonyModel:
        """Count contexts of length 0..``max_order`` in the phrases of each mode.

        The vocabulary is kept small: a chord seen fewer than ``min_count`` times in a mode
        loses its seventh (``vii7`` -> ``vii``) and, if still rare, is left out of the phrase.
        """
        counts: dict[str, dict[tuple[str, ...], dict[str, int]]] = {}
        vocab: dict[str, list[str]] = {}
        n_phrases = {}
        for mode in MODES:
            table: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
            seen: set[str] = set()
            raw = [list(p) for p in phrases.get(mode, []) if p]
            mode_phrases = [p for p in _simplify(raw, min_count) if len(p) >= 2]
            for phrase in mode_phrases:
                seq = [START, *_collapse(phrase), END]
                seen.update(seq[1:-1])
                for i in range(1, len(seq)):
                    for k in range(0, max_order + 1):
                        if i - k < 0:
                            break
                        table[tuple(seq[i - k : i])][seq[i]] += 1
            counts[mode] = {c: dict(v) for c, v in table.items()}
            vocab[mode] = sorted(seen)
            n_phrases[mode] = len(mode_phrases)
        meta = {
            "version": VERSION,
            "max_order": max_order,
            "min_count": min_count,
            "phrases": n_phrases,
        }
        return cls(counts, vocab, max_order=max_order, meta=meta)

    def to_json(self) -> dict:
        return {
            "meta": self.meta,
            "max_order": self.max_order,
            "vocab": self.vocab,
            "counts": {
                mode: {" ".join(c): dict(sorted(v.items())) for c, v in sorted(t.items())}
                for mode, t in self.counts.items()
            },
        }

    def save(self, path: Path) -> None:
        """Gzipped JSON, byte-reproducible (sorted keys, no timestamp in the gzip header)."""
        text = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, indent=0)
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
            gz.write(text.encode("utf-8"))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(buf.getvalue())

    @classmethod
    def from_file(cls, path: Path) -> HarmonyModel:
        data = json.loads(gzip.decompress(Path(path).read_bytes()).decode("utf-8"))
        counts = {
            mode: {tuple(c.split(" ")) if c else (): v for c, v in t.items()}
            for mode, t in data["counts"].items()
        }
        return cls(counts, data["vocab"], max_order=int(data["max_order"]), meta=data["meta"])

    @classmethod
    def load(cls, path: Path | None = None) -> HarmonyModel:
        """The shipped model (or the one at ``path``), read once per process."""
        p = Path(path) if path is not None else MODELS_DIR / MODEL_FILE
        return _load_cached(p.resolve())

    # -- prediction -------------------------------------------------------------------------

    def _mode(self, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"mode must be major or minor, not {mode!r}")
        return mode

    def _blend(
        self, context: Sequence[str], mode: str, max_order: int | None = None
    ) -> dict[str, float]:
        """PPM-C over the vocabulary plus the end symbol, after ``context`` (most recent last)."""
        table = self.counts[mode]
        symbols = [*self.vocab[mode], END]
        p = {s: 1.0 / len(symbols) for s in symbols}
        top = self.max_order if max_order is None else min(max_order, self.max_order)
        for k in range(0, min(top, len(context)) + 1):
            row = table.get(tuple(context[len(context) - k :]))
            if row is None:
                break
            n = sum(row.values())
            t = len(row)
            p = {s: row.get(s, 0) / (n + t) + t / (n + t) * q for s, q in p.items()}
        return p

    def _context(self, previous: Sequence[str], at_start: bool) -> list[str]:
        prev = _collapse(list(previous))
        return [START, *prev] if at_start or not prev else prev

    def next_distribution(
        self, previous: Sequence[str], mode: str, *, at_start: bool = False
    ) -> dict[str, float]:
        """Probabilities of the next chord (vocabulary tokens, summing to 1) after ``previous``.

        An empty ``previous`` (or ``at_start=True``) means the chords begin a phrase. The
        previous chord itself gets probability 0: the model is of chord changes.
        """
        mode = self._mode(mode)
        ctx = self._context(previous, at_start)
        p = self._blend(ctx, mode)
        p.pop(END, None)
        if ctx and ctx[-1] in p:
            p[ctx[-1]] = 0.0
        total = sum(p.values())
        return {s: q / total for s, q in p.items()}

    def log_prob(
        self,
        romans: Sequence[str],
        mode: str,
        *,
        complete: bool = False,
        max_order: int | None = None,
    ) -> float:
        """Log2 probability (bits, <= 0) of the progression ``romans`` as a phrase from its
        start; repeated chords are merged first. ``complete`` also scores the phrase ending
        there; ``max_order`` caps the context length (0: chord frequencies alone). Tokens
        outside the vocabulary get the uniform share of the escape probability."""
        mode = self._mode(mode)
        seq = _collapse(list(romans))
        total = 0.0
        ctx = [START]
        targets = [*seq, END] if complete else seq
        for tok in targets:
            p = self._blend(ctx, mode, max_order)
            if ctx[-1] != START and tok != END:
                p[ctx[-1]] = 0.0  # no repeats: renormalise without the previous chord
            z = sum(p.values())
            q = p.get(tok)
            if q is None:  # unknown token: the order -1 share
                q = _escape_mass(self, ctx, mode, max_order) / (len(self.vocab[mode]) + 1)
            total += math.log2(max(q / z, 1e-300))
            ctx.append(tok)
        return total

    def sample(
        self,
        length: int,
        mode: str,
        rng: random.Random,
        start: str | None = None,
        end: str | None = None,
    ) -> list[str]:
        """A phrase of ``length`` chords (no chord repeated twice in a row).

        ``start``/``end`` fix the first/last chord; with ``end`` the chord before it is drawn in
        proportion to how likely it is to lead to ``end`` (one step of look-ahead).
        """
        mode = self._mode(mode)
        if length <= 0:
            return []
        out: list[str] = [start] if start is not None else []
        while len(out) < length:
            remaining = length - len(out)
            if end is not None and remaining == 1:
                out.append(end)
                break
            dist = self.next_distribution(out, mode)
            if end is not None and remaining == 2:
                dist = {
                    s: q * self.next_distribution([*out, s], mode).get(end, 0.0)
                    for s, q in dist.items()
                    if s != end
                }
                if not any(dist.values()):
                    last = out[-1] if out else None
                    dist = {s: 1.0 for s in self.vocab[mode] if s not in {end, last}}
            out.append(_draw(dist, rng))
        return out[:length]


def _escape_mass(
    model: HarmonyModel, ctx: Sequence[str], mode: str, max_order: int | None
) -> float:
    """Probability mass PPM-C leaves to the uniform order -1 after ``ctx``."""
    table = model.counts[mode]
    mass = 1.0
    top = model.max_order if max_order is None else min(max_order, model.max_order)
    for k in range(0, min(top, len(ctx)) + 1):
        row = table.get(tuple(ctx[len(ctx) - k :]))
        if row is None:
            break
        n, t = sum(row.values()), len(row)
        mass *= t / (n + t)
    return mass


def _simplify(phrases: list[list[str]], min_count: int) -> list[list[str]]:
    """Rare chords lose their seventh, then, if still rare, are dropped; repeats merged."""
    counts: dict[str, int] = defaultdict(int)
    for p in phrases:
        for t in p:
            counts[t] += 1
    mapping: dict[str, str | None] = {}
    for t, n in counts.items():
        if n >= min_count:
            mapping[t] = t
            continue
        plain = t[:-1] if t.endswith("7") else t
        plain_count = sum(c for u, c in counts.items() if u == plain or u == plain + "7")
        mapping[t] = plain if plain_count >= min_count else None
    out = []
    for p in phrases:
        out.append(_collapse([m for t in p if (m := mapping[t]) is not None]))
    return out


def _collapse(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for t in tokens:
        if not out or out[-1] != t:
            out.append(t)
    return out


def _draw(dist: dict[str, float], rng: random.Random) -> str:
    items = sorted(dist.items())
    total = sum(q for _, q in items)
    u = rng.random() * total
    acc = 0.0
    for s, q in items:
        acc += q
        if u < acc:
            return s
    return items[-1][0]


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> HarmonyModel:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `overture train` to build it")
    return HarmonyModel.from_file(path)
