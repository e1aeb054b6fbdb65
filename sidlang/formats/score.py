"""Scores read through music21 and arranged for the SID: ABC, Humdrum (``.krn``) and MusicXML.

Read only: the bytes are parsed by music21 (the first tune of a collection), written to MIDI
by music21's translator and arranged by :func:`sidlang.corpus.arranger.arrange` with the
options of the ``mid`` reader (``style``, ``clock``, ``voices``). music21 is imported on use.
"""

from __future__ import annotations

from sidlang.tune import Tune

from . import Format
from .midi import READ_OPTIONS, check_options


def _reader(music21_format: str):
    def read(data: bytes, file: str | None = None, *, style=None, clock=None, voices=None, **other) -> Tune:
        check_options(other)
        from sidlang.corpus.arranger import arrange
        from sidlang.corpus.sources import parse_score, title_of

        score = parse_score(data, music21_format, file)
        return arrange(
            score,
            style=style or "classic",
            clock=clock or "pal",
            voices=voices or "auto",
            title=title_of(score) or None,
        )

    read.__doc__ = f"A Tune arranged from the bytes of a {music21_format} file."
    return read


def read_corpus(name: str, **options) -> Tune:
    """``music21:NAME``: a piece of music21's bundled corpus, arranged (options as the ``mid`` reader's)."""
    from sidlang.corpus.arranger import arrange

    check_options({k: v for k, v in options.items() if k not in READ_OPTIONS})
    return arrange(
        name,
        style=options.get("style") or "classic",
        clock=options.get("clock") or "pal",
        voices=options.get("voices") or "auto",
    )


FORMATS = [
    Format(
        "abc",
        "ABC notation, read with music21 and arranged for the SID (read only)",
        (".abc",),
        _reader("abc"),
        None,
        options=READ_OPTIONS,
    ),
    Format(
        "krn",
        "Humdrum **kern, read with music21 and arranged for the SID (read only)",
        (".krn",),
        _reader("humdrum"),
        None,
        options=READ_OPTIONS,
    ),
    Format(
        "musicxml",
        "MusicXML, read with music21 and arranged for the SID (read only)",
        (".musicxml", ".xml"),
        _reader("musicxml"),
        None,
        options=READ_OPTIONS,
    ),
]
