"""PSID/RSID ``.sid`` files: reading by 6502 emulation, writing a player.

The header, both ways, is :mod:`sidlang.formats.psidheader` (its names are imported here too).

Reading runs the program (:mod:`sidlang.c64.player`) and returns its SID writes with exact
cycles. Header-only facts (format, version, addresses, flags) are kept in
``tune.meta["sid"]`` for ``sidlang info``. Writing builds a PSID around a replay routine:
see :mod:`sidlang.formats.sidwrite`.
"""

from __future__ import annotations

import numpy as np

from sidlang.c64.player import Program, play
from sidlang.errors import FormatError, UsageError
from sidlang.frames import default_gap
from sidlang.pitch import CLOCK_NAMES, NTSC_HZ, PAL_HZ
from sidlang.registers import SID_BASE, SID_STRIDE
from sidlang.tune import Header, Tune, make_writes

from . import Format
from .psidheader import V1_SIZE, V2_SIZE, SidFile, build, parse, valid_sid_byte

DEFAULT_SECONDS = 180.0
MAX_SECONDS = 3600.0
BUDGET_SECONDS = 2.0  #: emulated time allowed to one play call
INIT_BUDGET_SECONDS = 10.0  #: and to init (some build tables; the KERNAL's RAMTAS alone takes 2 s)


def _model(bits: int) -> int:
    return 8580 if bits == 2 else 6581  # unknown and "both" play as 6581, like sidplayfp


