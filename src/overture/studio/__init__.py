"""Studio operations on song folders: arrange a demo, extend, restyle, vary, repaint a
section, and the lineage that every derived song records.

Each operation reads a song folder written by ``overture generate`` (or by another
operation) and writes a new one; the source is never modified::

    from overture import studio
    studio.extend("out/song", add="bridge chorus", out="out/longer")
    studio.vary("out/chime", 30, out="out/chimes")
"""

from __future__ import annotations

from overture.studio.arrange import arrange
from overture.studio.lineage import lineage_tree
from overture.studio.operations import (
    extend,
    extension,
    parse_keep,
    regenerate,
    restyle,
    restyle_target,
    vary,
)
from overture.studio.source import SourceSong, load_source

__all__ = [
    "SourceSong",
    "arrange",
    "extend",
    "extension",
    "lineage_tree",
    "load_source",
    "parse_keep",
    "regenerate",
    "restyle",
    "restyle_target",
    "vary",
]
