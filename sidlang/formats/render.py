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
import os
import struct
import tempfile
import wave
from collections.abc import Callable, Iterator
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

BLOCK = 1 << 16  #: samples per block when streaming (128 KB of int16 per chip)
BLOCK_CYCLES = 1 << 20  #: cycles clocked at once where no write comes (about a second)
WRITE_SLICE = 1 << 16  #: writes turned into Python lists at a time
MAX_WAV_DATA = 0xFFFFFFFF - 36  #: a RIFF file's sizes are 32-bit
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


def chip_blocks(
    tune: Tune,
    chip: int = 0,
    options: RenderOptions | None = None,
    *,
    muted: tuple[int, ...] = (),
    progress: Progress | None = None,
) -> Iterator[np.ndarray]:
    """One SID's output as int16 blocks of about :data:`BLOCK` samples, :func:`span`'s count in all.

    Muting is reSIDfp's: a muted voice still drives ring modulation and sync of the others.
    Memory stays flat however long the tune: only one block is held at a time.
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
    clock, write = sid.clock, sid.write
    total = end - start
    done = start
    out: list[int] = []
    extend = out.extend
    left = samples  # still to give

    def full() -> np.ndarray:
        """The held samples as a block (cut at what is still to give), and forget them."""
        nonlocal left
        block = np.fromiter(out[:left] if len(out) > left else out, np.int16)  # faster than np.array
        out.clear()
        left -= len(block)
        return block

    def advance(target: int) -> Iterator[np.ndarray]:
        """Clock up to cycle ``target`` in steps of at most :data:`BLOCK_CYCLES`, so that no
        list grows past a block however long the gap (a frame may be 2**31 cycles)."""
        nonlocal done
        while done < target and left:
            step = min(target - done, BLOCK_CYCLES)
            extend(clock(step))
            done += step
            if len(out) >= BLOCK:
                yield full()
                if progress is not None:
                    progress(done - start, total)

    # Plain Python lists: zip over them is several times faster than over NumPy scalars. The
    # writes go in slices, so their lists stay small too.
    for a in range(0, len(w), WRITE_SLICE):
        part = w[a : a + WRITE_SLICE]
        deltas = np.diff(part["cycle"], prepend=done).tolist()
        regs, vals = part["reg"].tolist(), part["val"].tolist()
        for i, (delta, reg, val) in enumerate(zip(deltas, regs, vals), a):
            if delta > BLOCK_CYCLES:
                yield from advance(done + delta)
            elif delta:
                extend(clock(delta))
                done += delta
                if len(out) >= BLOCK:
                    yield full()
            if not left:  # the rest would be cut: stop here
                break
            write(reg, val)
            if progress is not None and i % PROGRESS_EVERY == 0:
                progress(done - start, total)
        if not left:
            break
    yield from advance(end)
    while len(out) < left:  # reSIDfp's rate runs a hair slow: ring on for the rest
        extend(clock(max(1, min(BLOCK_CYCLES, math.ceil((left - len(out)) * h.clock_hz / options.rate)))))
        if BLOCK <= len(out) < left:
            yield full()
    if progress is not None:
        progress(total, total)
    if left > 0:
        yield full()


def render_chip(
    tune: Tune,
    chip: int = 0,
    options: RenderOptions | None = None,
    *,
    muted: tuple[int, ...] = (),
    progress: Progress | None = None,
) -> np.ndarray:
    """One SID's output as int16 samples, ``muted`` voices (0–2) silenced (see :func:`chip_blocks`)."""
    blocks = list(chip_blocks(tune, chip, options, muted=muted, progress=progress))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)


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


def mixed_blocks(
    tune: Tune, options: RenderOptions | None = None, progress: Progress | None = None
) -> Iterator[np.ndarray]:
    """The mix (see :func:`mix`) as float64 blocks ``(n, 1 or 2)``, every chip rendered in step."""
    options = options or RenderOptions()
    chips = tune.header.chips
    gens = [chip_blocks(tune, c, options, progress=progress if c == 0 else None) for c in range(chips)]
    held: list[list[np.ndarray]] = [[] for _ in range(chips)]
    have = [0] * chips
    live = [True] * chips
    while True:
        for c in range(chips):
            while live[c] and have[c] < BLOCK:
                block = next(gens[c], None)
                if block is None:
                    live[c] = False
                else:
                    held[c].append(block)
                    have[c] += len(block)
        n = min(have)
        if n == 0:
            return
        parts = []
        for c in range(chips):
            joined = np.concatenate(held[c]) if len(held[c]) > 1 else held[c][0]
            parts.append(joined[:n])
            rest = joined[n:]
            held[c] = [rest] if len(rest) else []
            have[c] = len(rest)
        yield mix(parts, options.stereo)


def render(tune: Tune, options: RenderOptions | None = None, progress: Progress | None = None) -> np.ndarray:
    """The whole tune as int16 samples of shape ``(samples, channels)``, in memory."""
    options = options or RenderOptions()
    blocks = list(mixed_blocks(tune, options, progress))
    audio = np.concatenate(blocks) if blocks else np.zeros((0, 2 if options.stereo else 1))
    return to_int16(audio, options.normalize)


def check_wav_size(tune: Tune, options: RenderOptions, channels: int | None = None) -> int:
    """The sample count of a render, after refusing one that no WAV file can hold (4 GB)."""
    _, _, samples = span(tune, options)
    channels = channels or (2 if options.stereo else 1)
    size = samples * channels * 2
    if size > MAX_WAV_DATA:
        hours = samples / options.rate / 3600
        raise FormatError(
            f"a WAV file holds at most 4 GB; this render is {size / 2**30:.1f} GB "
            f"({hours:.1f} hours at {options.rate} Hz): use --seconds or a lower --rate"
        )
    return samples


