"""A multiple-viewpoint, variable-order Markov model of melody (the IDyOM tradition).

Each *viewpoint* turns a melody into a sequence of symbols, and a PPM model (interpolated
blending of orders 0..N with escape method C, on top of a uniform order -1) predicts the next
symbol from the previous ones. The viewpoints of pitch are

* ``int``: the melodic interval from the previous note, clipped to +-12 semitones;
* ``deg``: the chromatic scale degree, pitch minus tonic mod 12, separately for major and minor;
* ``degint``: the two linked (degree and interval together);
* ``crd``: the pitch relative to the sounding chord's root, mod 12 (learned from the melodies
  that carry chords: the Bach chorale sopranos and the Nottingham tunes; used when the caller
  passes a chord root);

and of duration

* ``dur``: the duration class (nearest of :data:`DURATION_CLASSES`, in log time);
* ``dratio``: the ratio to the previous duration, in twelfths of an octave of log2 ratio.

A viewpoint's distribution over its symbols maps onto the candidate pitches (or durations): each
candidate gets the probability of its symbol, shared equally by the candidates with that symbol,
and the distributions of all viewpoints are combined by an entropy-weighted geometric mean
(weights ``(H / Hmax) ** -bias``), as in IDyOM. Every viewpoint exists twice: a long-term model
(LTM) trained on the corpus, and a short-term model (STM) trained on the piece so far (from its
16th symbol on; not for ``crd``), which rewards a melody for repeating its own motifs. The STM is
on by default, except for ``max_order <= 1`` so that ``max_order=1`` is a plain first-order
Markov model.

The shipped settings were chosen on a validation split carved out of the training pieces (the
held-out pieces were not looked at): ``bias = 0`` (the plain geometric mean; ``bias = 1`` cost
0.3 bits/note of pitch with the STM, ``bias = 2`` more), order 5, the STM from 16 symbols, and
contexts of order >= 3 seen only once dropped (0.003 bits/note, 40 % fewer contexts).

The trained counts ship as ``overture/models/melody_model.npz``; :meth:`MelodyModel.load`
reads them once per process.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from overture.learn import MODELS_DIR
from overture.theory import Key

MODEL_FILE = "melody_model.npz"
VERSION = "melody-ppm-1"
DEFAULT_MAX_ORDER = 5
DEFAULT_BIAS = 0.0
STM_MIN_HISTORY = 16  # symbols of the piece so far before the short-term model joins in
INTERVAL_CLIP = 12
N_INT = 2 * INTERVAL_CLIP + 1
DURATION_CLASSES: tuple[float, ...] = (
    0.125,
    1 / 6,
    0.25,
    1 / 3,
    0.375,
    0.5,
    2 / 3,
    0.75,
    1.0,
    4 / 3,
    1.5,
    2.0,
    3.0,
    4.0,
    6.0,
    8.0,
)
RATIO_CLIP = 36  # twelfths of an octave: 3 octaves either way
N_RATIO = 2 * RATIO_CLIP + 1

PITCH_VIEWPOINTS = ("int", "deg", "degint", "crd")
DURATION_VIEWPOINTS = ("dur", "dratio")
ALPHABET = {
    "int": N_INT,
    "deg": 24,
    "degint": 24 * N_INT,
    "crd": 12,
    "dur": len(DURATION_CLASSES),
    "dratio": N_RATIO,
}
_LOG_CLASSES = np.log2(np.asarray(DURATION_CLASSES))
_CLASS_EDGES = (_LOG_CLASSES[1:] + _LOG_CLASSES[:-1]) / 2


# --------------------------------------------------------------------------------------------
# Viewpoints


def duration_class(durations: Sequence[float] | np.ndarray) -> np.ndarray:
    """Index of the nearest duration class (in log time) of each duration."""
    d = np.maximum(np.asarray(durations, dtype=np.float64), 1e-6)
    return np.searchsorted(_CLASS_EDGES, np.log2(d)).astype(np.int64)


def _ratio_symbols(prev: float, durations: np.ndarray) -> np.ndarray:
    r = np.rint(12 * np.log2(np.maximum(durations, 1e-6) / max(prev, 1e-6))).astype(np.int64)
    return np.clip(r, -RATIO_CLIP, RATIO_CLIP) + RATIO_CLIP


def pitch_symbols(
    viewpoint: str,
    pitches: np.ndarray,
    tonic: int,
    minor: bool,
    chord_roots: np.ndarray | None = None,
) -> np.ndarray:
    """The symbol sequence of a pitch viewpoint (``int`` and ``degint`` start at the 2nd note;
    ``crd`` is -1 where the chord root is unknown)."""
    p = pitches.astype(np.int64)
    if viewpoint == "deg":
        return (p - tonic) % 12 + 12 * int(minor)
    iv = np.clip(np.diff(p), -INTERVAL_CLIP, INTERVAL_CLIP) + INTERVAL_CLIP
    if viewpoint == "int":
        return iv
    if viewpoint == "degint":
        return ((p[1:] - tonic) % 12 + 12 * int(minor)) * N_INT + iv
    if viewpoint == "crd":
        if chord_roots is None:
            return np.full(len(p), -1, dtype=np.int64)
        roots = chord_roots.astype(np.int64)
        return np.where(roots >= 0, (p - roots) % 12, -1)
    raise ValueError(viewpoint)


def duration_symbols(viewpoint: str, durations: np.ndarray) -> np.ndarray:
    """The symbol sequence of a duration viewpoint (``dratio`` starts at the 2nd note)."""
    d = np.asarray(durations, dtype=np.float64)
    if viewpoint == "dur":
        return duration_class(d)
    if viewpoint == "dratio":
        if len(d) < 2:
            return np.zeros(0, dtype=np.int64)
        r = np.rint(12 * np.log2(np.maximum(d[1:], 1e-6) / np.maximum(d[:-1], 1e-6)))
        return np.clip(r.astype(np.int64), -RATIO_CLIP, RATIO_CLIP) + RATIO_CLIP
    raise ValueError(viewpoint)


# --------------------------------------------------------------------------------------------
# PPM tables


@dataclass(slots=True)
class _Order:
    ctx: np.ndarray  # uint64, sorted context codes
    ptr: np.ndarray  # int64 [len(ctx) + 1] into sym/cnt
    sym: np.ndarray  # int64 next symbols
    cnt: np.ndarray  # float64 counts
    tot: np.ndarray  # float64 total count per context
    index: dict[int, int] | None = None  # context code -> row, built on first use
    bounds: list[int] | None = None  # ptr as a list, built on first use


class PPMTable:
    """Counts of (context, next symbol) for orders 0..N of one viewpoint.

    Contexts are coded as integers, the most recent symbol least significant:
    ``code = sum((s[-j] + 1) * (A + 1) ** (j - 1))`` for an alphabet of size ``A``.
    """

    def __init__(self, alphabet: int, orders: list[_Order]) -> None:
        self.alphabet = alphabet
        self.orders = orders
        self.base = alphabet + 1

    @property
    def max_order(self) -> int:
        return len(self.orders) - 1

    @classmethod
    def train(
        cls,
        sequences: Sequence[np.ndarray],
        alphabet: int,
        max_order: int,
        *,
        min_count: int = 1,
        prune_from: int = 3,
    ) -> PPMTable:
        """Count every context of length 0..max_order in ``sequences`` (symbols < 0 break it).

        Contexts of order >= ``prune_from`` seen fewer than ``min_count`` times are dropped (the
        model then backs off to the next lower order there), to keep the artifact small.
        """
        base = alphabet + 1
        if base**max_order * alphabet >= 2**63:
            raise ValueError("context codes would overflow: lower the order")
        seqs = [np.asarray(s, dtype=np.int64) for s in sequences if len(s)]
        if seqs:
            h = np.concatenate([np.concatenate([[-1], s]) for s in seqs])
        else:
            h = np.full(1, -1, dtype=np.int64)
        valid_next = h >= 0
        orders: list[_Order] = []
        code = np.zeros(len(h), dtype=np.int64)  # context code ending just before each position
        ok = valid_next.copy()  # context of the current order is fully defined
        for k in range(max_order + 1):
            if k > 0:
                prev = np.empty_like(h)
                prev[:k] = -1
                prev[k:] = h[:-k]
                ok &= prev >= 0
                code = code + np.where(prev >= 0, prev + 1, 0) * base ** (k - 1)
            keys = code[ok] * alphabet + h[ok]
            uniq, counts = np.unique(keys, return_counts=True)
            ctx_all = uniq // alphabet
            sym = uniq % alphabet
            ctx, starts = np.unique(ctx_all, return_index=True)
            tot = np.add.reduceat(counts, starts) if len(starts) else np.zeros(0, np.int64)
            if k >= prune_from and min_count > 1 and len(ctx):
                keep_ctx = tot >= min_count
                row_of = np.repeat(np.arange(len(ctx)), np.diff(np.append(starts, len(uniq))))
                keep = keep_ctx[row_of]
                return_sym, return_cnt = sym[keep], counts[keep]
                ctx = ctx[keep_ctx]
                tot = tot[keep_ctx]
                lengths = np.diff(np.append(starts, len(uniq)))[keep_ctx]
                sym, counts = return_sym, return_cnt
            else:
                lengths = np.diff(np.append(starts, len(uniq)))
            ptr = np.zeros(len(ctx) + 1, dtype=np.int64)
            ptr[1:] = np.cumsum(lengths)
            orders.append(
                _Order(
                    ctx=ctx.astype(np.uint64),
                    ptr=ptr,
                    sym=sym.astype(np.int64),
                    cnt=counts.astype(np.float64),
                    tot=tot.astype(np.float64),
                )
            )
        return cls(alphabet, orders)

    # -- storage ----------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Compact arrays: context codes as deltas, symbols as uint16, counts as uint32."""
        out: dict[str, np.ndarray] = {}
        for k, o in enumerate(self.orders):
            p = f"{prefix}/{k}/"
            ctx = o.ctx.astype(np.uint64)
            out[p + "ctx"] = np.diff(ctx, prepend=np.uint64(0)).astype(np.uint64)
            out[p + "len"] = np.diff(o.ptr).astype(np.uint16 if len(o.ptr) < 2 else np.uint32)
            out[p + "sym"] = o.sym.astype(np.uint16)
            out[p + "cnt"] = o.cnt.astype(np.uint32)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, alphabet: int, n: int):
        orders = []
        for k in range(n + 1):
            p = f"{prefix}/{k}/"
            ctx = np.cumsum(arrays[p + "ctx"].astype(np.uint64), dtype=np.uint64)
            lengths = arrays[p + "len"].astype(np.int64)
            ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
            ptr[1:] = np.cumsum(lengths)
            cnt = arrays[p + "cnt"].astype(np.float64)
            tot = np.add.reduceat(cnt, ptr[:-1]) if len(lengths) else np.zeros(0)
            orders.append(_Order(ctx, ptr, arrays[p + "sym"].astype(np.int64), cnt, tot))
        return cls(alphabet, orders)

    # -- prediction -------------------------------------------------------------------------

    def blend(self, history: Sequence[int], targets: np.ndarray, max_order: int) -> np.ndarray:
        """PPM probabilities of the ``targets`` symbols after ``history`` (escape method C).

        Orders 0..``max_order`` are blended bottom-up over a uniform order -1: row ``k`` of the
        result is the estimate using contexts up to length ``k`` (higher orders whose context was
        never seen repeat the row below), shape ``(max_order + 1, len(targets))``.
        """
        rows = np.empty((max_order + 1, len(targets)))
        p = np.full(len(targets), 1.0 / self.alphabet)
        top = min(max_order, self.max_order, len(history))
        code = 0
        k = 0
        while k <= top:
            if k > 0:
                s = int(history[-k])
                if s < 0:
                    break
                code += (s + 1) * self.base ** (k - 1)
            o = self.orders[k]
            if o.index is None:
                o.index = dict(zip(o.ctx.tolist(), range(len(o.ctx)), strict=True))
                o.bounds = o.ptr.tolist()
            i = o.index.get(code)
            if i is None:
                break
            a, b = o.bounds[i], o.bounds[i + 1]
            dense = np.zeros(self.alphabet)
            dense[o.sym[a:b]] = o.cnt[a:b]
            n, t = o.tot[i], b - a
            p = dense[targets] / (n + t) + (t / (n + t)) * p
            rows[k] = p
            k += 1
        rows[k:] = p
        return rows


