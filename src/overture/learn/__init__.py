"""Models learned offline from music21's bundled corpus.

* :mod:`overture.learn.corpus`: the melodies (and chorale harmonies) extracted from the corpus,
  shipped compactly in ``overture/models/melodies.npz``.
* :mod:`overture.learn.melody_model`: a multiple-viewpoint variable-order Markov (PPM) model of
  melody in the IDyOM tradition.
* :mod:`overture.learn.harmony_model`: Roman-numeral chord transitions from the Bach chorales.
* :mod:`overture.learn.originality`: the longest run a melody shares with any corpus tune.
* :mod:`overture.learn.train`: extraction, training and the manifest (``overture train``).

Submodules are imported on demand so that ``import overture.learn`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Folder of the shipped artifacts (package data)."""

__all__ = ["MODELS_DIR"]
