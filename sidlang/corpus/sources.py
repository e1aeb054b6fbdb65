"""Every kind of score the arranger takes, turned into one thing: a ``pretty_midi.PrettyMIDI``.

* ``pretty_midi.PrettyMIDI`` as it is; MIDI bytes or a ``.mid``/``.midi`` path through pretty_midi
  (which applies the tempo map, so note times are in seconds).
* a ``music21`` stream, a ``.abc``/``.krn``/MusicXML path or ``music21:NAME`` (a piece of
  music21's bundled corpus, ``music21:NAME#N`` for the N-th piece of a collection): parsed by
  music21 and written to MIDI by music21's own translator. Chord symbols (the ``"Am"`` of a
  folk tune) are realized as chords lasting until the next symbol, so they reach the arranger
  as harmony.

music21 is imported only here and only when a score needs it.
"""

from __future__ import annotations

import copy
import io
import os
from pathlib import Path
from typing import Any

from sidlang.errors import FormatError, SidlangError, first_line

MIDI_SUFFIXES = (".mid", ".midi")
SCORE_SUFFIXES = (".abc", ".krn", ".xml", ".musicxml", ".mxl")
PREFIX = "music21:"


def _music21():
    try:
        import music21
    except ImportError:
        raise SidlangError("scores need the 'music21' package (pip install 'sidlang[scores]')") from None
    return music21


def midi_from_bytes(data: bytes, file: str | None = None):
    """A PrettyMIDI from the bytes of a standard MIDI file; a one-line FormatError if unreadable."""
    import pretty_midi

    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as e:  # pretty_midi/mido raise many kinds (OSError, KeyError, EOFError, ...)
        raise FormatError(f"not a readable MIDI file: {e}", file=file) from None


def corpus_score(name: str):
    """A piece of music21's corpus by name, e.g. ``bach/bwv66.6`` or ``nottingham-dataset/reelsa-c#2``."""
    music21 = _music21()
    name, _, number = name.partition("#")
    try:
        found = music21.corpus.parse(name, number=int(number) if number else None)
    except ValueError:
        raise SidlangError(f"{PREFIX}{name}: piece number {number!r} is not a number") from None
    except Exception as e:  # music21.corpus raises CorpusException for unknown names
        raise SidlangError(f"{PREFIX}{name}: not in the music21 corpus ({type(e).__name__})") from None
    return first_score(found, f"{PREFIX}{name}")


def first_score(stream, where: str):
    """A collection (Opus) gives its first score; anything else is returned as it is."""
    music21 = _music21()
    if isinstance(stream, music21.stream.Opus):
        scores = list(stream.scores)
        if not scores:
            raise SidlangError(f"{where}: the collection holds no scores")
        return scores[0]
    return stream


def parse_score(data: bytes | str, fmt: str, file: str | None = None):
    """A music21 stream from the text of an ABC, Humdrum or MusicXML file (``fmt``: abc, humdrum, musicxml)."""
    music21 = _music21()
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        stream = music21.converter.parseData(text, format=fmt)  # data, never a path named by it
    except Exception as e:  # music21's parsers raise their own exception classes per format
        raise FormatError(f"not a readable {fmt} file: {first_line(e, 200)}", file=file) from None
    return first_score(stream, file or fmt)


def _realize_chord_symbols(score):
    """A copy of ``score`` whose chord symbols sound as chords until the next symbol, or the score itself."""
    music21 = _music21()
    symbols = list(score.recurse().getElementsByClass(music21.harmony.ChordSymbol))
    if not symbols:
        return score
    score = copy.deepcopy(score)  # never change the caller's score
    music21.harmony.realizeChordSymbolDurations(score)
    for cs in score.recurse().getElementsByClass(music21.harmony.ChordSymbol):
        cs.writeAsChord = True
    return score


