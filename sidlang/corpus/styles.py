"""Arrangement styles and instruments, read from YAML presets.

A style says which SID voice plays the melody, the bass and the harmony, with which
instrument, how fast chords are arpeggiated and where drums go. Instruments are what a C64
player routine knows: ADSR, a waveform sequence (one entry per frame, the last one held),
absolute drum pitches, a pulse-width sweep, vibrato, hard restart and a filter.

Presets ship in ``sidlang/corpus/styles/*.yaml``; a user copies one, edits it and passes the
file's path as the style. Every key is checked: an unknown key or a value out of range is a
one-line :class:`~sidlang.errors.SidlangError` naming the file and the key. The schema is
written out in ``docs/midi.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sidlang.errors import SidlangError
from sidlang.pitch import HIGHEST_MIDI, LOWEST_MIDI, parse_note
from sidlang.registers import MODE_BITS, VOICES, WAVE_BITS

#: Kit pieces a style can map to instruments; the arranger sorts General MIDI drums into them.
DRUM_PIECES = ("kick", "snare", "hat", "tom", "cymbal")


@dataclass(frozen=True)
class Pulse:
    """Pulse width: ``start``, then ``sweep`` per frame, bouncing between ``low`` and ``high``."""

    start: int = 0x800
    sweep: int = 0
    low: int = 0x100
    high: int = 0xF00


@dataclass(frozen=True)
class Vibrato:
    """After ``delay`` frames, a triangle of ``depth`` cents each way, ``period`` frames long."""

    delay: int = 0
    depth: float = 0.0
    period: int = 8


@dataclass(frozen=True)
class Filter:
    """The chip's filter while this instrument sounds: cutoff sweep from note start."""

    cutoff: int = 0x400
    sweep: int = 0
    low: int = 0
    high: int = 0x7FF
    resonance: int = 0
    mode: int = MODE_BITS["lp"]  #: bits of MODE_BITS (the YAML names them: lp, bp, hp)


@dataclass(frozen=True)
class Instrument:
    """One sound. ``wave`` holds control-register bits without the gate, one entry per frame."""

    name: str
    attack: int = 0
    decay: int = 9
    sustain: int = 10
    release: int = 4
    wave: tuple[int, ...] = (WAVE_BITS["pulse"],)
    notes: tuple[int, ...] = ()  #: absolute MIDI pitch per frame (drums); empty: the note's pitch
    length: int = 0  #: fixed gate length in frames (drums); 0: the note's own
    hard_restart: int = 0  #: frames of gate-off with ADSR 0 before the next note
    pulse: Pulse = field(default_factory=Pulse)
    vibrato: Vibrato = field(default_factory=Vibrato)
    filter: Filter | None = None

    @property
    def ad(self) -> int:
        return self.attack << 4 | self.decay

    @property
    def sr(self) -> int:
        return self.sustain << 4 | self.release


@dataclass(frozen=True)
class Role:
    """A part of the arrangement on one voice (0-based ``voice``), played by ``instrument``."""

    voice: int
    instrument: str
    transpose: int = 0  #: semitones added to every note


@dataclass(frozen=True)
class Drums:
    """Drum hits on ``voice`` (0-based); ``kit`` maps pieces (:data:`DRUM_PIECES`) to instruments."""

    voice: int
    kit: dict[str, str]


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    melody: Role
    bass: Role
    harmony: Role
    drums: Drums | None
    instruments: dict[str, Instrument]
    volume: int = 15
    arpeggio_speed: int = 1  #: frames per chord tone
    max_chord: int = 3  #: chord tones an arpeggio cycles through at most

    def instrument(self, name: str) -> Instrument:
        return self.instruments[name]


# -- reading ---------------------------------------------------------------------------------


