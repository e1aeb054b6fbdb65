"""VICE register dumps: mainline ``vice`` (3 columns) and asid-vice ``vice6`` (6 columns).

* ``vice``: ``DELTA REG VAL`` per write, ``DELTA`` the cycles since the previous write (the
  first counts from when the sound system opened). There is no chip number; ``REG`` is the
  register ``& 0x1f`` plus ``0x20`` per further sound device, which is kept as the chip index
  (``REG >> 5``) so that every dump survives a round trip byte for byte. Lines that are not
  exactly three integers (older VICE releases mix state dumps in) are skipped and counted.
  Frames are inferred from write bursts.
* ``vice6``: ``CLOCK_DIFF IRQ_DIFF NMI_DIFF CHIPNO REG VAL``: cycles since the previous write,
  since the last IRQ and since the last NMI, then chip, register and value. The IRQ and NMI
  times are kept in the Tune (``tune.irq``, ``tune.nmi``); frames are the IRQ grid, its
  length the most common gap between IRQs.
"""

from __future__ import annotations

import numpy as np

from sidlang.errors import FormatError
from sidlang.frames import MAX_TICK, MIN_TICK, default_gap, infer_frame_timing
from sidlang.pitch import PAL_FRAME
from sidlang.tune import Header, Tune, make_writes

from . import Format
from ._columns import check_range, read_columns, write_columns

SID_STRIDE = 0x20


def _sids(n: int) -> tuple[int, ...]:
    return tuple(0xD400 + SID_STRIDE * i for i in range(n))


def _require_rows(rows: np.ndarray, file, what: str) -> None:
    if len(rows) == 0:
        raise FormatError(f"no {what} lines found (is this the right format?)", file=file)


def read_vice(data: bytes, file: str | None = None) -> Tune:
    rows, numbers, skipped, _ = read_columns(data, 3, file)
    _require_rows(rows, file, "'DELTA REG VAL'")
    delta, reg, val = rows.T
    check_range(delta, 0, 1 << 40, "cycle delta", numbers, file)
    check_range(reg, 0, 255, "register", numbers, file)
    check_range(val, 0, 255, "value", numbers, file)
    cycles = np.cumsum(delta)
    chips = int(reg.max() >> 5) + 1
    length, start, source = infer_frame_timing(cycles)
    writes = make_writes(cycles, reg >> 5, reg & 0x1F, val)
    gap = default_gap(writes, start, length)
    header = Header(frame_cycles=length, start_cycle=start, gap=gap, sids=_sids(chips))
    return Tune(header, writes, meta={"skipped_lines": skipped, "frame_source": source})


def write_vice(tune: Tune) -> bytes:
    w = tune.writes
    cycles = w["cycle"]
    delta = np.diff(cycles, prepend=0)
    if len(delta) and delta[0] < 0:
        raise FormatError("a VICE dump counts cycles from 0; this tune starts before cycle 0")
    reg = w["chip"].astype(np.int64) * SID_STRIDE + w["reg"]
    return write_columns(delta, reg, w["val"])


def _event_times(cycles, diffs, numbers, file, what) -> np.ndarray:
    """Distinct interrupt times from per-write 'cycles since the last one'."""
    times = cycles - diffs
    bad = np.flatnonzero(diffs < 0)
    if len(bad):
        raise FormatError(f"negative {what} delta", file=file, line=int(numbers[bad[0]]))
    back = np.flatnonzero(np.diff(times) < 0)
    if len(back):
        raise FormatError(f"{what} time goes backwards", file=file, line=int(numbers[back[0] + 1]))
    unique = np.unique(times)
    latest = unique[np.searchsorted(unique, cycles, side="right") - 1]
    wrong = np.flatnonzero(latest != times)
    if len(wrong):
        raise FormatError(
            f"a later {what} ({int(latest[wrong[0]])}) comes before this write yet the write "
            f"counts from an earlier one", file=file, line=int(numbers[wrong[0]]))
    return unique


def _irq_frame_length(irq: np.ndarray) -> tuple[int, str]:
    """The most common gap between IRQs, where it is a plausible player tick (seen at least
    twice, 256 cycles to four PAL frames); else PAL's frame length."""
    if len(irq) >= 3:
        values, counts = np.unique(np.diff(irq), return_counts=True)
        best = int(np.argmax(counts))
        if counts[best] >= 2 and MIN_TICK <= values[best] <= MAX_TICK:
            return int(values[best]), "irq"
    return PAL_FRAME, "header"


def read_vice6(data: bytes, file: str | None = None) -> Tune:
    rows, numbers, skipped, _ = read_columns(data, 6, file)
    _require_rows(rows, file, "'CLOCK_DIFF IRQ_DIFF NMI_DIFF CHIPNO REG VAL'")
    delta, irq_d, nmi_d, chip, reg, val = rows.T
    check_range(delta, 0, 1 << 40, "cycle delta", numbers, file)
    check_range(chip, 0, 7, "chip number", numbers, file)
    check_range(reg, 0, 31, "register", numbers, file)
    check_range(val, 0, 255, "value", numbers, file)
    cycles = np.cumsum(delta)
    irq = _event_times(cycles, irq_d, numbers, file, "IRQ")
    nmi = _event_times(cycles, nmi_d, numbers, file, "NMI")
    length, source = _irq_frame_length(irq)
    earliest = min(int(cycles[0]), int(irq[0]), int(nmi[0]))
    start = int(irq[0]) - -(-(int(irq[0]) - earliest) // length) * length
    writes = make_writes(cycles, chip, reg, val)
    gap = default_gap(writes, start, length)
    header = Header(frame_cycles=length, start_cycle=start, gap=gap,
                    sids=_sids(int(chip.max()) + 1), timing="irq")
    return Tune(header, writes, irq, nmi, meta={"skipped_lines": skipped, "frame_source": source})


def _since(events: np.ndarray, cycles: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    if not len(events):
        return fallback
    k = np.searchsorted(events, cycles, side="right") - 1
    return np.where(k >= 0, cycles - events[np.maximum(k, 0)], fallback)


def write_vice6(tune: Tune) -> bytes:
    w = tune.writes
    h = tune.header
    cycles = w["cycle"]
    delta = np.diff(cycles, prepend=0)
    if len(delta) and delta[0] < 0:
        raise FormatError("an asid-vice dump counts cycles from 0; this tune starts before cycle 0")
    in_frame = (cycles - h.start_cycle) % h.frame_cycles
    irq_d = _since(tune.irq, cycles, in_frame)
    nmi_d = _since(tune.nmi, cycles, cycles - h.start_cycle)
    return write_columns(delta, irq_d, nmi_d, w["chip"], w["reg"], w["val"])


FORMATS = [
    Format("vice", "mainline VICE sound dump: DELTA REG VAL", (".vice", ".dump"), read_vice, write_vice),
    Format("vice6", "asid-vice dump: CLOCK_DIFF IRQ_DIFF NMI_DIFF CHIPNO REG VAL", (".vice6",),
           read_vice6, write_vice6),
]
