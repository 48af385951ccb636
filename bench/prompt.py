"""Prompt parsing speed on long and adversarial inputs (100 kB each).

.venv/bin/python bench/prompt.py
"""

from __future__ import annotations

import time

from overture.prompt import parse_prompt

CHUNK = "upbeat pop song, 120 bpm, G major, 60 seconds, 国风 古筝 轻快 游戏 1 a 2:30 in "
INPUTS = {
    "mixed 100 kB": (CHUNK * (100_000 // len(CHUNK) + 1))[:100_000],
    "'1 ' x 50k": "1 " * 50_000,
    "'a ' x 50k": "a " * 50_000,
    "'Am ' x 33k": "Am " * 33_000,
    "'1/' x 50k": "1/" * 50_000,
    "'一' x 100k": "一" * 100_000,
    "'in ' x 33k": "in " * 33_000,
}


def main() -> None:
    for name, text in INPUTS.items():
        best = min(_time(text) for _ in range(3))
        print(f"{name:16s} {best * 1000:8.1f} ms")


def _time(text: str) -> float:
    start = time.perf_counter()
    parse_prompt(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
