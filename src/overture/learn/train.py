"""Extract the corpus, train the models and write the artifacts (``overture train``).

Artifacts (all byte-reproducible for a given seed and music21 version):

* ``melodies.npz``: every extracted melody with its split flag (:mod:`overture.learn.corpus`);
* ``melody_model.npz``: the melody model's counts (:mod:`overture.learn.melody_model`);
* ``harmony_model.json.gz``: the harmony model (:mod:`overture.learn.harmony_model`);
* ``manifest.json``: versions, seed, corpus counts per source and split, and held-out scores:
  the melody model's cross-entropy in bits per note (pitch and duration, per maximum order) and
  the harmony model's log-loss in bits per chord.

Held-out pieces (``split_of(id, seed) == "heldout"``) are never used to train either model.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import platform
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from overture.learn import MODELS_DIR
from overture.learn.corpus import (
    MELODIES_FILE,
    SOURCES,
    ChoraleHarmony,
    Corpus,
    Melody,
    Progress,
    chord_symbol_root,
    extract_corpus,
    save_melodies,
    split_of,
)
from overture.learn.harmony_model import MODEL_FILE as HARMONY_FILE
from overture.learn.harmony_model import HarmonyModel
from overture.learn.melody_model import DEFAULT_MAX_ORDER, MelodyModel
from overture.learn.melody_model import MODEL_FILE as MELODY_FILE

MANIFEST_FILE = "manifest.json"


def _round(x: float, places: int = 4) -> float:
    return float(round(x, places))


def _score_piece(model: MelodyModel, m: Melody, order: int) -> dict[str, np.ndarray]:
    roots = [chord_symbol_root(c) for c in m.chords] if m.chords else None
    return model.score(
        m.pitches, m.durations, tonic=m.tonic, mode=m.mode, chord_roots=roots, max_order=order
    )


def _score_chunk(args: tuple[str, list[Melody], int]) -> list[dict[str, np.ndarray]]:
    path, melodies, order = args
    model = MelodyModel.from_file(Path(path))
    return [_score_piece(model, m, order) for m in melodies]


def evaluate_melody_model(
    model: MelodyModel,
    melodies: Sequence[Melody],
    *,
    max_order: int | None = None,
    workers: int = 1,
    model_path: Path | None = None,
    progress: Progress | None = None,
) -> dict:
    """Cross-entropy (mean information content, bits per note) on ``melodies``.

    ``ltm_by_order``: the corpus model alone with maximum orders 0..N, pitch and duration
    separately; ``full``: the model as the composer uses it (order N plus the short-term model),
    pitch, duration and joint. Pitch is scored over the corpus pitch range; chord roots are used
    where a melody carries chords. With ``workers > 1`` and ``model_path`` (the saved model),
    pieces are scored on that many processes (same result).
    """
    order = model.max_order if max_order is None else max_order
    results: list[dict[str, np.ndarray]] = []
    if workers > 1 and model_path is not None and len(melodies) >= 2 * workers:
        chunks = [list(melodies[i::workers]) for i in range(workers)]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers) as pool:
            parts = pool.map(_score_chunk, [(str(model_path), c, order) for c in chunks])
        by_chunk = [iter(p) for p in parts]
        results = [next(by_chunk[i % workers]) for i in range(len(melodies))]
    else:
        for n, m in enumerate(melodies):
            results.append(_score_piece(model, m, order))
            if progress is not None and n % 20 == 0:
                progress("scoring held-out melodies", (n + 1) / max(1, len(melodies)))

    def mean(key: str, row: int | None = None) -> float:
        if not results:
            return math.nan
        parts = [r[key] if row is None else r[key][row] for r in results]
        return _round(float(np.concatenate(parts).mean()))

    pitch, duration = mean("pitch"), mean("duration")
    return {
        "pieces": len(melodies),
        "notes": int(sum(len(r["pitch"]) for r in results)),
        "ltm_by_order": {
            str(k): {"pitch": mean("ltm_pitch", k), "duration": mean("ltm_duration", k)}
            for k in range(order + 1)
        },
        "full": {
            "order": order,
            "short_term": True,
            "pitch": pitch,
            "duration": duration,
            "joint": _round(pitch + duration),
        },
    }


def evaluate_chord_viewpoint(model: MelodyModel, melodies: Sequence[Melody]) -> dict:
    """Pitch cross-entropy (bits per note) of the melodies that carry chords, scored with and
    without their chord roots: what the chord-relative viewpoint is worth."""
    chorded = [m for m in melodies if m.chords]
    with_chords, without = [], []
    for m in chorded:
        roots = [chord_symbol_root(c) for c in m.chords]
        kw = {"tonic": m.tonic, "mode": m.mode, "part": "pitch"}
        with_chords.append(
            model.information_content(m.pitches, m.durations, chord_roots=roots, **kw)
        )
        without.append(model.information_content(m.pitches, m.durations, **kw))
    if not chorded:
        return {"pieces": 0}
    return {
        "pieces": len(chorded),
        "pitch_with_chords": _round(float(np.concatenate(with_chords).mean())),
        "pitch_without_chords": _round(float(np.concatenate(without).mean())),
    }


def evaluate_harmony_model(model: HarmonyModel, chorales: Sequence[ChoraleHarmony]) -> dict:
    """Log-loss (bits per chord, counting each phrase's end) on ``chorales``' phrases, for the
    model at maximum orders 0..N (``by_order``) and as shipped (``bits_per_chord``)."""
    by_order = {}
    symbols = sum(len(p) + 1 for c in chorales for p in c.phrases)
    for k in range(model.max_order + 1):
        bits = 0.0
        for c in chorales:
            for phrase in c.phrases:
                bits -= model.log_prob(phrase, c.mode, complete=True, max_order=k)
        by_order[str(k)] = _round(bits / symbols) if symbols else math.nan
    return {
        "chorales": len(chorales),
        "phrases": sum(len(c.phrases) for c in chorales),
        "symbols": symbols,
        "by_order": by_order,
        "bits_per_chord": by_order[str(model.max_order)],
    }


def _spread_subset(items: Sequence, limit: int) -> list:
    """At most ``limit`` items, evenly spaced (deterministic)."""
    if len(items) <= limit:
        return list(items)
    idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in sorted(set(idx.tolist()))]


def train_from_corpus(
    corpus: Corpus,
    out_dir: Path | None = None,
    *,
    seed: int = 0,
    max_order: int = DEFAULT_MAX_ORDER,
    eval_max_pieces: int | None = None,
    workers: int = 2,
    progress: Progress | None = None,
) -> dict:
    """Train on an extracted corpus and write the artifacts; returns the manifest.

    The melody model is scored on all held-out melodies, or an evenly spread
    ``eval_max_pieces`` of them."""
    out = Path(out_dir) if out_dir is not None else MODELS_DIR
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    melodies = corpus.melodies
    train_m = [m for m in melodies if split_of(m.id, seed) == "train"]
    held_m = [m for m in melodies if split_of(m.id, seed) == "heldout"]
    train_c = [c for c in corpus.chorales if split_of(c.id, seed) == "train"]
    held_c = [c for c in corpus.chorales if split_of(c.id, seed) == "heldout"]

    save_melodies(out / MELODIES_FILE, melodies, seed=seed)
    if progress is not None:
        progress("training melody model", 0.0)
    melody_model = MelodyModel.train(train_m, max_order=max_order)
    melody_model.save(out / MELODY_FILE)
    phrases: dict[str, list[tuple[str, ...]]] = {"major": [], "minor": []}
    for c in train_c:
        phrases[c.mode].extend(c.phrases)
    harmony_model = HarmonyModel.train(phrases)
    harmony_model.save(out / HARMONY_FILE)
    t_train = time.perf_counter() - t0

    # Score the models as shipped (read back from disk).
    melody_model = MelodyModel.from_file(out / MELODY_FILE)
    harmony_model = HarmonyModel.from_file(out / HARMONY_FILE)
    t1 = time.perf_counter()
    melody_eval = evaluate_melody_model(
        melody_model,
        _spread_subset(held_m, eval_max_pieces) if eval_max_pieces else held_m,
        workers=workers,
        model_path=out / MELODY_FILE,
        progress=progress,
    )
    melody_eval["chord_viewpoint"] = evaluate_chord_viewpoint(melody_model, held_m)
    harmony_eval = evaluate_harmony_model(harmony_model, held_c)
    t_eval = time.perf_counter() - t1

    counts: dict[str, dict[str, int]] = {}
    for s in SOURCES:
        c = Counter(split_of(m.id, seed) for m in melodies if m.source == s)
        counts[s] = {"train": c["train"], "heldout": c["heldout"]}
    manifest = {
        "format": 1,
        "seed": seed,
        "models": {
            "melody": {
                "file": MELODY_FILE,
                "version": melody_model.version,
                "max_order": melody_model.max_order,
                "bias": melody_model.bias,
                "trained_on": len(train_m),
            },
            "harmony": {
                "file": HARMONY_FILE,
                "version": harmony_model.version,
                "max_order": harmony_model.max_order,
                "vocab": harmony_model.vocab,
                "trained_on_chorales": len(train_c),
            },
        },
        "corpus": {
            "file": MELODIES_FILE,
            "pieces_parsed": corpus.pieces,
            "skipped": corpus.failures,
            "duplicates_dropped": corpus.duplicates,
            "melodies": len(melodies),
            "notes": int(sum(len(m.pitches) for m in melodies)),
            "with_chords": sum(1 for m in melodies if m.chords),
            "per_source": counts,
            "split": {"train": len(train_m), "heldout": len(held_m)},
            "chorale_harmonies": {"train": len(train_c), "heldout": len(held_c)},
        },
        "heldout": {"melody": melody_eval, "harmony": harmony_eval},
        "music21": _music21_version(),
        "python": platform.python_version(),
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    # Timings are reported to the caller but kept out of the manifest (determinism).
    manifest["timings"] = {
        "extract_s": _round(corpus.seconds, 1),
        "train_s": _round(t_train, 1),
        "evaluate_s": _round(t_eval, 1),
    }
    return manifest


def train(
    out_dir: Path | None = None,
    *,
    seed: int = 0,
    limit: int | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    eval_max_pieces: int | None = None,
) -> dict:
    """Extract music21's corpus (or a ``limit``-piece slice), train both models on the training
    split and write ``melodies.npz``, the two models and ``manifest.json`` into ``out_dir``
    (default: the package's models folder). Returns the manifest, plus ``timings`` (seconds,
    not written to the file)."""
    out = Path(out_dir) if out_dir is not None else MODELS_DIR
    out.mkdir(parents=True, exist_ok=True)  # fail before the slow part if it cannot be written
    corpus = extract_corpus(limit=limit, workers=workers, progress=progress)
    if not corpus.melodies:
        raise RuntimeError("no melody could be extracted from music21's corpus")
    return train_from_corpus(
        corpus,
        out,
        seed=seed,
        eval_max_pieces=eval_max_pieces,
        workers=workers,
        progress=progress,
    )


def _music21_version() -> str:
    import music21

    return str(music21.__version__)
