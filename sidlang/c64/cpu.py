"""The NMOS 6510 core: one compiled loop over integer state, every opcode, exact cycle counts.

:func:`execute` runs from the state in ``cpu`` until something the caller must see happens
(see the ``ST_*`` codes) and stores the state back. Two modes:

* *call* (``free == 0``): a subroutine (PSID init or play) runs with interrupts ignored, the
  way a player's own interrupt handler calls it; it ends when an ``RTS`` lifts the stack pointer
  back to ``stop_sp``, or fails at ``until`` (the per-call cycle budget).
* *free* (``free == 1``): the machine runs as a C64 does: IRQs (VIC raster, CIA 1) and NMIs
  (CIA 2) are taken through the vectors at ``$FFFE``/``$FFFA`` as banked in, until cycle
  ``until``. ``cpu[IDLE]`` set means the main program has ended and the CPU only waits for
  interrupts; an ``RTI`` that brings the stack back to where the interrupt found it returns to
  waiting. Waiting, and a tune's own ``JMP *`` or branch-to-itself loop, skip straight to the
  next device event instead of spinning.
* *driver* (``free == 2``): a PSID's play routine is called again and again, as *call* runs
  it, on the tick grid, without returning to Python in between (``drv``, layout ``D_*``): each
  call starts ``drv[D_PERIOD]`` cycles after the last one started (CIA 1's latch + 1 for CIA
  songs, read again after every call), or when the last one returned if that is later; ``$01``
  is set to ``drv[D_IOMAP]``; the start is logged in ``irqlog``. Each call has
  ``drv[D_BUDGET]`` cycles; no call starts at or after ``until``.

The cycle an instruction's memory access lands on is its last (stores, reads of I/O); a
read-modify-write writes twice (the unchanged value, then the new one), as the chip does and as
VICE logs it, which is what makes ``INC $D019`` acknowledge a raster interrupt.

The operation codes and per-opcode tables are :mod:`ops`; memory access, bad-line stalls and
the raster-poll skip are :mod:`access`. numba caches the compiled loop under this file's time
stamp alone, yet :mod:`access`, :mod:`ops`, :mod:`bus` and :mod:`voice3` are compiled into it:
after changing only those, delete
``sidlang/c64/__pycache__/*.nb?`` (or change this file) or the old devices are reused.
"""

from __future__ import annotations

from sidlang.c64 import bus, ops
from sidlang.c64.access import badline, raster_poll_skip, rd, wr
from sidlang.c64.jit import njit, wide
from sidlang.c64.opcodes import CYCLES, EXTRA, MODE, OP

# cpu[] layout
A, X, Y, SP, PC, P, CLK, IDLE, IDLE_SP, JAM_PC = range(10)
CPU_SIZE = 10

ST_RETURNED = 0  #: the called routine returned (or init ended, in free mode)
ST_UNTIL = 1  #: the clock reached ``until``
ST_JAM = 2  #: a JAM opcode halted the CPU at cpu[JAM_PC]
ST_LOGFULL = 3  #: the write log is full; grow it and call again
ST_HANG = 4  #: a call spins in a loop to itself with interrupts ignored
# 5 is unused (it was a device feature not emulated: every one a tune may program now is)
ST_BUDGET = 6  #: driver mode: a play call did not return within its budget
ST_TOOFAST = 7  #: driver mode: the tick is below drv[D_MINPERIOD], or drv[D_MAXCALLS] calls were made
ST_EVFULL = 8  #: driver mode: the call log (irqlog) is full; grow it and call again
ST_TOOMANY = 9  #: free mode: more interrupts than dev[EV_PER_FRAME] a video frame

# drv[] layout (driver mode)
(
    D_PLAY,
    D_IOMAP,
    D_CIA,
    D_PERIOD,
    D_BUDGET,
    D_NCALLS,
    D_REGULAR,
    D_START,
    D_PENDING,
    D_MINPERIOD,
    D_MAXCALLS,
) = range(11)
DRV_SIZE = 11

