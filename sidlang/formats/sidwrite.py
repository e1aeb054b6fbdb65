"""Writing a Tune as a playable PSID: a small replay routine plus the frames, compactly encoded.

**The stream.** Each frame is the list of register writes that change something (a write of
the value a register already holds does nothing to a SID, so it is dropped; the register state
after every frame is exactly the tune's), as byte pairs ``slot value`` where ``slot`` is
``chip * 32 + register``, then ``$FF``. Music repeats, so a run of frames that already appeared
is replaced by a reference ``$FE lo hi n``: "play the n frames stored at lo/hi, then come back"
(references never point at references, so one saved pointer is enough). ``$FC lo hi`` jumps
over the I/O area, ``$FD`` ends the tune (the last state holds; nothing more is written).

**The routine** (source below, assembled by :mod:`sidlang.c64.asm`) sits at ``$0800``; the
stream follows it up to ``$CFFF`` and continues at ``$E000`` up to ``$FFF9`` (the routine
banks the KERNAL out while it reads and restores ``$01`` on the way out). Init (any song
number) rewinds, sets the CIA 1 timer for tunes whose tick is not the video frame, and plays
frame 0 straight away, so frame ``n`` of the emulated file is frame ``n`` of the tune. A write
takes about 60 cycles, so a frame's writes land at its start in that spacing rather than at
their original offsets.

**Capacity**: :data:`CAPACITY` bytes of stream. A tune whose stream is longer is refused with
a :class:`FormatError` that says how long the tune is and exactly how much of its start would
fit (found while encoding: the stream's end after each frame), not a guess from the average
density; a tune that is sparse at first and dense later (echo-test) fits far less than its
average suggests.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np

from sidlang.c64.asm import assemble
from sidlang.errors import FormatError
from sidlang.pitch import NTSC_FRAME, NTSC_HZ, PAL_FRAME, PAL_HZ
from sidlang.registers import SID_BASE
from sidlang.tune import Tune

from .psidheader import SidFile, build, valid_sid_byte

ORIGIN = 0x0800
LOW_END = 0xD000  #: first byte the stream may not use below the I/O area
HIGH_START, HIGH_END = 0xE000, 0xFFFA
END_FRAME, REF, STOP, JUMP = 0xFF, 0xFE, 0xFD, 0xFC
MIN_REF_FRAMES = 2

REPLAY = """
ptr = $fb               ; stream pointer
sid = $fd               ; address of the register being written
init:   lda #<stream
        sta ptr
        lda #>stream
        sta ptr+1
        lda #0
        sta refcnt
        lda cia
        beq play
        lda #<latch
        sta $dc04
        lda #>latch
        sta $dc05
        lda #$11
        sta $dc0e
play:   lda $01
        sta port
        lda #$35        ; RAM everywhere but the I/O area
        sta $01
next:   ldy #0
        lda (ptr),y
        bmi cmd
        tax
        iny
        lda (ptr),y
        ldy slotlo,x
        sty sid
        ldy slothi,x
        sty sid+1
        ldy #0
        sta (sid),y
        lda ptr
        clc
        adc #2
        sta ptr
        bcc next
        inc ptr+1
        jmp next
cmd:    cmp #$ff
        beq endf
        cmp #$fe
        beq ref
        cmp #$fc
        beq jump
done:   lda port        ; $fd: the end; stay here
        sta $01
        rts
endf:   inc ptr
        bne endf2
        inc ptr+1
endf2:  lda refcnt
        beq done
        dec refcnt
        bne done
        lda save
        sta ptr
        lda save+1
        sta ptr+1
        jmp done
ref:    iny
        lda (ptr),y
        tax
        iny
        lda (ptr),y
        iny
        sta save+1      ; target high, for a moment
        lda (ptr),y
        sta refcnt
        lda ptr
        clc
        adc #4
        ldy save+1
        sta save
        lda ptr+1
        adc #0
        sta save+1
        stx ptr
        sty ptr+1
        jmp next
jump:   iny
        lda (ptr),y
        tax
        iny
        lda (ptr),y
        sta ptr+1
        stx ptr
        jmp next
nmi:    rti
port:   .byte 0
refcnt: .byte 0
save:   .word 0
cia:    .byte {cia}
"""


@lru_cache(maxsize=8)
def replay(sids: tuple[int, ...], latch: int) -> tuple[bytes, dict[str, int]]:
    """The routine for these SID addresses and CIA latch (0 = video-frame ticks)."""
    lo = ", ".join(str((sids[min(s >> 5, len(sids) - 1)] + (s & 31)) & 0xFF) for s in range(96))
    hi = ", ".join(str((sids[min(s >> 5, len(sids) - 1)] + (s & 31)) >> 8) for s in range(96))
    src = (
        REPLAY.format(cia=1 if latch else 0)
        + f"latch = {latch}\nslotlo: .byte {lo}\nslothi: .byte {hi}\nstream:\n"
    )
    return assemble(src, ORIGIN)


def frame_streams(tune: Tune) -> list[bytes]:
    """Each frame's changing writes as ``slot value`` pairs and a closing ``$FF``."""
    return list(iter_frame_streams(tune))


