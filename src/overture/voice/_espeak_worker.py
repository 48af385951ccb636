"""A helper process that speaks with libespeak-ng, each utterance from the same clean state.

libespeak-ng keeps synthesis state in C statics that no API call resets: the phase of its
pitch "flutter" table (``Flutter_ix`` in ``wavegen.c``), a cycle counter used for vocal
roughness, an automatic gain. So the same text spoken twice in one process gives different
samples (the phoneme timing is the same, the voiced waveform is not), and the singing voice
would depend on what was spoken before. This process initialises the library once and never
synthesises itself: for every request it forks a child, which inherits the pristine state,
speaks, sends the samples and phoneme events back, and exits. A fork of this small process
costs ~1 ms.

Runs as a script with the standard library only (``python -I _espeak_worker.py``), so that
it starts in ~20 ms and shares nothing with the caller. Protocol, over stdin/stdout: a
request is a 4-byte little-endian length and a JSON object ``{"text", "voice", "pitch",
"rate"}``; a reply is a 4-byte length and a JSON object ``{"ok", "rate", "events", "n"}``
(``events``: ``[[mnemonic, first sample], ...]``) followed by ``n`` 16-bit samples, or
``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import struct
import sys
from typing import Any, BinaryIO

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PHONEMES = 0x100
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    )


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h (espeak-ng 1.51)."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def _load() -> ctypes.CDLL:
    errors = []
    for name in ("libespeak-ng.so.1", ctypes.util.find_library("espeak-ng"), "libespeak-ng.so"):
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError as exc:
            errors.append(str(exc))
    raise OSError("; ".join(errors) or "libespeak-ng not found")


class _Speaker:
    def __init__(self) -> None:
        lib = _load()
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_SetSynthCallback.argtypes = (_Callback,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT
        self.rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 200, None, options)
        if self.rate <= 0:
            raise OSError("espeak_Initialize failed")
        self.lib = lib
        self.chunks: list[bytes] = []
        self.events: list[list[Any]] = []
        self.callback = _Callback(self._on_synth)
        lib.espeak_SetSynthCallback(self.callback)
        self.voice = ""

    def _on_synth(self, wav: Any, n: int, events: Any) -> int:
        if n > 0 and wav:
            self.chunks.append(ctypes.string_at(wav, 2 * n))
        i = 0
        while events[i].type != 0:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
                at_ms = event.audio_position * self.rate // 1000
                # ``sample`` is the exact first sample; the millisecond position is the
                # fallback should a build ever fill it differently.
                sample = event.sample if abs(event.sample - at_ms) <= self.rate // 50 else at_ms
                self.events.append([name, int(sample)])
            i += 1
        return 0

    def select(self, voice: str) -> None:
        """Load a voice in this process: no synthesis, so the clean state is kept."""
        if voice != self.voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}")
            self.voice = voice

    def speak(self, text: str, pitch: int, rate: int) -> bytes:
        lib = self.lib
        lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
        lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        lib.espeak_SetParameter(_PARAM_RANGE, 0, 0)  # monotone
        data = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(data, len(data))
        err = lib.espeak_Synth(buffer, len(data), 0, 1, 0, _CHARS_UTF8 | _PHONEMES, None, None)
        lib.espeak_Synchronize()
        if err != 0:
            raise ValueError(f"espeak-ng could not speak {text!r} (error {err})")
        pcm = b"".join(self.chunks)
        head = {"ok": True, "rate": self.rate, "events": self.events, "n": len(pcm) // 2}
        return _frame(head) + pcm


def _frame(obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj).encode("utf-8")
    return struct.pack("<I", len(body)) + body


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    out = b""
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def _serve(speaker: _Speaker, request: dict[str, Any]) -> bytes:
    """Speak in a forked child and return its reply (an error reply if it failed)."""
    speaker.select(str(request["voice"]))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: speak from the inherited clean state, reply, leave at once
        os.close(read_fd)
        try:
            reply = speaker.speak(str(request["text"]), int(request["pitch"]), int(request["rate"]))
        except Exception as exc:
            reply = _frame({"ok": False, "error": str(exc)})
        with os.fdopen(write_fd, "wb") as out:
            out.write(reply)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        reply = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or len(reply) < 4:
        return _frame({"ok": False, "error": f"espeak-ng child failed (status {status})"})
    return reply


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        if not hasattr(os, "fork"):
            raise OSError("no fork() on this platform")
        speaker = _Speaker()
    except Exception as exc:
        stdout.write(_frame({"ok": False, "error": f"cannot start espeak-ng: {exc}"}))
        stdout.flush()
        return
    stdout.write(_frame({"ok": True, "rate": speaker.rate}))
    stdout.flush()
    while True:
        size = _read_exact(stdin, 4)
        if size is None:
            return
        body = _read_exact(stdin, struct.unpack("<I", size)[0])
        if body is None:
            return
        try:
            reply = _serve(speaker, json.loads(body))
        except Exception as exc:
            reply = _frame({"ok": False, "error": str(exc)})
        stdout.write(reply)
        stdout.flush()


if __name__ == "__main__":
    main()
