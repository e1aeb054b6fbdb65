"""Pictures of a tune: a mel spectrogram of its audio and a piano roll of its frames (PNG).

matplotlib is an optional extra (``pip install 'sidlang[pictures]'``), imported only here and
only when a picture is asked for. Figures are drawn on ``matplotlib.figure.Figure`` directly,
not through pyplot, so no global state or GUI backend is involved.

The mel filterbank is the usual triangular one on the HTK mel scale
(``mel = 2595 log10(1 + f / 700)``), built in a few lines of NumPy rather than pulling in an
audio-analysis library for one matrix.
"""

from __future__ import annotations

import io

import numpy as np

from sidlang.errors import SidlangError
from sidlang.pitch import reg_to_midi
from sidlang.registers import FIELDS, VOICE_STRIDE, VOICES, WAVE_BITS
from sidlang.tune import Tune

N_FFT = 2048
HOP = 512
N_MELS = 128
TOP_DB = 80.0  #: the spectrogram shows this many dB below its loudest cell
CHUNK = 1024  #: windows transformed at a time (8 MB of power)
MAX_COLUMNS = 8192  #: longer spectrograms average neighbouring windows into one column


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise SidlangError("pictures need matplotlib: pip install 'sidlang[pictures]'") from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(rate: int, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """``(n_mels, n_fft // 2 + 1)`` triangular filters spaced evenly in mel up to ``rate / 2``."""
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(rate / 2), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lo) / (mid - lo)
    falling = (hi - bins) / (hi - mid)
    return np.maximum(0.0, np.minimum(rising, falling))


def mel_spectrogram(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mel power in dB, ``(n_mels, frames)``, from int16 samples ``(samples,)`` or ``(samples, ch)``.

    Computed :data:`CHUNK` windows at a time, so a long render (or a memory map of one) needs
    little memory; past :data:`MAX_COLUMNS` windows, neighbouring windows' power is averaged
    into one column (the picture is far narrower than that anyway).
    """
    if len(samples) < N_FFT:
        samples = np.pad(np.asarray(samples), [(0, N_FFT - len(samples))] + [(0, 0)] * (np.ndim(samples) - 1))
    n = 1 + (len(samples) - N_FFT) // HOP
    pool = -(-n // MAX_COLUMNS)
    step = max(pool, CHUNK // pool * pool)  # whole columns per chunk
    bank, window = mel_filterbank(rate), np.hanning(N_FFT)
    parts = []
    for a in range(0, n, step):
        b = min(n, a + step)
        mono = np.asarray(samples[a * HOP : (b - 1) * HOP + N_FFT], dtype=np.float64)
        if mono.ndim == 2:
            mono = mono.mean(axis=1)
        mono = mono / 32768.0
        windows = np.lib.stride_tricks.sliding_window_view(mono, N_FFT)[::HOP][: b - a]  # (frames, N_FFT)
        power = np.abs(np.fft.rfft(windows * window, axis=1)) ** 2  # (frames, bins)
        mel = bank @ power.T  # (n_mels, frames)
        if pool > 1:
            edges = np.arange(0, b - a, pool)
            mel = np.add.reduceat(mel, edges, axis=1) / np.diff(np.append(edges, b - a))
        parts.append(mel)
    mel = np.concatenate(parts, axis=1)
    db = 10.0 * np.log10(np.maximum(mel, 1e-12))
    return np.maximum(db, db.max() - TOP_DB)


def spectrogram_png(samples: np.ndarray, rate: int, title: str = "") -> bytes:
    """A mel spectrogram picture of rendered audio."""
    db = mel_spectrogram(samples, rate)
    fig = _figure(12, 5)
    ax = fig.add_subplot()
    seconds = len(samples) / rate
    image = ax.imshow(db, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, N_MELS))
    ticks = [100, 250, 500, 1000, 2000, 4000, 8000, 16000]
    ticks = [f for f in ticks if f < rate / 2]
    top = hz_to_mel(rate / 2)
    ax.set_yticks([N_MELS * float(hz_to_mel(f)) / top for f in ticks], [f"{f:g}" for f in ticks])
    ax.set_xlabel("seconds")
    ax.set_ylabel("Hz (mel scale)")
    ax.set_title(title or "mel spectrogram")
    fig.colorbar(image, ax=ax, label="dB")
    return _png(fig)


def voice_notes(tune: Tune, chip: int, voice: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: fractional MIDI pitch of a voice and whether it sounds (gate on, not test)."""
    state = tune.frames.state(chip)  # (frames, 25)
    base = voice * VOICE_STRIDE
    lo, hi = (base + r for r in FIELDS["freq"].regs)
    freq = state[:, lo].astype(np.int64) | state[:, hi].astype(np.int64) << 8
    ctrl = state[:, base + FIELDS["wave"].regs[0]]
    sounding = ((ctrl & WAVE_BITS["gate"]) != 0) & ((ctrl & WAVE_BITS["test"]) == 0) & (freq > 0)
    pitch = np.array([reg_to_midi(int(f), tune.header.clock_hz) for f in freq])
    return pitch, sounding


def pianoroll_png(tune: Tune, title: str = "") -> bytes:
    """A piano roll of every voice's gated pitch per frame, one colour per voice."""
    fig = _figure(12, 5)
    ax = fig.add_subplot()
    step = tune.header.frame_cycles / tune.header.clock_hz
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    drawn = []
    for chip in range(tune.header.chips):
        for voice in range(VOICES):
            pitch, sounding = voice_notes(tune, chip, voice)
            frames = np.flatnonzero(sounding)
            if not len(frames):
                continue
            label = f"s{chip + 1}v{voice + 1}" if tune.header.chips > 1 else f"v{voice + 1}"
            colour = colours[(chip * VOICES + voice) % len(colours)]
            # One bar per run of frames that sound at the same pitch.
            new_run = np.r_[True, (np.diff(frames) > 1) | (np.diff(pitch[frames]) != 0)]
            starts = np.flatnonzero(new_run)
            ends = np.r_[starts[1:], len(frames)] - 1
            ax.hlines(
                pitch[frames[starts]],
                frames[starts] * step,
                (frames[ends] + 1) * step,
                colors=colour,
                linewidth=3,
                label=label,
            )
            drawn.append(pitch[frames])
    if drawn:
        every = np.concatenate(drawn)
        low, high = int(np.floor(every.min())) - 2, int(np.ceil(every.max())) + 2
        ax.set_ylim(low, high)
        octaves = [m for m in range(low, high + 1) if m % 12 == 0]
        ax.set_yticks(octaves, [f"C{m // 12 - 1}" for m in octaves])
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper right")
    ax.set_xlim(0, len(tune.frames) * step)
    ax.set_xlabel("seconds")
    ax.set_ylabel("pitch")
    ax.set_title(title or "piano roll (gated voices)")
    return _png(fig)
