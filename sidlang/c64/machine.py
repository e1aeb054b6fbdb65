"""A C64 without Commodore's ROMs: RAM, the KERNAL entry points tunes use, VIC-II, CIAs, SIDs.

:class:`C64` owns the state arrays the compiled core works on and turns its stop codes into
Python: a finished call, more room for the write log, or a :class:`MachineError` naming what
went wrong (a JAM, a hang, ROM code that is not there).

The KERNAL area holds :mod:`sidlang.c64.kernal`'s routines at the real addresses (interrupt
entry and exits, the jump table's harmless routines, keyboard scan, clock, screen and CIA
initialisation); every other ROM byte, BASIC's included, is a JAM opcode, so a tune that needs
real BASIC or KERNAL I/O code stops with an error saying so instead of running garbage.
"""

from __future__ import annotations

import numpy as np

from sidlang.c64 import bus, cpu, kernal, voice3
from sidlang.errors import FormatError
from sidlang.pitch import NTSC_HZ, PAL_HZ

BRK_TRAP = kernal.BRK_TRAP
JAM = kernal.JAM

PAL_VIDEO = (312, 63)
NTSC_VIDEO = (263, 65)
CIA_DEFAULT = {False: 0x4025, True: 0x4295}  #: KERNAL's 60 Hz timer value, PAL and NTSC

#: Bounds on what one run may record, so that memory and time follow the tune's length and
#: nothing else: SID writes per emulated second (averaged from the start, after its first
#: second; a sample player writes 10-40 thousand) and in all (about 600 MB at the peak of a
#: conversion), and interrupts per video frame (a 16 kHz sample player takes 330; 512 leaves
#: a handler fewer than 40 cycles).
MAX_WRITE_RATE = 100_000
MAX_WRITES = 1 << 23
MAX_INTERRUPTS_PER_FRAME = 512


class MachineError(FormatError):
    """The tune did something this emulation cannot or will not continue from."""


_NO_DRIVER = np.zeros(cpu.DRV_SIZE, dtype=np.int64)


def _grown(old: np.ndarray, n: int) -> np.ndarray:
    new = np.zeros(n, dtype=old.dtype)
    new[: len(old)] = old
    return new


def _rom() -> np.ndarray:
    rom = np.full(0x10000, JAM, dtype=np.uint8)
    rom[:0xA000] = 0
    rom[0xC000:0xD000] = 0
    rom[0xD000:0xE000] = 0  # character ROM is not shipped; reads give zeros
    rom[0xE000:] = kernal.kernal_image()
    return rom


_ROM = _rom()