def iter_frame_streams(tune: Tune) -> Iterator[bytes]:
    """:func:`frame_streams` one frame at a time, so an encoding that stops early stops here too."""
    fr = tune.frames
    w = tune.writes
    state = np.full((tune.header.chips, 32), -1, dtype=np.int64)  # -1: never written
    chips, regs, vals = w["chip"].tolist(), w["reg"].tolist(), w["val"].tolist()
    bounds = fr.bounds.tolist()
    st = state.tolist()
    for n in range(len(bounds) - 1):
        buf = bytearray()
        for i in range(bounds[n], bounds[n + 1]):
            c, r, v = chips[i], regs[i], vals[i]
            if r >= 25 or st[c][r] == v:
                continue  # read-only registers and writes that change nothing
            st[c][r] = v
            buf += bytes((c * 32 + r, v))
        if n == 0 and st[0][0x18] < 0:
            # A player sets the volume before init (libsidplayfp's driver, and sidlang's reading
            # of a .sid, set 15): a tune that never wrote it must say it is 0.
            st[0][0x18] = 0
            buf += bytes((0x18, 0))
        buf.append(END_FRAME)
        yield bytes(buf)


def encode_stream(
    frames: Iterable[bytes], start: int, ends: list[int] | None = None, stop: int | None = None
) -> bytearray:
    """The whole stream from address ``start``: literals, references, jumps, the end mark.

    ``ends``, if given, receives the address just past each frame's encoding (a frame inside a
    reference ends where the reference does), so ``ends[k - 1]`` is where the end mark of a
    tune cut after ``k`` frames would go: the stream is greedy and only looks back, so cutting
    the tune never changes the encoding of the frames before the cut. With ``stop``, the
    encoding ends (without its end mark) once it passes that address, so a tune far too long
    costs no more time than one that just does not fit.
    """
    source = iter(frames)
    frames = []
    ids: dict[bytes, int] = {}
    seq: list[int] = []
    where: list[int] = []  # address of a frame stored literally, else -1

    def have(k: int) -> bool:
        """Whether frame ``k`` exists, reading frames from the source as far as that."""
        while len(frames) <= k:
            f = next(source, None)
            if f is None:
                return False
            frames.append(f)
            seq.append(ids.setdefault(f, len(ids)))
            where.append(-1)
        return True

    grams: dict[tuple[int, ...], list[int]] = {}
    out = bytearray()
    addr = start
    j = 0

    def emit(data: bytes) -> None:
        nonlocal addr
        if addr < LOW_END <= addr + len(data) + 3:
            out.extend(bytes((JUMP, HIGH_START & 0xFF, HIGH_START >> 8)))
            out.extend(bytes(HIGH_START - (addr + 3)))  # the I/O area: padding in the file
            addr = HIGH_START
        out.extend(data)
        addr += len(data)

    while have(j):
        if stop is not None and addr > stop:
            return out
        best_i, best_len = -1, 0
        have(j + MIN_REF_FRAMES - 1)
        key = tuple(seq[j : j + MIN_REF_FRAMES])
        if len(key) == MIN_REF_FRAMES:
            for i in reversed(grams.get(key, [])[-48:]):
                n = 0
                while (
                    n < 255 and i + n < j and have(j + n) and where[i + n] >= 0 and seq[i + n] == seq[j + n]
                ):
                    n += 1
                if n > best_len:
                    best_i, best_len = i, n
        if best_len >= MIN_REF_FRAMES and sum(len(frames[k]) for k in range(j, j + best_len)) > 4:
            target = where[best_i]
            emit(bytes((REF, target & 0xFF, (target >> 8) & 0xFF, best_len)))  # past $ffff only when too long
            j += best_len
            if ends is not None:
                ends.extend([addr] * best_len)
            continue
        emit_at = addr if not (addr < LOW_END <= addr + len(frames[j]) + 3) else HIGH_START
        emit(frames[j])
        if ends is not None:
            ends.append(addr)
        where[j] = emit_at
        if j + 1 - MIN_REF_FRAMES >= 0:
            k = j + 1 - MIN_REF_FRAMES
            if all(where[q] >= 0 for q in range(k, j + 1)):
                grams.setdefault(tuple(seq[k : j + 1]), []).append(k)
        j += 1
    emit(bytes((STOP,)))
    return out


