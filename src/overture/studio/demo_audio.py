"""A user's demo recording, read safely: it is untrusted, so it is checked before it is decoded.

``probe_audio`` looks at a file without decoding it: that it exists and is not empty or huge,
that its first bytes are not an archive, document, image or program, that it is one of the
accepted formats (wav, flac, mp3, ogg, m4a) with an audio stream, and that the duration its
header states lies between ``MIN_DEMO_SECONDS`` and ``MAX_DEMO_SECONDS``. A WAV header is read
here (a header may claim hours over a few bytes of data, which ffprobe and libsndfile would
silently clamp to the file's size); FLAC and Ogg are read by libsndfile, anything else by
``ffprobe`` under a timeout. ``load_demo_audio`` then decodes at most ``MAX_DEMO_SECONDS`` + 1
seconds (libsndfile, or ffmpeg to raw PCM in a subprocess), so memory stays bounded even when a
header lies. Every failure is an ``InvalidInputError`` with one line that names the file.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from overture.errors import InvalidInputError

MIN_DEMO_SECONDS = 2.0
MAX_DEMO_SECONDS = 60.0
MAX_DEMO_BYTES = 100 * 1024 * 1024
ACCEPTED_FORMATS = ("wav", "flac", "mp3", "ogg", "m4a")
SILENCE_DBFS = -60.0  # a recording whose loudest 100 ms is quieter than this is silent
PROBE_TIMEOUT_S = 15.0
DECODE_TIMEOUT_S = 60.0
# Decoded audio this much shorter than the header said (and at least 0.5 s) is truncated.
TRUNCATED_SHARE = 0.1

# First bytes of files that are certainly not audio: (offset, magic, what it looks like).
_NOT_AUDIO: tuple[tuple[int, bytes, str], ...] = (
    (0, b"PK\x03\x04", "a zip archive"),
    (0, b"PK\x05\x06", "a zip archive"),
    (0, b"PK\x07\x08", "a zip archive"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (0, b"Rar!\x1a\x07", "a rar archive"),
    (0, b"BZh", "a bzip2 archive"),
    (0, b"\xfd7zXZ\x00", "an xz archive"),
    (0, b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (257, b"ustar", "a tar archive"),
    (0, b"%PDF", "a PDF document"),
    (0, b"\x7fELF", "a program (ELF)"),
    (0, b"MZ", "a Windows program"),
    (0, b"\xca\xfe\xba\xbe", "a program (Mach-O)"),
    (0, b"\xcf\xfa\xed\xfe", "a program (Mach-O)"),
    (0, b"\x89PNG", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"MThd", "a MIDI file"),
    (0, b"SQLite format 3", "a database"),
    (0, b"\xd0\xcf\x11\xe0", "an Office document"),
)

_WAV_PCM_TAGS = {1, 3}  # PCM, IEEE float: what libsndfile decodes (extensible: its subformat)
_FFPROBE_FORMATS = {"wav": "wav", "flac": "flac", "mp3": "mp3", "ogg": "ogg"}
_MP4_CODECS = {"aac", "alac"}


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a demo's header says: its format and codec, and the length it claims."""

    path: Path
    format: str  # one of ACCEPTED_FORMATS
    codec: str  # e.g. "pcm_s16le", "flac", "mp3", "vorbis", "aac"
    duration: float  # seconds, as the header states it
    sample_rate: int
    channels: int


