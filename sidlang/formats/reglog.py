"""Register logs ``CLOCK REG VAL``: an absolute cycle clock per write, ``#`` comments allowed.

The form pysidtracker's ``reglog.py`` reads and writes (pygoattracker and friends). As in
VICE dumps, ``REG`` above 31 names a further chip (``REG >> 5``). Frames are inferred from
write bursts.
"""

from __future__ import annotations

import numpy as np

from sidlang.errors import FormatError
from sidlang.frames import default_gap, infer_frame_timing
from sidlang.tune import Header, Tune, make_writes

from . import Format
from ._columns import check_range, read_columns, write_columns
from .vice import SID_STRIDE, _require_rows, _sids


def read_reglog(data: bytes, file: str | None = None) -> Tune:
    rows, numbers, skipped, comments = read_columns(data, 3, file, comments=True)
    _require_rows(rows, file, "'CLOCK REG VAL'")
    clock, reg, val = rows.T
    check_range(clock, 0, 1 << 50, "clock", numbers, file)
    check_range(reg, 0, 255, "register", numbers, file)
    check_range(val, 0, 255, "value", numbers, file)
    back = np.flatnonzero(np.diff(clock) < 0)
    if len(back):
        raise FormatError("clock goes backwards", file=file, line=int(numbers[back[0] + 1]))
    length, start, source = infer_frame_timing(clock)
    writes = make_writes(clock, reg >> 5, reg & 0x1F, val)
    gap = default_gap(writes, start, length)
    header = Header(frame_cycles=length, start_cycle=start, gap=gap, sids=_sids(int(reg.max() >> 5) + 1))
    return Tune(
        header, writes, meta={"skipped_lines": skipped, "comment_lines": comments, "frame_source": source}
    )


def write_reglog(tune: Tune) -> bytes:
    w = tune.writes
    return write_columns(w["cycle"], w["chip"].astype(np.int64) * SID_STRIDE + w["reg"], w["val"])


FORMATS = [
    Format("reglog", "register log: CLOCK REG VAL (absolute cycles)", (".reglog",), read_reglog, write_reglog)
]
