"""The KERNAL ROM's entry points that SID tunes use, written afresh for sidlang's C64.

No ROM image is shipped. What a tune may call or jump to is here as small routines at the
real addresses, each doing what the C64's routine does to memory, the chips and the registers
when no key is pressed, no cartridge is plugged in and no disk or tape is attached:

* interrupts: the IRQ/BRK entry ``$FF48``, the default IRQ handler ``$EA31`` (jiffy clock and
  STOP key, the cursor-blink counter, the cassette-motor bit, keyboard scan, then
  ``$EA7E`` acknowledge CIA 1 and ``$EA81`` restore the registers and ``RTI``), the NMI entry
  ``$FE43`` → ``JMP ($0318)`` → ``$FE47`` (which, like the KERNAL's, turns CIA 2's interrupts
  off) and its exit ``$FEBC``;
* the jump table ``$FF81–$FFF3`` and the routines behind it: CINT (VIC-II defaults, screen
  cleared, PAL/NTSC found from the raster, CIA 1 at 60 Hz), IOINIT (both CIAs, SID volume 0,
  the processor port), RAMTAS (pages 0, 2, 3 cleared, the RAM test that takes about 2 s),
  RESTOR and VECTOR, SCNKEY, UDTIM, RDTIM/SETTIM, STOP, GETIN (always empty), CHROUT (prints
  nothing), CLRCHN, CLALL, SETMSG, READST, SETLFS, SETNAM, SETTMO, MEMTOP, MEMBOT, SCREEN,
  PLOT, IOBASE; and the screen editor's clear screen ``$E544`` and home ``$E566``.

Everything else, serial-bus and file I/O (OPEN, LOAD, CHRIN …) included, is a JAM opcode, so
a tune that needs it stops with an error naming the routine (:data:`UNEMULATED`).

Why: libsidplayfp, run with no ROM images as Debian's ``sidplayfp`` is, leaves the ROM empty
but for an IRQ entry (2.4: ``$FFA0``; later versions ``$FF48`` and a bare ``$EA31`` restore),
so in 2.4 a handler that ends with ``JMP $EA31`` executes a zero byte, a BRK, which re-enters
the handler: measured here, a tune that starts a note after 60 interrupts sounds it at once.
A C64 runs the KERNAL's code, so that is what this module follows.
"""

from __future__ import annotations

import numpy as np

from sidlang.c64.asm import assemble_segments

JAM = 0x02
BRK_TRAP = 0xFE66  #: the default BRK vector: a BRK reaching it is runaway code

#: ROM routines that are not emulated, by the address a tune would stop at.
UNEMULATED = {
    0xFF93: "SECOND",
    0xFF96: "TKSA",
    0xFFA5: "ACPTR",
    0xFFA8: "CIOUT",
    0xFFAB: "UNTLK",
    0xFFAE: "UNLSN",
    0xFFB1: "LISTEN",
    0xFFB4: "TALK",
    0xFFD5: "LOAD",
    0xFFD8: "SAVE",
    0xF34A: "OPEN",
    0xF291: "CLOSE",
    0xF20E: "CHKIN",
    0xF250: "CHKOUT",
    0xF157: "CHRIN",
    0xF4A5: "LOAD",
    0xF5ED: "SAVE",
    0xFCE2: "RESET",
}

