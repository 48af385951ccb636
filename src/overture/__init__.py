"""Overture: an open AI music studio. Prompt in, finished song out, offline on a CPU.

The flow is ``prompt -> SongSpec -> Plan -> Score -> stems and mix -> files``; each step is
callable on its own::

    import overture
    song = overture.generate("upbeat pop song, 120 bpm, G major, 60 seconds", seed=7,
                             out="out/pop")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("overture")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

from overture.errors import (
    InvalidInputError,
    OutputError,
    OvertureError,
    RenderError,
    SoundfontError,
)
from overture.pipeline import Song, generate, render_score, write_song
from overture.plan import Plan, make_plan
from overture.score import Score
from overture.spec import SongSpec, build_spec

__all__ = [
    "InvalidInputError",
    "OutputError",
    "OvertureError",
    "Plan",
    "RenderError",
    "Score",
    "Song",
    "SongSpec",
    "SoundfontError",
    "__version__",
    "build_spec",
    "compose",
    "generate",
    "make_plan",
    "render_score",
    "write_song",
]


def compose(plan: Plan) -> Score:
    """Write the notes of ``plan`` (see ``overture.compose``)."""
    from overture.compose import compose as _compose

    return _compose(plan)
