"""Critics for the engine's "think before answering" loop.

Each critic is a pure function of the engine's values that answers a :class:`Verdict`: a
score in [0, 1], human-readable reasons and the sub-measures behind the score.

* ``theory``, ``likelihood``, ``structure``: of a drafted lead section
  (:func:`critique_section`, fast enough to run on every draft) or of a whole score
  (:func:`critique_score`);
* ``adherence`` and ``mix``: of a rendered song (:func:`critique_audio`);
* :func:`combine`: the standardised combination, with every critic's contribution;
* :func:`uncounted`: the critics a song's combination leaves out (the lead is given), and why.

``python -m overture.critique.calibrate`` rebuilds the reference statistics
(``calibration.json``) that the combination standardises with.
"""

from __future__ import annotations

from overture.critique.combine import Combined, combine
from overture.critique.critics import (
    critique_audio,
    critique_score,
    critique_section,
    uncounted,
)
from overture.critique.verdict import Verdict

__all__ = [
    "Combined",
    "Verdict",
    "combine",
    "critique_audio",
    "critique_score",
    "critique_section",
    "uncounted",
]