SOURCE = """
STATUS = $90
STKEY  = $91
LDTND  = $98
DFLTN  = $99
DFLTO  = $9a
MSGFLG = $9d
TIME   = $a0            ; the jiffy clock, $a0-$a2, high byte first
TAPE1  = $b2
FNLEN  = $b7
LA     = $b8
SA     = $b9
FA     = $ba
FNADR  = $bb
CAS1   = $c0
STAL   = $c1            ; RAMTAS' test pointer
TMP    = $c3            ; VECTOR's table pointer
LSTX   = $c5
NDX    = $c6
SFDX   = $cb
BLNSW  = $cc
BLNCT  = $cd
BLNON  = $cf
PNT    = $d1
PNTR   = $d3
TBLX   = $d6
USER   = $f3
MEMSTR = $0281
MEMSIZ = $0283
TIMOUT = $0285
COLOR  = $0286
HIBASE = $0288
XMAX   = $0289
KOUNT  = $028b
DELAY  = $028c
SHFLAG = $028d
LSTSHF = $028e
KEYLOG = $028f
MODE   = $0291
ENABL  = $02a1
PALNTS = $02a6

; ---- screen editor ---------------------------------------------------------------------
.org $e500
iobase: ldx #$00         ; the CIAs are at $dc00
        ldy #$dc
        rts
screen: ldx #40          ; $e505: 40 columns, 25 rows
        ldy #25
        rts
plot:   bcs plotget      ; $e50a: carry clear sets the cursor, set reads it
        stx TBLX
        sty PNTR
plotget: ldx TBLX
        ldy PNTR
        rts

.org $e518
scrinit: jsr vicinit     ; CINT's first half: editor variables, then clear the screen
        lda #0
        sta MODE
        sta BLNON
        lda #$48
        sta KEYLOG
        lda #$eb
        sta KEYLOG+1
        lda #10
        sta XMAX
        sta DELAY
        lda #$0e
        sta COLOR
        lda #4
        sta KOUNT
        lda #$0c
        sta BLNCT
        sta BLNSW
clrscr: jsr fill         ; $e544
        jmp home

.org $e566
home:   ldx #0           ; cursor to the top left
        stx TBLX
        stx PNTR
        stx PNT
        lda HIBASE
        sta PNT+1
        rts

.org $e5a0
vicinit: lda #3          ; output to the screen, input from the keyboard
        sta DFLTO
        lda #0
        sta DFLTN
        ldx #$2f         ; the VIC-II's 47 registers from the table
vicl:   lda victab-1,x
        sta $cfff,x
        dex
        bne vicl
        rts

.org $ea31
irq:    jsr udtim        ; the default IRQ handler
        lda BLNSW        ; the cursor: nothing is drawn, only the blink counter runs
        bne motor
        dec BLNCT
        bne motor
        lda #20
        sta BLNCT
motor:  lda $01          ; cassette motor off unless a button is down
        and #$10
        beq button
        ldy #0
        sty CAS1
        lda $01
        ora #$20
        bne port
button: lda CAS1
        bne keys
        lda $01
        and #$1f
port:   sta $01
keys:   jsr scnkey
        jmp irqack

.org $ea7e
irqack: lda $dc0d        ; acknowledge CIA 1
irqret: pla              ; $ea81
        tay
        pla
        tax
        pla
        rti
scnkey: lda #0           ; $ea87: scan the keyboard, which has no key down
        sta SHFLAG
        ldy #$40
        sty SFDX
        sta $dc00
        ldx $dc01
        sty LSTX
        sta LSTSHF
        tay
        lda #$7f
        sta $dc00
        cpx #$ff         ; the flags of a scan that found nothing
        rts

.org $ecb9
victab: .byte 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        .byte 0, $9b, $37, 0, 0, 0, $08, 0, $14, $0f, 0, 0, 0, 0, 0, 0
        .byte $0e, $06, $01, $02, $03, $04, 0, $01, $02, $03, $04, $05, $06, $07, $07

; ---- channels --------------------------------------------------------------------------
.org $f13e
getin:  lda #0           ; the keyboard queue is always empty
        clc
        rts

.org $f1ca
chrout: clc              ; characters are not drawn
        rts

.org $f32f
clall:  lda #0
        sta LDTND
clrchn: ldx #3           ; $f333
        stx DFLTO
        lda #0
        sta DFLTN
        rts

; ---- clock and STOP key ----------------------------------------------------------------
.org $f69b
udtim:  inc TIME+2
        bne day
        inc TIME+1
        bne day
        inc TIME
day:    sec              ; wrap after 24 hours ($4f1a01 jiffies)
        lda TIME+2
        sbc #$01
        lda TIME+1
        sbc #$1a
        lda TIME
        sbc #$4f
        bcc stopkey
        ldx #0
        stx TIME
        stx TIME+1
        stx TIME+2
stopkey: lda $dc01       ; STOP's row: never down
        tax
        sta STKEY
        rts

.org $f6dd
rdtim:  sei
        lda TIME+2
        ldx TIME+1
        ldy TIME
settim: sei              ; $f6e4
        sta TIME+2
        stx TIME+1
        sty TIME
        cli
        rts

.org $f6ed
stop:   lda STKEY        ; Z set if STOP is down
        cmp #$7f
        bne stopup
        php
        jsr clrchn
        sta NDX
        plp
stopup: rts

; ---- helpers (no fixed address) --------------------------------------------------------
.org $f800
fill:   lda #0           ; spaces in the screen's 1000 bytes, the text colour beside them
        sta PNT
        sta USER
        lda HIBASE
        sta PNT+1
        lda #$d8
        sta USER+1
        ldx #4
frow:   ldy #249
fcell:  lda #$20
        sta (PNT),y
        lda COLOR
        sta (USER),y
        dey
        cpy #$ff
        bne fcell
        clc
        lda PNT
        adc #250
        sta PNT
        sta USER
        bcc fnext
        inc PNT+1
        inc USER+1
fnext:  dex
        bne frow
        rts

; ---- reset-time routines ---------------------------------------------------------------
.org $fd15
restor: ldx #<vectab     ; the RAM vectors back to the KERNAL's own
        ldy #>vectab
        clc
vector: stx TMP          ; $fd1a: carry clear sets the vectors from (x,y), set copies them there
        sty TMP+1
        ldy #31
vecl:   lda $0314,y
        bcs vecr
        lda (TMP),y
vecr:   sta (TMP),y
        sta $0314,y
        dey
        bpl vecl
        rts
vectab: .word $ea31, $fe66, $fe47, $f34a, $f291, $f20e, $f250, $f333
        .word $f157, $f1ca, $f6ed, $f13e, $f32f, $fe66, $f4a5, $f5ed

ramtas: lda #0           ; $fd50
        tay
ramclr: sta $0002,y      ; pages 0, 2 and 3 cleared
        sta $0200,y
        sta $0300,y
        iny
        bne ramclr
        ldx #$3c         ; the tape buffer at $033c
        ldy #$03
        stx TAPE1
        sty TAPE1+1
        tay
        lda #3
        sta STAL+1
ramnext: inc STAL+1      ; the RAM test from $0400, byte by byte, each put back
ramtest: lda (STAL),y
        tax
        lda #$55
        sta (STAL),y
        cmp (STAL),y
        bne ramtop
        rol a
        sta (STAL),y
        cmp (STAL),y
        bne ramtop
        txa
        sta (STAL),y
        iny
        bne ramtest
        beq ramnext
ramtop: tya              ; the first byte that is not RAM ends it
        tax
        ldy STAL+1
        clc
        jsr memtop
        lda #$08
        sta MEMSTR+1
        lda #$04
        sta HIBASE
        rts

.org $fda3
ioinit: lda #$7f         ; every CIA interrupt off
        sta $dc0d
        sta $dd0d
        sta $dc00
        lda #$08         ; timers stopped, one-shot
        sta $dc0e
        sta $dd0e
        sta $dc0f
        sta $dd0f
        ldx #0
        stx $dc03
        stx $dd03
        stx $d418        ; the SID's volume to 0
        dex
        stx $dc02
        lda #$07
        sta $dd00
        lda #$3f
        sta $dd02
        lda #$e7
        sta $01
        lda #$2f
        sta $00
timer60: lda PALNTS      ; $fddd: CIA 1 timer A at 60 Hz, its interrupt on
        beq ntsc
        lda #$25
        sta $dc04
        lda #$40
        bne timerhi
ntsc:   lda #$95
        sta $dc04
        lda #$42
timerhi: sta $dc05
        jmp timeron

.org $fdf9
setnam: sta FNLEN
        stx FNADR
        sty FNADR+1
        rts
setlfs: sta LA           ; $fe00
        stx FA
        sty SA
        rts
readst: lda STATUS       ; $fe07
        rts

.org $fe18
setmsg: sta MSGFLG
        lda STATUS
        rts

.org $fe21
settmo: sta TIMOUT
        rts
memtop: bcc settop       ; $fe25
        ldx MEMSIZ
        ldy MEMSIZ+1
settop: stx MEMSIZ
        sty MEMSIZ+1
        rts
membot: bcc setbot       ; $fe34
        ldx MEMSTR
        ldy MEMSTR+1
setbot: stx MEMSTR
        sty MEMSTR+1
        rts

; ---- NMI -------------------------------------------------------------------------------
nmi:    sei              ; $fe43
        jmp ($0318)
nmidef: pha              ; $fe47: no RESTORE key, no RS-232, so only CIA 2's interrupts
        txa              ; are turned off and acknowledged
        pha
        tya
        pha
        lda #$7f
        sta $dd0d
        ldy $dd0d
        lda ENABL
        sta $dd0d
        jmp nmiret

.org $febc
nmiret: pla
        tay
        pla
        tax
        pla
        rti

; ---- IRQ entry, CINT, jump table, hardware vectors -------------------------------------
.org $ff48
irqent: pha
        txa
        pha
        tya
        pha
        tsx
        lda $0104,x      ; the B flag in the pushed status: BRK or IRQ
        and #$10
        beq irqvec
        jmp ($0316)
irqvec: jmp ($0314)

cint:   jsr scrinit      ; $ff5b
cintr:  lda $d012        ; PAL reaches line 311 (the raster compare) before line 0
        bne cintr
        lda $d019
        and #$01
        sta PALNTS
        jmp timer60
timeron: lda #$81        ; $ff6e
        sta $dc0d
        lda $dc0e
        and #$80
        ora #$11
        sta $dc0e
        rts

.org $ff81
        jmp cint
        jmp ioinit
        jmp ramtas
        jmp restor
        jmp vector
        jmp setmsg
        .byte 2, 2, 2    ; SECOND
        .byte 2, 2, 2    ; TKSA
        jmp memtop
        jmp membot
        jmp scnkey
        jmp settmo
        .byte 2, 2, 2    ; ACPTR
        .byte 2, 2, 2    ; CIOUT
        .byte 2, 2, 2    ; UNTLK
        .byte 2, 2, 2    ; UNLSN
        .byte 2, 2, 2    ; LISTEN
        .byte 2, 2, 2    ; TALK
        jmp readst
        jmp setlfs
        jmp setnam
        jmp ($031a)      ; OPEN
        jmp ($031c)      ; CLOSE
        jmp ($031e)      ; CHKIN
        jmp ($0320)      ; CHKOUT
        jmp ($0322)      ; CLRCHN
        jmp ($0324)      ; CHRIN
        jmp ($0326)      ; CHROUT
        .byte 2, 2, 2    ; LOAD
        .byte 2, 2, 2    ; SAVE
        jmp settim
        jmp rdtim
        jmp ($0328)      ; STOP
        jmp ($032a)      ; GETIN
        jmp ($032c)      ; CLALL
        jmp udtim
        jmp screen
        jmp plot
        jmp iobase

.org $fffa
        .word nmi, $fce2, irqent
"""

