"""Benchmark of demo transcription (``overture.studio.transcribe``) on demos with known notes.

The bench makes its demos itself:

* played: the lead melody of a generated song (``overture.generate(prompt, seed=s)``, symbolic
  only) rendered by FluidSynth with one instrument (flute, violin, clarinet, piano, choir), after
  a silent lead-in of 0.3-1.5 s, over a faint noise floor;
* sung: a generated song with lyrics, its "vocals" part sung by the engine's voice
  (``overture.voice.sing``) and put through the vocal stem's chain (high-pass, compression,
  reverb: what ``stems/vocals.flac`` holds), after a lead-in, over the same noise floor.

Each demo is written as a 16-bit WAV and transcribed from the file with each method. Columns:
"raw F1" and "clean F1" are ``mir_eval.transcription``'s note F1 with onsets within 50 ms
(offsets ignored) and pitch within 50 cents, for the raw notes (seconds; pitch rounded after
the tuning correction) and for the cleaned melody (beats, turned back into seconds with the
detected tempo and offset), "min" the worst demo's clean F1; "raw pitch" and "pitch" the share
of onset-matched notes whose pitch is right; "tempo" the share of demos whose tempo is within
4 % of the truth ("x2": off by an octave instead); "bar" the share whose beat 0 falls on a
true downbeat (within 60 ms); "metre" the share with the right time signature; "key" the
share whose key is that of the true notes (found the same way, ``estimate_key``: a generated
song's key can differ from what its melody alone implies); s/30s the transcription's wall
time per 30 s of audio (reading the file included; the first basic-pitch call in a process
also loads its model).

Run: ``.venv/bin/python bench/transcribe.py [--seeds 1-6] [--seconds 30] [--kinds played,sung]
[--methods f0,basic-pitch] [--write DIR] [--verbose]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from overture.score import Note
    from overture.studio.transcribe import Transcription

SAMPLE_RATE = 22050
LEAD_IN = (0.3, 1.5)  # seconds of silence before the first note, drawn per demo
NOISE_DBFS = -60.0
PLAYED = (  # (prompt, General MIDI program), cycled over the seeds
    ("folk song, flute lead", 73),
    ("pop song, violin lead", 40),
    ("jazz ballad", 71),  # clarinet
    ("upbeat pop song", 0),  # piano
    ("waltz, 3/4", 73),
    ("country song", 52),  # choir aahs
)
SUNG = (  # (prompt, voice), cycled over the seeds
    ("folk ballad", "female"),
    ("pop song", "male"),
    ("soft ballad", "female"),
    ("upbeat pop song", "female"),
    ("country song", "male"),
)
LYRICS = (
    "[verse]\nWalking down the river road\nCarry all the things I know\n"
    "Every stone and every tree\nWhispers what it means to me\n"
    "[chorus]\nSing it loud and let it go\nMorning light will bring me home\n"
    "Hold the line and hold it true\nEvery road leads back to you\n",
    "[verse]\nCity lights are burning bright\nWe can dance until the night\n"
    "Turn the music up again\nYou and me and all our friends\n"
    "[chorus]\nOh we never stop\nWe are going to the top\n"
    "Feel the rhythm in the sound\nNever let it slow us down\n",
)


@dataclass
class Demo:
    """A demo recording with known notes: ``truth`` rows are (onset s, offset s, MIDI)."""

    name: str
    kind: str  # "played" or "sung"
    audio: np.ndarray  # mono float32 at SAMPLE_RATE
    truth: list[tuple[float, float, int]]
    tempo: float
    key: str
    time_signature: str
    downbeat: float  # seconds of the first bar's downbeat (the truth's beat 0)

    def write(self, path: Path) -> Path:
        import soundfile as sf

        sf.write(str(path), self.audio, SAMPLE_RATE, subtype="PCM_16")
        return path


def _lead_in(rng: np.random.Generator) -> float:
    return float(rng.uniform(*LEAD_IN))


def _finish(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) or 1.0
    audio = audio * (0.5 / peak)
    audio = audio + rng.standard_normal(len(audio)) * 10 ** (NOISE_DBFS / 20)
    return audio.astype(np.float32)


def _first_bar_shift(notes: list[Note], beats_per_bar: float) -> float:
    return (min(n.start for n in notes) // beats_per_bar) * beats_per_bar


def _synth(
    notes: list[Note], tempo: float, program: int, lead_in: float, seconds: float
) -> np.ndarray:
    """``notes`` (beats) played by FluidSynth with the small TimGM6mb soundfont."""
    import fluidsynth

    sf2 = "/usr/share/sounds/sf2/TimGM6mb.sf2"
    synth = fluidsynth.Synth(samplerate=float(SAMPLE_RATE))
    synth.setting("synth.reverb.active", 0)
    synth.setting("synth.chorus.active", 0)
    sfid = synth.sfload(sf2)
    synth.program_select(0, sfid, 0, program)
    spb = 60.0 / tempo
    events: list[tuple[int, int, int, int]] = []  # frame, order (off first), pitch, velocity
    for n in notes:
        on = round((lead_in + n.start * spb) * SAMPLE_RATE)
        off = round((lead_in + n.end * spb) * SAMPLE_RATE) - 1
        events.append((on, 1, n.pitch, n.velocity))
        events.append((off, 0, n.pitch, 0))
    events.sort()
    total = round(seconds * SAMPLE_RATE)
    out: list[np.ndarray] = []
    pos = 0
    for frame, is_on, pitch, vel in [*events, (total, 0, -1, 0)]:
        frame = min(frame, total)
        if frame > pos:
            s = synth.get_samples(frame - pos)
            out.append(np.asarray(s, dtype=np.float32).reshape(-1, 2).mean(axis=1) / 32768.0)
            pos = frame
        if pitch < 0:
            break
        if is_on:
            synth.noteon(0, pitch, vel)
        else:
            synth.noteoff(0, pitch)
    synth.delete()
    return np.concatenate(out)


def played_demo(seed: int, seconds: float = 30.0) -> Demo:
    """A generated lead melody played by one instrument (see the module's docstring)."""
    import overture

    prompt, program = PLAYED[(seed - 1) % len(PLAYED)]
    song = overture.generate(prompt, seed=seed, duration=max(30.0, seconds + 20))
    score = song.score
    bpb = score.time_signature.beats_per_bar
    lead = sorted(score.part("lead").notes, key=lambda n: n.start)
    shift = _first_bar_shift(lead, bpb)
    spb = 60.0 / score.tempo
    rng = np.random.default_rng(seed)
    lead_in = _lead_in(rng)
    from overture.score import Note

    notes = []
    for n in lead:
        start = n.start - shift
        if lead_in + (start + n.duration) * spb > seconds - 0.5:
            break
        notes.append(Note(n.pitch, start, n.duration, n.velocity))
    audio = _synth(notes, score.tempo, program, lead_in, seconds)
    truth = [(lead_in + n.start * spb, lead_in + n.end * spb, n.pitch) for n in notes]
    return Demo(
        f"played-{seed}-p{program}",
        "played",
        _finish(audio, rng),
        truth,
        score.tempo,
        score.key.name,
        str(score.time_signature),
        lead_in,
    )


def sung_demo(seed: int, seconds: float = 30.0) -> Demo:
    """A generated song's vocals sung by the engine's voice (see the module's docstring)."""
    import overture
    from overture.compose.setting import sung_syllables
    from overture.pipeline import VOCALS, sung
    from overture.render.mix import vocal_stem
    from overture.voice import SungSyllable, sing

    prompt, voice = SUNG[(seed - 1) % len(SUNG)]
    lyrics = LYRICS[(seed - 1) % len(LYRICS)]
    song = overture.generate(prompt, lyrics=lyrics, voice=voice, seed=seed, duration=seconds + 30)
    score = song.score
    part = score.part(VOCALS)
    spb = 60.0 / score.tempo
    bpb = score.time_signature.beats_per_bar
    shift_beats = _first_bar_shift(part.notes, bpb)
    rng = np.random.default_rng(seed)
    lead_in = _lead_in(rng)
    delta = lead_in - shift_beats * spb  # seconds added to the song's times
    kept: list[SungSyllable] = []
    for syl in sung_syllables(sung(song), score.tempo):
        if syl.notes[-1].end + delta > seconds - 1.0:
            break
        kept.append(syl)
    end = kept[-1].notes[-1].end + delta
    from dataclasses import replace

    from overture.voice import SungNote

    moved = [
        replace(s, notes=tuple(SungNote(n.pitch, n.start + delta, n.end + delta) for n in s.notes))
        for s in kept
    ]
    voice_audio = sing(moved, voice=voice, sample_rate=SAMPLE_RATE, seed=seed, duration=seconds)
    stem = vocal_stem(voice_audio, SAMPLE_RATE, frames=len(voice_audio), reverb=part.reverb)
    truth = [
        (
            n.start * spb - shift_beats * spb + lead_in,
            n.end * spb - shift_beats * spb + lead_in,
            n.pitch,
        )
        for n in sorted(part.notes, key=lambda n: n.start)
        if n.end * spb + delta <= end + 1e-6
    ]
    return Demo(
        f"sung-{seed}-{voice}",
        "sung",
        _finish(stem.mean(axis=0), rng),
        truth,
        score.tempo,
        score.key.name,
        str(score.time_signature),
        lead_in,
    )


# ----------------------------------------------------------------------------- scoring
def note_f1(
    truth: list[tuple[float, float, int]] | list[tuple[float, float, float]],
    est: list[tuple[float, float, float]] | tuple[tuple[float, float, float], ...],
) -> tuple[float, float]:
    """Onset F1 (50 ms, pitch within 50 cents, offsets ignored) of ``est`` against ``truth``,
    and the share of notes matched by onset alone whose pitch is within 50 cents."""
    import mir_eval

    if not est or not truth:
        return 0.0, 0.0
    ref_i = np.array([[t[0], max(t[1], t[0] + 1e-3)] for t in truth])
    ref_p = np.array([440.0 * 2 ** ((t[2] - 69) / 12) for t in truth])
    est_i = np.array([[e[0], max(e[1], e[0] + 1e-3)] for e in est])
    est_p = np.array([440.0 * 2 ** ((e[2] - 69) / 12) for e in est])
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None
    )
    onset_matches = mir_eval.transcription.match_note_onsets(ref_i, est_i, onset_tolerance=0.05)
    if not onset_matches:
        return float(f1), 0.0
    right = sum(abs(truth[i][2] - est[j][2]) <= 0.5 for i, j in onset_matches)
    return float(f1), right / len(onset_matches)


