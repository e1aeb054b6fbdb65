"""How the 6510 meets the bus: a read and a write through the banking, the cycles a bad line's
DMA holds an instruction, and the skip over a raster-poll loop's idle iterations. Inlined into
the compiled loop (:mod:`cpu`); the devices are :mod:`bus`.
"""

from __future__ import annotations

from sidlang.c64 import bus
from sidlang.c64.jit import njit_inline, wide
from sidlang.c64.ops import POLL_READ


@njit_inline
def rd(addr, t, ram, rom, pmap, io, dev) -> int:
    k = pmap[addr >> 8]
    if k == bus.P_RAM:
        return wide(ram[addr])
    if k == bus.P_ZERO:
        if addr == 0:
            return dev[bus.PORT_DDR]
        if addr == 1:
            return (dev[bus.PORT_DATA] & dev[bus.PORT_DDR]) | (0x17 & ~dev[bus.PORT_DDR] & 0xFF)
        return wide(ram[addr])
    if k == bus.P_ROM:
        return wide(rom[addr])
    return bus.io_read(addr, t, io, dev)


@njit_inline
def wr(addr, v, t, ram, pmap, io, dev, log_clk, log_addr, log_val) -> None:
    if addr < 2:
        if addr == 0:
            dev[bus.PORT_DDR] = v
        else:
            dev[bus.PORT_DATA] = v
        ram[addr] = v
        bus.set_banks(pmap, dev)
    elif dev[bus.IO_ON] and 0xD000 <= addr < 0xE000:
        bus.io_write(addr, v, t, io, dev, log_clk, log_addr, log_val)
    else:
        ram[addr] = v


@njit_inline
def raster_poll_skip(dest, clk, cyc, until, ram, pmap, dev) -> int:
    """Cycles of whole iterations a raster-poll loop can skip: 0 if it is not one.

    The loop is an absolute read of ``$D011``/``$D012`` at ``dest`` (4 cycles, just executed,
    reading at ``clk - 1``) and the taken branch back to it at ``clk`` (``cyc`` cycles). Until
    the raster line changes, or a device event may interrupt, each iteration reads the same
    value and changes nothing, so the result is exactly that of running them.
    """
    if pmap[dest >> 8] != bus.P_RAM or not POLL_READ[ram[dest]] or not dev[bus.IO_ON]:
        return 0
    addr = wide(ram[(dest + 1) & 0xFFFF]) | (wide(ram[(dest + 2) & 0xFFFF]) << 8)
    r = addr & 0x3F
    if addr < 0xD000 or addr >= 0xD400 or (r != 0x11 and r != 0x12):
        return 0
    cpl = dev[bus.CPL]
    line_end = clk - 1 - (clk - 1) % cpl + cpl  # the read at clk - 1 saw this line
    period = 4 + cyc
    first_read = clk + cyc + 3
    if first_read >= line_end:
        return 0
    n = (line_end - 1 - first_read) // period + 1
    lim = dev[bus.NEXT_EV]
    if lim > until:
        lim = until
    if lim > dev[bus.BL_NEXT]:
        lim = dev[bus.BL_NEXT]  # a bad line would hold the loop: run through it
    k = (lim - clk - 1) // period
    if k < n:
        n = k
    return n * period if n > 0 else 0


@njit_inline
def badline(clk, cyc, io, dev, ws, wn) -> int:
    """The clock at which this instruction (from ``clk``, ``cyc`` cycles, of which ``wn`` from
    index ``ws`` write) starts once the bad line it runs into is counted.

    BA falls at the DMA's start ``bl`` and the CPU halts on its first read from then on (writes
    go on for at most three cycles); it goes on at ``bl + BL_LEN``. An instruction that starts
    inside the DMA waits for its end; one that halts on its cycle ``i`` finishes ``cyc - i``
    cycles after the DMA; one whose cycles from ``bl`` on are all writes finishes on time, and
    the next instruction waits instead. Moves ``dev[BL_NEXT]`` on once the CPU has halted."""
    bl = dev[bus.BL_NEXT]
    if clk >= bl + bus.BL_LEN:  # time was skipped past it (waiting for an event)
        bl = bus.next_badline(dev, io, clk)
        dev[bus.BL_NEXT] = bl
        if clk + cyc <= bl:
            return clk
    if clk >= bl:
        clk = bl + bus.BL_LEN
    else:
        i = bl - clk
        while i < cyc and i < bl - clk + 3 and ws <= i < ws + wn:
            i += 1
        if i == cyc:  # it writes through BA's three cycles and ends before the halt
            return clk
        clk = bl + bus.BL_LEN - i
    dev[bus.BL_NEXT] = bus.next_badline(dev, io, bl + bus.BL_LEN)
    return clk