#: Addresses the source must put its routines at (checked when the ROM is built).
ENTRIES = {
    "iobase": 0xE500,
    "screen": 0xE505,
    "plot": 0xE50A,
    "scrinit": 0xE518,
    "clrscr": 0xE544,
    "home": 0xE566,
    "vicinit": 0xE5A0,
    "irq": 0xEA31,
    "irqack": 0xEA7E,
    "irqret": 0xEA81,
    "scnkey": 0xEA87,
    "victab": 0xECB9,
    "getin": 0xF13E,
    "chrout": 0xF1CA,
    "clall": 0xF32F,
    "clrchn": 0xF333,
    "udtim": 0xF69B,
    "rdtim": 0xF6DD,
    "settim": 0xF6E4,
    "stop": 0xF6ED,
    "restor": 0xFD15,
    "vector": 0xFD1A,
    "vectab": 0xFD30,
    "ramtas": 0xFD50,
    "ioinit": 0xFDA3,
    "timer60": 0xFDDD,
    "setnam": 0xFDF9,
    "setlfs": 0xFE00,
    "readst": 0xFE07,
    "setmsg": 0xFE18,
    "settmo": 0xFE21,
    "memtop": 0xFE25,
    "membot": 0xFE34,
    "nmi": 0xFE43,
    "nmidef": 0xFE47,
    "nmiret": 0xFEBC,
    "irqent": 0xFF48,
    "cint": 0xFF5B,
    "timeron": 0xFF6E,
}

