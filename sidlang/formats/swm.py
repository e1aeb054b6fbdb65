"""SID-Wizard modules (``.swm`` one SID, ``.sws`` two, ``.swt`` three), read with ``pysidwizard``.

Reading gives frames and patterns:

* the frames are **pysidwizard**'s player for single-SID modules (a transcription of
  SID-Wizard's 6502 player, equal to it frame for frame on the songs measured), one frame per
  player call (a multispeed module's frames are ``frame_speed`` times shorter); pysidwizard does
  not play 2SID/3SID modules, so theirs are sidlang's pattern player playing the mapped song;
* ``tune.meta["patterns"]`` is the module mapped onto the pattern model
  (:mod:`sidlang.patterns.swm`), which is what ``.sidp`` writes, and
  ``tune.meta["approximated"]`` counts what that mapping could not carry over exactly.

Writing ``.swm`` writes the module a Tune was read from as it was (pysidwizard rebuilds every
example byte for byte); a pattern song (from ``.sidp`` or ``.sng``) is written by
:mod:`sidlang.patterns.swmout`, which refuses, naming it, what SID-Wizard cannot hold.
"""

from __future__ import annotations

import numpy as np

from sidlang.errors import FormatError, UsageError
from sidlang.tune import Header, Tune, make_writes

from . import Format

DEFAULT_SECONDS = 180.0
WRITE_GAP = 9  #: cycles between the writes of one frame (pysidwizard gives a frame's registers)
MODEL = 6581


def read_swm(
    data: bytes, file: str | None = None, *, subtune: int | None = None, seconds: float | None = None
) -> Tune:
    from sidlang.patterns.swm import parse_module, song_from_swm

    swm = parse_module(data, file)
    imported = song_from_swm(swm, file)
    song = imported.song
    count = len(song.subtunes)
    number = 1 if subtune is None else subtune
    if not 1 <= number <= count:
        raise UsageError(f"--subtune {number}: the module has subtunes 1–{count}")
    if seconds is not None and not seconds > 0:
        raise UsageError(f"--seconds must be positive, got {seconds:g}")
    meta = {"patterns": song, "swm": swm, "approximated": dict(imported.approximated)}
    secs = DEFAULT_SECONDS if seconds is None else seconds
    if swm.sid_amount != 1:
        from sidlang.patterns.player import play

        try:
            frames = max(
                1, round(secs * Header(clock_hz=song.clock_hz, frame_cycles=song.frame_cycles).frame_hz)
            )
            tune = play(song, number, frames=frames)
        except FormatError as e:
            raise FormatError(f"cannot play the module: {e.message}", file=file) from None
        tune.meta.update(meta, source="sidlang pattern player (pysidwizard plays one SID only)")
        return tune
    return _played(swm, number, count, secs, file, meta)


def _played(swm, number: int, count: int, seconds: float, file: str | None, meta: dict) -> Tune:
    """The frames pysidwizard's player writes for one subtune."""
    from sidlang.patterns.swm import first_line, pysidwizard

    pw = pysidwizard()
    speed = max(1, swm.frame_speed)
    header = Header(
        author=swm.author_str(),
        models=(MODEL,),
        gap=WRITE_GAP,
        frame_cycles=Header().frame_cycles // speed,
        subtune=number if count > 1 else 0,
        songs=count if count > 1 else 0,
    )
    try:
        player = pw.SWMPlayer(swm.subtune(number - 1) if number > 1 else swm)
    except (pw.SWMError, ValueError, IndexError, KeyError) as e:
        raise FormatError(f"not a playable SID-Wizard module: {first_line(e)}", file=file) from None
    fc = header.frame_cycles
    limit = max(1, round(seconds * header.frame_hz))
    cycles, regs, vals = [], [], []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # effects pysidwizard does not play are counted in meta
        for n in range(limit):
            for k, (reg, val) in enumerate(player.play_frame()):
                cycles.append(n * fc + k * WRITE_GAP)
                regs.append(reg)
                vals.append(val)
    w = make_writes(
        np.array(cycles, np.int64),
        np.zeros(len(cycles), np.uint8),
        np.array(regs, np.uint8),
        np.array(vals, np.uint8),
    )
    meta["source"] = "pysidwizard"
    meta["unplayed_effects"] = {
        f"{col} ${code:02X}": n for (col, code), n in player.unsupported_effects.items()
    }
    return Tune(header.replace(frames=limit), w, meta=meta)


def write_swm(tune: Tune, **options) -> bytes:
    from sidlang.patterns.swm import pysidwizard

    swm = tune.meta.get("swm")
    if swm is not None:  # read from a module: the module itself
        return pysidwizard().build_swm(swm)
    song = tune.meta.get("patterns")
    if song is None:
        raise UsageError(
            "writing .swm needs a pattern song (read from .sidp, .sng or .swm); "
            "frames back to patterns is not built yet"
        )
    from sidlang.patterns.swmout import swm_bytes

    return swm_bytes(song)


FORMATS = [
    Format(
        "swm",
        "SID-Wizard module (1-3 SIDs): played by pysidwizard; its patterns go to .sidp; written back or from patterns",
        (".swm", ".sws", ".swt"),
        read_swm,
        write_swm,
        binary=True,
        options={
            "subtune": "subtune to play (default 1)",
            "seconds": f"length to play (default {DEFAULT_SECONDS:g})",
        },
    ),
]
