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
  length the most common gap between IRQs. A column that holds one number on every line
  (0 where the dumping tool does not track NMIs) carries no interrupt times: the Tune keeps
  the number (``header.irq_diff``, ``header.nmi_diff``; ``@irqdiff``/``@nmidiff`` in the text)
  instead of an interrupt per write, and IRQ-less dumps get their frames from write bursts.
"""

from __future__ import annotations

import numpy as np

from sidlang.errors import FormatError
from sidlang.frames import MAX_TICK, MIN_TICK, default_gap, infer_frame_timing
from sidlang.pitch import PAL_FRAME
from sidlang.registers import SID_STRIDE, sid_addresses
from sidlang.tune import Header, Tune, make_writes

from . import Format
from ._columns import check_range, read_columns, write_columns


def _sids(n: int) -> tuple[int, ...]:
    """The default addresses of ``n`` chips: a dump numbers registers from $d400 on."""
    return sid_addresses(n)


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
    # Never going back, the distinct times are where they change (np.unique imports numpy.ma).
    unique = times[np.diff(times, prepend=times[:1] - 1) != 0]
    latest = unique[np.searchsorted(unique, cycles, side="right") - 1]
    wrong = np.flatnonzero(latest != times)
    if len(wrong):
        raise FormatError(
            f"a later {what} ({int(latest[wrong[0]])}) comes before this write yet the write "
            f"counts from an earlier one",
            file=file,
            line=int(numbers[wrong[0]]),
        )
    return unique


def _irq_frame_length(irq: np.ndarray) -> tuple[int, str]:
    """The player's tick from the gaps between IRQs: the mean of the gaps near the commonest
    one (a raster IRQ's few cycles of jitter average out; a timer's gaps are all equal), where
    that is a plausible tick (256 cycles to four PAL frames, seen at least twice); else PAL's
    frame length."""
    if len(irq) >= 3:
        gaps = np.diff(irq)
        values, counts = np.unique(gaps, return_counts=True)
        mode = int(values[np.argmax(counts)])
        near = gaps[np.abs(gaps - mode) <= max(8, mode // 256)]
        length = int(round(float(near.mean())))
        if len(near) >= 2 and MIN_TICK <= length <= MAX_TICK:
            return length, "irq"
    return PAL_FRAME, "header"


def _one_number(diffs: np.ndarray) -> int | None:
    """The column's value where it is the same on every line (no interrupt times), else None."""
    return int(diffs[0]) if (diffs == diffs[0]).all() and diffs[0] >= 0 else None


def _irq_phase(irq: np.ndarray, length: int) -> int:
    """Where frames begin (modulo ``length``): just before the IRQs near the commonest phase.

    An IRQ a few cycles late (raster jitter) then lands a few cycles into its frame, not at the
    end of the one before.
    """
    phase = irq % length
    values, counts = np.unique(phase, return_counts=True)
    mode = int(values[np.argmax(counts)])
    centred = (phase - mode + length // 2) % length - length // 2
    return (mode + int(centred[np.abs(centred) < max(length // 8, 1)].min())) % length


def read_vice6(data: bytes, file: str | None = None) -> Tune:
    rows, numbers, skipped, _ = read_columns(data, 6, file)
    _require_rows(rows, file, "'CLOCK_DIFF IRQ_DIFF NMI_DIFF CHIPNO REG VAL'")
    delta, irq_d, nmi_d, chip, reg, val = rows.T
    check_range(delta, 0, 1 << 40, "cycle delta", numbers, file)
    check_range(chip, 0, 7, "chip number", numbers, file)
    check_range(reg, 0, 31, "register", numbers, file)
    check_range(val, 0, 255, "value", numbers, file)
    cycles = np.cumsum(delta)
    irq_diff, nmi_diff = _one_number(irq_d), _one_number(nmi_d)
    empty = np.zeros(0, np.int64)
    irq = empty if irq_diff is not None else _event_times(cycles, irq_d, numbers, file, "IRQ")
    nmi = empty if nmi_diff is not None else _event_times(cycles, nmi_d, numbers, file, "NMI")
    if len(irq):
        length, source = _irq_frame_length(irq)
        earliest = min(int(cycles[0]), int(irq[0]), int(nmi[0]) if len(nmi) else int(cycles[0]))
        in_log = irq[irq >= cycles[0]]  # not the IRQ before the log that init writes count from
        start = earliest - (earliest - _irq_phase(in_log if len(in_log) else irq, length)) % length
    else:  # no IRQ times: frames from the write bursts, as for a mainline dump
        length, start, source = infer_frame_timing(cycles)
        if len(nmi) and nmi[0] < start:
            start -= -(-(start - int(nmi[0])) // length) * length
    writes = make_writes(cycles, chip, reg, val)
    gap = default_gap(writes, start, length)
    header = Header(
        frame_cycles=length,
        start_cycle=start,
        gap=gap,
        sids=_sids(int(chip.max()) + 1),
        timing="irq" if len(irq) else "grid",
        irq_diff=irq_diff,
        nmi_diff=nmi_diff,
    )
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
    n = len(cycles)
    if h.irq_diff is not None:
        irq_d = np.full(n, h.irq_diff, np.int64)
    else:
        irq_d = _since(tune.irq, cycles, (cycles - h.start_cycle) % h.frame_cycles)
    if h.nmi_diff is not None:
        nmi_d = np.full(n, h.nmi_diff, np.int64)
    else:
        nmi_d = _since(tune.nmi, cycles, cycles - h.start_cycle)
    return write_columns(delta, irq_d, nmi_d, w["chip"], w["reg"], w["val"])


FORMATS = [
    Format("vice", "mainline VICE sound dump: DELTA REG VAL", (".vice", ".dump"), read_vice, write_vice),
    Format(
        "vice6",
        "asid-vice dump: CLOCK_DIFF IRQ_DIFF NMI_DIFF CHIPNO REG VAL",
        (".vice6",),
        read_vice6,
        write_vice6,
    ),
]
