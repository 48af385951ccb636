"""Finding the soundfont, checking it, and reading just enough of it to plan the render.

FluidSynth loads the soundfont itself (in each worker); this module reads the small ``pdta``
chunk (the preset, instrument and sample headers, ~0.3 MB of the 86 MB MuseScore SF3, read in
~10-20 ms; each preset is analysed when first asked for, ~1 ms) so the parent process can,
without loading any samples:

* pick a fallback preset when the soundfont lacks the requested one (drum kit 25 -> kit 0);
* estimate what a part costs to render (voices per key, release times) and what selecting its
  preset costs (SF3 samples are Ogg Vorbis and are decoded when the preset is selected: measured
  0.117 s per MB of compressed sample data, piano 15 MB -> 1.8 s, strings 25 MB -> 2.9 s);
* know which presets use exclusive classes (hi-hat choke groups), which must not be rendered in
  independent time segments.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from overture.errors import SoundfontError

ENV_VAR = "OVERTURE_SOUNDFONT"

# Searched in order when no path is given; the first is the best-sounding General MIDI set
# that Debian ships (package musescore-general-soundfont).
DEFAULT_SOUNDFONTS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
)

_FIX = "install the Debian package musescore-general-soundfont or pass --soundfont PATH"

# Measured on this machine (2-core EPYC VM) with MuseScore_General_Full.sf3 and FluidR3_GM.sf2.
_VORBIS_DECODE_S_PER_BYTE = 0.117e-6  # SF3: Ogg Vorbis decode when a preset is selected
_PCM_LOAD_S_PER_BYTE = 0.002e-6  # SF2: reading 16-bit samples from the page cache
_VORBIS_EXPANSION = 8  # SF3 sample data decodes to ~8x its size as 16-bit PCM (MuseScore)
_MAX_RELEASE_S = 5.0  # release tails beyond this are inaudible; caps the cost estimate

# SoundFont 2.04 generator numbers used here.
_GEN_INSTRUMENT = 41
_GEN_KEYRANGE = 43
_GEN_VELRANGE = 44
_GEN_RELEASE = 38
_GEN_EXCLUSIVE = 57
_GEN_SAMPLE = 53
_GEN_SAMPLEMODES = 54


def resolve_soundfont(path: str | Path | None = None) -> Path:
    """The soundfont to render with: ``path``, else ``$OVERTURE_SOUNDFONT``, else the defaults.

    Only the RIFF/sfbk header is read, so a wrong file fails here with a message that names
    it, not later inside FluidSynth with a warning on stderr and silent stems.
    """
    if path is None or str(path) == "":
        env = os.environ.get(ENV_VAR, "").strip()
        if env:
            return _checked(Path(env).expanduser(), source=f"${ENV_VAR}")
        for candidate in DEFAULT_SOUNDFONTS:
            if candidate.is_file():
                return _checked(candidate, source="default")
        searched = ", ".join(str(p) for p in DEFAULT_SOUNDFONTS)
        raise SoundfontError(f"no soundfont found (searched {searched}); {_FIX}")
    return _checked(Path(path).expanduser(), source="given")


def _checked(path: Path, *, source: str) -> Path:
    if not path.exists():
        raise SoundfontError(f"soundfont not found: {path} ({source}); {_FIX}")
    if not path.is_file():
        raise SoundfontError(f"soundfont is not a file: {path} ({source}); {_FIX}")
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError as exc:
        raise SoundfontError(f"cannot read soundfont {path}: {exc.strerror}; {_FIX}") from exc
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise SoundfontError(
            f"not a SoundFont (.sf2/.sf3, RIFF sfbk header missing): {path} ({source}); {_FIX}"
        )
    return path.resolve()


@dataclass(frozen=True, slots=True)
class PresetInfo:
    """What the planner needs to know about one preset, without loading its samples."""

    bank: int
    program: int
    name: str
    samples: frozenset[int]  # sample header indices; presets share samples (pads, strings)
    voices: np.ndarray  # float32[128]: voices started by one note on each key at velocity 100
    release: np.ndarray  # float32[128]: mean release time (s) of those voices, capped
    exclusive: bool  # uses exclusive classes (choke groups): voices interact across notes
    exclusive_keys: np.ndarray  # bool[128]: keys with an exclusive-class zone


@dataclass(slots=True)
class SoundfontInfo:
    """The headers of one soundfont: presets by (bank, program) and sample sizes."""

    path: Path
    compressed: bool  # SF3: samples are Ogg Vorbis, decoded on preset selection
    presets: Mapping[tuple[int, int], PresetInfo]  # analysed on first access
    sample_bytes: np.ndarray  # int64 per sample header: bytes of (compressed) data
    _fallbacks: dict[tuple[int, int, bool], tuple[int, int] | None] = field(default_factory=dict)
    twin: bool = False  # the PCM twin of an SF3 (see ``pcm_cache``), filled as presets are used

    def has(self, bank: int, program: int) -> bool:
        return (bank, program) in self.presets

    def resolve(self, bank: int, program: int, *, drums: bool) -> tuple[int, int] | None:
        """The preset to use for a part, falling back to what the soundfont has.

        Drums: (128, kit) -> (128, 0) -> the first kit in bank 128. Melodic: (bank, program)
        -> (0, program) -> (0, 0) -> the first melodic preset. ``None`` if nothing fits.
        """
        key = (bank, program, drums)
        if key in self._fallbacks:
            return self._fallbacks[key]
        if drums:
            order = [(128, program), (128, 0)]
            rest = sorted(k for k in self.presets if k[0] == 128)
        else:
            order = [(bank, program), (0, program), (0, 0)]
            rest = sorted(k for k in self.presets if k[0] != 128)
        found = next((k for k in order if k in self.presets), rest[0] if rest else None)
        self._fallbacks[key] = found
        return found

    def memory(self, samples: frozenset[int] | set[int]) -> int:
        """Estimated bytes ``samples`` take once loaded (16-bit PCM)."""
        if not samples:
            return 0
        total = int(self.sample_bytes[np.fromiter(samples, dtype=np.int64)].sum())
        return total * (_VORBIS_EXPANSION if self.compressed else 1)

    def decode_cost(self, samples: frozenset[int] | set[int]) -> float:
        """Estimated seconds to load ``samples`` when their preset is selected."""
        if not samples:
            return 0.0
        total = float(self.sample_bytes[np.fromiter(samples, dtype=np.int64)].sum())
        cost = total * (_VORBIS_DECODE_S_PER_BYTE if self.compressed else _PCM_LOAD_S_PER_BYTE)
        if self.twin:  # samples not yet decoded into the PCM twin are decoded on selection
            from overture.render.pcm_cache import pending_bytes

            cost += pending_bytes(self.path, samples) * _VORBIS_DECODE_S_PER_BYTE
        return cost


def soundfont_info(path: str | Path) -> SoundfontInfo:
    """Parsed headers of the soundfont at ``path`` (cached per file version)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError as exc:
        raise SoundfontError(f"soundfont not found: {p}; {_FIX}") from exc
    return _parse_cached(str(p), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _parse_cached(path: str, size: int, mtime_ns: int) -> SoundfontInfo:
    del size, mtime_ns  # only part of the cache key
    try:
        return _parse(Path(path))
    except (struct.error, IndexError, KeyError, ValueError) as exc:
        raise SoundfontError(f"cannot parse soundfont {path}: {exc}; {_FIX}") from exc


def _chunks(data: memoryview | bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    out: dict[bytes, tuple[int, int]] = {}
    pos = start
    while pos + 8 <= end:
        cid, size = struct.unpack_from("<4sI", data, pos)
        out[cid] = (pos + 8, size)
        pos += 8 + size + (size & 1)
    return out


def riff_lists(f: BinaryIO) -> dict[bytes, tuple[int, int]]:
    """The top-level LIST chunks of an open SoundFont (form type -> (data offset, size)),
    found by seeking from header to header, without reading the sample data; ``ValueError``
    if the file is no RIFF sfbk."""
    f.seek(0)
    riff, riff_size, form = struct.unpack("<4sI4s", f.read(12))
    if riff != b"RIFF" or form != b"sfbk":
        raise ValueError("RIFF sfbk header missing")
    lists: dict[bytes, tuple[int, int]] = {}
    pos, end = 12, 8 + riff_size
    while pos + 12 <= end:
        f.seek(pos)
        cid, size, kind = struct.unpack("<4sI4s", f.read(12))
        if cid == b"LIST":
            lists[kind] = (pos + 12, size - 4)
        pos += 8 + size + (size & 1)
    return lists


def _parse(path: Path) -> SoundfontInfo:
    with path.open("rb") as f:
        lists = riff_lists(f)
        info_pos, info_size = lists[b"INFO"]
        f.seek(info_pos)
        info = f.read(info_size)
        pdta_pos, pdta_size = lists[b"pdta"]
        f.seek(pdta_pos)
        pdta = f.read(pdta_size)

    info_chunks = _chunks(info, 0, len(info))
    major = 2
    if b"ifil" in info_chunks:
        ip, _ = info_chunks[b"ifil"]
        major = struct.unpack_from("<H", info, ip)[0]
    sub = _chunks(pdta, 0, len(pdta))

    def table(name: bytes, fmt: str) -> list[tuple]:
        p, size = sub[name]
        return list(struct.iter_unpack(fmt, pdta[p : p + size - size % struct.calcsize(fmt)]))

    phdr = table(b"phdr", "<20sHHHIII")
    pbag = table(b"pbag", "<HH")
    pgen = table(b"pgen", "<HH")
    inst = table(b"inst", "<20sH")
    ibag = table(b"ibag", "<HH")
    igen = table(b"igen", "<HH")
    shdr = table(b"shdr", "<20sIIIIIBbHH")

    sample_bytes = np.array([max(0, s[2] - s[1]) for s in shdr], dtype=np.int64)
    if major < 3:
        sample_bytes *= 2  # SF2: start/end count 16-bit sample points
    compressed = major >= 3 or any(s[9] & 0x10 for s in shdr)
    frames_per_unit = _VORBIS_EXPANSION // 2 if major >= 3 else 1

    def zones(bags: list[tuple], gens: list[tuple], first: int, last: int) -> list[dict[int, int]]:
        return [dict(gens[bags[b][0] : bags[b + 1][0]]) for b in range(first, last)]

    def ranges(z: dict[int, int]) -> tuple[int, int, int, int]:
        kr = z.get(_GEN_KEYRANGE, 0x7F00)
        vr = z.get(_GEN_VELRANGE, 0x7F00)
        return kr & 0xFF, kr >> 8, vr & 0xFF, vr >> 8

    def signed(v: int) -> int:
        return v - 0x10000 if v >= 0x8000 else v

    # Instruments are shared by many presets: summarise each one's sample zones once, as arrays
    # (key lo, key hi, vel lo, vel hi, release timecents, unlooped length s, exclusive, sample).
    inst_cache: dict[int, tuple[np.ndarray, ...]] = {}

    def inst_zones(ii: int) -> tuple[np.ndarray, ...]:
        cached = inst_cache.get(ii)
        if cached is not None:
            return cached
        izs = zones(ibag, igen, inst[ii][1], inst[ii + 1][1])
        glob = izs[0] if izs and _GEN_SAMPLE not in izs[0] else {}
        rows = []
        for iz in izs:
            sid = iz.get(_GEN_SAMPLE)
            if sid is None or sid >= len(shdr) - 1:
                continue
            tc = signed(iz.get(_GEN_RELEASE, glob.get(_GEN_RELEASE, 0xD120)))
            length = math.inf
            if iz.get(_GEN_SAMPLEMODES, glob.get(_GEN_SAMPLEMODES, 0)) & 3 in (0, 2):
                sh = shdr[sid]  # unlooped: the voice lasts as long as the sample at most
                if sh[5] > 0:
                    length = (sh[2] - sh[1]) * frames_per_unit / sh[5]
            excl = 1.0 if iz.get(_GEN_EXCLUSIVE, glob.get(_GEN_EXCLUSIVE, 0)) else 0.0
            rows.append((*ranges(iz), tc, length, excl, sid))
        table_ = np.array(rows, dtype=np.float64).reshape(-1, 8)
        cached = inst_cache[ii] = tuple(table_.T)
        return cached

    keys = np.arange(128)

    def analyse(k: int) -> PresetInfo:
        name, program, bank, bag0 = phdr[k][:4]
        voices = np.zeros(128, np.float64)
        release_sum = np.zeros(128, np.float64)
        exclusive_keys = np.zeros(128, dtype=bool)
        samples: set[int] = set()
        pzones = zones(pbag, pgen, bag0, phdr[k + 1][3])
        pglobal = pzones[0] if pzones and _GEN_INSTRUMENT not in pzones[0] else {}
        for pz in pzones:
            ii = pz.get(_GEN_INSTRUMENT)
            if ii is None or ii + 1 >= len(inst):
                continue
            k0, k1, v0, v1, tc, length, excl, sid = inst_zones(ii)
            if len(sid) == 0:
                continue
            samples.update(sid.astype(np.int64).tolist())
            pk0, pk1, pv0, pv1 = ranges(pz)
            p_rel = signed(pz.get(_GEN_RELEASE, pglobal.get(_GEN_RELEASE, 0)))
            lo, hi = np.maximum(k0, pk0), np.minimum(k1, pk1)
            # (zones x keys) membership, 128 columns: cheap next to looping in Python.
            inside = (keys >= lo[:, None]) & (keys <= hi[:, None])
            exclusive_keys |= np.any(inside & (excl[:, None] > 0), axis=0)
            sounding = (np.maximum(v0, pv0) <= 100) & (np.minimum(v1, pv1) >= 100)
            rel = np.exp2(np.clip(tc + p_rel, -12000, 8000) / 1200.0)
            rel = np.minimum(np.minimum(rel, length), _MAX_RELEASE_S)
            active = inside & sounding[:, None]
            voices += active.sum(axis=0)
            release_sum += (active * rel[:, None]).sum(axis=0)
        release = np.where(voices > 0, release_sum / np.maximum(voices, 1.0), 0.0)
        return PresetInfo(
            bank=bank,
            program=program,
            name=name.split(b"\0", 1)[0].decode("latin-1").strip(),
            samples=frozenset(samples),
            voices=voices.astype(np.float32),
            release=release.astype(np.float32),
            exclusive=bool(exclusive_keys.any()),
            exclusive_keys=exclusive_keys,
        )

    index = {(h[2], h[1]): k for k, h in enumerate(phdr[:-1])}
    return SoundfontInfo(
        path=path,
        compressed=compressed,
        presets=_LazyPresets(index, analyse),
        sample_bytes=sample_bytes,
        twin=str(path).endswith(".pcm.sf2"),
    )


class _LazyPresets(Mapping[tuple[int, int], PresetInfo]):
    """Presets by (bank, program), each analysed the first time it is asked for.

    A song uses a handful of the soundfont's 100-300 presets; analysing all of them took
    0.15-0.25 s in the parent process, one preset takes ~1 ms.
    """

    def __init__(
        self, index: dict[tuple[int, int], int], analyse: Callable[[int], PresetInfo]
    ) -> None:
        self._index = index
        self._analyse = analyse
        self._done: dict[tuple[int, int], PresetInfo] = {}

    def __getitem__(self, key: tuple[int, int]) -> PresetInfo:
        info = self._done.get(key)
        if info is None:
            info = self._done[key] = self._analyse(self._index[key])
        return info

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def note_cost(preset: PresetInfo, pitches: np.ndarray, seconds: np.ndarray) -> float:
    """Estimated voice-seconds of notes (``pitches``, held ``seconds``) on ``preset``."""
    if len(pitches) == 0:
        return 0.0
    p = np.clip(pitches, 0, 127)
    v = preset.voices[p]
    if not np.any(v):
        v = np.ones_like(v)
    return float(np.sum(v * (seconds + preset.release[p])))


def midi_hz(pitch: float) -> float:
    return 440.0 * math.pow(2.0, (pitch - 69.0) / 12.0)
