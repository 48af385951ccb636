"""The audio back end: Score -> FluidSynth stems -> effects -> mix -> mastered audio.

``render_song`` is what the pipeline calls; the pieces are public for tests and tools.
Importing this package is cheap: FluidSynth, pedalboard and scipy load on first use.
"""

from __future__ import annotations

from overture.render.master import (
    LoudnessReport,
    integrated_loudness,
    master,
    master_with_report,
    measure_loudness,
    true_peak,
)
from overture.render.mix import apply_stem_effects, headroom_gain, highpass_cutoff, mix_stems
from overture.render.song import RenderResult, master_mix, render_song, stem_names
from overture.render.soundfont import DEFAULT_SOUNDFONTS, resolve_soundfont, soundfont_info
from overture.render.synth import prewarm, shutdown_workers

__all__ = [
    "DEFAULT_SOUNDFONTS",
    "LoudnessReport",
    "RenderResult",
    "apply_stem_effects",
    "headroom_gain",
    "highpass_cutoff",
    "integrated_loudness",
    "master",
    "master_mix",
    "master_with_report",
    "measure_loudness",
    "mix_stems",
    "prewarm",
    "render_song",
    "resolve_soundfont",
    "shutdown_workers",
    "soundfont_info",
    "stem_names",
    "true_peak",
]
