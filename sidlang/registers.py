"""The one table of SID registers, read by everything else.

The parser, the printer, the validator, the REPL completer and the token vocabulary all read
this module; no other module knows a register offset.

A chip has 32 register slots (``reg`` 0–31 in a :class:`~sidlang.tune.Tune`): 0–24 are the
writable registers, 25–28 read-only (paddles, oscillator 3, envelope 3) and 29–31 unused; the
last seven are kept so that any real register log survives a round trip.

*Fields* are what people type: whole registers (``ad``, ``wave``), multi-byte values split over
two registers (``freq``, ``pw``, ``cut``) and bit fields inside one register (``vol``, ``mode``,
``a``). Voice fields are numbered relative to their voice's block of seven registers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

N_REGS = 32  #: register slots per chip kept in a Tune
N_WRITABLE = 25  #: registers $00–$18
VOICES = 3
VOICE_STRIDE = 7  #: voice n's registers start at 7 * n
SID_BASE = 0xD400  #: address of the first SID, and the default for one chip
SID_STRIDE = 0x20  #: address step between the default SIDs ($d400, $d420, …): one 32-slot window

# Bit names of the control register ($04, $0B, $12), low bit first.
WAVE_BITS: dict[str, int] = {
    "gate": 0x01,
    "sync": 0x02,
    "ring": 0x04,
    "test": 0x08,
    "tri": 0x10,
    "saw": 0x20,
    "pulse": 0x40,
    "noise": 0x80,
}
# The filter routing nibble of $17 and the mode nibble of $18 (shifted down by 4).
ROUTE_BITS: dict[str, int] = {"v1": 0x1, "v2": 0x2, "v3": 0x4, "ext": 0x8}
MODE_BITS: dict[str, int] = {"lp": 0x1, "bp": 0x2, "hp": 0x4, "3off": 0x8}

# Print order of bit names: waveforms first, then the modifier bits, gate last, the way
# musicians say "pulse, gate".
WAVE_PRINT_ORDER = ("noise", "pulse", "saw", "tri", "test", "ring", "sync", "gate")


@dataclass(frozen=True)
class Register:
    """One register slot of a chip."""

    offset: int  #: 0–31
    name: str  #: canonical name, e.g. ``freq_lo`` (voice-relative) or ``cut_lo``
    voice: int | None  #: 0–2 for voice registers, None for the rest
    writable: bool
    doc: str

    @property
    def rel(self) -> int:
        """The offset inside the voice's block (0–6) for voice registers, else the offset."""
        return self.offset - VOICE_STRIDE * self.voice if self.voice is not None else self.offset


