"""Writers of the score's interchange formats: Standard MIDI File, MusicXML, timed lyrics."""

from overture.export.lyrics import lrc_text, lyric_alignment, write_lrc
from overture.export.midi import score_to_midi, write_midi
from overture.export.musicxml import score_to_music21, write_musicxml

__all__ = [
    "lrc_text",
    "lyric_alignment",
    "score_to_midi",
    "score_to_music21",
    "write_lrc",
    "write_midi",
    "write_musicxml",
]