def rounded_raw(t: Transcription) -> list[tuple[float, float, float]]:
    """The raw notes with their pitch rounded after the transcription's tuning correction."""
    from overture.studio.transcribe import tuning_offset

    tune = tuning_offset(t.raw)
    return [(a, b, float(round(p - tune))) for a, b, p in t.raw]


def cleaned_seconds(t: Transcription) -> list[tuple[float, float, float]]:
    """The cleaned melody's notes in seconds of the recording."""
    spb = 60.0 / t.tempo
    return [
        (t.offset + n.start * spb, t.offset + n.end * spb, float(n.pitch)) for n in t.melody.notes
    ]


def melody_key(demo: Demo) -> str:
    """The key of the demo's true notes, found as the transcription finds it (a song's key
    may differ from what its melody alone implies)."""
    from overture.melody_input import estimate_key
    from overture.score import Note

    spb = 60.0 / demo.tempo
    notes = [Note(p, (a - demo.downbeat) / spb, (b - a) / spb, 90) for a, b, p in demo.truth]
    return estimate_key(notes).name


def downbeat_ok(t: Transcription, demo: Demo, tol: float = 0.06) -> bool:
    """Whether the transcription's beat 0 falls on a downbeat of the truth (within ``tol`` s)."""
    bar = int(demo.time_signature.split("/")[0]) * 60.0 / demo.tempo
    return abs((t.offset - demo.downbeat + bar / 2) % bar - bar / 2) <= tol