def read_sid(
    data: bytes,
    file: str | None = None,
    *,
    subtune: int | None = None,
    seconds: float | None = None,
    clock: str | None = None,
) -> Tune:
    """Run a .sid's song in the 6502 emulation; its SID writes become a Tune."""
    s = parse(data, file)
    song = s.start_song if subtune is None else subtune
    if not 1 <= song <= s.songs:
        if subtune is not None:
            raise UsageError(f"--subtune must be 1–{s.songs} for this file, got {subtune}")
        song = 1  # a start song out of range means the first (libsidplayfp does the same)
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    if not 0 < seconds <= MAX_SECONDS:
        raise UsageError(f"--seconds must be more than 0 and at most {MAX_SECONDS:g}, got {seconds:g}")
    if clock is not None and clock not in CLOCK_NAMES:
        raise UsageError(f"--clock must be pal or ntsc, got {clock!r}")
    if s.basic:
        raise FormatError("this RSID is a C64 BASIC program; sidlang does not emulate BASIC", file=file)
    ntsc = clock == "ntsc" if clock else s.clock_bits == 2
    clock_hz = NTSC_HZ if ntsc else PAL_HZ
    sids = s.sid_addresses()
    cycles = int(round(seconds * clock_hz))
    prog = Program(s.load, s.data, s.init, s.play, s.rsid, s.song_is_cia(song) and not s.rsid, ntsc)
    run = play(prog, song - 1, cycles, int(BUDGET_SECONDS * clock_hz), int(INIT_BUDGET_SECONDS * clock_hz))
    chips, regs, dropped, mirrors = _chips(run.addrs, sids)
    keep = chips >= 0
    meta = {"sid": _meta(s, song, run), "frame_source": "header"}
    if dropped:
        meta["sid"]["dropped"] = f"{dropped} writes to $de00–$dfff, where the header names no SID"
    if mirrors:
        meta["sid"]["mirrors"] = (
            "writes to "
            + ", ".join(f"${a:04x}" for a in mirrors)
            + " (mirrors of $d400 on a C64; the header names no SID there)"
        )
    if s.version == 3 and valid_sid_byte(s.third_sid) and valid_sid_byte(s.second_sid):
        meta["sid"]["header fault"] = (
            f"a v3 header names a third SID (${sids[2]:04x}), which only v4 "
            "defines; used here, ignored by strict players"
        )
    frame, start, irq, timing = _grid(run, clock_hz)
    if irq is not None:
        meta["frame_source"] = "irq"
    writes = make_writes(run.cycles[keep], chips[keep], regs[keep], run.vals[keep])
    header = Header(
        title=s.name,
        author=s.author,
        released=s.released,
        clock_hz=clock_hz,
        frame_cycles=frame,
        start_cycle=start,
        models=tuple(_model(s.model_bits(i)) for i in range(len(sids))),
        sids=sids,
        subtune=song,
        songs=s.songs,
        start_song=s.start_song,
        speed=s.speed,
        frames=-(-(cycles - start) // frame),
        timing=timing,
        gap=default_gap(writes, start, frame),
    )
    return Tune(header, writes, irq=irq, meta=meta)


def _chips(addrs: np.ndarray, sids: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, int, list[int]]:
    """Chip index (or -1) and register of each logged address; count dropped, list mirrors."""
    slot = (addrs.astype(np.int64) - SID_BASE) // SID_STRIDE  # 32-byte slots from $D400; $DE00 is slot 80
    table = np.full(96, -1, dtype=np.int64)
    table[:32] = 0  # $D400-$D7FF: the first SID and its mirrors
    for i, a in enumerate(sids[1:], 1):
        table[(a - SID_BASE) // SID_STRIDE] = i
    chips = table[slot]
    dropped = int(np.count_nonzero(chips < 0))
    used = np.unique(slot[slot < 32])
    declared = {(a - SID_BASE) // SID_STRIDE for a in sids}
    mirrors = [SID_BASE + SID_STRIDE * int(k) for k in used if int(k) not in declared]
    return chips, (addrs & 0x1F).astype(np.uint8), dropped, mirrors


def _grid(run, clock_hz: int) -> tuple[int, int, np.ndarray | None, str]:
    """Frame length, start cycle, IRQ times to keep (or None) and the text timing mode."""
    video = 17095 if clock_hz == NTSC_HZ else 19656
    if run.mode != "interrupts":
        if run.regular:
            return run.period, 0, None, "grid"
        return run.period, 0, run.calls, "irq"
    # The tune's own interrupts: a player tick if they come at most 16 times a video frame;
    # faster ones play samples, and the video frame is the grid then.
    if run.period and run.period * 16 >= video and run.n_irq <= len(run.calls):
        first = int(run.calls[0])
        start = first - -(-first // run.period) * run.period
        return run.period, start, run.calls, "irq"
    return video, 0, None, "grid"


def _meta(s: SidFile, song: int, run) -> dict:
    rate = {"vbi": "vertical blank", "cia": "CIA 1 timer", "interrupts": "the tune's own interrupts"}
    info = {
        "format": f"{s.magic} v{s.version}",
        "load": f"${s.load:04x}–${s.load + len(s.data) - 1:04x} ({len(s.data)} bytes)",
        "init": f"${s.init:04x}",
        "play": f"${s.play:04x}" if s.play else "0 (init installs an interrupt handler)",
        "flags": f"${s.flags:04x}",
        "song speed": f"{rate[run.mode]}, {run.period} cycles per tick" if run.period else rate[run.mode],
    }
    if run.n_irq or run.n_nmi:
        info["interrupts taken"] = f"{run.n_irq} IRQ, {run.n_nmi} NMI"
    if s.start_page or s.page_length:
        info["free pages"] = f"${s.start_page:02x}, {s.page_length} pages"
    return info


def write_sid(tune: Tune, **options) -> bytes:
    from .sidwrite import encode_sid

    return encode_sid(tune, **options)


__all__ = ["FORMATS", "SidFile", "V1_SIZE", "V2_SIZE", "build", "parse", "read_sid", "write_sid"]

FORMATS = [
    Format(
        "sid",
        "PSID/RSID file: read by 6502 emulation, written as a PSID with a replay routine",
        (".sid",),
        read_sid,
        write_sid,
        binary=True,
        options={
            "subtune": "song to play (default: the file's start song)",
            "seconds": f"length to play (default {DEFAULT_SECONDS:g})",
            "clock": "pal or ntsc (default: from the header)",
        },
    ),
]