def _power_on_ram() -> np.ndarray:
    """RAM as libsidplayfp (after VICE) powers it up: in each 8 bytes 00 00 ff ff ff ff 00 00,
    inverted in every other 16 KiB. Tunes that read memory they never wrote see this."""
    block = np.tile(np.array([0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], dtype=np.uint8), 0x4000 // 8)
    return np.concatenate([block, ~block, block, ~block])


_POWER_ON_RAM = _power_on_ram()


class C64:
    """Machine state plus the calls the PSID/RSID driver needs.

    ``ntsc`` chooses the VIC-II timing (263 lines of 65 cycles instead of 312 of 63) and the
    KERNAL's CIA timer default; the clock itself only matters to whoever turns cycles into time.
    """

    def __init__(
        self,
        ntsc: bool = False,
        log_capacity: int = 1 << 16,
        event_capacity: int = 1 << 16,
        booted: bool = False,
        max_writes: int = MAX_WRITES,
        badlines: bool = True,
    ):
        """``booted``: RAM holds the KERNAL's variables as after a reset and BASIC's ``RUN``
        (RSIDs, which expect a real C64); otherwise only the vectors and the PAL/NTSC flag
        are set in otherwise zeroed pages 0-3, as libsidplayfp's PSID driver leaves them."""
        self.ntsc = ntsc
        self.clock_hz = NTSC_HZ if ntsc else PAL_HZ
        self.max_writes = max_writes
        self.regs = np.zeros(cpu.CPU_SIZE, dtype=np.int64)
        self.ram = _POWER_ON_RAM.copy()
        self.ram[:0x0400] = 0  # pages 0-3: cleared, then the KERNAL's variables below
        self.rom = _ROM.copy()
        self.pmap = np.zeros(256, dtype=np.uint8)
        self.io = np.zeros(0x1000, dtype=np.uint8)
        self.dev = np.zeros(bus.DEV_SIZE, dtype=np.int64)
        self.log_clk = np.zeros(log_capacity, dtype=np.int64)
        self.log_addr = np.zeros(log_capacity, dtype=np.uint16)
        self.log_val = np.zeros(log_capacity, dtype=np.uint8)
        self.irqlog = np.zeros(event_capacity, dtype=np.int64)
        self.nmilog = np.zeros(event_capacity, dtype=np.int64)
        d = self.dev
        lines, cpl = NTSC_VIDEO if ntsc else PAL_VIDEO
        d[bus.LINES], d[bus.CPL], d[bus.FRAME] = lines, cpl, lines * cpl
        d[bus.LOGCAP] = log_capacity
        d[bus.EV_PER_FRAME], d[bus.ONE_SEC] = MAX_INTERRUPTS_PER_FRAME, self.clock_hz
        d[bus.EVCAP] = event_capacity
        voice3.reset(d)
        d[bus.PORT_DDR], d[bus.PORT_DATA] = 0x2F, 0x37
        self.pmap[0] = bus.P_ZERO
        bus.set_banks(self.pmap, d)
        for k in range(2):
            c = bus.CIA_BASE + k * bus.CIA_SIZE
            for j in range(2):
                d[c + 6 * j + bus.T_NEXT] = bus.INF
                d[c + 6 * j + bus.T_LATCH] = d[c + 6 * j + bus.T_C0] = 0xFFFF
        # The KERNAL leaves CIA 1 timer A running at 60 Hz with its interrupt enabled.
        c1 = bus.CIA_BASE
        d[c1 + bus.T_LATCH] = d[c1 + bus.T_C0] = CIA_DEFAULT[ntsc]
        d[c1 + bus.C_ICR_MASK] = 1
        d[c1 + bus.C_CRA] = 0x11
        bus.timer_start(d, c1, 0)
        # The VIC-II as the KERNAL (RSIDs) or libsidplayfp's PSID driver leaves it: display
        # on, raster compare at line 311 or 0, its interrupt off.
        self.io[0x11], self.io[0x12] = (0x9B, 0x37) if booted else (0x1B, 0x00)
        d[bus.RASTER_CMP] = ((int(self.io[0x11]) & 0x80) << 1) | int(self.io[0x12])
        d[bus.RASTER_NEXT] = bus.next_raster(d, -1)
        d[bus.BL_ON] = int(badlines)
        d[bus.BL_NEXT] = bus.next_badline(d, self.io, 0)
        bus.update(d, 0)
        if booted:
            kernal.ram_after_boot(self.ram, pal=not ntsc)
        else:
            for k, vec in enumerate(kernal.VECTORS):
                self.ram[0x0314 + 2 * k], self.ram[0x0315 + 2 * k] = vec & 0xFF, vec >> 8
            self.ram[0x02A6] = 0 if ntsc else 1
        self.regs[cpu.SP] = 0xFF
        self.regs[cpu.P] = 0x24  # interrupts disabled, as after a reset
        self.regs[cpu.IDLE_SP] = -1
        self._taken = 0  # writes already handed out by take_writes()

    # -- memory -------------------------------------------------------------------------
    def load(self, addr: int, data: bytes) -> None:
        end = addr + len(data)
        if end > 0x10000:
            raise MachineError(f"data from ${addr:04x} runs past $ffff ({len(data)} bytes)")
        self.ram[addr:end] = np.frombuffer(data, dtype=np.uint8)

    def set_port(self, value: int) -> None:
        """Set the processor port ($01): which of BASIC, KERNAL and I/O are banked in."""
        self.dev[bus.PORT_DATA] = value
        self.ram[1] = value
        bus.set_banks(self.pmap, self.dev)

    def sid_write(self, addr: int, value: int) -> None:
        """A write to a SID register at the current cycle, as if the CPU had made it."""
        bus.io_write(addr, value, self.clock, self.io, self.dev, self.log_clk, self.log_addr, self.log_val)

    def peek(self, addr: int) -> int:
        return int(self.ram[addr])

    @property
    def clock(self) -> int:
        return int(self.regs[cpu.CLK])

    @clock.setter
    def clock(self, value: int) -> None:
        """Move time forward to ``value`` (the CPU was not running in between)."""
        self.regs[cpu.CLK] = max(value, self.clock)

    def cia1_period(self) -> int:
        """Cycles between CIA 1 timer-A underflows as now programmed: latch + 1."""
        return int(self.dev[bus.CIA_BASE + bus.T_LATCH]) + 1

    # -- running ------------------------------------------------------------------------
    def _execute(self, free: int, stop_sp: int, until: int, drv: np.ndarray | None = None) -> int:
        drv = _NO_DRIVER if drv is None else drv
        while True:
            st = cpu.execute(
                self.regs,
                self.ram,
                self.rom,
                self.pmap,
                self.io,
                self.dev,
                self.log_clk,
                self.log_addr,
                self.log_val,
                self.irqlog,
                self.nmilog,
                free,
                stop_sp,
                until,
                drv,
            )
            if st == cpu.ST_EVFULL:
                self.irqlog = _grown(self.irqlog, 2 * len(self.irqlog))
                self.dev[bus.EVCAP] = len(self.irqlog)
            elif st == cpu.ST_LOGFULL:
                self._check_writes()
                n = min(len(self.log_clk) * 2, self.max_writes + 8)
                for name in ("log_clk", "log_addr", "log_val"):
                    setattr(self, name, _grown(getattr(self, name), n))
                self.dev[bus.LOGCAP] = n
            else:
                return st

    def _check_writes(self) -> None:
        """Refuse a tune that writes the SIDs faster, or more often, than a run may record."""
        n = int(self.dev[bus.NLOG])
        secs = self.clock / self.clock_hz
        if n > MAX_WRITE_RATE * max(secs, 1.0):
            raise MachineError(
                f"the tune writes the SID {n / max(secs, 1e-9):,.0f} times a second ({n:,} writes in "
                f"its first {secs:.2f} s); sidlang records at most {MAX_WRITE_RATE:,} a second"
            )
        if n >= self.max_writes:
            raise MachineError(
                f"the tune writes the SID {n:,} times in its first {secs:.1f} s, as many as sidlang "
                f"records in one run; convert less of it (--seconds {max(int(secs) - 1, 1)})"
            )

    def _push_return(self) -> int:
        """Push a return address so the routine's final RTS ends the call; returns the old SP."""
        sp = int(self.regs[cpu.SP])
        if sp < 8:
            raise MachineError(f"stack overflow (stack pointer ${sp:02x})")
        self.ram[0x100 | sp] = 0xFF
        self.ram[0x100 | (sp - 1)] = 0xFE
        self.regs[cpu.SP] = sp - 2
        return sp

    def call(self, addr: int, a: int, budget: int, what: str) -> int:
        """Run the subroutine at ``addr`` with A = ``a`` to its RTS; the cycles it took.

        Interrupts are not taken (a player's play routine runs inside its interrupt). More
        than ``budget`` cycles is an error, as are a JAM, a loop to itself and missing ROM code.
        """
        start = self.clock
        stop_sp = self._push_return()
        self.regs[cpu.PC], self.regs[cpu.A] = addr, a
        self.regs[cpu.P] |= 0x04
        st = self._execute(0, stop_sp, start + budget)
        if st == cpu.ST_UNTIL:
            raise MachineError(
                f"{what} at ${addr:04x} did not return within {budget} cycles "
                f"(stuck near ${int(self.regs[cpu.PC]):04x})"
            )
        self._check(st, what)
        self.regs[cpu.SP] = stop_sp
        return self.clock - start

    def play_calls(
        self,
        addr: int,
        iomap: int,
        cia: bool,
        period: int,
        first: int,
        until: int,
        budget: int,
        min_period: int,
        max_calls: int,
    ) -> tuple[np.ndarray, int, bool]:
        """Call the play routine at ``addr`` on its tick grid from cycle ``first`` until ``until``.

        The calls run in the compiled core one after another (``cpu`` driver mode): every
        ``period`` cycles, or the CIA 1 period as the tune reprograms it when ``cia``, with
        ``$01`` = ``iomap``. Returns the call start cycles, the last period, and whether the
        calls kept to one regular grid. A call over ``budget`` cycles, a tick under
        ``min_period`` and more than ``max_calls`` calls are errors.
        """
        sp = int(self.regs[cpu.SP])
        if sp < 8:
            raise MachineError(f"stack overflow (stack pointer ${sp:02x})")
        drv = np.zeros(cpu.DRV_SIZE, dtype=np.int64)
        drv[cpu.D_PLAY], drv[cpu.D_IOMAP], drv[cpu.D_CIA] = addr, iomap, int(cia)
        drv[cpu.D_PERIOD], drv[cpu.D_BUDGET], drv[cpu.D_REGULAR] = period, budget, 1
        drv[cpu.D_START], drv[cpu.D_PENDING] = first - period, 1
        drv[cpu.D_MINPERIOD], drv[cpu.D_MAXCALLS] = min_period, max_calls
        self.regs[cpu.P] |= 0x04
        st = self._execute(2, sp, until, drv)
        n = int(drv[cpu.D_NCALLS])
        if st == cpu.ST_BUDGET:
            raise MachineError(
                f"play at ${addr:04x} did not return within {budget} cycles "
                f"(stuck near ${int(self.regs[cpu.PC]):04x})"
            )
        if st == cpu.ST_TOOFAST:
            p = int(drv[cpu.D_PERIOD])
            if p < min_period:
                raise MachineError(
                    f"CIA 1's timer calls play every {p} cycles ({self.clock_hz / p:,.0f} times a "
                    f"second); sidlang calls it at most every {min_period} cycles"
                )
            raise MachineError(
                f"play is called {n:,} times in the first {self.clock / self.clock_hz:.1f} s, the most "
                f"frames a tune may have; convert less of it"
            )
        self._check(st, "play")
        self.regs[cpu.SP] = sp
        return self.irqlog[:n].copy(), int(drv[cpu.D_PERIOD]), bool(drv[cpu.D_REGULAR])

    def run(self, addr: int, a: int, until: int) -> None:
        """Run a main program from ``addr`` as a C64 would, interrupts and all, until ``until``.

        If it returns (a PSID init that installed an interrupt handler), interrupts are
        enabled and the CPU waits for them, the way a player's driver loop does.
        """
        stop_sp = self._push_return()
        self.regs[cpu.PC], self.regs[cpu.A] = addr, a
        st = self._execute(1, stop_sp, until)
        if st == cpu.ST_RETURNED:
            self.regs[cpu.SP] = stop_sp
            self.regs[cpu.IDLE] = 1
            self.regs[cpu.IDLE_SP] = -1
            self.regs[cpu.P] &= ~0x04
            st = self._execute(1, stop_sp, until)
        self._check(st, "the tune")

    def _check(self, st: int, what: str) -> None:
        if st in (cpu.ST_RETURNED, cpu.ST_UNTIL):
            return
        pc = int(self.regs[cpu.PC])
        if st == cpu.ST_HANG:
            raise MachineError(f"{what} loops forever at ${pc:04x} waiting for an interrupt it cannot get")
        if st == cpu.ST_TOOMANY:
            n = int(self.dev[bus.NIRQ] + self.dev[bus.NNMI])
            secs = self.clock / self.clock_hz
            per = n * int(self.dev[bus.FRAME]) / max(self.clock, 1)
            raise MachineError(
                f"{what} takes {n:,} interrupts in its first {secs:.2f} s ({per:.0f} a video frame); "
                f"sidlang takes at most {MAX_INTERRUPTS_PER_FRAME} a frame"
            )
        if st == cpu.ST_JAM:
            at = int(self.regs[cpu.JAM_PC])
            if self.pmap[at >> 8] == bus.P_ROM:
                if at == BRK_TRAP:
                    sp = int(self.regs[cpu.SP])
                    ret = (
                        int(self.ram[0x100 | ((sp + 5) & 0xFF)])
                        | int(self.ram[0x100 | ((sp + 6) & 0xFF)]) << 8
                    )
                    raise MachineError(
                        f"{what} executed BRK at ${(ret - 2) & 0xFFFF:04x} (a zero byte: runaway code?)"
                    )
                rom = "BASIC" if at < 0xC000 else "KERNAL"
                name = kernal.UNEMULATED.get(at)
                routine = f"the KERNAL's {name} (${at:04x})" if name else f"{rom} ROM code at ${at:04x}"
                raise MachineError(
                    f"{what} calls {routine}, which sidlang does not emulate "
                    f"(no BASIC, disk, tape or serial bus; see docs/emulation.md)"
                )
            raise MachineError(f"{what} jammed the CPU: JAM opcode ${self.peek(at):02x} at ${at:04x}")
        raise MachineError(f"{what}: emulation stopped with code {st}")

    # -- results ------------------------------------------------------------------------
    def writes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every logged SID-range write so far: (cycle, address, value)."""
        n = int(self.dev[bus.NLOG])
        return self.log_clk[:n].copy(), self.log_addr[:n].copy(), self.log_val[:n].copy()

    def interrupts(self) -> tuple[np.ndarray, int, np.ndarray, int]:
        """IRQ times, IRQ count, NMI times, NMI count (times stop at the log's capacity)."""
        ni, nn = int(self.dev[bus.NIRQ]), int(self.dev[bus.NNMI])
        cap = len(self.irqlog)
        return self.irqlog[: min(ni, cap)].copy(), ni, self.nmilog[: min(nn, cap)].copy(), nn
