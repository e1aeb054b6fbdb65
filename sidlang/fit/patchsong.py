"""A fitted patch as a tracker instrument: the pattern text's form of ``sidlang fit``'s answer.

``sidlang fit note.wav patch.sidp`` writes a one-voice pattern song (``docs/patterns.md``): the
patch as instrument 1 and one pattern that plays its note for as long as the recording held
the gate, so a musician can paste the instrument into a song and play it on other notes.

How a :class:`~sidlang.fit.patch.Patch` maps:

* ADSR as they are, no hard restart (the fitted note starts from silence);
* the waveform as the wave table's one step;
* pulse width and its sweep as the pulse table: ``set`` the width, then ``add`` the sweep a frame
  for as many frames as the note sounds;
* filter mode, resonance, cutoff and its sweep as the instrument's filter (mode, resonance,
  then a filter table ``set``/``add`` like the pulse's);
* the pitch as the nearest note (what a tracker row holds: a detune under half a semitone is
  lost, and said in the song's title line);
* a slide as a portamento effect (``up``/``dn``) on the note's row, a vibrato as ``vib S,D``
  (a triangle of D a frame, S frames a quarter period: the nearest to the patch's depth and
  period).
"""

from __future__ import annotations

from sidlang.patterns.model import (
    GATE_OFF,
    MAX_ROWS,
    MAX_TABLE_FRAMES,
    Effect,
    Instrument,
    OrderEntry,
    Orderlist,
    Pattern,
    Row,
    Song,
    Subtune,
    TableStep,
    WaveStep,
)
from sidlang.pitch import PAL_HZ, reg_to_midi

from .patch import Patch
from .synth import mode_bits, wave_bits


def _sweep(first: int, step: int, frames: int) -> list[TableStep]:
    """``set first``, then ``add step`` a frame for ``frames`` frames (in pieces of at most 255)."""
    out = [TableStep("set", first)]
    left = frames if step else 0
    while left > 0:
        n = min(left, MAX_TABLE_FRAMES)
        out.append(TableStep("add", step, n))
        left -= n
    return out


def instrument(patch: Patch, frames: int, name: str = "fitted") -> Instrument:
    """The patch as a tracker instrument sounding ``frames`` frames."""
    inst = Instrument(
        name=name,
        ad=patch.a << 4 | patch.d,
        sr=patch.s << 4 | patch.r,
        hr=0,
        wave=[WaveStep(wave=wave_bits(patch.wave))],
    )
    if "pulse" in patch.wave:
        inst.pulse = _sweep(patch.pw, patch.pw_sweep, frames - 1)
    if patch.mode:
        inst.fmode = mode_bits(patch.mode)
        inst.fres = patch.res
        inst.filter = _sweep(patch.cut, patch.cut_sweep, frames - 1)
    return inst


def _effect(patch: Patch) -> Effect | None:
    if patch.vib_depth:
        quarter = max(1, round(max(2, patch.vib_period) / 4))
        return Effect("vib", (quarter, max(1, round(patch.vib_depth / quarter))))
    if patch.slide:
        return Effect("up" if patch.slide > 0 else "dn", (abs(patch.slide),))
    return None


def patch_song(
    patch: Patch, frames: int, *, model: int = 6581, clock_hz: int = PAL_HZ, title: str = ""
) -> Song:
    """A one-voice song: instrument 1 is ``patch``; pattern 0 plays its note, gate held for
    ``patch.gate`` frames, one row a frame (at most 256 rows)."""
    midi = reg_to_midi(patch.freq, clock_hz)
    note = int(round(midi))
    cents = int(round(100 * (midi - note)))
    rows_n = max(2, min(frames, MAX_ROWS))
    rows = [Row() for _ in range(rows_n)]
    rows[0] = Row(note=note, instrument=1, effect=_effect(patch))
    if patch.gate < rows_n:
        rows[patch.gate] = Row(note=GATE_OFF)
    detune = f" (detuned {cents:+d} cents: the row holds the nearest note)" if cents else ""
    song = Song(
        title=title or f"fitted patch{detune}",
        models=(model,),
        clock_hz=clock_hz,
        instruments={1: instrument(patch, rows_n)},
        patterns={0: Pattern(rows)},
        subtunes=[Subtune(tempo=(1,), orders={0: Orderlist([OrderEntry(0)])}, length=rows_n)],
    )
    return song
