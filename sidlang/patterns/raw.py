"""The ``raw N`` section of pattern text: register writes the patterns do not explain, written
as frame lines of the register language (``docs/sidlang.md``), and read back.

A subtune's raw writes are ``(frame, chip, reg, val)`` tuples in frame order. The text is the
register language itself, so anything a ``.sidl`` frame line can say, a raw line can say, and
the sidlang printer and parser (exact inverses of each other) carry them both ways: the
writes of one frame keep their order. Cycle offsets inside a frame mean nothing here (the
player spaces its writes :data:`~sidlang.patterns.player.WRITE_GAP` apart), and relative
writes (``freq+=24``) count from the raw section's own earlier writes, as in a ``.sidl`` file
of those writes alone.
"""

from __future__ import annotations

import numpy as np

from sidlang.errors import SidlangSyntaxError
from sidlang.registers import SID_BASE, SID_STRIDE
from sidlang.tune import Header, Tune, make_writes

from .errors import PatternError

GAP = 16  #: the player's spacing of writes (``WRITE_GAP``), so printed raw lines need no offsets


def _header(clock_hz: int, chips: int) -> Header:
    return Header(clock_hz=clock_hz, sids=tuple(SID_BASE + SID_STRIDE * i for i in range(chips)), gap=GAP)


def dump_raw(raw: tuple[tuple[int, int, int, int], ...], clock_hz: int, chips: int) -> list[str]:
    """The raw writes as register-language frame lines (no header), one frame per line."""
    from sidlang.text import dumps

    if not raw:
        return []
    header = _header(clock_hz, chips)
    frames = np.array([w[0] for w in raw], dtype=np.int64)
    order = np.argsort(frames, kind="stable")
    frames = frames[order]
    first = np.concatenate(([0], np.flatnonzero(np.diff(frames)) + 1))
    rank = np.arange(len(frames)) - np.repeat(first, np.diff(np.append(first, len(frames))))
    rows = [raw[i] for i in order]
    cycles = frames * header.frame_cycles + rank * GAP
    writes = make_writes(cycles, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])
    text = dumps(Tune(header, writes))
    return [line for line in text.split("\n") if line and line[0] not in "#@"]


def parse_raw(
    lines: list[tuple[int, str]], clock_hz: int, chips: int, file: str | None
) -> tuple[tuple[int, int, int, int], ...]:
    """Raw writes from ``(line number, text)`` pairs of a ``raw`` section; errors point at the
    pattern file's own lines."""
    from sidlang.text import parse
    from sidlang.text.dump import dumps_header

    head = dumps_header(Tune(_header(clock_hz, chips)))
    text = "\n".join(head + [t.strip() for _, t in lines]) + "\n"
    try:
        tune = parse(text, file)
    except SidlangSyntaxError as e:
        i = min(max(e.line - len(head) - 1, 0), len(lines) - 1)
        line, body = lines[i]
        indent = len(body) - len(body.lstrip())
        raise PatternError(
            e.message, file=file, line=line, column=e.column + indent, text=body, hint=e.hint
        ) from None
    if len(tune.irq) or len(tune.nmi):
        line, body = lines[0]
        raise PatternError(
            "raw lines carry register writes only, not irq or nmi marks", file=file, line=line, text=body
        )
    w = tune.writes
    frames = (w["cycle"] - tune.header.start_cycle) // tune.header.frame_cycles
    return tuple(zip(frames.tolist(), w["chip"].tolist(), w["reg"].tolist(), w["val"].tolist()))
