"""Harmonise a given melody: a chord per bar that fits its notes and moves like real harmony.

Each bar's candidate chords (the key's diatonic triads) are scored by how well they hold the
melody's notes there, weighted by length and metric stress (a chord tone on the downbeat counts
most, a clash on a strong beat costs most), and consecutive chords by the transition
probabilities of the harmony model learned from the chorales. The best path (Viterbi) starts
and ends on the tonic.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from overture.errors import InvalidInputError
from overture.melody_input import ImportedMelody
from overture.score import Note
from overture.theory import Chord, Key, TimeSignature, chord_from_roman

_CANDIDATES = {
    "major": ("I", "ii", "iii", "IV", "V", "vi"),
    "minor": ("i", "III", "iv", "V", "VI", "VII"),
}
_NOISE = 0.35  # the Gumbel noise a variation adds to each bar's fit
_FIT_WEIGHT = 3.0  # melody fit against the chord-transition log-probability (in nats)


def harmonise(
    melody: ImportedMelody,
    sections: Sequence[object],
    key: Key,
    ts: TimeSignature,
    *,
    loop: bool = False,
) -> tuple[Chord, ...]:
    """One chord per bar of the whole song; the melody plays in its verse and chorus sections.

    Intro bars borrow the melody's opening chords; outro bars close on a V-I cadence.
    """
    bpb = ts.beats_per_bar
    mel_bars = max(1, math.ceil(melody.end_beat / bpb - 1e-6))
    chords = melody_chords(melody.notes, mel_bars, key, ts, end_on_tonic=not loop)
    tonic = chord_from_roman("i" if key.mode == "minor" else "I", key)
    dominant = chord_from_roman("V", key)
    out: list[Chord] = []
    for s in sections:
        kind, bars = s.kind, s.bars  # type: ignore[attr-defined]
        if kind == "intro":
            out += [chords[i % len(chords)] for i in range(bars)]
        elif kind == "outro":
            seq = [chords[(len(chords) - bars + i) % len(chords)] for i in range(bars)]
            if not loop:
                if bars >= 2:
                    seq[-2] = dominant
                seq[-1] = tonic
            out += seq
        else:
            out += chords[:bars]
    if loop and out and out[0] == tonic and len(out) >= 2 and out[-1] == tonic:
        out[-1] = dominant
    return tuple(out)


def melody_chords(
    notes: Sequence[Note],
    bars: int,
    key: Key,
    ts: TimeSignature,
    *,
    end_on_tonic: bool = True,
    rng: random.Random | None = None,
) -> list[Chord]:
    """The best chord per bar for ``notes`` (Viterbi over diatonic triads). With ``rng`` each
    bar's fits are perturbed a little (Gumbel noise): another harmonisation that still fits,
    for a variation."""
    from overture.learn.harmony_model import HarmonyModel

    names = _CANDIDATES[key.mode]
    cands = [chord_from_roman(n, key) for n in names]
    fit = _fit_matrix(notes, bars, cands, ts)
    if rng is not None:
        fit = [
            [f - _NOISE * math.log(-math.log(rng.random() or 1e-12)) for f in row] for row in fit
        ]
    trans = _transitions(HarmonyModel.load(), names, cands, key)
    k = len(cands)
    tonic = 0
    score = [fit[0][j] * _FIT_WEIGHT + (1.0 if j == tonic else 0.0) for j in range(k)]
    back: list[list[int]] = []
    for b in range(1, bars):
        nxt, ptr = [], []
        for j in range(k):
            best_i = max(range(k), key=lambda i, j=j: score[i] + trans[i][j])
            nxt.append(score[best_i] + trans[best_i][j] + fit[b][j] * _FIT_WEIGHT)
            ptr.append(best_i)
        score, back = nxt, [*back, ptr]
    if end_on_tonic:
        score[tonic] += 2.0
    j = max(range(k), key=lambda j: score[j])
    path = [j]
    for ptr in reversed(back):
        j = ptr[j]
        path.append(j)
    return [cands[j] for j in reversed(path)]


def _fit_matrix(
    notes: Sequence[Note], bars: int, cands: list[Chord], ts: TimeSignature
) -> list[list[float]]:
    """fit[bar][chord]: length- and stress-weighted share of the bar's melody the chord holds."""
    bpb = ts.beats_per_bar
    pulse = 1.5 if ts.is_compound else 1.0
    sums = [[0.0] * len(cands) for _ in range(bars)]
    weights = [0.0] * bars
    for n in notes:
        bar = int(n.start // bpb + 1e-9)
        if not 0 <= bar < bars:
            continue
        pos = n.start - bar * bpb
        strong = abs(pos) < 1e-6 or abs(pos / pulse - round(pos / pulse)) < 1e-6
        w = min(n.duration, bpb) * (2.0 if abs(pos) < 1e-6 else 1.3 if strong else 1.0)
        weights[bar] += w
        for j, c in enumerate(cands):
            if n.pitch % 12 in c.pitch_classes:
                sums[bar][j] += w
            else:
                sums[bar][j] -= w * (0.8 if strong else 0.25)
    return [[s / weights[b] if weights[b] > 0 else 0.0 for s in sums[b]] for b in range(bars)]


def _transitions(
    model: object, names: Sequence[str], cands: list[Chord], key: Key
) -> list[list[float]]:
    """log P(next chord | chord) from the harmony model, over the candidate triads."""
    out = []
    for a in names:
        dist = model.next_distribution([a], key.mode)  # type: ignore[attr-defined]
        mass = [1e-3] * len(cands)
        for token, p in dist.items():
            try:
                c = chord_from_roman(token, key)
            except InvalidInputError:
                continue
            for j, cand in enumerate(cands):
                if c.root == cand.root and c.is_minor == cand.is_minor:
                    mass[j] += p
        total = sum(mass)
        out.append([math.log(m / total) for m in mass])
    return out