def _short_term(seq: np.ndarray, targets: np.ndarray, alphabet: int, max_order: int) -> np.ndarray:
    """The STM: PPM (escape C, orders 0..``max_order``) trained on the piece so far, ``seq``."""
    n = len(seq)
    p = np.full(len(targets), 1.0 / alphabet)
    if n == 0:
        return p
    mask = seq >= 0
    for k in range(min(max_order, n - 1) + 1):
        if k > 0:
            s = seq[n - k]
            if s < 0:
                break
            mask[k:] &= seq[: n - k] == s
            mask[:k] = False
        nxt = seq[mask]
        if len(nxt) == 0:
            break
        counts = np.bincount(nxt, minlength=alphabet)
        total = float(len(nxt))
        types = float(np.count_nonzero(counts))
        p = counts[targets] / (total + types) + (types / (total + types)) * p
    return p


# --------------------------------------------------------------------------------------------
# Combination


def _spread(p_sym: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Symbol probabilities -> candidate probabilities (last axis): each candidate's symbol
    probability divided by ``share``, the number of candidates with that symbol, renormalised."""
    q = p_sym / share
    return q / q.sum(axis=-1, keepdims=True)


def _share(targets: np.ndarray, alphabet: int) -> np.ndarray:
    return np.bincount(targets, minlength=alphabet)[targets].astype(np.float64)


def combine(dists: np.ndarray | Sequence[np.ndarray], bias: float = DEFAULT_BIAS) -> np.ndarray:
    """Entropy-weighted geometric mean of distributions over the same candidates (IDyOM):
    each viewpoint's weight is ``(H / Hmax) ** -bias``, so with ``bias > 0`` confident
    viewpoints count more, and ``bias = 0`` is the plain geometric mean.

    ``dists`` has shape ``(..., viewpoints, candidates)``; the result ``(..., candidates)``.
    """
    d = np.maximum(np.asarray(dists, dtype=np.float64), 1e-12)
    if d.shape[-2] == 1:
        return d[..., 0, :] / d[..., 0, :].sum(axis=-1, keepdims=True)
    logs = np.log(d)
    if bias == 0:
        z = logs.mean(axis=-2)
    else:
        n = d.shape[-1]
        hmax = math.log2(n) if n > 1 else 1.0
        h = -(d * logs).sum(axis=-1) / math.log(2) / hmax
        w = np.maximum(h, 1e-3) ** -bias
        z = (logs * w[..., None]).sum(axis=-2) / w.sum(axis=-1, keepdims=True)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------------
# The model


class MelodyModel:
    """Long-term (corpus) and short-term (piece) PPM models over pitch and duration viewpoints.

    Probabilities come back as numpy arrays aligned with the ``candidates`` passed in.
    """

    version: str = VERSION

    def __init__(
        self,
        tables: dict[str, PPMTable],
        *,
        max_order: int = DEFAULT_MAX_ORDER,
        bias: float = DEFAULT_BIAS,
        pitch_range: tuple[int, int] = (48, 96),
        meta: dict | None = None,
    ) -> None:
        self.tables = tables
        self.max_order = max_order
        self.bias = bias
        self.pitch_range = pitch_range
        self.meta = dict(meta or {})
        self.version = self.meta.get("version", VERSION)

    # -- training and storage ---------------------------------------------------------------

    @classmethod
    def train(
        cls,
        melodies: Sequence,
        *,
        max_order: int = DEFAULT_MAX_ORDER,
        bias: float = DEFAULT_BIAS,
        min_count: int = 2,
        prune_from: int = 3,
    ) -> MelodyModel:
        """Count the viewpoint sequences of ``melodies`` (:class:`~overture.learn.corpus.Melody`
        objects). ``crd`` learns from the melodies that carry chord symbols."""
        from overture.learn.corpus import chord_symbol_root

        seqs: dict[str, list[np.ndarray]] = {v: [] for v in (*PITCH_VIEWPOINTS, "dur", "dratio")}
        lo, hi = 127, 0
        for m in melodies:
            p = np.asarray(m.pitches, dtype=np.int64)
            lo, hi = min(lo, int(p.min())), max(hi, int(p.max()))
            minor = m.mode == "minor"
            for v in ("int", "deg", "degint"):
                seqs[v].append(pitch_symbols(v, p, m.tonic, minor))
            if m.chords:
                roots = np.asarray(
                    [r if (r := chord_symbol_root(c)) is not None else -1 for c in m.chords]
                )
                seqs["crd"].append(pitch_symbols("crd", p, m.tonic, minor, roots))
            d = np.asarray(m.durations, dtype=np.float64)
            seqs["dur"].append(duration_symbols("dur", d))
            seqs["dratio"].append(duration_symbols("dratio", d))
        tables = {
            v: PPMTable.train(
                seqs[v], ALPHABET[v], max_order, min_count=min_count, prune_from=prune_from
            )
            for v in seqs
        }
        meta = {
            "version": VERSION,
            "max_order": max_order,
            "bias": bias,
            "pitch_range": [lo, hi],
            "min_count": min_count,
            "prune_from": prune_from,
            "melodies": len(melodies),
            "with_chords": len(seqs["crd"]),
        }
        return cls(tables, max_order=max_order, bias=bias, pitch_range=(lo, hi), meta=meta)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for v, t in self.tables.items():
            arrays.update(t.to_arrays(v))
        meta = json.dumps(self.meta, sort_keys=True)
        arrays["meta"] = np.frombuffer(meta.encode(), dtype=np.uint8)
        return arrays

    def save(self, path: Path) -> None:
        from overture.learn.corpus import write_npz

        write_npz(Path(path), self.to_arrays())

    @classmethod
    def from_file(cls, path: Path) -> MelodyModel:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays["meta"].tobytes().decode())
        n = int(meta["max_order"])
        tables = {
            v: PPMTable.from_arrays(arrays, v, ALPHABET[v], n)
            for v in (*PITCH_VIEWPOINTS, *DURATION_VIEWPOINTS)
        }
        return cls(
            tables,
            max_order=n,
            bias=float(meta["bias"]),
            pitch_range=tuple(meta["pitch_range"]),
            meta=meta,
        )

    @classmethod
    def load(cls, path: Path | None = None) -> MelodyModel:
        """The shipped model (or the one at ``path``), read once per process."""
        p = Path(path) if path is not None else MODELS_DIR / MODEL_FILE
        return _load_cached(p.resolve())

    # -- prediction -------------------------------------------------------------------------

    def _order(self, max_order: int | None) -> int:
        return self.max_order if max_order is None else max(0, min(int(max_order), 64))

    def _use_stm(self, order: int, short_term: bool | None) -> bool:
        return order >= 2 if short_term is None else bool(short_term)

    def _views(
        self,
        views: list[tuple[str, np.ndarray, np.ndarray]],
        order: int,
        short_term: bool,
    ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """For each (viewpoint, history symbols, candidate symbols): the LTM distributions over
        the candidates for maximum orders 0..``order`` (rows), and the STM one (``None`` when
        off, or before the piece has ``STM_MIN_HISTORY`` symbols; never for ``crd``)."""
        out = []
        for name, hist, targets in views:
            table = self.tables[name]
            share = _share(targets, table.alphabet)
            ltm = _spread(table.blend(hist, targets, order), share)
            stm = None
            if short_term and name != "crd" and len(hist) >= STM_MIN_HISTORY:
                stm = _spread(_short_term(hist, targets, table.alphabet, order), share)
            out.append((ltm, stm))
        return out

    def _pitch_views(
        self,
        pitches: np.ndarray,
        cands: np.ndarray,
        tonic: int,
        minor: bool,
        chord_root: int | None,
        history_roots: np.ndarray | None,
        order: int,
        short_term: bool,
    ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        n = len(pitches)
        deg_c = (cands - tonic) % 12 + 12 * int(minor)
        views: list[tuple[str, np.ndarray, np.ndarray]] = [
            ("deg", pitch_symbols("deg", pitches, tonic, minor), deg_c)
        ]
        if n:
            iv_c = np.clip(cands - pitches[-1], -INTERVAL_CLIP, INTERVAL_CLIP) + INTERVAL_CLIP
            views.append(("int", pitch_symbols("int", pitches, tonic, minor), iv_c))
            views.append(
                ("degint", pitch_symbols("degint", pitches, tonic, minor), deg_c * N_INT + iv_c)
            )
        if chord_root is not None:
            roots = history_roots if history_roots is not None else np.full(n, -1)
            hist = pitch_symbols("crd", pitches, tonic, minor, roots)
            views.append(("crd", hist, (cands - chord_root) % 12))
        return self._views(views, order, short_term)

    def _duration_views(
        self, d: np.ndarray, cands: np.ndarray, order: int, short_term: bool
    ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        views = [("dur", duration_symbols("dur", d), duration_class(cands))]
        if len(d):
            views.append(("dratio", duration_symbols("dratio", d), _ratio_symbols(d[-1], cands)))
        return self._views(views, order, short_term)

    def _combine_top(self, pairs: list[tuple[np.ndarray, np.ndarray | None]]) -> np.ndarray:
        dists = [ltm[-1] for ltm, _ in pairs] + [stm for _, stm in pairs if stm is not None]
        return combine(np.stack(dists), self.bias)

    def pitch_distribution(
        self,
        pitches: Sequence[int],
        durations: Sequence[float],
        *,
        tonic: int,
        mode: str,
        candidates: Sequence[int],
        chord_root: int | None = None,
        max_order: int | None = None,
        history_chord_roots: Sequence[int | None] | None = None,
        short_term: bool | None = None,
    ) -> np.ndarray:
        """Probabilities (summing to 1) of each of ``candidates`` (MIDI) as the next pitch.

        ``pitches``/``durations`` are the melody so far (pitch is predicted from the pitch
        viewpoints; durations are accepted for symmetry). ``chord_root`` (pitch class) switches
        on the chord-relative viewpoint; ``history_chord_roots`` (the roots under the notes so
        far) gives it context. ``max_order`` caps the Markov order (``None``: the trained
        maximum; 0: no context). ``short_term`` (default: on unless ``max_order <= 1``) adds
        the model of the piece so far.
        """
        cands = np.asarray(candidates, dtype=np.int64)
        if len(cands) == 0:
            return np.zeros(0)
        order = self._order(max_order)
        p = np.asarray(pitches, dtype=np.int64)
        pairs = self._pitch_views(
            p,
            cands,
            tonic % 12,
            mode == "minor",
            None if chord_root is None else int(chord_root) % 12,
            _roots_array(history_chord_roots, len(p)),
            order,
            self._use_stm(order, short_term),
        )
        return self._combine_top(pairs)

    def duration_distribution(
        self,
        durations: Sequence[float],
        *,
        candidates: Sequence[float],
        max_order: int | None = None,
        short_term: bool | None = None,
    ) -> np.ndarray:
        """Probabilities (summing to 1) of each of ``candidates`` (quarter notes) as the next
        duration after ``durations``. Candidates in the same duration class share its mass."""
        cands = np.asarray(candidates, dtype=np.float64)
        if len(cands) == 0:
            return np.zeros(0)
        order = self._order(max_order)
        d = np.asarray(durations, dtype=np.float64)
        pairs = self._duration_views(d, cands, order, self._use_stm(order, short_term))
        return self._combine_top(pairs)

    def pitch_candidates(self, pitches: Sequence[int]) -> np.ndarray:
        """The pitch alphabet used to score melodies: the corpus range, widened to ``pitches``."""
        lo, hi = self.pitch_range
        if len(pitches):
            lo, hi = min(lo, min(pitches)), max(hi, max(pitches))
        return np.arange(lo, hi + 1)

    def score(
        self,
        pitches: Sequence[int],
        durations: Sequence[float],
        *,
        tonic: int,
        mode: str,
        chord_roots: Sequence[int | None] | None = None,
        max_order: int | None = None,
        short_term: bool = True,
    ) -> dict[str, np.ndarray]:
        """Information content (bits) of every note given the notes before it, in one pass.

        Returns ``ltm_pitch``/``ltm_duration`` of shape ``(order + 1, n)``: the corpus model
        alone with maximum orders 0..``order`` (row k), and ``pitch``/``duration`` of shape
        ``(n,)``: the model at ``order`` with the short-term model when ``short_term``. Pitch is
        scored against :meth:`pitch_candidates`; a duration against the duration classes plus
        itself. ``chord_roots`` (per note, ``None`` where unknown) feed the chord viewpoint.
        """
        p = np.asarray(pitches, dtype=np.int64)
        d = np.asarray(durations, dtype=np.float64)
        n = len(p)
        order = self._order(max_order)
        cands = self.pitch_candidates(p.tolist())
        roots = _roots_array(chord_roots, n)
        tonic %= 12
        minor = mode == "minor"
        dur_base = np.asarray(DURATION_CLASSES)
        out = {
            "ltm_pitch": np.zeros((order + 1, n)),
            "ltm_duration": np.zeros((order + 1, n)),
            "pitch": np.zeros(n),
            "duration": np.zeros(n),
        }
        targets = np.searchsorted(cands, p)
        for i in range(n):
            root = int(roots[i]) if roots is not None and roots[i] >= 0 else None
            hist_roots = roots[:i] if roots is not None else None
            pairs = self._pitch_views(
                p[:i], cands, tonic, minor, root, hist_roots, order, short_term
            )
            self._score_note(pairs, int(targets[i]), i, out, "ltm_pitch", "pitch")
            dcands = np.append(dur_base, d[i])
            pairs = self._duration_views(d[:i], dcands, order, short_term)
            self._score_note(pairs, len(dcands) - 1, i, out, "ltm_duration", "duration")
        return out

    def _score_note(
        self,
        pairs: list[tuple[np.ndarray, np.ndarray | None]],
        target: int,
        i: int,
        out: dict[str, np.ndarray],
        ltm_key: str,
        key: str,
    ) -> None:
        ltm = np.stack([lt for lt, _ in pairs], axis=1)  # (orders, viewpoints, candidates)
        probs = combine(ltm, self.bias)[:, target]
        out[ltm_key][:, i] = -np.log2(np.maximum(probs, 1e-300))
        stms = [st for _, st in pairs if st is not None]
        if stms:
            top = combine(np.concatenate([ltm[-1], np.stack(stms)]), self.bias)[target]
            out[key][i] = -math.log2(max(top, 1e-300))
        else:
            out[key][i] = out[ltm_key][-1, i]

    def information_content(
        self,
        pitches: Sequence[int],
        durations: Sequence[float],
        *,
        tonic: int,
        mode: str,
        chord_roots: Sequence[int | None] | None = None,
        max_order: int | None = None,
        part: str = "joint",
        short_term: bool | None = None,
    ) -> np.ndarray:
        """Information content in bits of each note given the notes before it.

        ``part="joint"`` (default): pitch plus duration bits (two separate models, so the joint
        probability is their product); ``"pitch"`` or ``"duration"``: one of them. Pitches are
        scored against :meth:`pitch_candidates` (the corpus range), durations against the
        duration classes plus the actual duration. ``chord_roots``: per note, ``None`` where
        unknown. ``max_order``/``short_term`` as for :meth:`pitch_distribution`.
        """
        if part not in {"joint", "pitch", "duration"}:
            raise ValueError(f"part must be joint, pitch or duration, not {part!r}")
        order = self._order(max_order)
        res = self.score(
            pitches,
            durations,
            tonic=tonic,
            mode=mode,
            chord_roots=chord_roots,
            max_order=order,
            short_term=self._use_stm(order, short_term),
        )
        if part == "pitch":
            return res["pitch"]
        if part == "duration":
            return res["duration"]
        return res["pitch"] + res["duration"]

    def mean_ic(
        self,
        pitches: Sequence[int],
        durations: Sequence[float],
        *,
        tonic: int,
        mode: str,
        chord_roots: Sequence[int | None] | None = None,
        part: str = "joint",
    ) -> float:
        """Mean information content (bits per note) of a line's notes in the key's scale
        (minor with its raised sixth and seventh): the figure a draft is judged by.

        Every note is predicted in context, but only the diatonic notes are averaged. The
        corpus the model learned from is folk song, which hardly uses chromatic notes, so it
        finds a blue third or a chromatic approach "surprising" where a blues or jazz tune
        simply has its colour; whether such a note is justified is the theory critic's
        question (passing, approach, neighbour or chord tone), not the corpus model's. A line
        with fewer than two diatonic notes is averaged whole. NaN for fewer than two notes.
        ``part`` as for :meth:`information_content`."""
        if len(pitches) < 2:
            return math.nan
        ic = self.information_content(
            pitches, durations, tonic=tonic, mode=mode, chord_roots=chord_roots, part=part
        )
        scale = Key(tonic, mode).scale_tones
        keep = np.array([p % 12 in scale for p in pitches], bool)
        return float(ic[keep].mean() if keep.sum() >= 2 else ic.mean())

    def generate(
        self,
        n_notes: int,
        *,
        tonic: int,
        mode: str,
        rng: random.Random,
        low: int = 60,
        high: int = 84,
        max_order: int | None = None,
        durations: Sequence[float] | None = None,
    ) -> tuple[list[int], list[float]]:
        """Sample a melody of ``n_notes`` (pitches, durations in quarter notes) note by note.

        ``max_order=1`` gives a first-order Markov melody (no short-term model): a baseline.
        Durations are drawn from the duration classes up to 4 quarter notes unless
        ``durations`` fixes the rhythm (cycled).
        """
        cands = np.arange(low, high + 1)
        dur_cands = np.asarray([c for c in DURATION_CLASSES if c <= 4.0])
        ps: list[int] = []
        ds: list[float] = []
        for i in range(n_notes):
            if durations is not None:
                dur = float(durations[i % len(durations)])
            else:
                dp = self.duration_distribution(ds, candidates=dur_cands, max_order=max_order)
                dur = float(dur_cands[_draw(dp, rng)])
            pp = self.pitch_distribution(
                ps, ds, tonic=tonic, mode=mode, candidates=cands, max_order=max_order
            )
            ps.append(int(cands[_draw(pp, rng)]))
            ds.append(dur)
        return ps, ds


def _roots_array(roots: Sequence[int | None] | None, n: int) -> np.ndarray | None:
    if roots is None:
        return None
    out = np.full(n, -1, dtype=np.int64)
    for i, r in enumerate(list(roots)[:n]):
        if r is not None:
            out[i] = int(r) % 12
    return out


def _draw(p: np.ndarray, rng: random.Random) -> int:
    u = rng.random()
    c = np.cumsum(p)
    return int(min(np.searchsorted(c, u * c[-1], side="right"), len(p) - 1))


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> MelodyModel:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `overture train` to build it")
    return MelodyModel.from_file(path)
