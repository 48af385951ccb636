"""Benchmark of the audio back end: a synthetic 180 s song rendered with each soundfont.

The score is built in code (no composer needed) to look like a real arrangement: drums, bass,
piano chords with 4-note voicings, a pad and a lead, about 3,000 notes (``--heavy``: 4,000, with
the most expensive presets). Prints the time of every stage, cold (fresh worker processes:
nothing loaded or decoded) and warm (the same workers again), plus the time to write
``song.flac``. Stage times overlap (effects run while other parts are still synthesised, the
stems are encoded while the mix is mastered); ``*_cpu`` are CPU seconds summed over workers,
which other load on the machine does not inflate (wall times it does).

Run: ``.venv/bin/python bench/render.py [--seconds 180] [--workers 2] [--heavy] [--soundfont P]``
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from overture.audio import write_audio
from overture.render import render_song, resolve_soundfont, shutdown_workers
from overture.score import Note, Part, Score
from overture.theory import parse_key, parse_time_signature

SOUNDFONTS = (
    "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
)

# I-V-vi-IV in C, one chord per bar: (root MIDI note of the bass, chord tones above C4).
_PROGRESSION = (
    (36, (60, 64, 67, 72)),  # C
    (43, (59, 62, 67, 71)),  # G
    (45, (60, 64, 69, 72)),  # Am
    (41, (60, 65, 69, 72)),  # F
)
_LEAD_STEPS = (0, 2, 4, 7, 9, 7, 4, 2)


def build_score(seconds: float = 180.0, *, tempo: float = 120.0, heavy: bool = False) -> Score:
    """A pop arrangement of ``seconds`` of music in 4/4, deterministic (~3,000 notes).

    Modelled on what ``overture.compose`` writes for "upbeat pop song, 180 seconds" (drums
    1,046 notes, piano chords 561, warm pad 186, synth lead 468, bass 179), a little denser.
    ``heavy``: piano comping on every beat and a string pad instead (~4,000 notes, and the
    two most expensive presets of MuseScore_General to decode and to render).
    """
    beats_per_bar = 4.0
    bars = max(1, math.floor(seconds * tempo / 60.0 / beats_per_bar))
    drums = Part("drums", "drums", 0, is_drums=True, volume=100, reverb=20)
    bass = Part("bass", "electric bass", 33, volume=105, reverb=10)
    piano = Part("chords", "piano", 0, volume=90, pan=50, reverb=45)
    if heavy:
        pad = Part("pad", "strings", 48, volume=75, pan=80, reverb=70)
    else:
        pad = Part("pad", "warm pad", 89, volume=75, pan=80, reverb=70)
    lead = Part("lead", "synth lead", 81, volume=95, pan=70, reverb=50)
    comp_beats = (0, 1, 2, 3) if heavy else (0, 2)
    comp_length = 0.9 if heavy else 1.9
    for bar in range(bars):
        t0 = bar * beats_per_bar
        root, tones = _PROGRESSION[bar % len(_PROGRESSION)]
        for beat in range(4):
            drums.notes.append(Note(36 if beat % 2 == 0 else 38, t0 + beat, 0.25, 110))
            bass.notes.append(Note(root, t0 + beat, 0.9, 95))
        for eighth in range(8):
            drums.notes.append(Note(42, t0 + eighth * 0.5, 0.25, 70 + 20 * (eighth % 2 == 0)))
            if heavy:
                bass.notes.append(Note(root + 12, t0 + eighth * 0.5 + 0.25, 0.2, 70))
        if bar % 8 == 0:
            drums.notes.append(Note(49, t0, 1.0, 100))
        for beat in comp_beats:
            for pitch in tones:
                piano.notes.append(Note(pitch, t0 + beat, comp_length, 70 + 8 * (beat == 0)))
        for pitch in tones:
            pad.notes.append(Note(pitch - 12, t0, beats_per_bar, 60))
        for step in range(5):
            degree = _LEAD_STEPS[(bar + step) % len(_LEAD_STEPS)]
            start = t0 + (0.0, 1.0, 1.5, 2.0, 3.0)[step]
            lead.notes.append(Note(72 + degree, start, 0.5 if step in (1, 2) else 0.9, 85))
    end_beat = bars * beats_per_bar
    return Score(
        tempo=tempo,
        time_signature=parse_time_signature("4/4"),
        key=parse_key("C major"),
        bars=bars,
        end_beat=end_beat,
        duration=end_beat * 60.0 / tempo + 2.0,  # 2 s of release tail
        sections=[],
        chords=["C", "G", "Am", "F"] * (bars // 4) + ["C", "G", "Am", "F"][: bars % 4],
        parts=[drums, bass, piano, pad, lead],
    )


def _run(score: Score, soundfont: Path, workers: int, label: str, out: Path) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    result = render_song(score, soundfont=soundfont, stems_dir=out / "stems", workers=workers)
    t_render = time.perf_counter() - t0
    t1 = time.perf_counter()
    write_audio(out / "song.flac", result.mastered, 44100, tags={"title": "bench"})
    t_write = time.perf_counter() - t1
    main_cpu = time.process_time() - c0
    worker_cpu = sum(v for k, v in result.timings.items() if k.endswith("_cpu"))
    stages = "  ".join(f"{k}={v:.2f}" for k, v in result.timings.items())
    print(
        f"  {label}: render_song {t_render:.2f} s + song.flac {t_write:.2f} s "
        f"= {t_render + t_write:.2f} s wall; CPU {main_cpu:.2f} s here + {worker_cpu:.2f} s in "
        f"workers\n    [{stages}]   "
        f"{result.loudness.integrated_lufs:.2f} LUFS, {result.loudness.true_peak_dbtp:.2f} dBTP"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--soundfont", action="append", default=None)
    ap.add_argument("--runs", type=int, default=2, help="runs per soundfont (first one is cold)")
    ap.add_argument("--heavy", action="store_true", help="comping on every beat, string pad")
    args = ap.parse_args()
    score = build_score(args.seconds, heavy=args.heavy)
    notes = sum(len(p.notes) for p in score.parts)
    print(f"score: {score.duration:.1f} s, {len(score.parts)} parts, {notes} notes")
    for sf in args.soundfont or SOUNDFONTS:
        path = resolve_soundfont(sf)
        shutdown_workers()  # every soundfont starts cold: fresh processes, nothing decoded
        print(f"{path.name} (workers={args.workers})")
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                _run(score, path, args.workers, "cold" if run == 0 else "warm", Path(tmp))
    shutdown_workers()


if __name__ == "__main__":
    main()
