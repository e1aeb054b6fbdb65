"""A small SID player routine in Python: voice notes and a style's instruments to register writes.

It does per frame what a C64 music player does once per interrupt: for each voice it steps the
current instrument (waveform sequence, absolute drum pitches, arpeggio, vibrato, pulse sweep),
and at a new note writes the ADSR and opens the gate; a note that follows another without a gap
gets the gate closed and reopened inside one frame so the envelope restarts, and an instrument
with ``hard_restart`` closes the gate and zeroes the ADSR that many frames before the next note
(the cure for the SID's ADSR delay bug). The filter and volume are written last. Only registers
whose value changes are written, the way real players save raster time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sidlang.pitch import hz_to_reg, midi_to_hz
from sidlang.registers import FIELDS, N_WRITABLE, VOICE_STRIDE, VOICES, WAVE_BITS
from sidlang.tune import Header, Tune, make_writes

from .styles import Instrument, Style

GATE = WAVE_BITS["gate"]
TAIL_FRAMES = 50  #: frames after the last gate-off, so the last release is heard
_FREQ, _PW = FIELDS["freq"].regs, FIELDS["pw"].regs
_WAVE, _AD, _SR = FIELDS["wave"].regs[0], FIELDS["ad"].regs[0], FIELDS["sr"].regs[0]
_CUT, _RES, _MODE = FIELDS["cut"].regs, FIELDS["res"].regs[0], FIELDS["mode"].regs[0]
_CUT_LO_BITS = FIELDS["cut"].lo_bits


@dataclass(frozen=True)
class VoiceNote:
    """A note on one voice: frames ``start`` to ``end`` (gate-off frame, exclusive).

    ``pitches`` holds one MIDI pitch, or the chord tones an arpeggio steps through.
    ``bends`` is a step curve of ``(frames after start, semitones)``.
    """

    start: int
    end: int
    pitches: tuple[int, ...]
    instrument: str
    bends: tuple[tuple[int, float], ...] = ()


def _bounce(start: int, step: int, k: int, low: int, high: int) -> int:
    """``start + step * k`` reflected back and forth between ``low`` and ``high``."""
    span = high - low
    if step == 0 or span <= 0:
        return min(max(start, low), high) if span >= 0 else start
    pos = (start - low + step * k) % (2 * span)
    return low + (pos if pos <= span else 2 * span - pos)


def _vibrato(inst: Instrument, k: int) -> float:
    """Vibrato offset in semitones at frame ``k`` of a note: a triangle starting at 0."""
    v = inst.vibrato
    if v.depth == 0 or k < v.delay:
        return 0.0
    p = ((k - v.delay) % v.period) / v.period
    tri = 4 * p if p < 0.25 else 2 - 4 * p if p < 0.75 else 4 * p - 4
    return tri * v.depth / 100


class _Voice:
    """Register values of one voice per frame (``None``: the player leaves the register alone)."""

    def __init__(self, n: int) -> None:
        self.freq: list[int | None] = [None] * n
        self.pw: list[int | None] = [None] * n
        self.ctrl: list[int | None] = [None] * n
        self.adsr: list[tuple[int, int] | None] = [None] * n
        self.retrigger = [False] * n
        self.inst: list[tuple[Instrument, int] | None] = [None] * n  # sounding instrument, frame in note


def _schedule(notes: Sequence[VoiceNote], style: Style, n: int, clock_hz: int) -> _Voice:
    out = _Voice(n)
    cache: dict[float, int] = {}
    notes = sorted(notes, key=lambda x: x.start)
    prev_gate_end = -1
    for i, note in enumerate(notes):
        if note.start >= n:
            break
        inst = style.instrument(note.instrument)
        next_start = notes[i + 1].start if i + 1 < len(notes) else n
        if next_start <= note.start:
            continue  # two notes in one frame on one voice: the later one wins
        gate_end = note.start + inst.length if inst.length else note.end
        gate_end = max(note.start + 1, min(gate_end, next_start))
        hr_from = next_start
        if inst.hard_restart and i + 1 < len(notes):
            hr_from = max(note.start + 1, next_start - inst.hard_restart)
            gate_end = min(gate_end, hr_from)
        out.adsr[note.start] = (inst.ad, inst.sr)
        out.retrigger[note.start] = prev_gate_end == note.start
        bends = sorted(note.bends)
        b, bend = 0, 0.0
        for f in range(note.start, next_start):
            k = f - note.start
            while b < len(bends) and bends[b][0] <= k:
                bend = bends[b][1]
                b += 1
            if inst.notes:
                pitch = float(inst.notes[min(k, len(inst.notes) - 1)])
            else:
                chord = note.pitches
                pitch = chord[(k // style.arpeggio_speed) % len(chord)] + bend + _vibrato(inst, k)
            freq = cache.get(pitch)
            if freq is None:  # arpeggios and drums repeat a few pitches thousands of times
                freq = cache[pitch] = min(max(hz_to_reg(midi_to_hz(pitch), clock_hz), 0), 0xFFFF)
            out.freq[f] = freq
            if inst.wave[min(k, len(inst.wave) - 1)] & WAVE_BITS["pulse"]:
                p = inst.pulse
                out.pw[f] = _bounce(p.start, p.sweep, k, p.low, p.high)
            wave = inst.wave[min(k, len(inst.wave) - 1)]
            out.ctrl[f] = wave | (GATE if f < gate_end else 0)
            out.inst[f] = (inst, k)
            if f >= hr_from and f > note.start:
                out.adsr[f] = (0, 0)
        prev_gate_end = gate_end
    return out


class _Registers:
    """What one chip's registers hold, and the writes of the frame being built."""

    def __init__(self) -> None:
        self.now = [-1] * N_WRITABLE  # -1: never written, so the first value is always written
        self.pending: list[tuple[int, int]] = []

    def put(self, reg: int, val: int, force: bool = False) -> None:
        if force or self.now[reg] != val:
            self.pending.append((reg, val))
            self.now[reg] = val

    def take(self) -> list[tuple[int, int]]:
        out, self.pending = self.pending, []
        return out