@dataclass(frozen=True)
class Field:
    """A named thing a person writes: a whole register, a wide value or a bit field.

    For ``kind == "byte"`` the field is register ``regs[0]``; for ``"wide"`` the value is split
    into ``regs[0]`` (low ``lo_bits`` bits) and ``regs[1]`` (the rest, ``bits - lo_bits``
    bits); for ``"sub"`` it is ``width`` bits at ``shift`` inside ``regs[0]``. ``regs`` are
    voice-relative (0–6) when ``voiced`` and chip offsets otherwise.
    """

    name: str
    kind: str  #: "byte", "wide" or "sub"
    voiced: bool
    regs: tuple[int, ...]
    bits: int = 8
    lo_bits: int = 8
    shift: int = 0
    flags: dict[str, int] = field(default_factory=dict)  #: symbolic bits, if a bit set
    notes: bool = False  #: accepts note names (frequency)
    doc: str = ""
    order: tuple[str, ...] | None = None  #: print order of ``flags`` (default: low bit first)

    @property
    def max(self) -> int:
        return (1 << self.bits) - 1

    @property
    def mask(self) -> int:
        """For ``sub`` fields: the bits of the register the field occupies."""
        return ((1 << self.bits) - 1) << self.shift

    def offsets(self, voice: int | None = None) -> tuple[int, ...]:
        """Chip offsets of the field's registers; ``voice`` (0–2) for a voiced field."""
        base = VOICE_STRIDE * voice if self.voiced else 0
        return tuple(base + r for r in self.regs)

    def decode(self, *raw):
        """The field's value from the bytes of its registers (``lo, hi`` for a wide field).

        Works on ints and on NumPy integer arrays alike.
        """
        if self.kind == "wide":
            lo, hi = raw
            return ((hi << self.lo_bits) | (lo & ((1 << self.lo_bits) - 1))) & self.max
        if self.kind == "sub":
            return (raw[0] >> self.shift) & self.max
        return raw[0]

    def encode(self, value: int, old: int = 0) -> tuple[int, ...]:
        """The bytes of the field's registers for ``value``: the inverse of :meth:`decode`.

        A ``sub`` field keeps the other bits of ``old``, its register's value before.
        """
        if self.kind == "wide":
            return (value & ((1 << self.lo_bits) - 1), value >> self.lo_bits)
        if self.kind == "sub":
            return ((old & ~self.mask) | (value << self.shift & self.mask),)
        return (value,)

    def read(self, state, voice: int | None = None):
        """The field's value in a register state indexed by offset (``state[offset]``)."""
        return self.decode(*(state[o] for o in self.offsets(voice)))

    def text(self, value: int) -> str:
        """The printed form of a value: bit names, decimal for a bit field, else hex digits."""
        if self.flags:
            return bits_to_names(value, self.flags, self.order)
        if self.kind == "sub":
            return str(value)
        return f"${value:0{(self.bits + 3) // 4}x}"


def _voice_registers(v: int) -> list[Register]:
    base = v * VOICE_STRIDE
    names = [
        ("freq_lo", "frequency, low byte"),
        ("freq_hi", "frequency, high byte"),
        ("pw_lo", "pulse width, low byte"),
        ("pw_hi", "pulse width, high nibble"),
        ("wave", "control: waveform, ring, sync, test, gate"),
        ("ad", "attack (high nibble) and decay (low nibble)"),
        ("sr", "sustain (high nibble) and release (low nibble)"),
    ]
    return [Register(base + i, n, v, True, f"voice {v + 1} {d}") for i, (n, d) in enumerate(names)]


REGISTERS: tuple[Register, ...] = tuple(
    [r for v in range(VOICES) for r in _voice_registers(v)]
    + [
        Register(21, "cut_lo", None, True, "filter cutoff, low 3 bits"),
        Register(22, "cut_hi", None, True, "filter cutoff, high 8 bits"),
        Register(23, "res_route", None, True, "resonance (high nibble), filter routing (low)"),
        Register(24, "mode_vol", None, True, "filter mode and voice 3 off (high), volume (low)"),
        Register(25, "potx", None, False, "paddle X (read-only)"),
        Register(26, "poty", None, False, "paddle Y (read-only)"),
        Register(27, "osc3", None, False, "oscillator 3 output (read-only)"),
        Register(28, "env3", None, False, "envelope 3 output (read-only)"),
        Register(29, "unused29", None, False, "unused"),
        Register(30, "unused30", None, False, "unused"),
        Register(31, "unused31", None, False, "unused"),
    ]
)
assert [r.offset for r in REGISTERS] == list(range(N_REGS))

FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        Field(
            "freq",
            "wide",
            True,
            (0, 1),
            bits=16,
            notes=True,
            doc="oscillator frequency, 16 bits; a note name like C#4 or A-4+12c",
        ),
        Field("pw", "wide", True, (2, 3), bits=12, doc="pulse width, 12 bits"),
        Field("freq_lo", "byte", True, (0,), doc="frequency, low byte"),
        Field("freq_hi", "byte", True, (1,), doc="frequency, high byte"),
        Field("pw_lo", "byte", True, (2,), doc="pulse width, low byte"),
        Field("pw_hi", "byte", True, (3,), doc="pulse width, high nibble (whole byte kept)"),
        Field(
            "wave",
            "byte",
            True,
            (4,),
            flags=WAVE_BITS,
            order=WAVE_PRINT_ORDER,
            doc="control register: tri saw pulse noise ring sync test gate",
        ),
        Field("ad", "byte", True, (5,), doc="attack/decay"),
        Field("sr", "byte", True, (6,), doc="sustain/release"),
        Field("a", "sub", True, (5,), bits=4, shift=4, doc="attack, 0–15"),
        Field("d", "sub", True, (5,), bits=4, shift=0, doc="decay, 0–15"),
        Field("s", "sub", True, (6,), bits=4, shift=4, doc="sustain, 0–15"),
        Field("r", "sub", True, (6,), bits=4, shift=0, doc="release, 0–15"),
        Field("cut", "wide", False, (21, 22), bits=11, lo_bits=3, doc="filter cutoff, 11 bits"),
        Field("cut_lo", "byte", False, (21,), doc="filter cutoff, low 3 bits (whole byte kept)"),
        Field("cut_hi", "byte", False, (22,), doc="filter cutoff, high 8 bits"),
        Field("res", "sub", False, (23,), bits=4, shift=4, doc="filter resonance, 0–15"),
        Field(
            "route",
            "sub",
            False,
            (23,),
            bits=4,
            shift=0,
            flags=ROUTE_BITS,
            doc="voices through the filter: v1 v2 v3 ext",
        ),
        Field(
            "mode",
            "sub",
            False,
            (24,),
            bits=4,
            shift=4,
            flags=MODE_BITS,
            doc="filter mode: lp bp hp, and 3off (voice 3 silent)",
        ),
        Field("vol", "sub", False, (24,), bits=4, shift=0, doc="master volume, 0–15"),
    ]
}
#: Other spellings accepted on input; the printer uses the canonical names.
ALIASES: dict[str, str] = {"ctrl": "wave", "cutoff": "cut", "volume": "vol", "filter": "route"}

#: How the printer shows each writable register, by :attr:`Register.rel` (0–6 in a voice's
#: block, 21–24 for the globals): the fields that together cover its eight bits, in print
#: order. Two-byte fields (``freq=A-4``) are printed in place of a low and high byte where
#: that parses back the same.
PRINT_FIELDS: dict[int, tuple[str, ...]] = {
    0: ("freq_lo",),
    1: ("freq_hi",),
    2: ("pw_lo",),
    3: ("pw_hi",),
    4: ("wave",),
    5: ("ad",),
    6: ("sr",),
    21: ("cut_lo",),
    22: ("cut_hi",),
    23: ("res", "route"),
    24: ("mode", "vol"),
}

CONTEXT_WORDS = ("v1", "v2", "v3")  #: voice context tokens


def _wide_low() -> dict[int, Field]:
    out: dict[int, Field] = {}
    for f in FIELDS.values():
        if f.kind == "wide":
            for base in [v * VOICE_STRIDE for v in range(VOICES)] if f.voiced else [0]:
                out[base + f.regs[0]] = f
    return out


#: Two-byte fields by the register of their low byte (its high byte is the next register).
WIDE_LOW: dict[int, Field] = _wide_low()


def sid_addresses(chips: int) -> tuple[int, ...]:
    """The default base addresses of ``chips`` SIDs: $d400, $d420, …"""
    return tuple(SID_BASE + SID_STRIDE * i for i in range(chips))


def bits_to_names(value: int, flags: dict[str, int], order: tuple[str, ...] | None = None) -> str:
    """``0x41`` with :data:`WAVE_BITS` gives ``"pulse,gate"``; 0 gives ``"0"``."""
    names = order or tuple(sorted(flags, key=flags.__getitem__))
    parts = [n for n in names if value & flags[n]]
    return ",".join(parts) if parts else "0"
