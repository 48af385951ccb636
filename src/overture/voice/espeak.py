"""espeak-ng as a phoneme source: speech samples plus where each phoneme starts.

The library (``libespeak-ng.so.1``, which the ``espeak-ng`` program itself links to) is
driven through ctypes in synchronous mode: ``espeak_Synth`` calls back with the samples and,
initialised with ``espeakINITIALIZE_PHONEME_EVENTS``, with one event per phoneme giving its
mnemonic and its first sample, which the vocoder needs to find the vowel. The API is
documented in espeak-ng's ``speak_lib.h`` (1.51).

The library runs in a helper process (``_espeak_worker.py``) that forks a child per
utterance: libespeak-ng carries synthesis state from one utterance to the next in C statics
no API resets, so in-process speech would depend on what was said before and the singing
would not be reproducible. Where the helper cannot run, the ``espeak-ng`` program is run
instead (``--stdout``, a fresh process each time, so just as reproducible): the speech is
the same, but there are no phoneme events and the caller segments the syllable from its
energy and voicing (and the pitch range cannot be set to a monotone there).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import shutil
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overture.voice.types import VoiceError

log = logging.getLogger(__name__)

RATE_WPM = 175  # espeak-ng's default rate: natural consonants (vowels are stretched anyway)
_TIMEOUT = 30.0  # s for one utterance


@dataclass(frozen=True, slots=True)
class PhonemeEvent:
    """A phoneme espeak-ng spoke: its mnemonic (``"aI"``, ``"_:"`` for a pause) and start."""

    name: str
    sample: int


@dataclass(frozen=True, slots=True)
class Utterance:
    """Speech samples (float64 in [-1, 1] at ``sample_rate``) and the phoneme events in it.

    ``events`` is empty when espeak-ng ran as a program (no event output there).
    """

    samples: np.ndarray
    sample_rate: int
    events: tuple[PhonemeEvent, ...]


class _Worker:
    """The helper process and the request/reply exchange with it."""

    def __init__(self) -> None:
        script = Path(__file__).with_name("_espeak_worker.py")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        hello, _ = self._reply()
        if not hello.get("ok"):
            self.close()
            raise OSError(str(hello.get("error", "espeak-ng helper failed")))

    def _read(self, n: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise OSError("espeak-ng helper timed out")
            chunk = os.read(fd, n - got)
            if not chunk:
                raise OSError("espeak-ng helper exited")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _reply(self) -> tuple[dict[str, Any], bytes]:
        deadline = time.monotonic() + _TIMEOUT
        size = struct.unpack("<I", self._read(4, deadline))[0]
        head = json.loads(self._read(size, deadline))
        pcm = self._read(2 * int(head.get("n", 0)), deadline) if head.get("ok") else b""
        return head, pcm

    def speak(self, text: str, voice: str, pitch: int) -> Utterance:
        request = json.dumps({"text": text, "voice": voice, "pitch": pitch, "rate": RATE_WPM})
        body = request.encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(struct.pack("<I", len(body)) + body)
        self.proc.stdin.flush()
        head, pcm = self._reply()
        if not head.get("ok"):
            raise VoiceError(
                f"espeak-ng could not speak {text!r} with {voice!r}: {head.get('error')}"
            )
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
        events = tuple(PhonemeEvent(str(name), int(at)) for name, at in head["events"])
        return Utterance(samples, int(head["rate"]), events)

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.SubprocessError):
            self.proc.kill()


_lock = threading.Lock()
_worker: _Worker | None = None
_worker_failed = False


def _get_worker() -> _Worker | None:
    global _worker, _worker_failed
    if _worker is None and not _worker_failed:
        try:
            _worker = _Worker()
            atexit.register(_shutdown)
        except (OSError, ValueError) as exc:
            _worker_failed = True
            log.info("espeak-ng helper unavailable (%s); running espeak-ng per syllable", exc)
    return _worker


def _shutdown() -> None:
    global _worker
    with _lock:
        if _worker is not None:
            _worker.close()
            _worker = None


def _speak_program(text: str, voice: str, pitch: int) -> Utterance:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise VoiceError("espeak-ng is not installed (apt install espeak-ng)")
    cmd = [exe, "-v", voice, "-s", str(RATE_WPM), "-p", str(min(99, pitch)), "--stdout"]
    try:
        out = subprocess.run([*cmd, text], capture_output=True, check=True, timeout=_TIMEOUT).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise VoiceError(f"espeak-ng failed on {text!r}: {exc}") from exc
    # espeak-ng streams a 16-bit mono WAV whose header gives no data length (libsndfile
    # refuses it): the samples are everything after the "data" chunk's header.
    at = out.find(b"data")
    if not out.startswith(b"RIFF") or at < 0:
        raise VoiceError(f"espeak-ng gave no audio for {text!r}")
    rate = struct.unpack("<I", out[24:28])[0]
    pcm = out[at + 8 :]
    pcm = pcm[: len(pcm) // 2 * 2]
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    return Utterance(samples, int(rate), ())


def speak(text: str, voice: str, *, pitch: int = 50) -> Utterance:
    """Speak ``text`` (``[[...]]`` for phoneme mnemonics) with espeak-ng voice ``voice``.

    ``voice`` may carry a variant (``"en-us+f1"``); ``pitch`` is espeak-ng's 0-99 setting.
    espeak-ng speaks at 22050 Hz. The same arguments always give the same samples. Raises
    ``VoiceError`` if espeak-ng is missing or refuses the voice.
    """
    global _worker
    with _lock:
        worker = _get_worker()
        if worker is not None:
            try:
                return worker.speak(text, voice, pitch)
            except OSError as exc:  # the helper died: start a new one next time
                log.warning("espeak-ng helper failed (%s); restarting it", exc)
                worker.close()
                _worker = None
    return _speak_program(text, voice, pitch)
