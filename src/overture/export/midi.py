"""Standard MIDI File (type 1): a conductor track, then one track per part.

A sung part's syllables are lyric meta events (UTF-8) at the start of their first notes.
"""

from __future__ import annotations

from pathlib import Path

import mido

from overture.score import Score

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9


def _channels(score: Score) -> list[int]:
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    out, i = [], 0
    for p in score.parts:
        if p.is_drums:
            out.append(DRUM_CHANNEL)
        else:
            out.append(free[i % len(free)])
            i += 1
    return out


def _mido_key(score: Score) -> str:
    return score.key.tonic_name + ("m" if score.key.mode == "minor" else "")


def score_to_midi(score: Score, *, title: str = "") -> mido.MidiFile:
    """Build the MIDI file; the same score always gives the same bytes."""
    # Text events (title, markers) in UTF-8: a Chinese title must not break the file.
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset="utf-8")
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name=title or "Overture", time=0))
    conductor.append(
        mido.MetaMessage(
            "time_signature",
            numerator=score.time_signature.numerator,
            denominator=score.time_signature.denominator,
            time=0,
        )
    )
    conductor.append(mido.MetaMessage("key_signature", key=_mido_key(score), time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.tempo), time=0))
    for mark in score.sections:
        tick = round(score.bar_start(mark.start_bar) * TICKS_PER_BEAT)
        conductor.append(mido.MetaMessage("marker", text=mark.id, time=tick))
    mid.tracks.append(_to_delta(conductor))

    for part, channel in zip(score.parts, _channels(score), strict=True):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=part.name, time=0))
        track.append(mido.MetaMessage("instrument_name", name=part.instrument, time=0))
        if part.is_drums:
            track.append(mido.Message("control_change", channel=channel, control=0, value=0))
        track.append(mido.Message("program_change", channel=channel, program=part.program, time=0))
        for control, value in ((7, part.volume), (10, part.pan), (91, part.reverb)):
            track.append(
                mido.Message(
                    "control_change", channel=channel, control=control, value=value, time=0
                )
            )
        events: list[tuple[int, int, int, mido.Message | mido.MetaMessage]] = []
        for n in part.notes:
            on = round(n.start * TICKS_PER_BEAT)
            off = max(on + 1, round(n.end * TICKS_PER_BEAT))
            if n.lyric:  # a sung note's syllable, just before its note starts
                events.append((on, 1, -1, mido.MetaMessage("lyrics", text=n.lyric)))
            # Offs sort before ons at the same tick so repeated notes retrigger cleanly.
            events.append(
                (
                    on,
                    1,
                    n.pitch,
                    mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity),
                )
            )
            events.append(
                (
                    off,
                    0,
                    n.pitch,
                    mido.Message("note_off", channel=channel, note=n.pitch, velocity=0),
                )
            )
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        for tick, _, _, msg in events:
            track.append(msg.copy(time=tick))
        mid.tracks.append(_to_delta(track))
    return mid


def _to_delta(track: mido.MidiTrack) -> mido.MidiTrack:
    """Turn absolute tick times (set above) into the delta times a MIDI file stores."""
    out = mido.MidiTrack()
    now = 0
    for msg in track:
        t = max(msg.time, now)
        out.append(msg.copy(time=t - now))
        now = t
    out.append(mido.MetaMessage("end_of_track", time=0))
    return out


def write_midi(score: Score, path: Path, *, title: str = "") -> None:
    score_to_midi(score, title=title).save(str(path))