_OP = OP
_MODE = MODE
_CYC = CYCLES
_EXTRA = EXTRA


@njit
def execute(
    cpu, ram, rom, pmap, io, dev, log_clk, log_addr, log_val, irqlog, nmilog, free, stop_sp, until, drv
) -> int:
    """Run until a ``ST_*`` condition; returns it. State is read from and written to ``cpu``."""
    a = wide(cpu[A])
    x = wide(cpu[X])
    y = wide(cpu[Y])
    sp = wide(cpu[SP])
    pc = wide(cpu[PC])
    clk = wide(cpu[CLK])
    idle = wide(cpu[IDLE])
    idle_sp = wide(cpu[IDLE_SP])
    p = wide(cpu[P])
    fc, fz, fi, fd, fv, fn = p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1, (p >> 6) & 1, p >> 7
    logmax = dev[bus.LOGCAP] - 8
    status = ST_UNTIL
    at = -1
    at_clk = -1
    limit = until  # the cycle at which to stop; in driver mode the running call's budget
    pending = 0  # driver mode: the last call returned, the next is to be started
    if free == 2:
        pending = drv[D_PENDING]
        limit = drv[D_START] + drv[D_BUDGET]
    while True:
        if pending:
            sp = stop_sp
            period = drv[D_PERIOD]
            if drv[D_CIA]:
                new = dev[bus.CIA_BASE + bus.T_LATCH] + 1
                if new != period:
                    drv[D_REGULAR] = 0
                    period = new
                    drv[D_PERIOD] = new
            t = drv[D_START] + period
            if clk > t:
                drv[D_REGULAR] = 0
                t = clk
            if t >= until:
                status = ST_UNTIL
                break
            n = drv[D_NCALLS]
            if period < drv[D_MINPERIOD] or n >= drv[D_MAXCALLS]:
                status = ST_TOOFAST
                break
            if n >= dev[bus.EVCAP]:
                status = ST_EVFULL
                break
            irqlog[n] = t
            drv[D_NCALLS] = n + 1
            drv[D_START] = t
            limit = t + drv[D_BUDGET]
            clk = t
            dev[bus.PORT_DATA] = drv[D_IOMAP]
            ram[1] = drv[D_IOMAP]
            bus.set_banks(pmap, dev)
            ram[0x100 | sp] = 0xFF  # the return address $FFFF: the final RTS lifts SP to stop_sp
            ram[0x100 | ((sp - 1) & 0xFF)] = 0xFE
            sp = (sp - 2) & 0xFF
            pc = drv[D_PLAY]
            a = 0
            fi = 1
            at = -1
            pending = 0
        if clk >= limit:
            status = ST_BUDGET if free == 2 else ST_UNTIL
            break
        if dev[bus.NLOG] > logmax:
            status = ST_LOGFULL
            break
        if idle:
            nxt = dev[bus.NEXT_EV]
            clk = until if nxt > until else (nxt if nxt > clk else clk)
            if clk >= dev[bus.NEXT_EV]:
                bus.update(dev, clk)
        else:
            prev_at = at  # the instruction before this one, for the raster-poll skip
            prev_clk = at_clk
            at = pc
            at_clk = clk
            op = rd(pc, clk, ram, rom, pmap, io, dev)
            o = wide(_OP[op])
            m = wide(_MODE[op])
            cyc = wide(_CYC[op])
            pc = (pc + 1) & 0xFFFF
            ea = 0
            base = 0
            cross = 0
            if m == ops.M_IMPL or m == ops.M_ACC:
                # The second cycle reads the next byte and throws it away; from I/O that read
                # has effects: an RTI stored at $DC0C acknowledges CIA 1 by reading $DC0D.
                if pmap[pc >> 8] == bus.P_IO:
                    rd(pc, clk + 1, ram, rom, pmap, io, dev)
            elif m == ops.M_IMM:
                ea = pc
                pc = (pc + 1) & 0xFFFF
            elif m == ops.M_ZP:
                ea = rd(pc, clk, ram, rom, pmap, io, dev)
                pc = (pc + 1) & 0xFFFF
            elif m == ops.M_ABS:
                ea = rd(pc, clk, ram, rom, pmap, io, dev) | (
                    rd((pc + 1) & 0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
                pc = (pc + 2) & 0xFFFF
            elif m == ops.M_ZPX or m == ops.M_ZPY:
                ea = (rd(pc, clk, ram, rom, pmap, io, dev) + (x if m == ops.M_ZPX else y)) & 0xFF
                pc = (pc + 1) & 0xFFFF
            elif m == ops.M_ABSX or m == ops.M_ABSY:
                base = rd(pc, clk, ram, rom, pmap, io, dev) | (
                    rd((pc + 1) & 0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
                ea = (base + (x if m == ops.M_ABSX else y)) & 0xFFFF
                cross = 1 if (base ^ ea) & 0xFF00 else 0
                pc = (pc + 2) & 0xFFFF
            elif m == ops.M_INDY:
                z = rd(pc, clk, ram, rom, pmap, io, dev)
                base = rd(z, clk, ram, rom, pmap, io, dev) | (
                    rd((z + 1) & 0xFF, clk, ram, rom, pmap, io, dev) << 8
                )
                ea = (base + y) & 0xFFFF
                cross = 1 if (base ^ ea) & 0xFF00 else 0
                pc = (pc + 1) & 0xFFFF
            elif m == ops.M_INDX:
                z = (rd(pc, clk, ram, rom, pmap, io, dev) + x) & 0xFF
                ea = rd(z, clk, ram, rom, pmap, io, dev) | (
                    rd((z + 1) & 0xFF, clk, ram, rom, pmap, io, dev) << 8
                )
                pc = (pc + 1) & 0xFFFF
            elif m == ops.M_IND:
                ptr = rd(pc, clk, ram, rom, pmap, io, dev) | (
                    rd((pc + 1) & 0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
                ea = rd(ptr, clk, ram, rom, pmap, io, dev) | (
                    rd((ptr & 0xFF00) | ((ptr + 1) & 0xFF), clk, ram, rom, pmap, io, dev) << 8
                )
                pc = (pc + 2) & 0xFFFF
            elif m == ops.M_REL:
                ea = rd(pc, clk, ram, rom, pmap, io, dev)
                pc = (pc + 1) & 0xFFFF
            if _EXTRA[op] and cross and m != ops.M_REL:
                cyc += 1
            if clk + cyc > dev[bus.BL_NEXT]:
                clk = badline(clk, cyc, io, dev, ops.WRITE_FROM[op], ops.WRITE_COUNT[op])
            t = clk + cyc - 1  # the cycle of the data access
            v = 0
            if ops.READS[o]:
                v = rd(ea, t, ram, rom, pmap, io, dev)
            elif ops.RMW[o]:
                if m == ops.M_ACC:
                    v = a
                else:
                    v = rd(ea, t, ram, rom, pmap, io, dev)
                    if dev[bus.IO_ON] and 0xD000 <= ea < 0xE000:
                        wr(ea, v, t - 1, ram, pmap, io, dev, log_clk, log_addr, log_val)
            r = 0
            # -- the operation ------------------------------------------------------------
            if o == ops.LDA or o == ops.LAX:
                a = v
                if o == ops.LAX:
                    x = v
                fz = 1 if v == 0 else 0
                fn = v >> 7
            elif o == ops.STA or o == ops.STX or o == ops.STY or o == ops.SAX:
                w = a if o == ops.STA else (x if o == ops.STX else (y if o == ops.STY else a & x))
                wr(ea, w, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
            elif o == ops.LDX or o == ops.LDY:
                if o == ops.LDX:
                    x = v
                else:
                    y = v
                fz = 1 if v == 0 else 0
                fn = v >> 7
            elif m == ops.M_REL:  # branches
                if o == ops.BNE:
                    take = fz == 0
                elif o == ops.BEQ:
                    take = fz == 1
                elif o == ops.BCC:
                    take = fc == 0
                elif o == ops.BCS:
                    take = fc == 1
                elif o == ops.BPL:
                    take = fn == 0
                elif o == ops.BMI:
                    take = fn == 1
                elif o == ops.BVC:
                    take = fv == 0
                else:
                    take = fv == 1
                if take:
                    dest = (pc + (ea - 256 if ea > 127 else ea)) & 0xFFFF
                    cyc += 1 + (1 if (dest ^ pc) & 0xFF00 else 0)
                    if clk + cyc > dev[bus.BL_NEXT]:  # the taken branch's own cycles
                        clk = badline(clk, cyc, io, dev, 0, 0)
                    if dest == at:  # a branch to itself: nothing changes until an interrupt
                        if free != 1:
                            status = ST_HANG
                            break
                        nxt = dev[bus.NEXT_EV]
                        if nxt > until:
                            nxt = until
                        if nxt > clk + cyc:
                            clk += ((nxt - clk) // cyc) * cyc - cyc
                    elif dest == prev_at and dest + 3 == at and prev_clk == clk - 4:
                        clk += raster_poll_skip(dest, clk, cyc, limit, ram, pmap, dev)
                    pc = dest
            elif o == ops.ADC or o == ops.SBC or o == ops.RRA or o == ops.ISC:
                if o == ops.RRA:
                    r = (v >> 1) | (fc << 7)
                    fc = v & 1
                    wr(ea, r, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                    v = r
                elif o == ops.ISC:
                    v = (v + 1) & 0xFF
                    wr(ea, v, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                if o == ops.ADC or o == ops.RRA:
                    a, fc, fz, fn, fv = ops.adc(a, v, fc, fd)
                else:
                    a, fc, fz, fn, fv = ops.sbc(a, v, fc, fd)
            elif o == ops.AND or o == ops.ORA or o == ops.EOR or o == ops.ANC:
                if o == ops.ORA:
                    a |= v
                elif o == ops.EOR:
                    a ^= v
                else:
                    a &= v
                fz = 1 if a == 0 else 0
                fn = a >> 7
                if o == ops.ANC:
                    fc = fn
            elif o == ops.CMP or o == ops.CPX or o == ops.CPY or o == ops.DCP:
                reg = a
                if o == ops.CPX:
                    reg = x
                elif o == ops.CPY:
                    reg = y
                elif o == ops.DCP:
                    v = (v - 1) & 0xFF
                    wr(ea, v, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                d = reg - v
                fc = 1 if d >= 0 else 0
                fz = 1 if d == 0 else 0
                fn = (d >> 7) & 1
            elif ops.RMW[o]:
                if o == ops.ASL or o == ops.SLO:
                    fc = v >> 7
                    r = (v << 1) & 0xFF
                elif o == ops.LSR or o == ops.SRE:
                    fc = v & 1
                    r = v >> 1
                elif o == ops.ROL or o == ops.RLA:
                    r = ((v << 1) | fc) & 0xFF
                    fc = v >> 7
                elif o == ops.ROR:
                    r = (v >> 1) | (fc << 7)
                    fc = v & 1
                elif o == ops.INC:
                    r = (v + 1) & 0xFF
                else:  # DEC
                    r = (v - 1) & 0xFF
                if m == ops.M_ACC:
                    a = r
                else:
                    wr(ea, r, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                if o == ops.SLO:
                    a |= r
                    r = a
                elif o == ops.RLA:
                    a &= r
                    r = a
                elif o == ops.SRE:
                    a ^= r
                    r = a
                fz = 1 if r == 0 else 0
                fn = r >> 7
            elif o == ops.JMP:
                if ea == at and m == ops.M_ABS:  # JMP *: wait for the next device event
                    if free != 1:
                        status = ST_HANG
                        break
                    nxt = dev[bus.NEXT_EV]
                    if nxt > until:
                        nxt = until
                    if nxt > clk + 3:
                        clk += ((nxt - clk) // 3) * 3 - 3
                pc = ea
            elif o == ops.JSR:
                ret = (pc - 1) & 0xFFFF
                ram[0x100 | sp] = ret >> 8
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = ret & 0xFF
                sp = (sp - 1) & 0xFF
                pc = ea
            elif o == ops.RTS:
                sp = (sp + 1) & 0xFF
                lo = wide(ram[0x100 | sp])
                sp = (sp + 1) & 0xFF
                pc = ((wide(ram[0x100 | sp]) << 8) | lo) + 1 & 0xFFFF
                if sp >= stop_sp and not idle:
                    clk += cyc
                    if free == 2:
                        pending = 1
                        continue
                    status = ST_RETURNED
                    break
            elif o == ops.RTI:
                sp = (sp + 1) & 0xFF
                p = wide(ram[0x100 | sp])
                fc, fz, fi, fd, fv, fn = p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1, (p >> 6) & 1, p >> 7
                sp = (sp + 1) & 0xFF
                lo = wide(ram[0x100 | sp])
                sp = (sp + 1) & 0xFF
                pc = (wide(ram[0x100 | sp]) << 8) | lo
                if idle_sp >= 0 and sp >= idle_sp:
                    idle = 1
                    idle_sp = -1
            elif o == ops.BIT:
                fz = 1 if (a & v) == 0 else 0
                fn = v >> 7
                fv = (v >> 6) & 1
            elif o == ops.INX or o == ops.DEX or o == ops.INY or o == ops.DEY:
                if o == ops.INX:
                    x = r = (x + 1) & 0xFF
                elif o == ops.DEX:
                    x = r = (x - 1) & 0xFF
                elif o == ops.INY:
                    y = r = (y + 1) & 0xFF
                else:
                    y = r = (y - 1) & 0xFF
                fz = 1 if r == 0 else 0
                fn = r >> 7
            elif o == ops.TAX or o == ops.TAY or o == ops.TXA or o == ops.TYA or o == ops.TSX:
                if o == ops.TAX:
                    x = r = a
                elif o == ops.TAY:
                    y = r = a
                elif o == ops.TXA:
                    a = r = x
                elif o == ops.TYA:
                    a = r = y
                else:
                    x = r = sp
                fz = 1 if r == 0 else 0
                fn = r >> 7
            elif o == ops.TXS:
                sp = x
            elif o == ops.PHA or o == ops.PHP:
                ram[0x100 | sp] = (
                    a if o == ops.PHA else (fc | fz << 1 | fi << 2 | fd << 3 | 0x30 | fv << 6 | fn << 7)
                )
                sp = (sp - 1) & 0xFF
            elif o == ops.PLA:
                sp = (sp + 1) & 0xFF
                a = wide(ram[0x100 | sp])
                fz = 1 if a == 0 else 0
                fn = a >> 7
            elif o == ops.PLP:
                sp = (sp + 1) & 0xFF
                p = wide(ram[0x100 | sp])
                fc, fz, fi, fd, fv, fn = p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1, (p >> 6) & 1, p >> 7
            elif o == ops.CLC or o == ops.SEC:
                fc = 1 if o == ops.SEC else 0
            elif o == ops.CLI or o == ops.SEI:
                fi = 1 if o == ops.SEI else 0
            elif o == ops.CLD or o == ops.SED:
                fd = 1 if o == ops.SED else 0
            elif o == ops.CLV:
                fv = 0
            elif o == ops.NOP:
                pass
            elif o == ops.BRK:
                ret = (pc + 1) & 0xFFFF
                ram[0x100 | sp] = ret >> 8
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = ret & 0xFF
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = fc | fz << 1 | fi << 2 | fd << 3 | 0x30 | fv << 6 | fn << 7
                sp = (sp - 1) & 0xFF
                fi = 1
                pc = rd(0xFFFE, clk, ram, rom, pmap, io, dev) | (
                    rd(0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
            elif o == ops.JAM:
                cpu[JAM_PC] = at
                pc = at
                status = ST_JAM
                break
            elif o == ops.ALR:
                a &= v
                fc = a & 1
                a >>= 1
                fz = 1 if a == 0 else 0
                fn = 0
            elif o == ops.ARR:
                a = ((a & v) >> 1) | (fc << 7)
                fz = 1 if a == 0 else 0
                fn = a >> 7
                fc = (a >> 6) & 1
                fv = ((a >> 6) ^ (a >> 5)) & 1
            elif o == ops.SBX:
                d = (a & x) - v
                fc = 1 if d >= 0 else 0
                x = d & 0xFF
                fz = 1 if x == 0 else 0
                fn = x >> 7
            elif o == ops.ANE or o == ops.LXA:
                a = (a | 0xEE) & v & (x if o == ops.ANE else 0xFF)
                if o == ops.LXA:
                    x = a
                fz = 1 if a == 0 else 0
                fn = a >> 7
            elif o == ops.LAS:
                a = x = sp = v & sp
                fz = 1 if a == 0 else 0
                fn = a >> 7
            elif o == ops.SHA or o == ops.SHX or o == ops.SHY or o == ops.TAS:
                hi = ((base >> 8) + 1) & 0xFF
                if o == ops.TAS:
                    sp = a & x
                    w = sp & hi
                elif o == ops.SHA:
                    w = a & x & hi
                elif o == ops.SHX:
                    w = x & hi
                else:
                    w = y & hi
                wr(ea, w, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
            clk += cyc
        if clk >= dev[bus.NEXT_EV]:
            bus.update(dev, clk)
        if free == 1:
            nmi = dev[bus.NMI_EDGE]
            if nmi or (dev[bus.IRQ_LINE] and fi == 0):
                if dev[bus.EV_PER_FRAME]:
                    span = clk if clk > dev[bus.ONE_SEC] else dev[bus.ONE_SEC]
                    if dev[bus.NIRQ] + dev[bus.NNMI] > dev[bus.EV_PER_FRAME] * span // dev[bus.FRAME]:
                        status = ST_TOOMANY
                        break
                vec = 0xFFFA if nmi else 0xFFFE
                if nmi:
                    dev[bus.NMI_EDGE] = 0
                    k = dev[bus.NNMI]
                    if k < dev[bus.EVCAP]:
                        nmilog[k] = clk
                    dev[bus.NNMI] = k + 1
                else:
                    k = dev[bus.NIRQ]
                    if k < dev[bus.EVCAP]:
                        irqlog[k] = clk
                    dev[bus.NIRQ] = k + 1
                if idle:
                    idle = 0
                    idle_sp = sp
                ram[0x100 | sp] = pc >> 8
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = pc & 0xFF
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = fc | fz << 1 | fi << 2 | fd << 3 | 0x20 | fv << 6 | fn << 7
                sp = (sp - 1) & 0xFF
                fi = 1
                if clk + 7 > dev[bus.BL_NEXT]:
                    clk = badline(clk, 7, io, dev, 2, 3)
                pc = rd(vec, clk, ram, rom, pmap, io, dev) | (rd(vec + 1, clk, ram, rom, pmap, io, dev) << 8)
                clk += 7
                at = -1
    cpu[A] = a
    cpu[X] = x
    cpu[Y] = y
    cpu[SP] = sp
    cpu[PC] = pc
    cpu[CLK] = clk
    cpu[IDLE] = idle
    cpu[IDLE_SP] = idle_sp
    cpu[P] = fc | fz << 1 | fi << 2 | fd << 3 | 0x20 | fv << 6 | fn << 7
    if free == 2:
        drv[D_PENDING] = pending
    return status
