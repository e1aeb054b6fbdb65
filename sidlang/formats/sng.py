"""GoatTracker 2 songs (``.sng``), read with ``pygoattracker``.

Reading gives the frames GoatTracker's player writes: pygoattracker's transcription of the
playroutine, which is exact to it (``sidlang.corpus.realtunes`` plays the corpus' songs the same
way). The Tune also carries the song mapped onto the pattern model
(``sidlang.patterns.goat``) in ``tune.meta["patterns"]``, which is what ``.sidp`` writes, so
``sidlang convert song.sng song.sidp`` gives the pattern text and ``song.sidl`` the frames.

Writing ``.sng`` writes the song a Tune was read from as it was, or a pattern song through
``sidlang.patterns.goatout`` (a usage error names what GoatTracker cannot hold).
"""

from __future__ import annotations

import numpy as np

from sidlang.errors import FormatError, UsageError
from sidlang.tune import Header, Tune, make_writes

from . import Format

DEFAULT_SECONDS = 180.0
WRITE_GAP = 9  #: cycles between the writes of one frame (pygoattracker gives a frame's registers)
MODEL = 6581  #: GoatTracker's editor default (its -E option)


def read_sng(
    data: bytes, file: str | None = None, *, subtune: int | None = None, seconds: float | None = None
) -> Tune:
    from sidlang.errors import first_line
    from sidlang.patterns.goat import _pygoattracker, song_from_goat

    gt = _pygoattracker()
    try:
        song = gt.parse_sng(bytes(data))
        if not isinstance(song, gt.Song):  # GoatTracker 1 (GTS!): pygoattracker's GT2 import
            song = gt.parse_sng(bytes(data), convert=True)
    except (gt.GoatTrackerError, ValueError, IndexError, KeyError, EOFError) as e:
        raise FormatError(f"not a GoatTracker song: {first_line(e)}", file=file) from None
    count = len(song.subtunes)
    number = 1 if subtune is None else subtune
    if not 1 <= number <= count:
        raise UsageError(f"--subtune {number}: the song has subtunes 1–{count}")
    if seconds is not None and not seconds > 0:
        raise UsageError(f"--seconds must be positive, got {seconds:g}")
    try:
        player = gt.Player(song, subtune=number - 1)
    except (gt.GoatTrackerError, ValueError, IndexError, KeyError) as e:
        raise FormatError(f"not a playable GoatTracker song: {first_line(e)}", file=file) from None
    header = Header(
        title=song.name.strip(),
        author=song.author.strip(),
        released=song.copyright.strip(),
        models=(MODEL,),
        gap=WRITE_GAP,
        subtune=number if count > 1 else 0,
        songs=count if count > 1 else 0,
    )
    fc = header.frame_cycles
    limit = max(1, round((DEFAULT_SECONDS if seconds is None else seconds) * header.frame_hz))
    cycles, regs, vals = [], [], []
    n = 0
    while n < limit:
        writes = player.play_frame()
        if not player.playing and not writes:
            break
        for k, (reg, val) in enumerate(writes):
            cycles.append(n * fc + k * WRITE_GAP)
            regs.append(reg)
            vals.append(val)
        n += 1
    w = make_writes(
        np.array(cycles, np.int64),
        np.zeros(len(cycles), np.uint8),
        np.array(regs, np.uint8),
        np.array(vals, np.uint8),
    )
    return Tune(
        header.replace(frames=n),
        w,
        meta={"source": "pygoattracker", "patterns": song_from_goat(song), "sng": song},
    )


def write_sng(tune: Tune, **options) -> bytes:
    """The song a Tune was read from (``.sng``: as it was, pygoattracker rebuilds it byte for
    byte), or its pattern song (``.sidp``, ``.swm``) where GoatTracker's model holds it."""
    from sidlang.patterns.goat import _pygoattracker

    if tune.meta.get("sng") is not None:
        return _pygoattracker().build_sng(tune.meta["sng"])
    song = tune.meta.get("patterns")
    if song is None:
        raise UsageError(
            "writing .sng needs a pattern song (read from .sidp, .sng or .swm); "
            "frames back to patterns is .sidp's job (write .sidp first)"
        )
    from sidlang.patterns.goatout import sng_bytes

    return sng_bytes(song)


FORMATS = [
    Format(
        "sng",
        "GoatTracker 2 song: played by pygoattracker; its patterns go to .sidp; written back or from patterns",
        (".sng",),
        read_sng,
        write_sng,
        binary=True,
        options={
            "subtune": "subtune to play (default 1)",
            "seconds": f"length to play (default {DEFAULT_SECONDS:g}, or until the song stops)",
        },
    ),
]
