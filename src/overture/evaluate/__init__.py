"""Reproducible quality evaluation: ``overture eval``.

* :mod:`~overture.evaluate.metrics`: symbolic metrics (MusPy definitions; H1/H4/GS).
* :mod:`~overture.evaluate.mgeval`: MGEval overlapping area and KL divergence.
* :mod:`~overture.evaluate.frechet`: Fréchet distance over per-melody features.
* :mod:`~overture.evaluate.baselines`: random-in-key and first-order Markov melodies.
* :mod:`~overture.evaluate.audio`: tempo, key, length and loudness of rendered audio.
* :mod:`~overture.evaluate.report`: :func:`run_eval`, which writes ``report.md``/``.json``
  and plots; :mod:`~overture.evaluate.cli`: the ``eval`` click command.

Submodules are imported on demand: ``import overture.evaluate`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_eval"]


def run_eval(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See :func:`overture.evaluate.report.run_eval`."""
    from overture.evaluate.report import run_eval as run

    return run(*args, **kwargs)
