"""Benchmark of the singing voice: one minute of vocals in English and one in Mandarin.

The melody is built in code (no composer needed): 4-bar phrases of quarter and eighth notes
at 100 bpm in C major, a half-note at each phrase end, a rest of half a bar between phrases,
one syllable a note, with the occasional two-note melisma. The English lyrics cycle through
~60 common pop syllables (ARPAbet written out), the Mandarin ones through ~50 pinyin
syllables; so, as in a real song, most syllables come back and their analysis is shared.

Prints, per language and voice: wall time to sing the minute cold (nothing analysed yet) and
warm (every syllable analysed already, as when a song is sung again), and the measurements
of ``overture.voice.measure`` on the result: pitch error per note (median and 95th
percentile of |cents|), vowel onset error (median and max |ms|, share within 30 ms), the
largest sample step, and whether every syllable's span is voiced. ``--compare-rates`` also
times vocoding at 22050 Hz plus resampling against vocoding at 44100 Hz.

Run: ``.venv/bin/python bench/voice.py [--seconds 60] [--voices female,male] [--compare-rates]
[--write DIR]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from overture.voice import SungNote, SungSyllable, phones_from_arpabet, phones_from_pinyin
from overture.voice.measure import (
    max_step,
    note_pitch_errors,
    voiced_in_spans,
    vowel_onset_errors,
)
from overture.voice.singer import clear_cache, sing

SAMPLE_RATE = 44100

EN_WORDS = (  # noqa: SIM905 - lyrics read best as text
    "AY|L AH V|Y UW|S OW|M AH CH|T AH N AY T|W IY|K AE N|D AE N S|AH N|T IH L|DH AH|M AO R N"
    "|IH NG|HH OW L D|M IY|K L OW S|ER|N AW|AO L|DH AH|W EY|HH OW M|T AH|Y UH R|HH AA R T"
    "|B R EY K|IH NG|F R IY|AE Z|DH AH|S K AY|S T AA R Z|AH|L AY T|IH N|DH AH|D AA R K|N EH V"
    "|ER|L EH T|G OW|W AH N|M AO R|T AY M|F AO R|DH AH|R OW D|S IH NG|W IH DH|M IY|T AH|N AY T"
    "|W IY|R AH N|AH|W EY|B AH T|Y UW|S T EY"
).split("|")
ZH_SYLLABLES = (  # noqa: SIM905
    "wo3 ai4 ni3 ni3 shi4 wo3 de5 xin1 zhong1 de5 yang2 guang1 yue4 liang4 dai4 biao3 wo3 de5"
    " xin1 tian1 kong1 hai3 yang2 feng1 yu3 hua1 kai1 hua1 luo4 ming2 tian1 hui4 geng4 hao3"
    " qing1 qing1 de5 wo3 men2 yi4 qi3 zou3 xiang4 yuan3 fang1 chang4 zhe5 ge1 xiao4 zhe5"
    " lei4 shui3"
).split()

_SCALE = (60, 62, 64, 65, 67, 69, 71, 72)
_RHYTHM = (1, 1, 0.5, 0.5, 1, 1, 1, 0.5, 0.5, 1, 1, 1, 0.5, 0.5, 2)  # beats, 4 bars
_CONTOUR = (0, 2, 4, 4, 5, 4, 2, 1, 2, 4, 5, 7, 6, 5, 4)


def melody(seconds: float, lang: str, *, transpose: int = 0) -> list[SungSyllable]:
    """About ``seconds`` of sung syllables (see the module's docstring)."""
    beat = 60.0 / 100.0
    words = EN_WORDS if lang == "en" else ZH_SYLLABLES
    out: list[SungSyllable] = []
    t, phrase, w = 0.5, 0, 0
    while t < seconds - 4 * 4 * beat * 0.5:
        shift = (0, 2, -1, 3)[phrase % 4]
        for k, (beats, step) in enumerate(zip(_RHYTHM, _CONTOUR, strict=True)):
            degree = min(max(step + shift, 0), len(_SCALE) - 1)
            pitch = _SCALE[degree] + transpose
            d = beats * beat
            if k == 4 and phrase % 2 == 1:  # a two-note melisma now and then
                half = d / 2
                second = _SCALE[min(degree + 1, len(_SCALE) - 1)] + transpose
                notes = (SungNote(pitch, t, t + half), SungNote(second, t + half, t + d))
            else:
                notes = (SungNote(pitch, t, t + d),)
            text = words[w % len(words)]
            phones = phones_from_arpabet(text) if lang == "en" else phones_from_pinyin(text)
            out.append(SungSyllable(phones, notes, phrase_end=k == len(_RHYTHM) - 1))
            t += d
            w += 1
        t += 2 * beat  # half a bar of rest: a breath
        phrase += 1
    return out


def measure(audio: np.ndarray, syllables: list[SungSyllable]) -> dict[str, float]:
    notes = [n for s in syllables for n in s.notes]
    cents = np.abs(note_pitch_errors(audio, SAMPLE_RATE, notes))
    onsets = np.abs(vowel_onset_errors(audio, SAMPLE_RATE, syllables)) * 1000.0
    voiced = voiced_in_spans(audio, SAMPLE_RATE, [(s.start, s.end) for s in syllables])
    steps = np.abs(np.diff(audio.astype(np.float64)))
    return {
        "notes": len(notes),
        "unvoiced_notes": int(np.isnan(cents).sum()),
        "pitch_median_cents": float(np.nanmedian(cents)),
        "pitch_p95_cents": float(np.nanpercentile(cents, 95)),
        "pitch_max_cents": float(np.nanmax(cents)),
        "onsets_measured": len(onsets),
        "onset_median_ms": float(np.nanmedian(onsets)),
        "onset_max_ms": float(np.nanmax(onsets)),
        "onset_within_30ms": float(np.mean(onsets <= 30.0)),
        "max_step": max_step(audio),
        "p999_step": float(np.percentile(steps, 99.9)),
        "syllables_voiced": float(np.mean(voiced)),
    }


def run(lang: str, voice: str, seconds: float, write: Path | None, synth_rate: int | None) -> None:
    transpose = 0 if voice != "male" else -12
    syllables = melody(seconds, lang, transpose=transpose)
    length = syllables[-1].end
    clear_cache()
    t0 = time.perf_counter()
    audio = sing(syllables, voice=voice, sample_rate=SAMPLE_RATE, synth_rate=synth_rate)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = sing(syllables, voice=voice, sample_rate=SAMPLE_RATE, synth_rate=synth_rate)
    warm = time.perf_counter() - t0
    per_minute = 60.0 / length
    label = f"{lang} {voice}" + (f" synth@{synth_rate}" if synth_rate else "")
    distinct = len(
        {(s.phones.onset, s.phones.nucleus, s.phones.coda, s.phones.pinyin) for s in syllables}
    )
    print(
        f"{label}: {length:.1f} s sung, {len(syllables)} syllables ({distinct} distinct); "
        f"cold {cold:.2f} s ({cold * per_minute:.2f} s/min), warm {warm:.2f} s "
        f"({warm * per_minute:.2f} s/min); same samples again: {np.array_equal(audio, again)}"
    )
    for key, value in measure(audio, syllables).items():
        print(f"    {key}: {value:.4g}" if isinstance(value, float) else f"    {key}: {value}")
    if write is not None:
        import soundfile

        write.mkdir(parents=True, exist_ok=True)
        soundfile.write(write / f"voice_{lang}_{voice}.wav", audio, SAMPLE_RATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--voices", default="female,male")
    parser.add_argument("--langs", default="en,zh")
    parser.add_argument("--compare-rates", action="store_true")
    parser.add_argument("--write", type=Path, default=None, help="write the WAVs to this folder")
    args = parser.parse_args()
    for lang in args.langs.split(","):
        for voice in args.voices.split(","):
            run(lang, voice, args.seconds, args.write, None)
            if args.compare_rates:
                run(lang, voice, args.seconds, None, 22050)


if __name__ == "__main__":
    main()
