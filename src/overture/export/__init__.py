"""Writers of the score's interchange formats: Standard MIDI File and MusicXML."""

from overture.export.midi import score_to_midi, write_midi
from overture.export.musicxml import score_to_music21, write_musicxml

__all__ = ["score_to_midi", "score_to_music21", "write_midi", "write_musicxml"]
