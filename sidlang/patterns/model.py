"""The tracker level above the register language: songs of patterns, orderlists and instruments.

A :class:`Song` is what a person edits in a tracker (SID-Wizard's model): per voice an
:class:`Orderlist` of pattern numbers with transpose and repeat, :class:`Pattern` s of
:class:`Row` s ``note instrument effect``, and :class:`Instrument` s with ADSR, hard restart and
wave/arpeggio, pulse and filter tables. :mod:`sidlang.patterns.player` plays a Song into a
:class:`~sidlang.tune.Tune`; :mod:`~sidlang.patterns.parse` and :mod:`~sidlang.patterns.dump`
are the text form (``.sidp``, ``docs/patterns.md``) and its inverse.

The :data:`EFFECTS` table is the one place that knows the effect column's commands: the
parser, the printer and the player all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sidlang.pitch import HIGHEST_MIDI, LOWEST_MIDI, PAL_HZ
from sidlang.registers import MODE_BITS, ROUTE_BITS, VOICES, WAVE_BITS

GATE_OFF = -1  #: ``===`` in the note column: close the gate
MAX_CHIPS = 3  #: 2SID and 3SID songs: up to nine voices
MAX_INSTRUMENT = 99
MAX_PATTERN = 255
MAX_ROWS = 256  #: rows per pattern
MAX_TABLE = 255  #: steps per wave, pulse or filter table
MAX_REPEAT = 255
MAX_TRANSPOSE = 95
MAX_SPEED = 255  #: frames per row
MAX_SPEEDS = 2  #: one speed, or SID-Wizard's funktempo: two that alternate
MAX_LENGTH = 1 << 20  #: frames a subtune may be asked to last
MAX_TABLE_FRAMES = 255  #: frames one ``add`` step of a pulse or filter table may last
DEFAULT_HR = 2  #: hard-restart frames before a note, SID-Wizard's and GoatTracker's default
#: Wave bits a wave table step may set: everything but the gate, which the player owns.
WAVE_STEP_BITS = {k: v for k, v in WAVE_BITS.items() if k != "gate"}


@dataclass(frozen=True)
class EffectSpec:
    """One command of the effect column: its word, its arguments' ranges and what it does.

    ``flags`` names the bit names of a bit-set argument (``route:v1,v2``); such an effect has
    one argument. ``hexed`` arguments print as ``$hex``.
    """

    name: str
    ranges: tuple[tuple[int, int], ...]
    doc: str
    flags: dict[str, int] | None = None
    hexed: bool = False
    min_args: int = 0  #: 0 means all of ``ranges``

    @property
    def least(self) -> int:
        return self.min_args or len(self.ranges)


EFFECTS: dict[str, EffectSpec] = {
    e.name: e
    for e in [
        EffectSpec("up", ((0, 0xFFFF),), "portamento up: add N to the frequency every frame"),
        EffectSpec("dn", ((0, 0xFFFF),), "portamento down: take N from the frequency every frame"),
        EffectSpec(
            "tp", ((1, 0xFFFF),), "tone portamento: slide N per frame to the row's note, no retrigger"
        ),
        EffectSpec(
            "vib",
            ((1, 255), (0, 0xFFFF)),
            "vibrato S,D: a triangle of D per frame, S frames per quarter period",
        ),
        EffectSpec("pw", ((0, 0xFFF),), "set the pulse width", hexed=True),
        EffectSpec("cut", ((0, 0x7FF),), "set the filter cutoff", hexed=True),
        EffectSpec("res", ((0, 15),), "set the filter resonance"),
        EffectSpec("route", ((0, 15),), "voices through the filter", flags=ROUTE_BITS),
        EffectSpec("mode", ((0, 15),), "filter mode", flags=MODE_BITS),
        EffectSpec("vol", ((0, 15),), "master volume"),
        EffectSpec("ad", ((0, 255),), "set attack/decay", hexed=True),
        EffectSpec("sr", ((0, 255),), "set sustain/release", hexed=True),
        EffectSpec(
            "tempo", ((1, MAX_SPEED), (1, MAX_SPEED)), "frames per row; two alternate (funktempo)", min_args=1
        ),
    ]
}


@dataclass(frozen=True)
class Effect:
    name: str  #: a key of :data:`EFFECTS`
    args: tuple[int, ...]


@dataclass(frozen=True)
class Row:
    """One row of a pattern: ``note`` is a MIDI number, :data:`GATE_OFF` or None (``---``);
    ``instrument`` a number or None (``--``); ``effect`` an :class:`Effect` or None."""

    note: int | None = None
    instrument: int | None = None
    effect: Effect | None = None


@dataclass
class Pattern:
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class WaveStep:
    """One frame of a wave/arpeggio table: the waveform bits (None: keep the last ones) and a
    note, relative to the row's (semitones) or ``absolute`` (a MIDI number)."""

    wave: int | None = None
    note: int = 0
    absolute: bool = False


