"""Rebuild ``calibration.json``: the reference statistics the critics are standardised with.

    python -m overture.critique.calibrate [--seed N] [--audio] [--out PATH]

* ``likelihood.human_sd``: the spread of the mean information content of held-out corpus
  tunes, cut into windows of a section's length (32 notes), scored as a draft is scored;
* ``critics["section.<critic>"]``: mean and sd of each section critic over drafts of every
  lead section of a fixed set of prompts and seeds (``MelodyWriter.draft_section``, several
  drafts per section, earlier sections' first drafts as ``previous``), i.e. over the very
  candidates the loop will compare;
* ``critics["score.<critic>"]``: the same over the composed scores of those prompts;
* ``critics["audio.<critic>"]``: with ``--audio``, over a handful of short renders with the
  small soundfont (seconds each); without it, the audio entries already in the file are kept
  (the shipped ones were made with ``--audio``).

Everything is deterministic for ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from overture.critique.reference import CALIBRATION_FILE, calibration_in_use, load_calibration

PROMPTS = (
    "upbeat pop song",
    "sad piano ballad",
    "rock anthem with electric guitar",
    "blues shuffle",
    "jazz trio",
    "folk song",
    "lo-fi hip hop beat",
    "classical theme for strings",
)
DURATION = 120.0
SEEDS_PER_PROMPT = 2
DRAFTS_PER_SECTION = 3
WINDOW_NOTES = 32
CORPUS_WINDOWS = 200
AUDIO_PROMPTS = 8
AUDIO_DURATION = 30.0
SMALL_SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"


def _stats(values: Sequence[float]) -> dict[str, float]:
    clean = [v for v in values if math.isfinite(v)]
    if not clean:
        return {"mean": 0.5, "sd": 0.2, "n": 0}
    sd = statistics.pstdev(clean) if len(clean) > 1 else 0.0
    return {"mean": round(statistics.fmean(clean), 4), "sd": round(sd, 4), "n": len(clean)}


def human_spread(seed: int) -> dict[str, float]:
    """Mean and sd of the mean information content of held-out tune windows."""
    from overture.compose.melody import human_ic
    from overture.learn.corpus import chord_symbol_root, load_melodies
    from overture.learn.melody_model import MelodyModel

    model = MelodyModel.load()
    tunes = sorted(
        (m for m in load_melodies("heldout") if len(m.pitches) >= WINDOW_NOTES), key=lambda m: m.id
    )
    rng = random.Random(f"calibrate:{seed}:corpus")
    means = []
    for m in rng.sample(tunes, min(CORPUS_WINDOWS, len(tunes))):
        at = rng.randrange(len(m.pitches) - WINDOW_NOTES + 1)
        sl = slice(at, at + WINDOW_NOTES)
        roots = [chord_symbol_root(c) if c else None for c in m.chords[sl]] if m.chords else None
        ic = model.mean_ic(
            list(m.pitches[sl]),
            list(m.durations[sl]),
            tonic=m.tonic,
            mode=m.mode,
            chord_roots=roots,
        )
        means.append(ic)
    return {
        "human_ic": round(human_ic(), 4),
        "human_sd": round(statistics.pstdev(means), 4),
        "corpus_window_mean": round(statistics.fmean(means), 4),
        "window_notes": WINDOW_NOTES,
        "windows": len(means),
    }


def _plans(seed: int, duration: float, prompts: Sequence[str]) -> list[tuple[str, int, Any]]:
    from overture.plan import make_plan
    from overture.spec import build_spec

    out = []
    for i, prompt in enumerate(prompts):
        for k in range(SEEDS_PER_PROMPT):
            s = seed * 1000 + i * 10 + k
            plan = make_plan(build_spec(prompt, duration=duration, seed=s))
            if "lead" in plan.parts:
                out.append((prompt, s, plan))
    return out


def section_samples(seed: int, log: Callable[[str], None]) -> dict[str, list[float]]:
    """Every section critic's raw scores over drafts of every lead section."""
    from overture.compose.melody import MelodyWriter
    from overture.critique import critique_section

    samples: dict[str, list[float]] = {}
    for prompt, s, plan in _plans(seed, DURATION, PROMPTS):
        writer = MelodyWriter(plan, s)
        previous: dict[str, list[Any]] = {}
        for section in plan.sections:
            if "lead" not in section.parts or section.bars < 2:
                continue
            drafts = [
                writer.draft_section(section, random.Random(f"calibrate:{s}:{section.id}:{d}"))
                for d in range(DRAFTS_PER_SECTION)
            ]
            for notes in drafts:
                verdicts = critique_section(plan, section, notes, previous=previous)
                for name, v in verdicts.items():
                    samples.setdefault(f"section.{name}", []).append(v.score)
            previous[section.id] = drafts[0]
        log(f"sections: {prompt!r} seed {s}")
    return samples


