"""The C64 around the CPU: `$01` banking, VIC-II raster and raster IRQ, two CIAs, SID capture.

Everything here is compiled together with the CPU loop (:mod:`sidlang.c64.cpu`), so the state
lives in flat arrays rather than objects: ``dev`` (int64, indices below) holds the devices,
``io`` (4 KiB) the bytes last written to `$D000–$DFFF` (VIC registers, colour RAM, CIA
registers that simply read back, such as the serial data register some tunes execute code
from), ``pmap`` the read kind of every 256-byte page under the current banking.

Devices are lazy: a timer is stored as "counter ``C0`` at cycle ``T0``", so reading it costs a
subtraction, and the CPU loop only calls :func:`update` when the clock passes ``dev[NEXT_EV]``,
the earliest underflow or raster compare. Writes to a SID's address range are appended to the
log with the exact cycle they land on; reads of the SID give what a tune can rely on without a
SID model: POTs `$ff`, OSC3 and ENV3 the first SID's voice-3 waveform and envelope
(:mod:`sidlang.c64.voice3`), the other registers zero.
"""

from __future__ import annotations

from sidlang.c64 import voice3
from sidlang.c64.jit import njit, njit_inline, wide

INF = 1 << 62

# --- dev[] layout -------------------------------------------------------------------------
IO_ON = 0  #: 1 while $D000-$DFFF reads and writes I/O
PORT_DDR = 1
PORT_DATA = 2
NLOG = 3  #: writes logged so far
LOGCAP = 4
NEXT_EV = 5  #: earliest cycle at which update() has something to do
IRQ_LINE = 6  #: level of the IRQ line (VIC or CIA 1)
NMI_EDGE = 7  #: an NMI is pending (CIA 2 output went high)
LINES = 8  #: raster lines per frame
CPL = 9  #: cycles per line
FRAME = 10  #: cycles per frame
RASTER_CMP = 11
VIC_LATCH = 12  #: $D019 bits
VIC_MASK = 13  #: $D01A bits
RASTER_NEXT = 14
RNG = 15  #: unused (OSC3 was once a pseudo-random byte)
UNUSED = 16  #: unused (it named a device feature not emulated: none is left)
NIRQ = 17
NNMI = 18
EVCAP = 19  #: capacity of the interrupt-time logs
EV_PER_FRAME = 20  #: interrupts allowed per video frame, on average from the start (0 = no bound)
ONE_SEC = 21  #: cycles in one second: the averaging starts after it
BL_NEXT = 22  #: cycle at which the next bad line's DMA takes the bus (INF: none)
BL_ON = 23  #: 1: bad lines hold the CPU (0 turns them off, for comparisons)
CIA_BASE = 24
CIA_SIZE = 24
# per CIA, relative to CIA_BASE + k * CIA_SIZE; timer j at +6*j
T_LATCH = 0
T_RUN = 1
T_ONESHOT = 2
T_T0 = 3
T_C0 = 4
T_NEXT = 5
C_ICR_DATA = 12
C_ICR_MASK = 13
C_CRA = 14
C_CRB = 15
C_OUT = 16
assert voice3.V3_BASE == CIA_BASE + 2 * CIA_SIZE
DEV_SIZE = voice3.V3_BASE + voice3.V3_SIZE  #: the first SID's voice 3 (:mod:`voice3`) comes last

# dev[b + T_RUN] of a running timer: what it counts.
RUN_PHI2 = 1  #: the system clock (counted lazily from T_T0)
RUN_PULSES = 2  #: CNT edges or, for timer B, timer A's underflows (counted as they come)

# Page kinds in pmap[].
P_RAM = 0
P_ROM = 1
P_IO = 2
P_ZERO = 3  #: page 0: $00/$01 are the processor port


