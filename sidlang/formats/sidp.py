"""Pattern text (``.sidp``): a tracker song of orderlists, patterns and instruments, read by
playing it (``sidlang.patterns.player``) into frames of register writes.

Writing goes the other way: a tune read from a tracker's file (``.sng``) prints its own
patterns; any other tune is turned into patterns by :func:`sidlang.patterns.infer.infer`,
with raw register lines for whatever the patterns do not explain, so the file plays back the
same writes (``docs/patterns.md``, "Frames to patterns").
"""

from __future__ import annotations

from sidlang.errors import FormatError, UsageError
from sidlang.tune import Tune

from . import Format

DEFAULT_SUBTUNE = 1


def read_sidp(
    data: bytes, file: str | None = None, *, subtune: int | None = None, seconds: float | None = None
) -> Tune:
    from sidlang.patterns import parse
    from sidlang.patterns.player import play

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"pattern text must be UTF-8 (byte {e.start} is not)", file=file) from None
    song = parse(text, file)
    number = DEFAULT_SUBTUNE if subtune is None else subtune
    if not 1 <= number <= len(song.subtunes):
        raise UsageError(f"--subtune {number}: the song has subtunes 1–{len(song.subtunes)}")
    frames = 0
    if seconds is not None:
        if not seconds > 0:
            raise UsageError(f"--seconds must be positive, got {seconds:g}")
        from sidlang.tune import Header

        frames = max(
            1, round(seconds * Header(clock_hz=song.clock_hz, frame_cycles=song.frame_cycles).frame_hz)
        )
    try:
        return play(song, number, frames=frames)
    except FormatError as e:
        raise FormatError(e.message, file=file, line=e.line) from None


def write_sidp(tune: Tune, **options) -> bytes:
    from sidlang.patterns import dump

    song = tune.meta.get("patterns")
    if song is None:  # frames: infer the patterns (and the raw writes they leave over)
        from sidlang.patterns.infer import infer

        song = infer(tune)
    return dump(song).encode("utf-8")


FORMATS = [
    Format(
        "sidp",
        "pattern text: orderlists, patterns, instruments; played into frames",
        (".sidp",),
        read_sidp,
        write_sidp,
        options={
            "subtune": f"subtune to play (default {DEFAULT_SUBTUNE})",
            "seconds": "length to play (default: each voice's orderlist once, then a release)",
        },
    ),
]