def probe_audio(path: str | Path) -> AudioInfo:
    """Check a demo recording without decoding it; ``InvalidInputError`` says what is wrong."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InvalidInputError(f"demo recording not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInputError(f"{name} is empty (0 bytes)")
    if size > MAX_DEMO_BYTES:
        raise InvalidInputError(
            f"{name} is {size / 2**20:.0f} MB; a demo may be at most {MAX_DEMO_BYTES // 2**20} MB"
        )
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise InvalidInputError(f"cannot read {name}: {e.strerror or e}") from e
    looks = _not_audio(head)
    if looks:
        raise InvalidInputError(f"{name} is not an audio file (it looks like {looks})")

    info: AudioInfo | None = None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        info = _probe_wav(path, size)
    elif head[:4] == b"fLaC" or head[:4] == b"OggS":
        info = _probe_soundfile(path)
    if info is None:
        info = _probe_ffprobe(path)
    _check_duration(name, info.duration)
    return info


def load_demo_audio(path: str | Path, sample_rate: int = 16000) -> tuple[np.ndarray, int]:
    """Probe and decode a demo: mono float32 at ``sample_rate``, and the rate.

    At most ``MAX_DEMO_SECONDS`` + 1 seconds are decoded. A file that decodes to clearly less
    than its header said is truncated, and rejected; so is a silent one.
    """
    info = probe_audio(path)
    name = info.path.name
    audio: np.ndarray | None = None
    if info.format in {"wav", "flac", "ogg"}:
        audio = _decode_soundfile(info, sample_rate)
    if audio is None:
        audio = _decode_ffmpeg(info, sample_rate)
    audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(audio, -1.0, 1.0, out=audio)
    seconds = len(audio) / sample_rate
    missing = info.duration - seconds
    if missing > max(0.5, TRUNCATED_SHARE * info.duration):
        raise InvalidInputError(
            f"{name} is truncated or corrupt: its header says {info.duration:.1f} s but only "
            f"{seconds:.1f} s of audio could be decoded"
        )
    _check_duration(name, seconds)
    block = max(1, sample_rate // 10)
    n = len(audio) // block * block
    loudest = float(np.sqrt(np.max(np.mean(audio[:n].reshape(-1, block) ** 2, axis=1))))
    if loudest <= 10 ** (SILENCE_DBFS / 20):
        raise InvalidInputError(f"{name} is silent (nothing louder than {SILENCE_DBFS:.0f} dBFS)")
    return audio.astype(np.float32, copy=False), sample_rate


def _not_audio(head: bytes) -> str:
    """What ``head`` (a file's first bytes) looks like when it is certainly not audio, or ""."""
    for offset, magic, what in _NOT_AUDIO:
        if head[offset : offset + len(magic)] == magic:
            return what
    probe = head[:1024]
    if probe and b"\0" not in probe:
        text = probe.decode("utf-8", errors="replace")
        # One bad character may be a multi-byte one cut at the end of the probe.
        if text.count("\ufffd") <= 1 and all(
            c.isprintable() or c in "\r\n\t\f\ufffd" for c in text
        ):
            if text.lstrip().lower().startswith(("<!doctype html", "<html")):
                return "an HTML page"
            return "a text file"
    return ""


def _check_duration(name: str, seconds: float) -> None:
    if seconds > MAX_DEMO_SECONDS:
        raise InvalidInputError(
            f"{name} lasts {seconds:.1f} s; a demo may last at most {MAX_DEMO_SECONDS:.0f} s"
        )
    if seconds < MIN_DEMO_SECONDS:
        raise InvalidInputError(
            f"{name} lasts {seconds:.1f} s; a demo must last at least {MIN_DEMO_SECONDS:.0f} s"
        )


def _probe_wav(path: Path, size: int) -> AudioInfo | None:
    """A RIFF/WAVE file's header: the duration its data chunk claims (not clamped to the
    file's size). ``None`` when libsndfile cannot decode its codec (left to ffprobe)."""
    name = path.name
    fmt: tuple[int, int, int, int, int] | None = None  # tag, channels, rate, block align, bits
    data_size: int | None = None
    with path.open("rb") as f:
        f.seek(12)
        pos = 12
        while pos + 8 <= size:
            chunk = f.read(8)
            if len(chunk) < 8:
                break
            cid, csize = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                body = f.read(min(csize, 64))
                if len(body) < 16:
                    raise InvalidInputError(f"{name} is corrupt: its WAV format chunk is cut short")
                tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", body[:16])
                if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the subformat
                    tag = struct.unpack("<H", body[24:26])[0]
                fmt = (tag, channels, rate, align, bits)
            elif cid == b"data":
                data_size = csize
                if csize in (0, 0xFFFFFFFF):  # written by a stream that could not seek back
                    data_size = size - pos - 8
                break
            pos += 8 + csize + (csize & 1)
            f.seek(pos)
    if fmt is None or data_size is None:
        raise InvalidInputError(
            f"{name} is corrupt: no {'format' if fmt is None else 'data'} chunk in its WAV header"
        )
    tag, channels, rate, align, bits = fmt
    if channels <= 0 or rate <= 0 or align <= 0:
        raise InvalidInputError(
            f"{name} is corrupt: its WAV header says {channels} channels at {rate} Hz"
        )
    if tag not in _WAV_PCM_TAGS:
        return None
    codec = f"pcm_{'f' if tag == 3 else 's' if bits > 8 else 'u'}{bits}le"
    return AudioInfo(path, "wav", codec, data_size / (align * rate), rate, channels)


def _probe_soundfile(path: Path) -> AudioInfo | None:
    """A FLAC or Ogg file's header, read by libsndfile; ``None`` when it cannot (ffprobe next)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # libsndfile's errors are RuntimeError or LibsndfileError
        return None
    fmt = {"FLAC": "flac", "OGG": "ogg"}.get(info.format)
    if fmt is None or info.samplerate <= 0 or info.channels <= 0:
        return None
    codec = {"VORBIS": "vorbis", "OPUS": "opus", "FLAC": "flac"}.get(
        info.subtype, "flac" if fmt == "flac" else info.subtype.lower()
    )
    return AudioInfo(
        path, fmt, codec, info.frames / info.samplerate, info.samplerate, info.channels
    )


def _probe_ffprobe(path: Path) -> AudioInfo:
    name = path.name
    exe = shutil.which("ffprobe")
    if exe is None:
        raise InvalidInputError(f"cannot read {name}: ffprobe is not installed (Debian: ffmpeg)")
    cmd = [
        exe,
        "-v",
        "error",
        "-show_entries",
        "format=duration,format_name:stream=codec_type,codec_name,sample_rate,channels",
        "-of",
        "json",
        "--",
        str(path),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        raise InvalidInputError(f"ffmpeg cannot read {name}: probing it took too long") from e
    if proc.returncode != 0:
        raise InvalidInputError(f"ffmpeg cannot read {name}: {_first_line(proc.stderr)}")
    try:
        data = json.loads(proc.stdout.decode("utf-8", errors="replace") or "{}")
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"ffmpeg cannot read {name}: unreadable probe output") from e
    fmt_name = str(data.get("format", {}).get("format_name", ""))
    streams = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise InvalidInputError(f"{name} has no audio stream")
    stream = streams[0]
    codec = str(stream.get("codec_name", ""))
    if "mp4" in fmt_name.split(",") or "m4a" in fmt_name.split(","):
        fmt = "m4a"
        if codec not in _MP4_CODECS:
            raise InvalidInputError(
                f"{name}: {codec or 'unknown'} audio in an MP4/M4A file is not supported "
                "(AAC or ALAC is)"
            )
    else:
        fmt = _FFPROBE_FORMATS.get(fmt_name, "")
    if not fmt:
        raise InvalidInputError(
            f"{name} is in a format a demo may not be ({fmt_name or 'unknown'}); "
            f"use {', '.join(ACCEPTED_FORMATS[:-1])} or {ACCEPTED_FORMATS[-1]}"
        )
    rate = _int(stream.get("sample_rate"))
    channels = _int(stream.get("channels"))
    duration = _float(data.get("format", {}).get("duration"))
    if rate <= 0 or channels <= 0 or duration is None:
        raise InvalidInputError(
            f"{name} is corrupt or not audio: ffmpeg finds no valid {fmt} header in it"
        )
    return AudioInfo(path, fmt, codec, duration, rate, channels)


def _decode_soundfile(info: AudioInfo, sample_rate: int) -> np.ndarray | None:
    """libsndfile's decoding of a wav/flac/ogg, mono and resampled; ``None`` if it fails."""
    import soundfile as sf

    limit = int((MAX_DEMO_SECONDS + 1) * info.sample_rate)
    try:
        with sf.SoundFile(str(info.path)) as f:
            data = f.read(frames=limit, dtype="float32", always_2d=True)
    except Exception:  # truncated or odd files: ffmpeg decodes what it can
        return None
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return _resample(np.ascontiguousarray(mono, dtype=np.float32), info.sample_rate, sample_rate)


def _decode_ffmpeg(info: AudioInfo, sample_rate: int) -> np.ndarray:
    name = info.path.name
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise InvalidInputError(f"cannot decode {name}: ffmpeg is not installed")
    cmd = [
        exe,
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(info.path),
        "-t",
        f"{MAX_DEMO_SECONDS + 1:g}",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-f",
        "f32le",
        "-",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        raise InvalidInputError(f"ffmpeg cannot decode {name}: it took too long") from e
    raw = proc.stdout[: len(proc.stdout) // 4 * 4]
    if proc.returncode != 0 and not raw:
        raise InvalidInputError(f"ffmpeg cannot decode {name}: {_first_line(proc.stderr)}")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or len(x) == 0:
        return x
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(x, target // g, rate // g).astype(np.float32)


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if line:
            # ffmpeg prefixes the file name or its component ("[mp3 @ 0x55..] "); the caller
            # names the file already.
            line = re.sub(r"^\[[^\]]*\]\s*", "", line)
            return line.split(": ", 1)[-1] if line.startswith(("/", ".")) else line
    return "unknown error"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _float(value: object) -> float | None:
    try:
        v = float(str(value))
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and v >= 0 else None