def _clock_frame(tune: Tune) -> tuple[bool, int]:
    h = tune.header
    if h.clock_hz not in (PAL_HZ, NTSC_HZ):
        raise FormatError(
            f"a .sid plays at the PAL ({PAL_HZ}) or NTSC ({NTSC_HZ}) clock; "
            f"this tune's clock is {h.clock_hz} Hz"
        )
    ntsc = h.clock_hz == NTSC_HZ
    video = NTSC_FRAME if ntsc else PAL_FRAME
    if h.frame_cycles == video:
        return ntsc, 0
    if not 64 <= h.frame_cycles <= 0x10000:
        raise FormatError(
            f"a .sid's CIA timer ticks every 64–65536 cycles; this tune's frame is {h.frame_cycles} cycles"
        )
    return ntsc, h.frame_cycles - 1


def _sid_bytes(sids: tuple[int, ...]) -> list[int]:
    if sids[0] != SID_BASE:
        raise FormatError(f"a .sid's first SID is at $d400; this tune's is at ${sids[0]:04x}")
    if len(sids) > 3:
        raise FormatError(f"a .sid holds at most 3 SIDs; this tune has {len(sids)}")
    out = []
    for a in sids[1:]:
        b = (a - 0xD000) >> 4
        if a & 0x0F or not valid_sid_byte(b):
            raise FormatError(
                f"SID address ${a:04x} cannot be named in a .sid header "
                "($d420–$d7e0 or $de00–$dfe0, in steps of $20)"
            )
        out.append(b)
    return out + [0] * (2 - len(out))


def capacity() -> int:
    """Bytes of stream a .sid written by sidlang can hold."""
    code, _ = replay((SID_BASE,), 0)
    return (LOW_END - ORIGIN - len(code)) + (HIGH_END - HIGH_START)


CAPACITY = capacity()


def fit(tune: Tune) -> tuple[int, int]:
    """(bytes of stream this tune needs, bytes available), when the whole tune fits.

    When it does not, the :class:`FormatError` :func:`encode_sid` raises, which says how many
    of the tune's first seconds do fit.
    """
    h = tune.header
    _clock_frame(tune)
    _sid_bytes(h.sids)
    code, _ = replay(tuple(h.sids), 0)
    return _encode(tune, ORIGIN + len(code))[1], CAPACITY


def _encode(tune: Tune, start: int) -> tuple[bytearray, int]:
    """(the stream from ``start``, bytes of it outside the I/O hole); too long is an error.

    The encoding stops at four times what fits: the error then says "more than".
    """
    ends: list[int] = []
    stream = encode_stream(iter_frame_streams(tune), start, ends, stop=start + 4 * (HIGH_END - start))
    used = len(stream) - (HIGH_START - LOW_END if start + len(stream) > LOW_END else 0)
    if start + len(stream) <= HIGH_END:
        return stream, used
    h = tune.header
    n_frames = len(tune.frames)
    fitting = sum(1 for e in ends if e + 1 <= HIGH_END)  # + 1: the end mark
    seconds = n_frames * h.frame_cycles / h.clock_hz
    first = fitting * h.frame_cycles / h.clock_hz
    more = "" if len(ends) == n_frames else "more than "
    raise FormatError(
        f"too long for a .sid: the tune ({seconds:.1f} s, {n_frames} frames) needs {more}{used} bytes "
        f"of frame data, C64 memory holds {CAPACITY}; its first {first:.1f} s ({fitting} frames) "
        f"fit, cut it there (--seconds {math.floor(first * 10) / 10:g})"
    )


def encode_sid(tune: Tune) -> bytes:
    """A PSID file that plays ``tune`` (see the module docstring for the layout and limits)."""
    h = tune.header
    ntsc, latch = _clock_frame(tune)
    second, third = _sid_bytes(h.sids)
    code, names = replay(tuple(h.sids), latch)
    start = ORIGIN + len(code)
    stream, _ = _encode(tune, start)
    image = bytearray(code + stream)
    if start + len(stream) > HIGH_START:
        image += bytes(HIGH_END - (ORIGIN + len(image)))
        nmi = names["nmi"]
        image += bytes((nmi & 0xFF, nmi >> 8, nmi & 0xFF, nmi >> 8, nmi & 0xFF, nmi >> 8))
    model = {6581: 1, 8580: 2}
    flags = (2 if ntsc else 1) << 2
    for i, m in enumerate(h.models[:3]):
        flags |= model[m] << (4 + 2 * i)
    version = 2 + (len(h.sids) > 1) + (len(h.sids) > 2)
    s = SidFile(
        magic="PSID",
        version=version,
        load=ORIGIN,
        init=names["init"],
        play=names["play"],
        songs=1,
        start_song=1,
        speed=1 if latch else 0,
        name=h.title,
        author=h.author,
        released=h.released,
        flags=flags,
        second_sid=second,
        third_sid=third,
        data=bytes(image),
        load_in_data=True,
    )
    return build(s)
