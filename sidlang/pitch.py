"""Clocks, frame lengths and the note table: SID frequency register <-> note names.

The SID's oscillator frequency is ``f = reg * clock / 2**24`` Hz. Note names are scientific
pitch (``C-4`` is middle C, MIDI 60; ``A-4`` is 440 Hz), written tracker style as a letter, a
sharp ``#`` or a dash, and an octave 0–7; flats (``Db4``) and the bare form (``C4``) are accepted
on input. An optional cent offset follows: ``A-4+12c``, ``C#3-5c``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

PAL_HZ = 985248
NTSC_HZ = 1022727
PAL_FRAME = 19656  #: 63 cycles x 312 lines
NTSC_FRAME = 17095  #: 65 cycles x 263 lines
CLOCK_NAMES = {"pal": PAL_HZ, "ntsc": NTSC_HZ}
DEFAULT_FRAME = {PAL_HZ: PAL_FRAME, NTSC_HZ: NTSC_FRAME}

NOTE_NAMES = ("C-", "C#", "D-", "D#", "E-", "F-", "F#", "G-", "G#", "A-", "A#", "B-")
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
NOTE_RE = re.compile(r"([A-Ga-g])([-#b]?)(\d)(?:([+-]\d{1,2})c)?")
LOWEST_MIDI = 12  #: C-0
HIGHEST_MIDI = 107  #: B-7


def default_frame_cycles(clock_hz: int) -> int:
    """Cycles per frame for a clock: PAL and NTSC exactly, others by PAL's 50 Hz."""
    return DEFAULT_FRAME.get(clock_hz, round(clock_hz / 50))


def midi_to_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def hz_to_reg(hz: float, clock_hz: int) -> int:
    return int(round(hz * (1 << 24) / clock_hz))


def reg_to_hz(reg: int, clock_hz: int) -> float:
    return reg * clock_hz / (1 << 24)


def note_name(midi: int, cents: int = 0) -> str:
    """``note_name(61) == "C#4"``; cents are appended as ``+12c``."""
    octave, pc = divmod(midi, 12)
    base = f"{NOTE_NAMES[pc]}{octave - 1}"
    return f"{base}{cents:+d}c" if cents else base


def parse_note(text: str) -> tuple[int, int] | None:
    """``"C#4+12c"`` gives ``(61, 12)``; anything that is not a note name gives None."""
    m = NOTE_RE.fullmatch(text)
    if m is None:
        return None
    letter, acc, octave, cents = m.groups()
    pc = _LETTER[letter.upper()] + {"#": 1, "b": -1}.get(acc, 0)
    midi = (int(octave) + 1) * 12 + pc
    return midi, int(cents) if cents else 0


def note_to_reg(midi: int, cents: int, clock_hz: int) -> int:
    """The frequency register value for a note and cent offset at a clock (at most $ffff)."""
    return min(hz_to_reg(midi_to_hz(midi + cents / 100), clock_hz), 0xFFFF)


def note_fits(midi: int, cents: int, clock_hz: int) -> bool:
    """Whether the SID can play the note at this clock (its register value fits 16 bits)."""
    return hz_to_reg(midi_to_hz(midi + cents / 100), clock_hz) <= 0xFFFF


@lru_cache(maxsize=8)
def reg_to_note_table(clock_hz: int) -> dict[int, str]:
    """Register values that a note name (with cents) parses back to exactly, and that name.

    Where several spellings give the same value, the one with the smallest cent offset wins;
    the printer uses this table, so what it prints always parses to the same value.
    """
    table: dict[int, tuple[int, str]] = {}
    for midi in range(LOWEST_MIDI, HIGHEST_MIDI + 1):
        for cents in range(-50, 50):
            if not note_fits(midi, cents, clock_hz):
                continue
            reg = note_to_reg(midi, cents, clock_hz)
            best = table.get(reg)
            if best is None or abs(cents) < best[0]:
                table[reg] = (abs(cents), note_name(midi, cents))
    return {reg: name for reg, (_, name) in table.items()}


def reg_to_midi(reg: int, clock_hz: int) -> float:
    """Fractional MIDI pitch of a frequency register value (``-inf`` for 0)."""
    if reg <= 0:
        return -math.inf
    return 69 + 12 * math.log2(reg_to_hz(reg, clock_hz) / 440.0)
