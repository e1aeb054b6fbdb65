"""Audio: a Tune rendered through reSIDfp (``pyresidfp``), and the ``wav`` format.

Every write is applied at its exact cycle: the low-level ``SID`` is clocked by the cycle count
between one write and the next, never by a rounded duration, so nothing drifts however long the
tune (the high-level ``SoundInterfaceDevice.clock(timedelta)`` truncates each step).

Sample count: rendering ``N`` cycles gives exactly ``N * rate // clock`` samples (or exactly
``round(seconds * rate)`` with ``seconds``). reSIDfp's resampler steps in fixed point, so its own
output rate is a little off the one asked for (44100 Hz gives about 44109 samples per emulated
second with RESAMPLE, 44101 with DECIMATE); the renderer clocks on past the end when reSIDfp is
short and cuts the surplus when it is long, so the length is the promised one. The pitch error
that remains (under 0.4 cent) is reSIDfp's and is left alone.

Several chips are averaged into one channel (so two full-scale chips cannot clip), or with
``stereo`` spread evenly from left to right (two chips: SID 1 left, SID 2 right).
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from sidlang.errors import FormatError, UsageError
from sidlang.registers import N_WRITABLE, VOICES
from sidlang.tune import MODELS, Tune

from . import Format

RATE_RANGE = (8000, 192000)  #: reSIDfp needs 125 * clock / rate < 16384, so about 7.6 kHz up
METHODS = ("resample", "decimate")
NORMALIZE_PEAK = 10 ** (-1 / 20)  #: --normalize scales the loudest sample to -1 dBFS
PROGRESS_EVERY = 4096  #: writes between progress callbacks; cheap against reSIDfp's clocking
#: Idle cycles clocked and thrown away before frame 0. A fresh reSIDfp starts from an output of
#: 0 and jumps to the chip's DC level on its first cycle; the sinc resampler rings on that step
#: with full-scale spikes (a click). 20 ms of idling moves the step out of the file; a real
#: C64 has been powered on for far longer before any tune starts.
PREROLL_CYCLES = 20000

Progress = Callable[[int, int], None]  #: called with (cycles done, cycles in all)


@dataclass(frozen=True)
class RenderOptions:
    """How to render; every field is also a keyword of the ``wav`` format's writer."""

    rate: int = 44100
    chip: int | None = None  #: 6581 or 8580 for every SID; None: the header's model per SID
    stereo: bool = False
    seconds: float | None = None  #: render exactly this long (cut, or ring on past the end)
    normalize: bool = False
    filter: bool = True  #: False turns reSIDfp's filter emulation off
    curve_6581: float | None = None  #: 0 (light) .. 1 (dark); None: reSIDfp's default 0.5
    curve_8580: float | None = None  #: 0 .. 1; None: reSIDfp's default
    method: str = "resample"  #: "resample" (sinc, clean) or "decimate" (faster, aliases)

    def __post_init__(self) -> None:
        lo, hi = RATE_RANGE
        if not lo <= self.rate <= hi:
            raise UsageError(f"rate must be {lo}–{hi} Hz, got {self.rate}")
        if self.chip is not None and self.chip not in MODELS:
            raise UsageError(f"chip must be 6581 or 8580, got {self.chip}")
        if self.seconds is not None and not 0 < self.seconds <= 24 * 3600:
            raise UsageError(f"seconds must be above 0 and at most a day, got {self.seconds}")
        for name in ("curve_6581", "curve_8580"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise UsageError(f"{name.replace('_', ' ')} must be 0–1, got {value}")
        if self.method not in METHODS:
            raise UsageError(f"method must be {' or '.join(METHODS)}, got {self.method!r}")

    @classmethod
    def from_options(cls, options: dict) -> RenderOptions:
        """Options given by keyword (``sidlang.save(tune, "x.wav", rate=48000)``), checked."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown wav option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)


def span(tune: Tune, options: RenderOptions) -> tuple[int, int, int]:
    """``(start cycle, end cycle, samples)`` that a render of ``tune`` covers."""
    h = tune.header
    start = h.start_cycle
    if options.seconds is not None:
        samples = round(options.seconds * options.rate)
        # The first cycle count whose samples reach ``samples``, so the cut is at most one step.
        return start, start + -(-samples * h.clock_hz // options.rate), samples
    end = tune.end_cycle
    return start, end, (end - start) * options.rate // h.clock_hz


def _sid(model: int, clock_hz: int, options: RenderOptions):
    from pyresidfp._pyresidfp import SID, ChipModel, SamplingMethod

    chip = ChipModel.MOS8580 if model == 8580 else ChipModel.MOS6581
    method = SamplingMethod.DECIMATE if options.method == "decimate" else SamplingMethod.RESAMPLE
    sid = SID(chip, method, float(clock_hz), float(options.rate))
    sid.enable_filter(options.filter)
    if options.curve_6581 is not None:
        sid.set_filter_6581_curve(options.curve_6581)
    if options.curve_8580 is not None:
        sid.set_filter_8580_curve(options.curve_8580)
    return sid


def render_chip(
    tune: Tune,
    chip: int = 0,
    options: RenderOptions | None = None,
    *,
    muted: tuple[int, ...] = (),
    progress: Progress | None = None,
) -> np.ndarray:
    """One SID's output as int16 samples, ``muted`` voices (0–2) silenced.

    Muting is reSIDfp's: a muted voice still drives ring modulation and sync of the others.
    """
    options = options or RenderOptions()
    h = tune.header
    start, end, samples = span(tune, options)
    model = options.chip or h.models[chip]
    sid = _sid(model, h.clock_hz, options)
    for voice in muted:
        sid.mute(voice, True)
    sid.clock(PREROLL_CYCLES)
    w = tune.writes
    w = w[(w["chip"] == chip) & (w["reg"] < N_WRITABLE) & (w["cycle"] < end)]
    # Plain Python lists: zip over them is several times faster than over NumPy scalars.
    deltas = np.diff(w["cycle"], prepend=start).tolist()
    regs, vals = w["reg"].tolist(), w["val"].tolist()
    out: list[int] = []
    clock, write, extend = sid.clock, sid.write, out.extend
    total = end - start
    done = start
    for i, (delta, reg, val) in enumerate(zip(deltas, regs, vals)):
        if delta:
            extend(clock(delta))
            done += delta
        write(reg, val)
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(done - start, total)
    if end > done:
        extend(clock(end - done))
    while len(out) < samples:  # reSIDfp's rate runs a hair slow: ring on for the rest
        extend(clock(max(1, math.ceil((samples - len(out)) * h.clock_hz / options.rate))))
    if progress is not None:
        progress(total, total)
    return np.array(out[:samples], dtype=np.int16)


def mix(channels: list[np.ndarray], stereo: bool = False) -> np.ndarray:
    """Chips' int16 outputs to a ``(samples, 1 or 2)`` float64 mix in int16 units.

    Mono averages the chips. Stereo pans chip ``i`` of ``n`` to ``i / (n - 1)`` (0 left,
    1 right) with each channel's gains summing to 1; one chip is the same on both sides.
    """
    stack = np.stack([c.astype(np.float64) for c in channels], axis=1)  # (samples, chips)
    n = stack.shape[1]
    if not stereo:
        return stack.mean(axis=1, keepdims=True)
    pan = np.linspace(0.0, 1.0, n) if n > 1 else np.array([0.5])
    gains = np.stack([1.0 - pan, pan], axis=1)  # (chips, 2)
    gains /= gains.sum(axis=0, keepdims=True)
    return stack @ gains


def to_int16(audio: np.ndarray, normalize: bool = False) -> np.ndarray:
    """Float samples in int16 units to int16, peak-normalized to -1 dBFS if asked."""
    if normalize:
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 0:
            audio = audio * (NORMALIZE_PEAK * 32767 / peak)
    return np.clip(np.rint(audio), -32768, 32767).astype(np.int16)


def render(tune: Tune, options: RenderOptions | None = None, progress: Progress | None = None) -> np.ndarray:
    """The whole tune as int16 samples of shape ``(samples, channels)``."""
    options = options or RenderOptions()
    chips = tune.header.chips
    outs = []
    for chip in range(chips):
        step = None if progress is None else _scaled(progress, chip, chips)
        outs.append(render_chip(tune, chip, options, progress=step))
    return to_int16(mix(outs, options.stereo), options.normalize)


def render_stems(
    tune: Tune, options: RenderOptions | None = None, progress: Progress | None = None
) -> dict[str, np.ndarray]:
    """One mono int16 ``(samples, 1)`` array per voice, named ``v1``… (``s2v1``… with more SIDs).

    With ``normalize`` every stem is scaled by the same factor (the loudest stem's peak), so
    the stems still add up to the balance of the mix.
    """
    options = options or RenderOptions()
    chips = tune.header.chips
    raw: dict[str, np.ndarray] = {}
    for chip in range(chips):
        for voice in range(VOICES):
            name = f"s{chip + 1}v{voice + 1}" if chips > 1 else f"v{voice + 1}"
            others = tuple(v for v in range(VOICES) if v != voice)
            step = None if progress is None else _scaled(progress, chip * VOICES + voice, chips * VOICES)
            raw[name] = render_chip(tune, chip, options, muted=others, progress=step)
    if not options.normalize:
        return {k: v[:, None] for k, v in raw.items()}
    peak = max((int(np.max(np.abs(v.astype(np.int32)))) for v in raw.values() if v.size), default=0)
    scale = NORMALIZE_PEAK * 32767 / peak if peak else 1.0
    return {k: to_int16(v[:, None].astype(np.float64) * scale) for k, v in raw.items()}


def _scaled(progress: Progress, part: int, parts: int) -> Progress:
    """Progress of pass ``part`` of ``parts`` reported as a share of the whole job."""

    def report(done: int, total: int) -> None:
        progress(part * total + done, parts * total)

    return report


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A 16-bit PCM WAV file from int16 samples of shape ``(samples, channels)``."""
    if samples.ndim == 1:
        samples = samples[:, None]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """``(int16 samples (samples, channels), rate)`` from a 16-bit PCM WAV; for tests and tools."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise FormatError(f"only 16-bit WAV is read here, got {8 * wav.getsampwidth()}-bit")
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").reshape(-1, wav.getnchannels()), wav.getframerate()


def write_wav(tune: Tune, **options) -> bytes:
    """The ``wav`` format's writer: :func:`render`, then :func:`wav_bytes`."""
    opts = RenderOptions.from_options(options)
    return wav_bytes(render(tune, opts), opts.rate)


FORMATS = [
    Format(
        "wav",
        "16-bit PCM audio rendered through reSIDfp (write only)",
        (".wav",),
        write=write_wav,
        binary=True,
        options={f.name: str(f.default) for f in fields(RenderOptions)},
    )
]
