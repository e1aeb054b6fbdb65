"""Notes as a listener hears them, read from a Tune's register state frame by frame.

A note starts where a voice's gate opens: a rising gate bit between frames, or a gate closed
and reopened inside one frame (a retrigger, which the end-of-frame state cannot show, so the
control-register writes of the frame are read). It ends where the gate closes or the next note
starts. Its pitch is the frequency register at the onset, tuned with the tune's own clock; the
frames after follow the register as a deviation in semitones (slides, vibrato, arpeggios). A
deviation beyond ``split`` semitones ends the note there and starts a new one at the new pitch,
as a tracker's legato note would. A note whose onset waveform has the noise bit is a drum.

MIDI export (:mod:`sidlang.formats.midi`) and the arranger's measurements read this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sidlang.registers import FIELDS, VOICE_STRIDE, VOICES, WAVE_BITS
from sidlang.tune import Tune

_FREQ = FIELDS["freq"].regs
_WAVE, _SR = FIELDS["wave"].regs[0], FIELDS["sr"].regs[0]
_VOL, _CUT, _RES = FIELDS["vol"], FIELDS["cut"], FIELDS["res"]
GATE, NOISE = WAVE_BITS["gate"], WAVE_BITS["noise"]
#: Deviations smaller than this (semitones) count as none: a note table's rounding to whole
#: register values is a few cents at most in the bass, far below any vibrato or slide.
TOLERANCE = 0.03


@dataclass(frozen=True)
class SidNote:
    """A note on ``voice`` (0–2) of ``chip``: frames ``start`` to ``end`` (exclusive)."""

    chip: int
    voice: int
    start: int
    end: int
    pitch: int  #: MIDI pitch at the onset, rounded
    velocity: int  #: 1–127, from the sustain level and the master volume
    wave: int  #: control-register waveform bits at the onset (no gate)
    drum: bool
    bends: tuple[
        tuple[int, float], ...
    ] = ()  #: (frames after start, semitones off ``pitch``) where it changes
    onset_pitch: float = 0.0  #: exact (fractional) MIDI pitch at the onset


@dataclass(frozen=True)
class VoiceFrames:
    """Per-frame arrays of one voice: gate, note onsets, pitch (NaN where the frequency is 0)."""

    gate: np.ndarray  #: bool
    onset: np.ndarray  #: bool: a note starts in this frame
    pitch: np.ndarray  #: float MIDI pitch
    ctrl: np.ndarray  #: uint8 control register
    pw: np.ndarray  #: pulse width, 12 bits
    routed: np.ndarray  #: bool: the voice goes through the filter


def voice_frames(tune: Tune, chip: int, voice: int) -> VoiceFrames:
    """The per-frame view of one voice (see the module docstring for what an onset is)."""
    state = tune.frames.state(chip)
    o = voice * VOICE_STRIDE
    freq = state[:, o + _FREQ[0]].astype(np.int64) | state[:, o + _FREQ[1]].astype(np.int64) << 8
    ctrl = state[:, o + _WAVE]
    gate = (ctrl & GATE).astype(bool)
    with np.errstate(divide="ignore"):
        hz = freq * tune.header.clock_hz / (1 << 24)
        pitch = np.where(freq > 0, 69 + 12 * np.log2(np.maximum(hz, 1e-9) / 440.0), np.nan)
    onset = gate & ~np.concatenate(([False], gate[:-1]))
    w = tune.writes
    sel = (w["chip"] == chip) & (w["reg"] == o + _WAVE) & ((w["val"] & GATE) == 0)
    frames = tune.frames.index[sel]
    onset[frames[gate[frames]]] = True  # gate closed and reopened within the frame
    pw = (
        state[:, o + FIELDS["pw"].regs[0]].astype(np.int64)
        | (state[:, o + FIELDS["pw"].regs[1]].astype(np.int64) & 0x0F) << 8
    )
    routed = (state[:, FIELDS["route"].regs[0]] >> voice & 1).astype(bool)
    return VoiceFrames(gate, onset, pitch, ctrl, pw, routed)


def velocity(sr: int, vol: int) -> int:
    """MIDI velocity from the sustain nibble of ``sr`` and the master volume: both scale loudness."""
    sustain = sr >> 4
    return int(min(127, max(1, round(127 * (vol / 15) * (0.4 + 0.6 * sustain / 15)))))


def notes(tune: Tune, split: float = 12.0) -> list[SidNote]:
    """Every note of every voice, in (chip, voice, start) order."""
    out: list[SidNote] = []
    for chip in range(tune.header.chips):
        state = tune.frames.state(chip)
        vol = (state[:, _VOL.regs[0]] & _VOL.mask) >> _VOL.shift
        for voice in range(VOICES):
            vf = voice_frames(tune, chip, voice)
            sr = state[:, voice * VOICE_STRIDE + _SR]
            out += _voice_notes(vf, chip, voice, sr, vol, split)
    return out


def _dev(semitones: float) -> float:
    return round(semitones, 4) if abs(semitones) >= TOLERANCE else 0.0


def _voice_notes(vf: VoiceFrames, chip: int, voice: int, sr, vol, split: float) -> list[SidNote]:
    n = len(vf.gate)
    out: list[SidNote] = []
    starts = np.flatnonzero(vf.onset)
    for i, s in enumerate(starts):
        limit = int(starts[i + 1]) if i + 1 < len(starts) else n
        closed = np.flatnonzero(~vf.gate[s + 1 : limit])
        end = int(s + 1 + closed[0]) if len(closed) else limit
        wave = int(vf.ctrl[s]) & ~GATE
        drum = bool(wave & NOISE)
        a = int(s)
        while a < end:
            p0 = vf.pitch[a]
            if np.isnan(p0):  # frequency 0: silent until the register is set
                a += 1
                continue
            base = int(min(127, max(0, round(float(p0)))))  # MIDI's range; bends keep the rest
            bends: list[tuple[int, float]] = []
            last = _dev(float(p0) - base)
            if last:
                bends.append((0, last))
            b = a + 1
            while b < end and not drum:
                p = vf.pitch[b]
                if not np.isnan(p):
                    dev = _dev(float(p) - base)
                    if abs(dev) > split:
                        break
                    if dev != last:
                        bends.append((b - a, dev))
                        last = dev
                b += 1
            if drum:
                b = end
            out.append(
                SidNote(
                    chip,
                    voice,
                    a,
                    b,
                    base,
                    velocity(int(sr[a]), int(vol[a])),
                    wave,
                    drum,
                    tuple(bends),
                    float(p0),
                )
            )
            a = b
    return out
