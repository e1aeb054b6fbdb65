"""The tracker level: songs of orderlists, patterns and instruments (``.sidp`` text).

``parse(text) -> Song``, ``dump(song) -> str`` (its inverse) and ``play(song) -> Tune`` (the
player, which turns patterns into frames of register writes). The text is described in
``docs/patterns.md``.
"""

from __future__ import annotations

from .dump import dump
from .errors import PatternError
from .model import Song
from .parse import parse


def play(song: Song, subtune: int = 1, **options):
    """The Tune ``song``'s subtune plays (see :func:`sidlang.patterns.player.play`)."""
    from .player import play as _play

    return _play(song, subtune, **options)


__all__ = ["PatternError", "Song", "dump", "parse", "play"]