@dataclass(frozen=True)
class TableStep:
    """A pulse or filter table step: ``set`` a value (one frame) or ``add`` ``value`` every
    frame for ``frames`` frames."""

    kind: str  #: "set" or "add"
    value: int
    frames: int = 1


@dataclass
class Instrument:
    """ADSR, hard restart and three tables. A table ``loop`` is the step index it jumps back to
    after its last step; None holds the last step. An empty pulse or filter table leaves the
    pulse width or the filter alone; a filter table takes the chip's filter for this voice."""

    name: str = ""
    ad: int = 0
    sr: int = 0
    hr: int = DEFAULT_HR  #: frames before a new note: gate off and the HR ADSR
    hr_ad: int = 0
    hr_sr: int = 0
    wave: list[WaveStep] = field(default_factory=list)
    wave_loop: int | None = None
    pulse: list[TableStep] = field(default_factory=list)
    pulse_loop: int | None = None
    filter: list[TableStep] = field(default_factory=list)
    filter_loop: int | None = None
    fmode: int = MODE_BITS["lp"]  #: filter mode bits (high nibble of $18, shifted down)
    fres: int = 0  #: filter resonance
    #: The waveform (no gate) during the hard restart before a note (``hrwave``); None keeps
    #: the wave table's. SID-Wizard's player, for one, writes its own there.
    hr_wave: int | None = None


@dataclass(frozen=True)
class OrderEntry:
    pattern: int
    transpose: int = 0
    repeat: int = 1


@dataclass
class Orderlist:
    """The patterns one voice plays; ``loop`` the entry index play goes back to at the end
    (None: the voice stops there)."""

    entries: list[OrderEntry] = field(default_factory=list)
    loop: int | None = None


@dataclass
class Subtune:
    """A tempo (one speed, or two alternating: funktempo), an orderlist per voice (by 0-based
    voice index) and an optional length in frames (0: until every voice has played its
    orderlist once)."""

    tempo: tuple[int, ...] = (6,)
    orders: dict[int, Orderlist] = field(default_factory=dict)
    length: int = 0
    #: Raw register writes ``(frame, chip, reg, val)`` in order: what the patterns do not
    #: explain (``raw N`` in the text). On such a frame the player leaves out its own writes
    #: to every register the frame names and writes these instead (see ``docs/patterns.md``).
    raw: tuple[tuple[int, int, int, int], ...] = ()


@dataclass
class Song:
    title: str = ""
    author: str = ""
    released: str = ""
    clock_hz: int = PAL_HZ
    models: tuple[int, ...] = (6581,)
    chips: int = 1
    vol: int = 15
    instruments: dict[int, Instrument] = field(default_factory=dict)
    patterns: dict[int, Pattern] = field(default_factory=dict)
    subtunes: list[Subtune] = field(default_factory=list)
    #: The frequency register value of a MIDI note where it is not ``sidlang.pitch``'s
    #: (``pitch C-4 $1125``): a tracker's own note table, so its notes play exactly.
    pitch: dict[int, int] = field(default_factory=dict)
    frame_cycles: int = 0  #: cycles per frame (``frame N``); 0: the clock's (multispeed songs have less)

    @property
    def voices(self) -> int:
        return self.chips * VOICES


NOTE_RANGE = (LOWEST_MIDI, HIGHEST_MIDI)