class _Reader:
    """Checks one YAML mapping at a time; every error names the file and the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> SidlangError:
        return SidlangError(f"style {where}: {message}", file=self.source)

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(map(str, value)) - set(allowed))
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r} (known: {', '.join(allowed)})")
        return value

    def int_(self, value: Any, where: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(where, f"expected a whole number {lo}–{hi}, got {value!r}")
        return value

    def wave(self, value: Any, where: str) -> int:
        names = str(value).replace("+", ",").split(",")
        bits = 0
        for name in (n.strip() for n in names):
            if name not in WAVE_BITS or name == "gate":
                known = ", ".join(n for n in WAVE_BITS if n != "gate")
                raise self.fail(
                    where, f"unknown waveform {name!r} (known: {known}; the player sets the gate)"
                )
            bits |= WAVE_BITS[name]
        return bits

    def note(self, value: Any, where: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            midi = value
        else:
            parsed = parse_note(str(value))
            if parsed is None or parsed[1]:
                raise self.fail(where, f"expected a note like C-4 or a MIDI number, got {value!r}")
            midi = parsed[0]
        return self.int_(midi, where, LOWEST_MIDI, HIGHEST_MIDI)

    def sub(self, cls, value: Any, where: str, limits: dict[str, tuple[int, int]]):
        names = tuple(f.name for f in fields(cls))
        raw = self.mapping(value, where, names)
        out = {}
        for key, v in raw.items():
            if key == "mode":
                out[key] = self.mode(v, f"{where}.mode")
            elif key == "depth":
                if not isinstance(v, int | float) or not 0 <= v <= 1200:
                    raise self.fail(f"{where}.depth", f"expected cents 0–1200, got {v!r}")
                out[key] = float(v)
            else:
                out[key] = self.int_(v, f"{where}.{key}", *limits[key])
        return cls(**out)

    def mode(self, value: Any, where: str) -> int:
        bits = 0
        for name in str(value).replace("+", ",").split(","):
            name = name.strip()
            if name not in ("lp", "bp", "hp"):
                raise self.fail(where, f"unknown filter mode {name!r} (known: lp, bp, hp)")
            bits |= MODE_BITS[name]
        return bits

    def instrument(self, name: str, value: Any) -> Instrument:
        where = f"instruments.{name}"
        keys = tuple(f.name for f in fields(Instrument) if f.name != "name")
        raw = self.mapping(value, where, keys)
        out: dict[str, Any] = {"name": name}
        for key in ("attack", "decay", "sustain", "release"):
            if key in raw:
                out[key] = self.int_(raw[key], f"{where}.{key}", 0, 15)
        for key, hi in (("length", 1000), ("hard_restart", 4)):
            if key in raw:
                out[key] = self.int_(raw[key], f"{where}.{key}", 0, hi)
        if "wave" in raw:
            seq = raw["wave"] if isinstance(raw["wave"], list) else [raw["wave"]]
            if not seq:
                raise self.fail(f"{where}.wave", "needs at least one waveform")
            out["wave"] = tuple(self.wave(w, f"{where}.wave[{i}]") for i, w in enumerate(seq))
        if "notes" in raw:
            seq = raw["notes"] if isinstance(raw["notes"], list) else [raw["notes"]]
            out["notes"] = tuple(self.note(n, f"{where}.notes[{i}]") for i, n in enumerate(seq))
        if "pulse" in raw:
            out["pulse"] = self.sub(
                Pulse,
                raw["pulse"],
                f"{where}.pulse",
                {
                    k: (-0xFFF, 0xFFF) if k == "sweep" else (0, 0xFFF)
                    for k in ("start", "sweep", "low", "high")
                },
            )
        if "vibrato" in raw:
            out["vibrato"] = self.sub(
                Vibrato, raw["vibrato"], f"{where}.vibrato", {"delay": (0, 1000), "period": (1, 1000)}
            )
        if raw.get("filter") is not None:
            lim = {k: (0, 0x7FF) for k in ("cutoff", "low", "high")}
            lim.update(sweep=(-0x7FF, 0x7FF), resonance=(0, 15))
            out["filter"] = self.sub(Filter, raw["filter"], f"{where}.filter", lim)
        return Instrument(**out)

    def role(self, key: str, value: Any, instruments: dict[str, Instrument]) -> Role:
        raw = self.mapping(value, key, ("voice", "instrument", "transpose"))
        for need in ("voice", "instrument"):
            if need not in raw:
                raise self.fail(key, f"missing {need!r}")
        inst = str(raw["instrument"])
        if inst not in instruments:
            raise self.fail(f"{key}.instrument", f"no instrument named {inst!r}")
        voice = self.int_(raw["voice"], f"{key}.voice", 1, VOICES) - 1
        return Role(voice, inst, self.int_(raw.get("transpose", 0), f"{key}.transpose", -48, 48))

    def style(self, name: str, doc: Any) -> Style:
        keys = (
            "name",
            "description",
            "melody",
            "bass",
            "harmony",
            "drums",
            "instruments",
            "volume",
            "arpeggio_speed",
            "max_chord",
        )
        raw = self.mapping(doc, "file", keys)
        inst_raw = self.mapping(
            raw.get("instruments"), "instruments", tuple(map(str, raw.get("instruments") or {}))
        )
        instruments = {str(k): self.instrument(str(k), v) for k, v in inst_raw.items()}
        roles = {k: self.role(k, raw.get(k), instruments) for k in ("melody", "bass", "harmony")}
        if len({r.voice for r in roles.values()}) != 3:
            raise self.fail("voices", "melody, bass and harmony need three different voices")
        drums = None
        if raw.get("drums") is not None:
            d = self.mapping(raw["drums"], "drums", ("voice", *DRUM_PIECES))
            voice = self.int_(d.get("voice", 0), "drums.voice", 1, VOICES) - 1
            if voice == roles["melody"].voice:
                raise self.fail("drums.voice", "drums may not share the melody's voice")
            kit = {p: str(d[p]) for p in DRUM_PIECES if d.get(p) is not None}
            for piece, inst in kit.items():
                if inst not in instruments:
                    raise self.fail(f"drums.{piece}", f"no instrument named {inst!r}")
            drums = Drums(voice, kit)
        return Style(
            name=str(raw.get("name", name)),
            description=str(raw.get("description", "")),
            drums=drums,
            instruments=instruments,
            **roles,
            volume=self.int_(raw.get("volume", 15), "volume", 0, 15),
            arpeggio_speed=self.int_(raw.get("arpeggio_speed", 1), "arpeggio_speed", 1, 64),
            max_chord=self.int_(raw.get("max_chord", 3), "max_chord", 1, 8),
        )


def _preset_files() -> dict[str, Any]:
    folder = resources.files("sidlang.corpus") / "styles"
    return {p.name[: -len(".yaml")]: p for p in folder.iterdir() if p.name.endswith(".yaml")}


def style_names() -> list[str]:
    """Names of the presets that ship with the package, sorted."""
    return sorted(_preset_files())


def parse_style(text: str, name: str = "style", source: str = "<style>") -> Style:
    """A :class:`Style` from YAML text; ``source`` names the file in error messages."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SidlangError(f"not valid YAML{where}: {getattr(e, 'problem', e)}", file=source) from None
    return _Reader(source).style(name, doc)


@lru_cache(maxsize=32)
def _load_preset(name: str) -> Style:
    path = _preset_files()[name]
    return parse_style(path.read_text(encoding="utf-8"), name, f"style {name}")


def load_style(style: str | Path | Style) -> Style:
    """A preset by name, a YAML file by path, or a :class:`Style` as it is."""
    if isinstance(style, Style):
        return style
    text = str(style)
    if text in _preset_files():
        return _load_preset(text)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        try:
            data = path.read_text(encoding="utf-8")
        except OSError as e:
            raise SidlangError(f"cannot read style file: {e.strerror}", file=text) from None
        return parse_style(data, path.stem, text)
    raise SidlangError(f"unknown style {text!r}; known: {', '.join(style_names())} (or a .yaml file)")
