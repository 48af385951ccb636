"""Time the studio operations end to end (folders written, audio rendered).

    .venv/bin/python bench/studio.py [--seconds 30] [--repeat 2]

Makes its own inputs: a source song, and a sung demo (the engine's own voice singing a lyric,
its vocals stem taken as the recording). Prints the wall time of each operation, best of
``--repeat`` runs; the target is arranging a 30 s demo in under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LYRICS = """[verse]
the river runs below the town
and every light is shining down
I hear the morning calling me
across the water to the sea
[chorus]
oh carry me home carry me home
over the hills where the wild winds roam
"""


def _best(repeat: int, run: Callable[[Path], Any], root: Path, name: str) -> float:
    times = []
    for i in range(repeat):
        out = root / f"{name}-{i}"
        t = time.perf_counter()
        run(out)
        times.append(time.perf_counter() - t)
        shutil.rmtree(out, ignore_errors=True)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="Length of the demo and song.")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    import soundfile as sf

    import overture
    from overture import studio

    root = Path(tempfile.mkdtemp(prefix="overture-bench-studio-"))
    try:
        src = root / "src"
        overture.generate("upbeat pop song", duration=args.seconds, seed=1, out=src)
        sung = root / "sung"
        overture.generate("folk ballad, 90 bpm", lyrics=LYRICS, seed=4, out=sung)
        audio, rate = sf.read(sung / "stems" / "vocals.flac", dtype="float32")
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        # The demo: the sung line alone, trimmed to --seconds from its first sound.
        start = int(next(i for i, v in enumerate(abs(mono) > 0.01) if v))
        demo = root / "demo.wav"
        sf.write(demo, mono[start : start + int(args.seconds * rate)], rate)
        demo_s = len(sf.read(demo)[0]) / rate

        rows: list[tuple[str, float]] = []
        # Warm the renderer's workers, as a running service has them.
        overture.generate("pop", duration=4, seed=0, out=root / "warm")

        def op(name: str, run: Callable[[Path], Any]) -> None:
            rows.append((name, _best(args.repeat, run, root, name.split()[0])))

        op(
            f"arrange ({demo_s:.0f} s sung demo)",
            lambda o: studio.arrange(demo, "indie folk", out=o),
        )
        op(
            "arrange --keep-voice",
            lambda o: studio.arrange(demo, "indie folk", keep_voice=True, out=o),
        )
        op(
            f"extend +16 bars ({args.seconds:.0f} s song)",
            lambda o: studio.extend(src, add="bridge chorus", out=o),
        )
        op("restyle jazz trio", lambda o: studio.restyle(src, "jazz trio", out=o))
        op("vary -n 3 --keep melody", lambda o: studio.vary(src, 3, keep="melody", out=o))
        op("regenerate chorus1", lambda o: studio.regenerate(src, "chorus1", out=o))
        width = max(len(n) for n, _ in rows)
        print(f"{'operation':<{width}}  seconds")
        for name, seconds in rows:
            print(f"{name:<{width}}  {seconds:7.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