def _coarser_ticks(data: bytes, ticks_per_beat: int = 480) -> bytes:
    """The MIDI file with at most ``ticks_per_beat``: music21 writes 10080 ticks per quarter, and
    pretty_midi rejects files past ten million ticks (a long quartet) as likely corrupt."""
    import mido

    mid = mido.MidiFile(file=io.BytesIO(data))
    if mid.ticks_per_beat <= ticks_per_beat:
        return data
    scale = ticks_per_beat / mid.ticks_per_beat
    for track in mid.tracks:
        now = done = 0
        for msg in track:  # rescale absolute times so rounding never accumulates
            now += msg.time
            at = round(now * scale)
            msg.time, done = at - done, at
    mid.ticks_per_beat = ticks_per_beat
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def _without_repeats(score):
    """A copy of ``score`` with repeat barlines and repeat expressions taken out."""
    music21 = _music21()
    score = copy.deepcopy(score)
    for m in score.recurse().getElementsByClass(music21.stream.Measure):
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(m, side), music21.bar.Repeat):
                setattr(m, side, None)
    for mark in list(score.recurse().getElementsByClass(music21.repeat.RepeatExpression)):
        mark.activeSite.remove(mark)
    return score


def score_to_midi(score):
    """A PrettyMIDI from a music21 stream, through music21's MIDI translator."""
    music21 = _music21()
    score = _realize_chord_symbols(score)
    try:
        data = music21.midi.translate.streamToMidiFile(score).writestr()
    except music21.repeat.ExpanderException:
        # badly formed repeat marks (common in ABC collections): play it through once, as written
        data = music21.midi.translate.streamToMidiFile(_without_repeats(score)).writestr()
    except Exception as e:  # music21 raises on streams it cannot translate
        raise SidlangError(f"music21 cannot write this score as MIDI: {first_line(e, 200)}") from None
    return midi_from_bytes(_coarser_ticks(data), "<music21>")


def title_of(score) -> str:
    md = getattr(score, "metadata", None)
    return str(md.title or "") if md is not None and md.title else ""


def to_midi(source: Any) -> tuple[Any, str]:
    """``(PrettyMIDI, title)`` from any source the arranger takes (see the module docstring)."""
    import pretty_midi

    if isinstance(source, pretty_midi.PrettyMIDI):
        return source, ""
    if isinstance(source, bytes | bytearray):
        return midi_from_bytes(bytes(source)), ""
    if isinstance(source, str | os.PathLike):
        text = str(source)
        if text.startswith(PREFIX):
            score = corpus_score(text[len(PREFIX) :])
            return score_to_midi(score), title_of(score) or text[len(PREFIX) :]
        path = Path(text)
        suffix = path.suffix.lower()
        if suffix not in MIDI_SUFFIXES + SCORE_SUFFIXES:
            raise SidlangError(
                f"cannot arrange a {suffix or 'nameless'} file; give MIDI ({', '.join(MIDI_SUFFIXES)}) "
                f"or a score ({', '.join(SCORE_SUFFIXES)})",
                file=text,
            )
        try:
            data = path.read_bytes()
        except OSError as e:
            raise SidlangError(f"cannot read: {e.strerror}", file=text) from None
        if suffix in MIDI_SUFFIXES:
            return midi_from_bytes(data, text), path.stem
        fmt = {".abc": "abc", ".krn": "humdrum"}.get(suffix, "musicxml")
        if suffix == ".mxl":  # compressed MusicXML: music21 reads it from the path
            score = first_score(_music21().converter.parse(path), text)
        else:
            score = parse_score(data, fmt, text)
        return score_to_midi(score), title_of(score) or path.stem
    music21 = _music21()
    if isinstance(source, music21.stream.Stream):
        score = first_score(source, "score")
        return score_to_midi(score), title_of(score)
    raise SidlangError(
        f"cannot arrange a {type(source).__name__}; give a path, MIDI bytes, "
        "a music21 stream or a pretty_midi.PrettyMIDI"
    )