@njit
def set_banks(pmap, dev) -> None:
    """Recompute the page map after a write to $00/$01 (no cartridge: GAME=EXROM=1)."""
    bits = (dev[PORT_DATA] | (~dev[PORT_DDR] & 0xFF)) & 7
    loram, hiram, charen = bits & 1, (bits >> 1) & 1, (bits >> 2) & 1
    basic = P_ROM if (loram and hiram) else P_RAM
    kernal = P_ROM if hiram else P_RAM
    if loram == 0 and hiram == 0:
        d = P_RAM
    elif charen:
        d = P_IO
    else:
        d = P_ROM
    for p in range(0xA0, 0xC0):
        pmap[p] = basic
    for p in range(0xD0, 0xE0):
        pmap[p] = d
    for p in range(0xE0, 0x100):
        pmap[p] = kernal
    dev[IO_ON] = 1 if d == P_IO else 0


BL_FROM, BL_LEN = 11, 43  #: a bad line holds the CPU from its 12th cycle to its 55th


@njit
def next_badline(dev, io, t) -> int:
    """Where the first bad-line DMA that has not ended by cycle ``t`` starts (INF if none).

    A bad line is a raster line $30-$F7 whose low three bits are YSCROLL ($D011 & 7) while
    the display is on ($D011 bit 4): the VIC-II reads the screen's character codes then and
    holds the CPU for 40-43 cycles (BA low from cycle 12, the bus is its from 15 to 54). Modelled
    as ``BL_LEN`` cycles from cycle ``BL_FROM`` of the line. The VIC's rule that DEN must have
    been set during line $30 is read as "is set now".
    """
    if not dev[BL_ON] or not (wide(io[0x11]) & 0x10):
        return INF
    frame = dev[FRAME]
    cpl = dev[CPL]
    ys = wide(io[0x11]) & 7
    fs = t - t % frame
    pos = t - fs
    line = pos // cpl
    if pos - line * cpl >= BL_FROM + BL_LEN:
        line += 1
    if line < 0x30:
        line = 0x30
    line += (ys - line) & 7
    if line > 0xF7:
        line = 0x30 + ((ys - 0x30) & 7)
        fs += frame
    return fs + line * cpl + BL_FROM


@njit
def raster_line(dev, t) -> int:
    return (t % dev[FRAME]) // dev[CPL]


@njit
def next_raster(dev, t) -> int:
    """The first cycle after ``t`` at which the raster reaches the compare line."""
    cmp = dev[RASTER_CMP]
    if cmp >= dev[LINES]:
        return INF
    fs = t - t % dev[FRAME]
    r = fs + cmp * dev[CPL]
    if r <= t:
        r += dev[FRAME]
    return r


@njit
def timer_value(dev, b, t) -> int:
    if dev[b + T_RUN] == RUN_PHI2:
        v = dev[b + T_C0] - (t - dev[b + T_T0])
        return v if v > 0 else 0
    return dev[b + T_C0]


@njit
def timer_start(dev, b, t) -> None:
    dev[b + T_RUN] = RUN_PHI2
    dev[b + T_T0] = t
    dev[b + T_NEXT] = t + dev[b + T_C0] + 1


@njit_inline
def timer_count_pulses(dev, b) -> None:
    """Start timer ``b`` counting pulses rather than cycles: it moves only when :func:`_pulses`
    is called (timer B counting timer A's underflows), or never (CNT: on a C64 with nothing on
    the user port or serial bus, the CNT pins are pulled high and have no edges)."""
    dev[b + T_RUN] = RUN_PULSES
    dev[b + T_NEXT] = INF


@njit_inline
def _pulses(dev, c, j, n) -> None:
    """``n`` count pulses to the pulse-counting timer ``j`` of the CIA at ``c``: each takes the
    counter down by one, or, at zero, is an underflow (the ICR bit, the latch reloaded; a
    one-shot timer stops there)."""
    b = c + 6 * j
    v = dev[b + T_C0]
    if n <= v:
        dev[b + T_C0] = v - n
        return
    dev[c + C_ICR_DATA] |= 1 << j
    latch = dev[b + T_LATCH]
    if dev[b + T_ONESHOT]:
        _oneshot_end(dev, c, j)
        return
    dev[b + T_C0] = latch - (n - v - 1) % (latch + 1)