def wav_header(samples: int, channels: int, rate: int) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV file of ``samples`` frames."""
    data = samples * channels * 2
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate,
        rate * channels * 2,
        channels * 2,
        16,
        b"data",
        data,
    )


def _spill_dir(fh) -> str | None:
    name = getattr(fh, "name", None)
    return os.path.dirname(os.path.abspath(name)) if isinstance(name, str) else None


def stream_wav(tune: Tune, fh, options: RenderOptions | None = None, progress: Progress | None = None) -> int:
    """Render ``tune`` into the open binary file ``fh`` as a WAV file, block by block.

    Memory stays flat with the length. With ``normalize`` the mix goes first to a nameless
    temporary file beside ``fh`` (gone when closed, even after a kill) to find its peak, then
    is scaled into ``fh``. Returns the sample count.
    """
    options = options or RenderOptions()
    channels = 2 if options.stereo else 1
    samples = check_wav_size(tune, options, channels)
    fh.write(wav_header(samples, channels, options.rate))
    if not options.normalize and tune.header.chips == 1 and not options.stereo:
        # One chip in mono is its own mix: its int16 blocks go to the file as they are.
        for block in chip_blocks(tune, 0, options, progress=progress):
            fh.write(block.astype("<i2", copy=False).tobytes())
        return samples
    if not options.normalize:
        for block in mixed_blocks(tune, options, progress):
            fh.write(to_int16(block).astype("<i2").tobytes())
        return samples
    peak = 0.0
    with tempfile.TemporaryFile(dir=_spill_dir(fh)) as spill:
        for block in mixed_blocks(tune, options, progress):
            if block.size:
                peak = max(peak, float(np.max(np.abs(block))))
            spill.write(block.astype("<f8").tobytes())
        spill.seek(0)
        scale = NORMALIZE_PEAK * 32767 / peak if peak > 0 else 1.0
        width = 8 * channels
        while chunk := spill.read(BLOCK * width):
            block = np.frombuffer(chunk, dtype="<f8").reshape(-1, channels)
            fh.write(to_int16(block * scale if peak > 0 else block).astype("<i2").tobytes())
    return samples


def wav_samples(fh) -> np.ndarray:
    """The samples ``(samples, channels)`` of a WAV file :func:`stream_wav` wrote to ``fh``, mapped
    from the file rather than read into memory."""
    fh.flush()
    fh.seek(0)
    head = fh.read(44)
    channels = struct.unpack_from("<H", head, 22)[0]
    size = struct.unpack_from("<I", head, 40)[0]
    fh.seek(0, os.SEEK_END)
    if size == 0:
        return np.zeros((0, channels), np.int16)
    return np.memmap(fh.name, dtype="<i2", mode="r", offset=44, shape=(size // (2 * channels), channels))


def stream_stems(
    tune: Tune,
    files: dict[str, object],
    options: RenderOptions | None = None,
    progress: Progress | None = None,
) -> None:
    """One mono WAV per voice into the open binary files ``files`` (names as :func:`render_stems`).

    With ``normalize`` every stem is scaled by the same factor (the loudest stem's peak): the
    stems are written raw, then scaled in place, block by block.
    """
    options = options or RenderOptions()
    samples = check_wav_size(tune, options, 1)
    chips = tune.header.chips
    peak = 0
    for chip in range(chips):
        for voice in range(VOICES):
            name = f"s{chip + 1}v{voice + 1}" if chips > 1 else f"v{voice + 1}"
            fh = files[name]
            fh.write(wav_header(samples, 1, options.rate))
            others = tuple(v for v in range(VOICES) if v != voice)
            step = None if progress is None else _scaled(progress, chip * VOICES + voice, chips * VOICES)
            for block in chip_blocks(tune, chip, options, muted=others, progress=step):
                if block.size:
                    peak = max(peak, int(np.max(np.abs(block.astype(np.int32)))))
                fh.write(block.astype("<i2").tobytes())
    if not options.normalize or not peak:
        return
    scale = NORMALIZE_PEAK * 32767 / peak
    for fh in files.values():
        fh.flush()
        pos = 44
        while True:
            fh.seek(pos)
            chunk = fh.read(2 * BLOCK)
            if not chunk:
                break
            block = np.frombuffer(chunk, dtype="<i2")[:, None].astype(np.float64)
            fh.seek(pos)
            fh.write(to_int16(block * scale).astype("<i2").tobytes())
            pos += len(chunk)
        fh.seek(0, os.SEEK_END)


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
    """The ``wav`` format's writer to bytes: :func:`render`, then :func:`wav_bytes`."""
    opts = RenderOptions.from_options(options)
    check_wav_size(tune, opts)
    return wav_bytes(render(tune, opts), opts.rate)


def write_wav_to(tune: Tune, fh, **options) -> None:
    """The ``wav`` format's streaming writer (what ``sidlang convert`` uses): :func:`stream_wav`."""
    stream_wav(tune, fh, RenderOptions.from_options(options))


FORMATS = [
    Format(
        "wav",
        "16-bit PCM audio rendered through reSIDfp (write only)",
        (".wav",),
        write=write_wav,
        write_to=write_wav_to,
        binary=True,
        options={f.name: str(f.default) for f in fields(RenderOptions)},
    )
]
