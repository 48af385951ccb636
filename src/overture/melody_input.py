"""A user's melody from a MIDI file: the line that becomes a song's lead (``--melody``).

The melody is read as it is written: its notes (in quarter-note beats), and the tempo, time
signature and key the file states. What the file does not state is found from the notes: the key
by correlating the duration-weighted pitch-class histogram with the Krumhansl-Kessler profiles.
A chordal or multi-voice track is reduced to its top line (the highest note sounding at each
onset), which is where a melody almost always sits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from overture.errors import InvalidInputError
from overture.score import Note
from overture.theory import Key, TimeSignature, key_from_profile

MAX_MELODY_NOTES = 5000


@dataclass(frozen=True, slots=True)
class ImportedMelody:
    """A monophonic melody; ``notes`` start at beat 0 of its first bar."""

    source: str  # the file's name, for song.json
    notes: tuple[Note, ...]
    tempo: float | None  # stated in the file, or None
    time_signature: TimeSignature | None  # stated in the file, or None
    key: Key  # stated in the file, or estimated from the notes
    key_stated: bool

    @property
    def end_beat(self) -> float:
        return max(n.end for n in self.notes)

    def transposed(self, semitones: int) -> ImportedMelody:
        """The melody moved by ``semitones``, its key with it."""
        from dataclasses import replace

        notes = tuple(
            Note(n.pitch + semitones, n.start, n.duration, n.velocity) for n in self.notes
        )
        key = Key((self.key.tonic + semitones) % 12, self.key.mode)
        return replace(self, notes=notes, key=key)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.source,
            "notes": len(self.notes),
            "beats": round(self.end_beat, 3),
            "key": self.key.name,
            "key_source": "file" if self.key_stated else "estimated",
        }


def estimate_key(notes: tuple[Note, ...] | list[Note]) -> Key:
    """The key whose profile best matches the duration-weighted pitch classes of ``notes``."""
    hist = [0.0] * 12
    for n in notes:
        hist[n.pitch % 12] += n.duration
    return key_from_profile(hist)


def read_melody(path: str | Path) -> ImportedMelody:
    """Read the melody of a MIDI file; ``InvalidInputError`` says what is wrong with a bad one."""
    import mido

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"melody file not found: {path}")
    try:
        mid = mido.MidiFile(str(path))
    except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError ...
        raise InvalidInputError(f"cannot read {path.name} as a MIDI file: {e}") from e
    if mid.type == 2:
        raise InvalidInputError(
            f"{path.name}: MIDI type 2 (independent sequences) is not supported"
        )
    ppq = mid.ticks_per_beat or 480
    tempo: float | None = None
    ts: TimeSignature | None = None
    key: Key | None = None
    tracks: dict[int, list[tuple[float, float, int, int]]] = {}
    for index, track in enumerate(mid.tracks):
        tick = 0
        sounding: dict[tuple[int, int], tuple[int, int]] = {}
        for msg in track:
            tick += msg.time
            if msg.is_meta:
                if msg.type == "set_tempo" and tempo is None:
                    tempo = round(60_000_000 / msg.tempo, 3)
                elif msg.type == "time_signature" and ts is None:
                    ts = _time_signature(msg.numerator, msg.denominator, path.name)
                elif msg.type == "key_signature" and key is None:
                    key = _key_from_meta(msg.key)
                continue
            if msg.type not in {"note_on", "note_off"} or msg.channel == 9:
                continue
            k = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                if k in sounding:  # a repeated note-on ends the sounding one
                    on, vel = sounding.pop(k)
                    tracks.setdefault(index, []).append((on / ppq, tick / ppq, msg.note, vel))
                sounding[k] = (tick, msg.velocity)
            elif k in sounding:
                on, vel = sounding.pop(k)
                tracks.setdefault(index, []).append((on / ppq, tick / ppq, msg.note, vel))
        for (_, note), (on, vel) in sounding.items():  # never released: ends with the track
            tracks.setdefault(index, []).append((on / ppq, tick / ppq, note, vel))
    events = max(tracks.values(), key=len, default=[])
    notes = _top_line(events)
    if len(notes) < 2:
        raise InvalidInputError(f"{path.name}: no melody found (needs at least two pitched notes)")
    if len(notes) > MAX_MELODY_NOTES:
        raise InvalidInputError(f"{path.name}: {len(notes)} notes is more than {MAX_MELODY_NOTES}")
    # Leading empty bars are dropped, so the melody starts in its first bar.
    bar = (ts or TimeSignature(4, 4)).beats_per_bar
    shift = (notes[0].start // bar) * bar
    if shift:
        notes = [Note(n.pitch, n.start - shift, n.duration, n.velocity) for n in notes]
    return ImportedMelody(
        source=path.name,
        notes=tuple(notes),
        tempo=tempo,
        time_signature=ts,
        key=key or estimate_key(notes),
        key_stated=key is not None,
    )


def _top_line(events: list[tuple[float, float, int, int]]) -> list[Note]:
    """The highest note at each onset; each note ends no later than the next onset."""
    by_onset: dict[float, tuple[float, float, int, int]] = {}
    for ev in events:
        start = round(ev[0], 4)
        if ev[1] - ev[0] <= 1e-6:
            continue
        if start not in by_onset or ev[2] > by_onset[start][2]:
            by_onset[start] = ev
    starts = sorted(by_onset)
    out: list[Note] = []
    for i, s in enumerate(starts):
        _, end, pitch, vel = by_onset[s]
        if i + 1 < len(starts):
            end = min(end, starts[i + 1])
        out.append(Note(pitch, s, round(end - s, 4), max(1, min(127, vel))))
    return [n for n in out if n.duration > 1e-3]


def _time_signature(numerator: int, denominator: int, name: str) -> TimeSignature:
    from overture.theory import parse_time_signature

    try:
        return parse_time_signature(f"{numerator}/{denominator}")
    except InvalidInputError as e:
        raise InvalidInputError(f"{name}: {e}") from e


def _key_from_meta(name: str) -> Key | None:
    from overture.theory import parse_key

    try:
        if name.endswith("m"):
            return parse_key(f"{name[:-1]} minor")
        return parse_key(f"{name} major")
    except InvalidInputError:
        return None
