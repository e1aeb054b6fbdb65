"""The 6502 replay routine of a written .sid, and the cycle model that places timed writes.

**Frames.** A frame is ``slot value`` pairs and ``$FF``, written one after another as soon as
the play call starts (:data:`FIRST` cycles after the call for the first write, :data:`PER_WRITE`
for each next one). A frame whose writes are spread in time (a sample player writing ``$D418``
every 126 cycles) starts with ``$FB lo hi`` instead: CIA 2 timer A is force-loaded with
``lo hi`` and started, continuous, :data:`START_AT` cycles after the call, and the frame's later
writes come in groups, each behind a wait:

* ``$F8``: wait for the timer's next underflow;
* ``$F9 lo``: set the latch to ``lo`` (high byte 0), then wait;
* ``$FA lo hi``: set the latch to ``lo hi``, then wait.

A group's first write lands :data:`AFTER_UNDERFLOW` cycles (± 4: the polling loop takes 9)
after the underflow. The latch written before a wait is the one the timer reloads *at* that
underflow, so it sets the interval to the group after: the underflows fall exactly where the
encoder put them and polling late never accumulates. A timer rather than a counted loop,
because on a C64 with the screen on (sidplayfp) bad lines steal 40 cycles in 8 raster lines
from the CPU but not from the CIA: a 15,437-cycle loop took 16,509 cycles there.

**Between frames** the routine follows references (``$FE``) and jumps (``$FC``) at the end of
a frame, so a play call always starts on a frame's own bytes and ``$FB``'s timer start comes at
the same cycle whichever way the frame is reached.
"""

from __future__ import annotations

from functools import lru_cache

from sidlang.c64.asm import assemble

ORIGIN = 0x0800
END_FRAME, REF, STOP, JUMP, START, SET_LONG, SET_SHORT = 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF9
WAIT_WRITE = 0x80  #: $80 + slot: wait for the timer, then write slot (slots 0-95)
SKIP, SKIP_LAST = 0xE0, 0xF8  #: let 1-25 underflows go by

# Cycles, counted from the routine below and checked by emulation (tests/formats/test_sidwrite.py).
FIRST = 64  #: play call → first write of an untimed frame (the JSR's own 6 cycles not included)
PER_WRITE = 56  #: from one write to the next in a group (+1 when a read crosses a page)
START_AT = 52  #: play call → the store that starts the timer in a ``$FB`` frame
START_WRITES = 107  #: play call → first write of a ``$FB`` frame
AFTER_UNDERFLOW = 40  #: timer underflow → the write behind the wait (36–44: the poll takes 9)
#: last write → first poll of the next wait, by what comes before the wait
TO_POLL = {WAIT_WRITE: 38, SKIP: 46, SET_SHORT: 94, SET_LONG: 100}
MARGIN = 8  #: spare cycles between the latch being written and the underflow it sets up
EARLIEST = {k: v + AFTER_UNDERFLOW - 4 for k, v in TO_POLL.items()}  #: last write → soonest timed write

