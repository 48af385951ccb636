"""Typed errors raised deep in the engine and turned into a message once, at the edge."""

from __future__ import annotations


class OvertureError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidInputError(OvertureError, ValueError):
    """A value given by the user (prompt option, key, tempo, ...) cannot be used."""


class SoundfontError(OvertureError):
    """The soundfont is missing or FluidSynth cannot load it."""


class OutputError(OvertureError):
    """The output folder cannot be written."""


class RenderError(OvertureError):
    """Synthesis, mixing or encoding failed."""