#: The RAM vectors at $0314-$0333 as the KERNAL sets them (RESTOR's table).
VECTORS = (
    0xEA31,
    0xFE66,
    0xFE47,
    0xF34A,
    0xF291,
    0xF20E,
    0xF250,
    0xF333,
    0xF157,
    0xF1CA,
    0xF6ED,
    0xF13E,
    0xF32F,
    0xFE66,
    0xF4A5,
    0xF5ED,
)


def kernal_image() -> np.ndarray:
    """The 8 KiB at $E000-$FFFF: the routines above, JAM everywhere else."""
    pieces, names = assemble_segments(SOURCE, 0xE000)
    for name, addr in ENTRIES.items():
        if names[name] != addr:
            raise AssertionError(f"KERNAL routine {name} landed at ${names[name]:04x}, not ${addr:04x}")
    rom = np.full(0x2000, JAM, dtype=np.uint8)
    for addr, code in pieces:
        rom[addr - 0xE000 : addr - 0xE000 + len(code)] = np.frombuffer(code, dtype=np.uint8)
    return rom


def ram_after_boot(ram: np.ndarray, pal: bool) -> None:
    """The KERNAL's variables as a C64 leaves them when BASIC has started a program."""
    for k, vec in enumerate(VECTORS):
        ram[0x0314 + 2 * k], ram[0x0315 + 2 * k] = vec & 0xFF, vec >> 8
    ram[0x02A6] = 1 if pal else 0  # PALNTS
    ram[0x91] = 0xFF  # STKEY: STOP is up
    ram[0x9A] = 3  # DFLTO: the screen
    ram[0xC5] = ram[0xCB] = 0x40  # LSTX, SFDX: no key
    ram[0xCC] = 1  # BLNSW: no cursor while a program runs
    ram[0xCD] = 0x14
    ram[0xF5], ram[0xF6] = 0x81, 0xEB  # KEYTAB
    ram[0xD2] = 0x04  # PNT: the screen's first line
    ram[0xB2], ram[0xB3] = 0x3C, 0x03  # TAPE1
    ram[0x0281], ram[0x0282], ram[0x0283], ram[0x0284] = 0x00, 0x08, 0x00, 0xA0
    ram[0x0286], ram[0x0288], ram[0x0289] = 0x0E, 0x04, 10  # COLOR, HIBASE, XMAX
    ram[0x028B], ram[0x028C] = 4, 0x10  # KOUNT, DELAY
    ram[0x028F], ram[0x0290] = 0x48, 0xEB  # KEYLOG


__all__ = ["BRK_TRAP", "ENTRIES", "JAM", "SOURCE", "UNEMULATED", "VECTORS", "kernal_image", "ram_after_boot"]