@njit_inline
def _oneshot_end(dev, c, j) -> None:
    """A one-shot timer's underflow: it stops, reloaded, its start bit cleared."""
    b = c + 6 * j
    dev[b + T_RUN] = 0
    dev[b + T_C0] = dev[b + T_LATCH]
    dev[b + T_NEXT] = INF
    dev[c + (C_CRA if j == 0 else C_CRB)] &= 0xFE


@njit
def timer_stop(dev, b, t) -> None:
    dev[b + T_C0] = timer_value(dev, b, t)
    dev[b + T_RUN] = 0
    dev[b + T_NEXT] = INF


@njit
def _timer_due(dev, c, j, t) -> None:
    """Underflows of timer ``j`` of the CIA at ``c`` up to cycle ``t``."""
    b = c + 6 * j
    nxt = dev[b + T_NEXT]
    if nxt > t:
        return
    dev[c + C_ICR_DATA] |= 1 << j
    latch = dev[b + T_LATCH]
    if dev[b + T_ONESHOT]:
        _oneshot_end(dev, c, j)
        n = 1
    else:
        period = latch + 1
        # Several underflows can be due after a skip with interrupts off; the ICR is a latch.
        n = (t - nxt) // period + 1
        last = nxt + (n - 1) * period
        dev[b + T_T0] = last
        dev[b + T_C0] = latch
        dev[b + T_NEXT] = last + period
    # Timer B counting timer A's underflows (CRB bit 6; with bit 5 too it counts them while CNT
    # is high, which on a C64 it always is).
    if j == 0 and dev[c + 6 + T_RUN] == RUN_PULSES and dev[c + C_CRB] & 0x40:
        _pulses(dev, c, 1, n)


@njit
def update(dev, t) -> None:
    """Bring every device up to cycle ``t``: underflows, raster compares, interrupt lines."""
    if dev[RASTER_NEXT] <= t:
        dev[VIC_LATCH] |= 1
        dev[RASTER_NEXT] = next_raster(dev, t)
    for k in range(2):
        c = CIA_BASE + k * CIA_SIZE
        _timer_due(dev, c, 0, t)
        _timer_due(dev, c, 1, t)
        out = 1 if (dev[c + C_ICR_DATA] & dev[c + C_ICR_MASK] & 0x1F) else 0
        if k == 1 and out and not dev[c + C_OUT]:
            dev[NMI_EDGE] = 1
        dev[c + C_OUT] = out
    vic = 1 if (dev[VIC_LATCH] & dev[VIC_MASK] & 0x0F) else 0
    dev[IRQ_LINE] = 1 if (vic or dev[CIA_BASE + C_OUT]) else 0
    nxt = dev[RASTER_NEXT]
    for k in range(2):
        c = CIA_BASE + k * CIA_SIZE
        for j in range(2):
            v = dev[c + 6 * j + T_NEXT]
            if v < nxt:
                nxt = v
    dev[NEXT_EV] = nxt


@njit
def _cia_read(dev, io, k, r, t) -> int:
    c = CIA_BASE + k * CIA_SIZE
    if r == 0 or r == 1:
        if k == 0:
            return 0xFF  # no keys pressed, no joystick
        return wide(io[0xD00 + r])
    if r == 4 or r == 5 or r == 6 or r == 7:
        v = timer_value(dev, c + 6 * ((r - 4) >> 1), t)
        return (v >> 8) & 0xFF if r & 1 else v & 0xFF
    if r == 13:
        d = dev[c + C_ICR_DATA]
        v = d | (0x80 if d & dev[c + C_ICR_MASK] & 0x1F else 0)
        dev[c + C_ICR_DATA] = 0
        dev[c + C_OUT] = 0
        update(dev, t)
        return v
    if r == 14:
        return dev[c + C_CRA]
    if r == 15:
        return dev[c + C_CRB]
    return wide(io[0xC00 + k * 0x100 + r])