def tempo_ok(detected: float, truth: float, tol: float = 0.04) -> str:
    """ "ok" when within ``tol``, "x2" when off by an octave (double or half), else "no"."""
    for factor, label in ((1.0, "ok"), (2.0, "x2"), (0.5, "x2")):
        if abs(detected / (truth * factor) - 1) <= tol:
            return label
    return "no"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1-6", help="e.g. 1-6 or 1,3,5")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--kinds", default="played,sung")
    ap.add_argument("--methods", default="f0,basic-pitch")
    ap.add_argument("--write", type=Path, help="keep the demo WAVs in this folder")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    from overture.studio.transcribe import available_methods, transcribe

    if "-" in args.seeds:
        a, b = args.seeds.split("-")
        seeds = list(range(int(a), int(b) + 1))
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    methods = [m for m in args.methods.split(",") if m in available_methods()]
    skipped = set(args.methods.split(",")) - set(methods)
    if skipped:
        print(f"skipped (not installed): {', '.join(sorted(skipped))}", file=sys.stderr)
    folder = args.write or Path(tempfile.mkdtemp(prefix="overture-bench-"))
    folder.mkdir(parents=True, exist_ok=True)

    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for kind in kinds:
        for seed in seeds:
            t = time.perf_counter()
            demo = (played_demo if kind == "played" else sung_demo)(seed, args.seconds)
            made = time.perf_counter() - t
            wav = demo.write(folder / f"{demo.name}.wav")
            for method in methods:
                t = time.perf_counter()
                tr = transcribe(wav, method=method)
                spent = time.perf_counter() - t
                raw_f1, raw_pitch = note_f1(demo.truth, rounded_raw(tr))
                clean_f1, clean_pitch = note_f1(demo.truth, cleaned_seconds(tr))
                row = {
                    "raw_f1": raw_f1,
                    "raw_pitch": raw_pitch,
                    "clean_f1": clean_f1,
                    "clean_pitch": clean_pitch,
                    "tempo_ok": tempo_ok(tr.tempo, demo.tempo) == "ok",
                    "tempo_x2": tempo_ok(tr.tempo, demo.tempo) == "x2",
                    "key_ok": tr.melody.key.name == melody_key(demo),
                    "bar_ok": downbeat_ok(tr, demo),
                    "ts_ok": str(tr.melody.time_signature) == demo.time_signature,
                    "s_per_30": spent * 30.0 / tr.duration,
                }
                rows.setdefault((kind, method), []).append(row)
                if args.verbose:
                    print(
                        f"{demo.name:24s} {method:11s} raw {raw_f1:.2f}/{raw_pitch:.2f} "
                        f"clean {clean_f1:.2f}/{clean_pitch:.2f} tempo {tr.tempo:6.1f} "
                        f"({demo.tempo:g}) key {tr.melody.key.name} ({melody_key(demo)}) "
                        f"ts {tr.melody.time_signature} ({demo.time_signature}) "
                        f"offset {tr.offset:.3f} (downbeat {demo.downbeat:.3f}) "
                        f"notes {len(tr.melody.notes)}/{len(demo.truth)} "
                        f"{spent:.2f} s (demo made in {made:.1f} s)",
                        flush=True,
                    )

    print()
    print(
        f"{'demos':8s} {'method':12s} {'n':>3s} {'raw F1':>7s} {'raw pitch':>9s} "
        f"{'clean F1':>8s} {'min':>5s} {'pitch':>6s} {'tempo':>6s} {'x2':>4s} {'bar':>5s} "
        f"{'metre':>6s} {'key':>5s} {'s/30s':>6s}"
    )
    for (kind, method), rs in rows.items():

        def mean(k: str, rs: list[dict[str, float]] = rs) -> float:
            return float(np.mean([r[k] for r in rs]))

        print(
            f"{kind:8s} {method:12s} {len(rs):3d} {mean('raw_f1'):7.3f} {mean('raw_pitch'):9.3f} "
            f"{mean('clean_f1'):8.3f} {min(r['clean_f1'] for r in rs):5.2f} "
            f"{mean('clean_pitch'):6.3f} {mean('tempo_ok'):6.2f} {mean('tempo_x2'):4.2f} "
            f"{mean('bar_ok'):5.2f} {mean('ts_ok'):6.2f} {mean('key_ok'):5.2f} "
            f"{mean('s_per_30'):6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
