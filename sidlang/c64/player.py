"""Play a PSID/RSID program on the emulated C64 and collect what it wrote to the SIDs.

What a SID player does, with the same choices ``sidplayfp`` makes:

* **PSID with a play address**: init runs at cycle 0 with A = song − 1, then play is called
  once per tick: every video frame (19656 cycles PAL, 17095 NTSC) for vertical-blank songs,
  every CIA 1 timer-A period (latch + 1 cycles, as the tune's init left it, read again after
  every call so tempo changes work) for CIA songs. Calls start on the tick grid; between calls
  the CPU is idle and costs nothing. ``$01`` is set before each call from the routine's
  address as libsidplayfp's ``iomap`` does (`$37` below `$A000`, `$36` below `$D000`, `$35`
  from `$E000`, `$34` in between).
* **RSID, or PSID with play = 0**: init runs as the C64's main program with interrupts, and
  whatever interrupt handlers it installs (through ``$0314`` with the KERNAL banked in, or
  ``$FFFE`` without) run on the raster or timer interrupts it programs. If init returns, the
  CPU waits for interrupts.

Every call is bounded: ``budget`` cycles for init and for each play call. The whole run is
bounded by its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sidlang.c64 import bus
from sidlang.c64.machine import C64, MachineError


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


def play(prog: Program, song: int, cycles: int, budget: int) -> Run:
    """Run ``prog``'s song ``song`` (0-based) for ``cycles`` CPU cycles."""
    m = C64(ntsc=prog.ntsc, booted=prog.rsid)
    m.load(prog.load, prog.data)
    if prog.rsid or prog.play == 0:
        return _free(m, prog, song, cycles)
    m.set_port(iomap(prog.init))
    m.call(prog.init, song, budget, "init")
    frame = int(m.dev[bus.FRAME])
    period = m.cia1_period() if prog.cia else frame
    t = -(-m.clock // period) * period if m.clock else period
    calls = []
    regular = True
    while t < cycles:
        m.clock = t
        start = m.clock
        calls.append(start)
        m.set_port(iomap(prog.play))
        m.call(prog.play, 0, budget, "play")
        if prog.cia:
            new = m.cia1_period()
            if new != period:
                regular = False
                period = new
        t = max(start + period, m.clock)
        if t != start + period:
            regular = False
    c, a, v = m.writes()
    keep = c < cycles + budget
    first = period if not calls else calls[0]
    if calls and first % period:
        regular = False
    return Run(c[keep], a[keep], v[keep], cycles, np.array(calls, dtype=np.int64),
               period=period, regular=regular, mode="cia" if prog.cia else "vbi")


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
