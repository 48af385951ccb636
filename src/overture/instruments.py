"""Instruments: canonical names, their General MIDI programs and the words that name them.

General MIDI has no Chinese instruments, so they map to the nearest stand-ins (koto for guzheng,
a bowed string for erhu, flute for dizi, shamisen for pipa).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str  # canonical, used in prompts' results, score parts and song.json
    program: int  # General MIDI program (0-based); drum kits use bank 128
    family: str  # keys, guitar, bass, strings, brass, reed, pipe, synth, ethnic, drums, ...
    low: int  # comfortable MIDI range
    high: int
    is_drums: bool = False


def _i(
    name: str, program: int, family: str, low: int, high: int, drums: bool = False
) -> Instrument:
    return Instrument(name, program, family, low, high, drums)


INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in [
        _i("piano", 0, "keys", 21, 108),
        _i("bright piano", 1, "keys", 21, 108),
        _i("electric piano", 4, "keys", 28, 103),
        _i("harpsichord", 6, "keys", 29, 89),
        _i("celesta", 8, "keys", 60, 108),
        _i("glockenspiel", 9, "percussion", 72, 108),
        _i("music box", 10, "percussion", 60, 96),
        _i("vibraphone", 11, "percussion", 53, 89),
        _i("marimba", 12, "percussion", 45, 96),
        _i("organ", 16, "organ", 36, 96),
        _i("rock organ", 18, "organ", 36, 96),
        _i("church organ", 19, "organ", 24, 96),
        _i("accordion", 21, "organ", 41, 89),
        _i("harmonica", 22, "reed", 60, 84),
        _i("bandoneon", 23, "organ", 41, 89),
        _i("nylon guitar", 24, "guitar", 40, 83),
        _i("acoustic guitar", 25, "guitar", 40, 83),
        _i("jazz guitar", 26, "guitar", 40, 86),
        _i("clean guitar", 27, "guitar", 40, 86),
        _i("muted guitar", 28, "guitar", 40, 86),
        _i("overdriven guitar", 29, "guitar", 40, 86),
        _i("distortion guitar", 30, "guitar", 40, 86),
        _i("acoustic bass", 32, "bass", 28, 55),
        _i("electric bass", 33, "bass", 28, 60),
        _i("picked bass", 34, "bass", 28, 60),
        _i("fretless bass", 35, "bass", 28, 60),
        _i("slap bass", 36, "bass", 28, 60),
        _i("synth bass", 38, "bass", 24, 60),
        _i("violin", 40, "strings", 55, 100),
        _i("viola", 41, "strings", 48, 88),
        _i("cello", 42, "strings", 36, 76),
        _i("contrabass", 43, "strings", 28, 60),
        _i("tremolo strings", 44, "strings", 36, 96),
        _i("pizzicato strings", 45, "strings", 36, 96),
        _i("harp", 46, "strings", 24, 103),
        _i("timpani", 47, "percussion", 40, 57),
        _i("strings", 48, "strings", 36, 96),
        _i("slow strings", 49, "strings", 36, 96),
        _i("synth strings", 50, "strings", 36, 96),
        _i("choir", 52, "voice", 48, 79),
        _i("voice", 53, "voice", 48, 79),
        _i("orchestra hit", 55, "brass", 48, 72),
        _i("trumpet", 56, "brass", 55, 82),
        _i("trombone", 57, "brass", 40, 72),
        _i("tuba", 58, "brass", 28, 55),
        _i("muted trumpet", 59, "brass", 55, 82),
        _i("french horn", 60, "brass", 41, 77),
        _i("brass", 61, "brass", 41, 84),
        _i("synth brass", 62, "brass", 41, 84),
        _i("soprano sax", 64, "reed", 56, 88),
        _i("alto sax", 65, "reed", 49, 81),
        _i("tenor sax", 66, "reed", 44, 76),
        _i("baritone sax", 67, "reed", 36, 69),
        _i("oboe", 68, "reed", 58, 91),
        _i("english horn", 69, "reed", 52, 81),
        _i("bassoon", 70, "reed", 34, 72),
        _i("clarinet", 71, "reed", 50, 91),
        _i("piccolo", 72, "pipe", 74, 102),
        _i("flute", 73, "pipe", 60, 96),
        _i("recorder", 74, "pipe", 60, 96),
        _i("pan flute", 75, "pipe", 60, 96),
        _i("shakuhachi", 77, "pipe", 55, 88),
        _i("whistle", 78, "pipe", 72, 96),
        _i("ocarina", 79, "pipe", 60, 89),
        _i("square lead", 80, "synth", 48, 96),
        _i("saw lead", 81, "synth", 48, 96),
        _i("synth lead", 81, "synth", 48, 96),
        _i("warm pad", 89, "synth", 36, 96),
        _i("synth pad", 88, "synth", 36, 96),
        _i("choir pad", 91, "synth", 36, 96),
        _i("halo pad", 94, "synth", 36, 96),
        _i("sweep pad", 95, "synth", 36, 96),
        _i("sitar", 104, "ethnic", 48, 84),
        _i("banjo", 105, "guitar", 48, 84),
        _i("shamisen", 106, "ethnic", 50, 86),
        _i("koto", 107, "ethnic", 48, 91),
        _i("kalimba", 108, "ethnic", 60, 96),
        _i("bagpipe", 109, "ethnic", 55, 79),
        _i("fiddle", 110, "strings", 55, 100),
        _i("shanai", 111, "ethnic", 60, 89),
        _i("steel drums", 114, "percussion", 52, 88),
        # Chinese instruments, through their nearest General MIDI stand-ins.
        _i("guzheng", 107, "ethnic", 50, 91),
        _i("erhu", 110, "ethnic", 62, 93),
        _i("dizi", 73, "pipe", 67, 96),
        _i("pipa", 106, "ethnic", 50, 86),
        _i("drums", 0, "drums", 35, 81, drums=True),
        _i("jazz drums", 32, "drums", 35, 81, drums=True),
        _i("electronic drums", 24, "drums", 35, 81, drums=True),
        _i("brush drums", 40, "drums", 35, 81, drums=True),
        _i("orchestral percussion", 48, "drums", 35, 81, drums=True),
    ]
}


def instrument(name: str) -> Instrument:
    return INSTRUMENTS[name]
