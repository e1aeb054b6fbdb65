"""The PSID/RSID ``.sid`` header both ways: :func:`parse` bytes into a :class:`SidFile`,
:func:`build` a :class:`SidFile` into bytes (its inverse).

Layout (HVSC ``SID_file_format.txt``; libsidplayfp ``PSID.cpp``), big-endian: ``+00`` magic,
``+04`` version 1–4, ``+06`` data offset (0x76 v1, 0x7C v2+), ``+08`` load address (0: the
first two data bytes, little-endian), ``+0A`` init, ``+0C`` play, ``+0E`` songs, ``+10`` start
song, ``+12`` speed bits, ``+16``/``+36``/``+56`` name, author, released (32 bytes,
Windows-1252). v2+: ``+76`` flags, ``+78`` start page, ``+79`` page length, ``+7A`` second
SID, ``+7B`` third SID (address ``$D000 | byte << 4``).

Reading a file (:mod:`sidlang.formats.sid`) and writing one (:mod:`sidlang.formats.sidwrite`)
both use this module; neither imports the other for the header.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sidlang.errors import FormatError
from sidlang.registers import SID_BASE

V1_SIZE, V2_SIZE = 0x76, 0x7C
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
        out = [SID_BASE]
        for byte in (self.second_sid, self.third_sid):
            if not valid_sid_byte(byte):
                break
            out.append(0xD000 | byte << 4)
        return tuple(out)

    def song_is_cia(self, song: int) -> bool:
        return bool(self.speed >> min(song - 1, 31) & 1)


def valid_sid_byte(b: int) -> bool:
    """Whether a header byte names a second or third SID ($d420–$d7e0, $de00–$dfe0, even)."""
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
    magic, version, offset, load, init, play_, songs, start, speed, name, author, released = (
        _FIXED.unpack_from(data)
    )
    s = SidFile(
        magic.decode(),
        version,
        load,
        init,
        play_,
        songs,
        start,
        speed,
        _text(name),
        _text(author),
        _text(released),
    )
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


def build(s: SidFile) -> bytes:
    """The bytes of a .sid file for ``s`` (the inverse of :func:`parse`)."""

    def text(value: str, field: str) -> bytes:
        try:
            raw = value.encode("cp1252")
        except UnicodeEncodeError as e:
            raise FormatError(
                f"{field} {value!r} has a character Windows-1252 cannot hold: {value[e.start]!r}"
            ) from None
        if len(raw) > 32:
            raise FormatError(f"{field} is {len(raw)} bytes; a .sid holds at most 32")
        return raw.ljust(32, b"\0")

    offset = V1_SIZE if s.version == 1 else V2_SIZE
    load_field = 0 if s.load_in_data else s.load
    head = _FIXED.pack(
        s.magic.encode(),
        s.version,
        offset,
        load_field,
        s.init,
        s.play,
        s.songs,
        s.start_song,
        s.speed,
        text(s.name, "title"),
        text(s.author, "author"),
        text(s.released, "released"),
    )
    if s.version >= 2:
        head += _V2.pack(s.flags, s.start_page, s.page_length, s.second_sid, s.third_sid)
    body = s.data if not s.load_in_data else s.load.to_bytes(2, "little") + s.data
    return head + body


__all__ = ["SidFile", "V1_SIZE", "V2_SIZE", "build", "parse", "valid_sid_byte"]