def play(
    voices: Sequence[Sequence[VoiceNote]], style: Style, header: Header, tail: int = TAIL_FRAMES
) -> Tune:
    """A Tune playing ``voices`` (three per chip, in chip order) with ``style``'s instruments.

    The Tune's length is the last gate-off plus ``tail`` frames; ``header.frames`` is set to it.
    """
    if len(voices) > VOICES * header.chips:
        raise ValueError(f"{len(voices)} voices for {header.chips} chip(s)")
    last = max((note.end for notes in voices for note in notes), default=0)
    n = last + tail
    sched = [_schedule(notes, style, n, header.clock_hz) for notes in voices]
    gap = header.gap or 8
    cyc: list[int] = []
    chips: list[int] = []
    regs: list[int] = []
    vals: list[int] = []
    for chip in range(header.chips):
        mine = sched[chip * VOICES : (chip + 1) * VOICES]
        regs_of = _Registers()
        for f in range(n):
            base = header.start_cycle + f * header.frame_cycles
            put = regs_of.put
            route, filt = 0, None
            for v, sv in enumerate(mine):
                o = v * VOICE_STRIDE
                if sv.freq[f] is not None:
                    put(o + _FREQ[0], sv.freq[f] & 0xFF)
                    put(o + _FREQ[1], sv.freq[f] >> 8)
                if sv.pw[f] is not None:
                    put(o + _PW[0], sv.pw[f] & 0xFF)
                    put(o + _PW[1], sv.pw[f] >> 8)
                if sv.adsr[f] is not None:
                    put(o + _AD, sv.adsr[f][0])
                    put(o + _SR, sv.adsr[f][1])
                if sv.ctrl[f] is not None:
                    if sv.retrigger[f]:
                        put(o + _WAVE, sv.ctrl[f] & ~GATE, force=True)
                    put(o + _WAVE, sv.ctrl[f], force=sv.retrigger[f])
                playing = sv.inst[f]
                if playing is not None and playing[0].filter is not None:
                    route |= 1 << v
                    filt = filt or playing
            now = regs_of.now
            if filt is not None:
                fl, k = filt[0].filter, filt[1]
                cut = _bounce(fl.cutoff, fl.sweep, k, fl.low, fl.high)
                put(_CUT[0], cut & ((1 << _CUT_LO_BITS) - 1))
                put(_CUT[1], cut >> _CUT_LO_BITS)
                put(_RES, fl.resonance << 4 | route)
                put(_MODE, fl.mode << 4 | style.volume)
            else:
                if now[_RES] > 0 and now[_RES] & 0x0F:
                    put(_RES, now[_RES] & 0xF0)  # nothing filtered now: route nothing
                put(_MODE, (max(now[_MODE], 0) & 0xF0) | style.volume)
            for j, (reg, val) in enumerate(regs_of.take()):
                cyc.append(base + j * gap)
                chips.append(chip)
                regs.append(reg)
                vals.append(val)
    order = sorted(range(len(cyc)), key=cyc.__getitem__)  # stable: chips interleave by time
    writes = make_writes(
        [cyc[i] for i in order], [chips[i] for i in order], [regs[i] for i in order], [vals[i] for i in order]
    )
    return Tune(header.replace(frames=n, gap=gap), writes)
