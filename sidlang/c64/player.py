"""Play a PSID/RSID program on the emulated C64 and collect what it wrote to the SIDs.

What a SID player does, with the same choices ``sidplayfp`` makes:

* **PSID with a play address**: init runs at cycle 0 with A = song − 1, then play is called
  once per tick: every video frame (19656 cycles PAL, 17095 NTSC) for vertical-blank songs,
  every CIA 1 timer-A period (latch + 1 cycles, as the tune's init left it, read again after
  every call so tempo changes work) for CIA songs. Calls start on the tick grid; between calls
  the CPU is idle and costs nothing. ``$01`` is set before each call from the routine's
  address as libsidplayfp's ``iomap`` does (`$37` below `$A000`, `$36` below `$D000`, `$35`
  from `$E000`, `$34` in between).
* Before init, ``$D418`` is set to 15 (:data:`DRIVER_VOLUME`), as libsidplayfp's driver does.
* **RSID, or PSID with play = 0**: init runs as the C64's main program with interrupts, and
  whatever interrupt handlers it installs (through ``$0314`` with the KERNAL banked in, or
  ``$FFFE`` without) run on the raster or timer interrupts it programs. If init returns, the
  CPU waits for interrupts.

Every call is bounded: ``init_budget`` cycles for init, ``budget`` for each play call. The
whole run is bounded by its length, and what it records by the tick: play is called at most
:data:`MAX_CALLS_PER_FRAME` times a video frame and at most ``MAX_FRAMES`` times in all; the
write log is bounded in :class:`~sidlang.c64.machine.C64`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sidlang.c64 import bus
from sidlang.c64.machine import C64, MachineError
from sidlang.tune import MAX_FRAMES

#: The fastest PSID tick played: a 16 kHz sample player calls play 330 times a PAL frame.
MAX_CALLS_PER_FRAME = 512
#: libsidplayfp's driver sets the volume to 15 before it calls init, so a tune is heard (with
#: the 6581's volume click) from the start even before it writes $D418 itself; sidlang does the
#: same, as a write at cycle 0. (A C64 starts with the volume at 0.)
DRIVER_VOLUME = 0x0F


@dataclass
class Program:
    """The parts of a .sid file the player needs."""

    load: int
    data: bytes
    init: int
    play: int
    rsid: bool = False
    cia: bool = False  #: the song's speed bit: CIA timer rather than vertical blank
    ntsc: bool = False


@dataclass
class Run:
    """What came out: SID-range writes, call or interrupt times and the tick length found."""

    cycles: np.ndarray
    addrs: np.ndarray
    vals: np.ndarray
    end: int
    calls: np.ndarray  #: cycles where play was called (PSID) or IRQs were taken (RSID)
    n_irq: int = 0
    nmi: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    n_nmi: int = 0
    period: int = 0  #: cycles per tick; 0 = not known (no regular interrupt)
    regular: bool = True  #: calls fell on a regular grid of ``period``
    mode: str = "vbi"  #: vbi, cia, or interrupts (the tune's own handlers)


def iomap(addr: int) -> int:
    """The $01 value libsidplayfp sets before calling a PSID routine at ``addr``."""
    if addr < 0xA000:
        return 0x37
    if addr < 0xD000:
        return 0x36
    if addr >= 0xE000:
        return 0x35
    return 0x34


def play(prog: Program, song: int, cycles: int, budget: int, init_budget: int | None = None) -> Run:
    """Run ``prog``'s song ``song`` (0-based) for ``cycles`` CPU cycles."""
    m = C64(ntsc=prog.ntsc, booted=prog.rsid)
    m.load(prog.load, prog.data)
    m.sid_write(0xD418, DRIVER_VOLUME)
    if prog.rsid or prog.play == 0:
        return _free(m, prog, song, cycles)
    m.set_port(iomap(prog.init))
    m.call(prog.init, song, budget if init_budget is None else init_budget, "init")
    frame = int(m.dev[bus.FRAME])
    period = m.cia1_period() if prog.cia else frame
    min_period = frame // MAX_CALLS_PER_FRAME
    if period < min_period:
        raise MachineError(
            f"CIA 1's timer calls play every {period} cycles ({m.clock_hz / period:,.0f} times a "
            f"second); sidlang calls it at most every {min_period} cycles"
        )
    first = -(-m.clock // period) * period if m.clock else period
    if (cycles - first) // period >= MAX_FRAMES:
        most = MAX_FRAMES * period / m.clock_hz
        raise MachineError(
            f"play is called every {period} cycles, so {cycles / m.clock_hz:g} s would be more than "
            f"the {MAX_FRAMES:,} frames a tune may have; convert at most {int(most)} s "
            f"(--seconds {int(most)})"
        )
    calls, period, regular = m.play_calls(
        prog.play, iomap(prog.play), prog.cia, period, first, cycles, budget, min_period, MAX_FRAMES - 1
    )
    c, a, v = m.writes()
    keep = c < cycles + budget
    if len(calls) and calls[0] % period:
        regular = False
    return Run(
        c[keep],
        a[keep],
        v[keep],
        cycles,
        calls,
        period=period,
        regular=regular,
        mode="cia" if prog.cia else "vbi",
    )


def _free(m: C64, prog: Program, song: int, cycles: int) -> Run:
    m.set_port(0x37)
    m.run(prog.init, song, cycles)
    c, a, v = m.writes()
    irq, n_irq, nmi, n_nmi = m.interrupts()
    period, regular = tick(irq)
    return Run(c, a, v, cycles, irq, n_irq, nmi, n_nmi, period, regular, "interrupts")


def tick(irq: np.ndarray) -> tuple[int, bool]:
    """Cycles per tick of a tune's own interrupts, and whether they keep to that grid.

    An interrupt waits for the instruction in progress, so single gaps jitter by a few cycles
    around the source's period, and not evenly: echo-test's timer (latch $7D, 126 cycles) gives
    gaps of 124 most often, but 126.00 on average. The tick is the mean of the gaps near the
    median (within 16 cycles), so a pause or an odd gap does not pull it away.
    """
    if len(irq) < 3:
        return 0, False
    gaps = np.diff(irq)
    near = np.abs(gaps - np.median(gaps)) <= 16
    period = int(round(float(gaps[near].mean())))
    # Jitter of a few cycles (the instruction an interrupt waits for) is still a grid.
    return period, bool(np.all(np.abs(gaps - period) <= 16))


__all__ = ["MachineError", "Program", "Run", "iomap", "play", "tick"]
