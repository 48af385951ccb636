"""The singing voices: which espeak-ng variant, how its envelope is warped, how it moves.

espeak-ng's variants (``espeak-ng-data/voices/!v``) scale formant frequencies: ``f1`` raises
F1 by 20% and F3-F5 by 10-15% over the default (male) voice and adds no echo, which matters
because an echo would smear the spectral envelope that is analysed (its "roughness" does
modulate the envelope, which ``analysis`` smooths away). The extra ``warp`` on
top is small for the same reason (the variant already did most of it); ``register_warp``
moves formants up a few percent per octave sung above the voice's middle, as trained
singers raise F1 on high notes so it stays near the first harmonics ("The Science of the
Singing Voice", Northern Illinois University Press, 1987, ch. 6). Vibrato rates of 5-6 Hz
and extents of +/-20-50 cents are typical of Western singing ("Vibrato extent and
intonation in professional Western lyric singing", JASA 102(1), 1997); pop singing sits at
the low end of that extent.
"""

from __future__ import annotations

from overture.voice.types import VoiceError, VoiceSpec

VOICES: dict[str, VoiceSpec] = {
    "female": VoiceSpec(
        name="female",
        variant="f1",
        espeak_pitch=35,  # ~135 Hz
        warp=1.06,
        vibrato_rate=5.6,
        vibrato_depth=30.0,
        breathiness=0.22,
        register_warp=0.04,
        reference_pitch=67.0,  # G4
        presence_db=2.5,
        description="pop/soprano-alto female voice, bright, light vibrato",
    ),
    "male": VoiceSpec(
        name="male",
        variant="",
        espeak_pitch=50,  # ~90 Hz
        warp=0.98,
        vibrato_rate=5.3,
        vibrato_depth=28.0,
        breathiness=0.12,
        register_warp=0.03,
        reference_pitch=55.0,  # G3
        presence_db=2.0,
        description="baritone-tenor male voice, warm",
    ),
    "breathy": VoiceSpec(
        name="breathy",
        variant="f1",
        espeak_pitch=35,
        warp=1.03,
        vibrato_rate=5.2,
        vibrato_depth=22.0,
        breathiness=0.45,
        register_warp=0.03,
        reference_pitch=65.0,  # F4
        presence_db=1.0,
        description="soft, airy female voice with little vibrato (intimate pop)",
    ),
}


def voice_spec(name: str) -> VoiceSpec:
    """The voice called ``name``; ``VoiceError`` naming the valid ones if there is none."""
    spec = VOICES.get(name)
    if spec is None:
        valid = ", ".join(sorted(VOICES))
        raise VoiceError(f"unknown voice {name!r}; valid voices: {valid}")
    return spec


def espeak_voice(spec: VoiceSpec, lang: str) -> str:
    """The espeak-ng voice name for a language (``"en"``/``"zh"``) and a voice spec."""
    base = "cmn-latn-pinyin" if lang == "zh" else "en-us"
    return f"{base}+{spec.variant}" if spec.variant else base
