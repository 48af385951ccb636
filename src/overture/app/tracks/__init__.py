"""Tracks: finished songs in the library, their visibility, and their files."""
