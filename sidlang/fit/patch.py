"""A patch: one SID voice's settings for one note, as frames of register writes and as sidlang.

A :class:`Patch` is what a chip musician sets for an instrument: waveform bits (combined
waveforms included), ADSR, pulse width and its sweep, the filter (mode, cutoff, resonance and a
cutoff sweep), the note's frequency with a slide and a triangle vibrato, and how many frames the
gate is held. :meth:`Patch.frames` plays it as a player routine would, one frame at a time:
everything set in frame 0 with the gate, the sweeps and the vibrato applied every frame after, the
gate cleared at frame ``gate`` (the release), the effects running on until the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from sidlang.pitch import PAL_HZ, reg_to_midi
from sidlang.registers import FIELDS

from .synth import Writes, filter_writes, frames_to_tune, mode_bits, route_bit, voice_writes, wave_bits

#: Waveform choices the grid tries: the four plain ones and the combined ones that sound.
WAVES = ("pulse", "saw", "tri", "noise", "saw,tri", "pulse,tri", "pulse,saw", "pulse,saw,tri")
#: Filter choices: none, or a mode routed through the voice.
MODES = ("", "lp", "bp", "hp", "lp,hp")
#: Integer fields and their ranges (inclusive), for the search.
BOUNDS: dict[str, tuple[int, int]] = {
    "a": (0, 15),
    "d": (0, 15),
    "s": (0, 15),
    "r": (0, 15),
    "pw": (0, FIELDS["pw"].max),
    "pw_sweep": (-128, 128),
    "cut": (0, FIELDS["cut"].max),
    "res": (0, 15),
    "cut_sweep": (-64, 64),
    "freq": (1, FIELDS["freq"].max),
    "slide": (-512, 512),
    "vib_depth": (0, 2048),
    "vib_period": (2, 32),
    "gate": (1, 1 << 16),
}


def _clamp(v: int, name: str) -> int:
    lo, hi = BOUNDS[name]
    return max(lo, min(hi, v))


@dataclass(frozen=True)
class Patch:
    """One voice's settings for one note (register units; sweeps and slide are per frame)."""

    freq: int = 0x1CD6  #: A-4 at PAL
    wave: str = "pulse"
    a: int = 0
    d: int = 9
    s: int = 0
    r: int = 0
    pw: int = 0x800
    pw_sweep: int = 0
    mode: str = ""  #: filter mode names ("" = not through the filter)
    cut: int = 0x400
    res: int = 0
    cut_sweep: int = 0
    slide: int = 0
    vib_depth: int = 0
    vib_period: int = 8
    gate: int = 25  #: frames the gate is held

    def replace(self, **changes) -> Patch:
        return replace(self, **{k: (_clamp(int(v), k) if k in BOUNDS else v) for k, v in changes.items()})

    def frames(self, n: int, voice: int = 0) -> list[Writes]:
        """``n`` frames of writes that play this patch on ``voice`` (0–2)."""
        bits = wave_bits(self.wave)
        gate = wave_bits("gate")
        route = route_bit(voice) if self.mode else 0
        mode = mode_bits(self.mode)
        out: list[Writes] = [
            filter_writes(cut=self.cut, res=self.res, route=route, mode=mode, vol=15)
            + voice_writes(
                voice,
                freq=self.freq,
                pw=self.pw,
                ad=self.a << 4 | self.d,
                sr=self.s << 4 | self.r,
                wave=bits | gate,
            )
        ]
        pw, cut = self.pw, self.cut
        for k in range(1, n):
            w: Writes = []
            if self.pw_sweep:
                npw = _clamp(pw + self.pw_sweep, "pw")
                if npw != pw:
                    pw = npw
                    w += voice_writes(voice, pw=pw)
            if self.cut_sweep and self.mode:
                ncut = _clamp(cut + self.cut_sweep, "cut")
                if ncut != cut:
                    cut = ncut
                    w += filter_writes(cut=cut, res=self.res, route=route, mode=mode)[:2]
            if self.slide or self.vib_depth:
                f = self.freq + self.slide * k + self._vibrato(k)
                if f != self.freq + self.slide * (k - 1) + self._vibrato(k - 1):
                    w += voice_writes(voice, freq=_clamp(f, "freq"))
            if k == self.gate:
                w += voice_writes(voice, wave=bits)
            out.append(w)
        return out

    def _vibrato(self, k: int) -> int:
        """A triangle of ``vib_depth`` either side of the note, ``vib_period`` frames a cycle."""
        if not self.vib_depth:
            return 0
        p = max(2, self.vib_period)
        phase = (k % p) / p  # 0..1
        tri = 4 * phase - 1 if phase < 0.5 else 3 - 4 * phase  # -1..1, up then down
        return int(round(self.vib_depth * tri))

    def describe(self, clock_hz: int = PAL_HZ) -> str:
        """One line a person reads: ``saw a=0 d=9 s=0 r=0 … note A-4+3c``."""
        from sidlang.pitch import note_name

        midi = reg_to_midi(self.freq, clock_hz)
        whole = int(round(midi))
        note = (
            note_name(whole, int(round(100 * (midi - whole)))) if 12 <= whole <= 107 else f"${self.freq:04x}"
        )
        parts = [
            f"wave={self.wave}",
            f"a={self.a} d={self.d} s={self.s} r={self.r}",
            f"freq={note}",
            f"gate={self.gate} frames",
        ]
        if "pulse" in self.wave:
            parts.append(f"pw=${self.pw:03x}" + (f" pw+={self.pw_sweep}/frame" if self.pw_sweep else ""))
        if self.mode:
            parts.append(
                f"filter {self.mode} cut=${self.cut:03x} res={self.res}"
                + (f" cut+={self.cut_sweep}/frame" if self.cut_sweep else "")
            )
        if self.slide:
            parts.append(f"slide {self.slide:+d}/frame")
        if self.vib_depth:
            parts.append(f"vibrato ±{self.vib_depth} every {self.vib_period} frames")
        return " ".join(parts)

    def as_dict(self) -> dict:
        return asdict(self)


def patch_text(patch: Patch, frames: int, *, model: int = 6581, voice: int = 0, notes: list[str] = ()) -> str:
    """The patch played for ``frames`` frames as sidlang text, with comment lines saying what it is.

    The text is an ordinary tune (the REPL loads it, ``sidlang render`` plays it); the comments
    give the settings in a person's terms, and the numbers the fit reached.
    """
    import sidlang

    tune = frames_to_tune(patch.frames(frames, voice), model=model)
    text = sidlang.dumps(tune)
    head, _, body = text.partition("\n\n")
    comments = [f"# patch: {patch.describe()}", *(f"# {n}" for n in notes)]
    return f"{head}\n\n" + "\n".join(comments) + "\n" + body