@njit
def _cia_write(dev, io, k, r, v, t) -> None:
    c = CIA_BASE + k * CIA_SIZE
    io[0xC00 + k * 0x100 + r] = v
    if 4 <= r <= 7:
        b = c + 6 * ((r - 4) >> 1)
        if r & 1:
            dev[b + T_LATCH] = (dev[b + T_LATCH] & 0xFF) | (v << 8)
            if not dev[b + T_RUN]:
                dev[b + T_C0] = dev[b + T_LATCH]
        else:
            dev[b + T_LATCH] = (dev[b + T_LATCH] & 0xFF00) | v
    elif r == 13:
        if v & 0x80:
            dev[c + C_ICR_MASK] |= v & 0x1F
        else:
            dev[c + C_ICR_MASK] &= ~v & 0x1F
    elif r == 14 or r == 15:
        j = r - 14
        b = c + 6 * j
        counts_pulses = (v & 0x20) if j == 0 else (v & 0x60)
        dev[c + r] = v & 0xEF  # the force-load bit is a strobe, it never reads back
        dev[b + T_ONESHOT] = (v >> 3) & 1
        was = dev[b + T_RUN]
        if was:
            timer_stop(dev, b, t)
        if v & 0x10:
            dev[b + T_C0] = dev[b + T_LATCH]
        if v & 1:
            if counts_pulses:
                timer_count_pulses(dev, b)
            else:
                timer_start(dev, b, t)
    update(dev, t)


@njit
def io_read(addr, t, io, dev) -> int:
    """A read of $D000-$DFFF with I/O banked in, at cycle ``t``."""
    page = addr >> 8
    if page < 0xD4:  # VIC-II, 64 registers mirrored
        r = addr & 0x3F
        if r == 0x11:
            return (wide(io[0x11]) & 0x7F) | ((raster_line(dev, t) >> 8) << 7)
        if r == 0x12:
            return raster_line(dev, t) & 0xFF
        if r == 0x19:
            lat = dev[VIC_LATCH]
            return lat | 0x70 | (0x80 if lat & dev[VIC_MASK] & 0x0F else 0)
        if r == 0x1A:
            return dev[VIC_MASK] | 0xF0
        if r == 0x1E or r == 0x1F:
            return 0
        if r >= 0x2F:
            return 0xFF
        return wide(io[r])
    if page < 0xD8:  # SID
        r = addr & 0x1F
        if r == 0x19 or r == 0x1A:
            return 0xFF
        if r == 0x1B:
            return voice3.osc3(dev, t)
        if r == 0x1C:
            return voice3.env3(dev, t)
        return 0
    if page < 0xDC:
        return wide(io[addr - 0xD000]) | 0xF0  # colour RAM is four bits wide
    if page == 0xDC:
        return _cia_read(dev, io, 0, addr & 0x0F, t)
    if page == 0xDD:
        return _cia_read(dev, io, 1, addr & 0x0F, t)
    return wide(io[addr - 0xD000])


@njit
def io_write(addr, v, t, io, dev, log_clk, log_addr, log_val) -> None:
    """A write to $D000-$DFFF with I/O banked in, at cycle ``t``; SID writes are logged."""
    page = addr >> 8
    if (0xD4 <= page < 0xD8) or page >= 0xDE:
        n = dev[NLOG]
        log_clk[n] = t
        log_addr[n] = addr
        log_val[n] = v
        dev[NLOG] = n + 1
        if page == 0xD4 and addr < 0xD420:
            voice3.write(dev, addr & 0x1F, v, t)
        if page >= 0xDE:
            io[addr - 0xD000] = v
        return
    if page < 0xD4:
        r = addr & 0x3F
        io[r] = v
        if r == 0x11 or r == 0x12:
            dev[RASTER_CMP] = ((wide(io[0x11]) & 0x80) << 1) | wide(io[0x12])
            dev[RASTER_NEXT] = next_raster(dev, t)
            if r == 0x11:
                dev[BL_NEXT] = next_badline(dev, io, t)
        elif r == 0x19:
            dev[VIC_LATCH] &= ~v & 0x0F
        elif r == 0x1A:
            dev[VIC_MASK] = v & 0x0F
        update(dev, t)
        return
    if page < 0xDC:
        io[addr - 0xD000] = v & 0x0F
        return
    _cia_write(dev, io, page - 0xDC, addr & 0x0F, v, t)