REPLAY = """
ptr = $fb               ; stream pointer
sid = $fd               ; address of the register being written
init:   lda #<stream
        sta ptr
        lda #>stream
        sta ptr+1
        lda #0
        sta refcnt
        sta $dd0e       ; CIA 2 timer A stopped, and never an NMI
        lda #$7f
        sta $dd0d
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
        ldy #0
        lda (ptr),y
        cmp #$fb
        bne next
        iny             ; $fb lo hi: start the timer, continuous, from lo hi
        lda (ptr),y
        sta $dd04
        iny
        lda (ptr),y
        sta $dd05
        lda #$11
        sta $dd0e
        lda $dd0d       ; forget an underflow from the last frame
        lda #3
skip:   clc
        adc ptr
        sta ptr
        bcc next
        inc ptr+1
next:   ldy #0
        lda (ptr),y
        bmi cmd
        tax
wr:     iny
        lda (ptr),y
        ldy slotlo,x
        sty sid
        ldy slothi,x
        sty sid+1
        ldy #0
        sta (sid),y
        lda #2
        bne skip
cmd:    cmp #$e0
        bcs ctl
        and #$7f        ; $80 + slot: wait for the timer's next underflow, then write
        tax
wait:   lda $dd0d
        lsr
        bcc wait
        bcs wr
ctl:    cmp #$f9
        bcs ctl2
        sbc #$de        ; $e0-$f8 (carry clear): let n = code - $df underflows go by
        tax
count:  lda $dd0d
        lsr
        bcc count
        dex
        bne count
        lda #1
        bne skip
ctl2:   beq w1
        cmp #$ff
        beq endf
        cmp #$fa
        beq w2
done:   lda port        ; $fd: the end; stay here
        sta $01
        rts
w1:     iny             ; $f9 lo: latch lo, 0
        lda (ptr),y
        sta $dd04
        lda #0
        sta $dd05
        lda #2
        bne skip
w2:     iny             ; $fa lo hi
        lda (ptr),y
        sta $dd04
        iny
        lda (ptr),y
        sta $dd05
        lda #3
        bne skip
endf:   inc ptr
        bne endf2
        inc ptr+1
endf2:  lda refcnt
        beq follow
        dec refcnt
        bne follow
        lda save
        sta ptr
        lda save+1
        sta ptr+1
follow: ldy #0          ; a reference or a jump is followed now, not at the next call
        lda (ptr),y
        cmp #$fe
        beq ref
        cmp #$fc
        bne done
        iny             ; $fc lo hi
        lda (ptr),y
        tax
        iny
        lda (ptr),y
        sta ptr+1
        stx ptr
        jmp follow
ref:    iny             ; $fe lo hi n
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
        jmp done
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
    src = REPLAY.format(cia=1 if latch else 0) + f"latch = {latch}\nslotlo: .byte {lo}\nslothi: .byte {hi}\nstream:\n"
    return assemble(src, ORIGIN)


SPREAD = 5000  #: a frame is timed when a write would land this much too early untimed ...
REWRITE = 400  #: ... or a register written twice in it would get its later value this much early
DRIFT = 3  #: an underflow may fall this many cycles off its target rather than cost bytes
GRID_DRIFT = 4  #: the same on one period's grid (a sample player's own jitter is ±2)
TAIL = 300  #: cycles left at a frame's end for the routine to finish before the next call
MAX_PERIOD = 400  #: longest timer period a grid frame uses
GRID_MIN = 6  #: writes on one period's grid that make a frame a sample player's
MAX_COUNT = SKIP_LAST - SKIP + 1  #: underflows one skip code lets go by


def _untimed(pairs: list[tuple[int, int]]) -> bytes:
    return bytes([b for p in pairs for b in p] + [END_FRAME])


def pays(pairs: list[tuple[int, int]], offsets: list[int]) -> bool:
    """Whether the frame is worth its timing bytes: a write far off its time, or a register's
    value replaced within the frame much sooner than in the tune (a sample player)."""
    seen: set[int] = set()
    for i, ((slot, _), o) in enumerate(zip(pairs, offsets)):
        early = o - (FIRST + PER_WRITE * i)
        if early > SPREAD or (slot in seen and early > REWRITE):
            return True
        seen.add(slot)
    return False


def _place(pairs, offsets, frame_cycles, earliest):
    """Groups of byte pairs (group 0 straight after the start) and where groups 1… land."""
    groups: list[list[int]] = [[]]
    lands: list[int] = []
    t = START_WRITES - PER_WRITE  # where the last write landed
    for (slot, val), o in zip(pairs, offsets):
        now = t + PER_WRITE
        timed = max(o, t + earliest)
        if timed - o < o - now and timed <= frame_cycles - TAIL:
            groups.append([])
            lands.append(timed)
            t = timed
        else:
            t = now
        groups[-1] += (slot, val)
    return groups, lands


def _latch(value: int) -> bytes:
    return bytes((SET_SHORT, value)) if value < 256 else bytes((SET_LONG, value & 0xFF, value >> 8))


def _skips(n: int) -> bytes:
    out = bytearray()
    while n > 0:
        k = min(n, MAX_COUNT)
        out.append(SKIP + k - 1)
        n -= k
    return bytes(out)


def _grid(groups, lands, frame_cycles: int) -> bytes | None:
    """One timer period for the whole frame (a sample player): each group waits whole periods."""
    # Every timed write waits on its own tick, so a group never outlasts one period.
    singles = [g[i : i + 2] for g in groups[1:] for i in range(0, len(g), 2)]
    under = [land + PER_WRITE * i - AFTER_UNDERFLOW for land, g in zip(lands, groups[1:]) for i in range(len(g) // 2)]
    groups = [groups[0]] + singles
    if len(under) < 2:
        return None
    gaps = [b - a for a, b in zip(under, under[1:])]
    best = (0, 0, 0)  # (writes on the grid, period, anchor)
    for g in gaps[:8]:
        for m in range(1, 11):
            period = round(g / m)
            if not EARLIEST[SKIP] <= period <= MAX_PERIOD:
                continue
            for anchor in under[:4]:
                on = sum(abs((u - anchor + period // 2) % period - period // 2) <= GRID_DRIFT for u in under)
                best = max(best, (on, period, anchor))
    on, period, anchor = best
    if on < GRID_MIN or 2 * on < len(under):
        return None
    # Writes off the grid (a player's, beside the samples) move to the nearest tick they can.
    ticks: list[int] = []
    base = anchor - (anchor - under[0] + period // 2) // period * period - period  # a tick before under[0]
    for k, u in enumerate(under):
        tick = max(round((u - base) / period), ticks[-1] + 1 if ticks else 1)
        ticks.append(tick)
        # The underflow after this group's last write must come after the next wait starts.
        last = base + tick * period + AFTER_UNDERFLOW + PER_WRITE * (len(groups[k + 1]) // 2 - 1)
        if base + (tick + 1) * period < last + TO_POLL[SKIP] - 4 or last > frame_cycles - TAIL:
            return None
    under = [base + k * period for k in ticks]
    first = START_WRITES - PER_WRITE + PER_WRITE * (len(groups[0]) // 2)  # group 0's last write
    if under[0] < first + TO_POLL[SET_LONG] - 4 + MARGIN:
        return None
    s = under[0] - START_AT - 1
    out = bytearray((START, s & 0xFF, s >> 8)) + bytes(groups[0]) + _latch(period - 1)
    for k, g in enumerate(groups[1:]):
        if k:
            out += _skips(ticks[k] - ticks[k - 1] - 1)
        out += bytes((WAIT_WRITE + g[0], g[1])) + bytes(g[2:])
    return bytes(out) + bytes((END_FRAME,))


def _each(groups, lands) -> bytes:
    """A latch per gap: before each wait, the latch for the gap after it (unless within DRIFT)."""
    under = [land - AFTER_UNDERFLOW for land in lands]
    s = under[0] - START_AT - 1
    out = bytearray((START, s & 0xFF, s >> 8)) + bytes(groups[0])
    latch, real = s, under[0]  # real: where underflow k falls with the latches chosen so far
    for k, g in enumerate(groups[1:]):
        nxt = under[k + 1] - real - 1 if k + 1 < len(lands) else latch
        if abs(nxt - latch) > DRIFT:
            out += _latch(nxt)
            latch = nxt
        if k + 1 < len(lands):
            real += latch + 1
        out += bytes((WAIT_WRITE + g[0], g[1])) + bytes(g[2:])
    return bytes(out) + bytes((END_FRAME,))


def frame_bytes(pairs: list[tuple[int, int]], offsets: list[int], frame_cycles: int) -> bytes:
    """One frame's bytes: ``slot value`` pairs landing as near as they can to ``offsets``.

    ``offsets`` are the writes' cycles since their frame began, in order; a write lands in the
    written .sid at the same cycle since its play call. A frame where timing does not pay
    (:func:`pays`) keeps the compact untimed form, and so does one whose timing cannot be kept.
    """
    if not pays(pairs, offsets):
        return _untimed(pairs)
    groups, lands = _place(pairs, offsets, frame_cycles, EARLIEST[SKIP])
    if lands:
        grid = _grid(groups, lands, frame_cycles)
        if grid is not None:
            return grid
    groups, lands = _place(pairs, offsets, frame_cycles, EARLIEST[SET_LONG])
    if not lands or lands[0] - AFTER_UNDERFLOW < START_WRITES + TO_POLL[SET_LONG] + MARGIN:
        return _untimed(pairs)
    return _each(groups, lands)