def score_samples(seed: int, log: Callable[[str], None]) -> dict[str, list[float]]:
    """Every score critic's raw scores over the composed scores of the prompts."""
    from overture.compose import compose
    from overture.critique import critique_score

    samples: dict[str, list[float]] = {}
    for prompt, s, plan in _plans(seed, DURATION, PROMPTS):
        for name, v in critique_score(plan, compose(plan)).items():
            samples.setdefault(f"score.{name}", []).append(v.score)
        log(f"score: {prompt!r} seed {s}")
    return samples


def audio_samples(seed: int, log: Callable[[str], None]) -> dict[str, list[float]]:
    """The audio critics' raw scores over a few short renders with the small soundfont."""
    from overture.compose import compose
    from overture.critique import critique_audio
    from overture.pipeline import render_score

    samples: dict[str, list[float]] = {}
    plans = _plans(seed, AUDIO_DURATION, PROMPTS[:AUDIO_PROMPTS])[::SEEDS_PER_PROMPT]
    for prompt, s, plan in plans:
        score = compose(plan)
        with tempfile.TemporaryDirectory() as tmp:
            render = render_score(score, stems_dir=Path(tmp), soundfont=SMALL_SOUNDFONT, workers=1)
        for name, v in critique_audio(plan, score, render).items():
            samples.setdefault(f"audio.{name}", []).append(v.score)
        log(f"audio: {prompt!r} seed {s}")
    return samples


def calibrate(
    seed: int = 0, *, audio: bool = False, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """The calibration as a dict (what ``calibration.json`` holds)."""
    likelihood = human_spread(seed)
    log(f"corpus: human sd {likelihood['human_sd']} bits/note")
    previous = load_calibration()
    # The section critics' likelihood needs the spread just measured: use it from here on.
    with calibration_in_use({**previous, "likelihood": likelihood}):
        samples = section_samples(seed, log)
        samples.update(score_samples(seed, log))
    critics = {k: _stats(v) for k, v in sorted(samples.items())}
    if audio:
        critics.update({k: _stats(v) for k, v in audio_samples(seed, log).items()})
    else:
        critics.update(
            {k: v for k, v in previous.get("critics", {}).items() if k.startswith("audio.")}
        )
    command = f"python -m overture.critique.calibrate --seed {seed}" + (" --audio" if audio else "")
    return {
        "about": (
            "Reference statistics of the critics' raw scores (see overture.critique.calibrate): "
            "each critic's score is standardised with its scope's mean and sd before combining."
        ),
        "command": command,
        "seed": seed,
        "prompts": list(PROMPTS),
        "duration": DURATION,
        "seeds_per_prompt": SEEDS_PER_PROMPT,
        "drafts_per_section": DRAFTS_PER_SECTION,
        "likelihood": likelihood,
        "critics": critics,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m overture.critique.calibrate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--audio", action="store_true", help="also render a few short songs")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    data = calibrate(args.seed, audio=args.audio, log=lambda m: print(m, file=sys.stderr))
    args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, st in data["critics"].items():
        print(f"{name:22s} mean {st['mean']:.3f}  sd {st['sd']:.3f}  n {st['n']}")
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
