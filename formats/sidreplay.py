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
END_FRAME, REF, STOP, JUMP, START, WAIT_LONG, WAIT_SHORT, WAIT = 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF9, 0xF8

# Cycles, counted from the routine below and checked by emulation (tests/formats/test_sidwrite.py).
FIRST = 64  #: play call → first write of an untimed frame (the JSR's own 6 cycles not included)
PER_WRITE = 56  #: from one write to the next in a group (+1 when a read crosses a page)
START_AT = 52  #: play call → the store that starts the timer in a ``$FB`` frame
START_WRITES = 107  #: play call → first write of a ``$FB`` frame
AFTER_UNDERFLOW = 51  #: timer underflow → the group's first write (47–55)
TO_POLL = {WAIT: 43, WAIT_SHORT: 76, WAIT_LONG: 82}  #: last write → first poll of the next wait
MARGIN = 8  #: spare cycles between the latch being written and the underflow it sets up

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
        iny
        lda (ptr),y
        ldy slotlo,x
        sty sid
        ldy slothi,x
        sty sid+1
        ldy #0
        sta (sid),y
        lda #2
        bne skip
cmd:    cmp #$f8
        beq w0
        cmp #$ff
        beq endf
        cmp #$f9
        beq w1
        cmp #$fa
        beq w2
done:   lda port        ; $fd: the end; stay here
        sta $01
        rts
w0:     inc ptr
        bne wait
        inc ptr+1
wait:   lda $dd0d
        lsr
        bcc wait
        jmp next
w1:     iny
        lda (ptr),y
        sta $dd04
        lda #0
        sta $dd05
        lda #2
        bne wskip
w2:     iny
        lda (ptr),y
        sta $dd04
        iny
        lda (ptr),y
        sta $dd05
        lda #3
wskip:  clc
        adc ptr
        sta ptr
        bcc wait
        inc ptr+1
        bne wait
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


EARLIEST = TO_POLL[WAIT_SHORT] + AFTER_UNDERFLOW - 4  #: last write → the soonest timed write after it
SPREAD = 400  #: a frame is timed only when some write would land this much too early untimed
DRIFT = 3  #: a group may land this many cycles off rather than change the timer's latch
TAIL = 300  #: cycles left at a frame's end for the routine to finish before the next call


def frame_bytes(pairs: list[tuple[int, int]], offsets: list[int], frame_cycles: int) -> bytes:
    """One frame's bytes: ``slot value`` pairs landing as near as they can to ``offsets``.

    ``offsets`` are the writes' cycles since their frame began, in order; a write lands in the
    written .sid at the same cycle since its play call. A frame whose writes would all land
    within :data:`SPREAD` cycles of their time when written straight away keeps the compact
    untimed form.
    """
    flat = [b for p in pairs for b in p]
    if all(o - (FIRST + PER_WRITE * i) <= SPREAD for i, o in enumerate(offsets)):
        return bytes(flat + [END_FRAME])
    limit = frame_cycles - TAIL
    groups: list[list[int]] = [[]]  # byte pairs; group 0 is written straight after the start
    lands: list[int] = []  # where each later group's first write lands
    t = START_WRITES - PER_WRITE  # where the last write landed
    for (slot, val), o in zip(pairs, offsets):
        now = t + PER_WRITE
        timed = max(o, t + EARLIEST)
        if timed - o < o - now and timed <= limit:
            groups.append([])
            lands.append(timed)
            t = timed
        else:
            t = now
        groups[-1] += (slot, val)
    if not lands:
        return bytes(flat + [END_FRAME])
    under = [land - AFTER_UNDERFLOW for land in lands]
    s = under[0] - START_AT - 1
    out = bytearray((START, s & 0xFF, s >> 8))
    out += bytes(groups[0])
    latch, real = s, under[0]  # real: where underflow k falls with the latches chosen so far
    for k in range(len(lands)):
        nxt = under[k + 1] - real - 1 if k + 1 < len(lands) else None
        if nxt is not None and abs(nxt - latch) <= DRIFT:
            nxt = latch  # close enough: one byte instead of two or three, and no drift builds up
        if nxt is not None:
            real += nxt + 1
        if nxt is None or nxt == latch:
            out.append(WAIT)
        elif nxt < 256:
            out += bytes((WAIT_SHORT, nxt))
        else:
            out += bytes((WAIT_LONG, nxt & 0xFF, nxt >> 8))
        latch = latch if nxt is None else nxt
        out += bytes(groups[k + 1])
    out.append(END_FRAME)
    return bytes(out)
