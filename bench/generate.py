"""Wall time of `overture.generate` for 30, 60 and 180 s songs, with each stage's share.

Run: .venv/bin/python bench/generate.py [--soundfont PATH] [--durations 30,60,180]
        [--think none,medium]
Targets (2 cores): a 180 s instrumental song end to end, every file written, in under 10 s
at ``--think none`` and under 15 s at the default ``medium``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import overture


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--soundfont", default=None, help="default: MuseScore General (SF3)")
    ap.add_argument("--durations", default="30,60,180")
    ap.add_argument("--prompt", default="upbeat pop song, 120 bpm, G major")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--think", default="none,medium", help="comma list of thinking levels")
    args = ap.parse_args()

    # Warm-up: imports and the renderer's worker processes, as a long-lived worker would have.
    work = Path(tempfile.mkdtemp(prefix="overture-bench-"))
    t = time.perf_counter()
    overture.generate(args.prompt, duration=3, out=work / "warm", soundfont=args.soundfont)
    print(f"warm-up (imports, workers, soundfont): {time.perf_counter() - t:.2f} s")
    print(f"{'think':>6} {'duration':>8} {'wall s':>7} {'RTF':>7}  stages (share of wall time)")
    for think in args.think.split(","):
        for d in [float(x) for x in args.durations.split(",")]:
            t = time.perf_counter()
            song = overture.generate(
                args.prompt,
                duration=d,
                seed=args.seed,
                think=think,
                out=work / f"{think}{int(d)}",
                soundfont=args.soundfont,
            )
            wall = time.perf_counter() - t
            stages = {k: v for k, v in song.timings.items() if k != "total"}
            shares = "  ".join(f"{k} {v / wall:.0%}" for k, v in stages.items() if v / wall >= 0.01)
            print(f"{think:>6} {d:>8.0f} {wall:>7.2f} {wall / d:>7.3f}  {shares}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
