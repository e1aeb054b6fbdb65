"""PSID/RSID ``.sid`` files: the header both ways, reading by 6502 emulation, writing a player.

Header layout (HVSC ``SID_file_format.txt``; libsidplayfp ``PSID.cpp``), big-endian:
``+00`` magic, ``+04`` version 1–4, ``+06`` data offset (0x76 v1, 0x7C v2+), ``+08`` load
address (0: the first two data bytes, little-endian), ``+0A`` init, ``+0C`` play, ``+0E`` songs,
``+10`` start song, ``+12`` speed bits, ``+16``/``+36``/``+56`` name, author, released (32
bytes, Windows-1252). v2+: ``+76`` flags, ``+78`` start page, ``+79`` page length, ``+7A``
second SID, ``+7B`` third SID (address ``$D000 | byte << 4``).

Reading runs the program (:mod:`sidlang.c64.player`) and returns its SID writes with exact
cycles. Header-only facts (format, version, addresses, flags) are kept in
``tune.meta["sid"]`` for ``sidlang info``. Writing builds a PSID around a replay routine:
see :mod:`sidlang.formats.sidwrite`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from sidlang.c64.player import Program, play
from sidlang.errors import FormatError, UsageError
from sidlang.frames import default_gap
from sidlang.pitch import CLOCK_NAMES, NTSC_HZ, PAL_HZ
from sidlang.tune import Header, Tune, make_writes

from . import Format

V1_SIZE, V2_SIZE = 0x76, 0x7C
DEFAULT_SECONDS = 180.0
MAX_SECONDS = 3600.0
BUDGET_SECONDS = 2.0  #: emulated time allowed to one play call
INIT_BUDGET_SECONDS = 10.0  #: and to init (some build tables; the KERNAL's RAMTAS alone takes 2 s)
_FIXED = struct.Struct(">4sHHHHHHHI32s32s32s")
_V2 = struct.Struct(">HBBBB")


@dataclass
class SidFile:
    """Every field of a PSID/RSID header plus the C64 data (without its load address)."""

    magic: str = "PSID"
    version: int = 2
    load: int = 0
    init: int = 0
    play: int = 0
    songs: int = 1
    start_song: int = 1
    speed: int = 0
    name: str = ""
    author: str = ""
    released: str = ""
    flags: int = 0
    start_page: int = 0
    page_length: int = 0
    second_sid: int = 0  #: raw header byte; address = $D000 | byte << 4
    third_sid: int = 0
    data: bytes = b""
    load_in_data: bool = True  #: the header's load field was 0 (address in the data)

    # -- flags ----------------------------------------------------------------------------
    @property
    def rsid(self) -> bool:
        return self.magic == "RSID"

    @property
    def basic(self) -> bool:
        """RSID flag bit 1: a C64 BASIC program (needs the BASIC interpreter)."""
        return self.rsid and bool(self.flags & 2)

    @property
    def clock_bits(self) -> int:
        return (self.flags >> 2) & 3

    def model_bits(self, chip: int) -> int:
        return (self.flags >> (4 + 2 * chip)) & 3 if chip < 3 else 0

    def sid_addresses(self) -> tuple[int, ...]:
        """$D400, then the second and third SID where the header names valid ones."""
        out = [0xD400]
        for byte in (self.second_sid, self.third_sid):
            if not _valid_sid_byte(byte):
                break
            out.append(0xD000 | byte << 4)
        return tuple(out)

    def song_is_cia(self, song: int) -> bool:
        return bool(self.speed >> min(song - 1, 31) & 1)


def _valid_sid_byte(b: int) -> bool:
    return b % 2 == 0 and (0x42 <= b <= 0x7F or 0xE0 <= b <= 0xFE)


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("cp1252", errors="replace")


def parse(data: bytes, file: str | None = None) -> SidFile:
    """Read and check a header; a clear :class:`FormatError` for truncated or malformed files."""
    def fail(msg: str) -> FormatError:
        return FormatError(msg, file=file)

    if len(data) < 4 or data[:4] not in (b"PSID", b"RSID"):
        raise fail(f"not a PSID/RSID file: it starts with {data[:4]!r}, expected b'PSID' or b'RSID'")
    if len(data) < V1_SIZE:
        raise fail(f"truncated header: {len(data)} bytes, a PSID header needs at least {V1_SIZE}")
    magic, version, offset, load, init, play_, songs, start, speed, name, author, released = \
        _FIXED.unpack_from(data)
    s = SidFile(magic.decode(), version, load, init, play_, songs, start, speed,
                _text(name), _text(author), _text(released))
    if not 1 <= version <= 4 or (s.rsid and version == 1):
        raise fail(f"{s.magic} version must be {'2' if s.rsid else '1'}–4, got {version}")
    want = V1_SIZE if version == 1 else V2_SIZE
    if offset != want:
        raise fail(f"data offset must be 0x{want:02x} for version {version}, got 0x{offset:02x}")
    if len(data) < offset:
        raise fail(f"truncated header: {len(data)} bytes, version {version} needs {offset}")
    if version >= 2:
        s.flags, s.start_page, s.page_length, s.second_sid, s.third_sid = _V2.unpack_from(data, V1_SIZE)
    body = data[offset:]
    s.load_in_data = load == 0
    if load == 0:
        if len(body) < 2:
            raise fail("truncated: the load address (first two data bytes) is missing")
        s.load, body = body[0] | body[1] << 8, body[2:]
    if not body:
        raise fail("no C64 data after the header")
    if s.load + len(body) > 0x10000:
        raise fail(f"C64 data of {len(body)} bytes from ${s.load:04x} runs past $ffff")
    s.data = bytes(body)
    if not 1 <= songs <= 256:
        raise fail(f"number of songs must be 1–256, got {songs}")
    if s.init == 0 and not s.rsid:
        s.init = s.load  # the format's rule: init 0 means the load address
    if s.rsid:
        if play_ != 0:
            raise fail(f"an RSID's play address must be 0, got ${play_:04x}")
        if s.load < 0x07E8:
            raise fail(f"an RSID must load at $07e8 or above, got ${s.load:04x}")
    end = s.load + len(s.data)
    if not (s.load <= s.init < end) and not s.basic:
        raise fail(f"init address ${s.init:04x} is outside the loaded data ${s.load:04x}–${end - 1:04x}")
    return s


def _model(bits: int) -> int:
    return 8580 if bits == 2 else 6581  # unknown and "both" play as 6581, like sidplayfp


def read_sid(data: bytes, file: str | None = None, *, subtune: int | None = None,
             seconds: float | None = None, clock: str | None = None) -> Tune:
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
        meta["sid"]["mirrors"] = "writes to " + ", ".join(f"${a:04x}" for a in mirrors) + \
            " (mirrors of $d400 on a C64; the header names no SID there)"
    if s.version == 3 and _valid_sid_byte(s.third_sid) and _valid_sid_byte(s.second_sid):
        meta["sid"]["header fault"] = (f"a v3 header names a third SID (${sids[2]:04x}), which only v4 "
                                       "defines; used here, ignored by strict players")
    frame, start, irq, timing = _grid(run, clock_hz)
    if irq is not None:
        meta["frame_source"] = "irq"
    writes = make_writes(run.cycles[keep], chips[keep], regs[keep], run.vals[keep])
    header = Header(
        title=s.name, author=s.author, released=s.released, clock_hz=clock_hz, frame_cycles=frame,
        start_cycle=start, models=tuple(_model(s.model_bits(i)) for i in range(len(sids))), sids=sids,
        subtune=song, songs=s.songs, start_song=s.start_song, speed=s.speed,
        frames=-(-(cycles - start) // frame), timing=timing, gap=default_gap(writes, start, frame),
    )
    return Tune(header, writes, irq=irq, meta=meta)


def _chips(addrs: np.ndarray, sids: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, int, list[int]]:
    """Chip index (or -1) and register of each logged address; count dropped, list mirrors."""
    slot = (addrs.astype(np.int64) - 0xD400) >> 5  # 32-byte slots from $D400; $DE00 is slot 80
    table = np.full(96, -1, dtype=np.int64)
    table[:32] = 0  # $D400-$D7FF: the first SID and its mirrors
    for i, a in enumerate(sids[1:], 1):
        table[(a - 0xD400) >> 5] = i
    chips = table[slot]
    dropped = int(np.count_nonzero(chips < 0))
    used = np.unique(slot[slot < 32])
    declared = {(a - 0xD400) >> 5 for a in sids}
    mirrors = [0xD400 + 32 * int(k) for k in used if int(k) not in declared]
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


def build(s: SidFile) -> bytes:
    """The bytes of a .sid file for ``s`` (the inverse of :func:`parse`)."""
    def text(value: str, field: str) -> bytes:
        try:
            raw = value.encode("cp1252")
        except UnicodeEncodeError as e:
            raise FormatError(f"{field} {value!r} has a character Windows-1252 cannot hold: "
                              f"{value[e.start]!r}") from None
        if len(raw) > 32:
            raise FormatError(f"{field} is {len(raw)} bytes; a .sid holds at most 32")
        return raw.ljust(32, b"\0")

    offset = V1_SIZE if s.version == 1 else V2_SIZE
    load_field = 0 if s.load_in_data else s.load
    head = _FIXED.pack(s.magic.encode(), s.version, offset, load_field, s.init, s.play, s.songs,
                       s.start_song, s.speed, text(s.name, "title"), text(s.author, "author"),
                       text(s.released, "released"))
    if s.version >= 2:
        head += _V2.pack(s.flags, s.start_page, s.page_length, s.second_sid, s.third_sid)
    body = s.data if not s.load_in_data else s.load.to_bytes(2, "little") + s.data
    return head + body


def write_sid(tune: Tune, **options) -> bytes:
    from .sidwrite import encode_sid

    return encode_sid(tune, **options)


FORMATS = [
    Format("sid", "PSID/RSID file: read by 6502 emulation, written as a PSID with a replay routine",
           (".sid",), read_sid, write_sid, binary=True,
           options={"subtune": "song to play (default: the file's start song)",
                    "seconds": f"length to play (default {DEFAULT_SECONDS:g})",
                    "clock": "pal or ntsc (default: from the header)"}),
]
