"""What the fitter compares: log power in semitone bands per short hop, and the loudness envelope.

:func:`features` turns mono samples at :data:`~sidlang.fit.synth.RATE` into ``(hops, bands)``
decibels (Hann windows of 2048 samples, hop 256: 11.6 ms) over semitone bands from 55 Hz to
10 kHz, where the lowest semitones that hold no FFT bin are left out. :class:`Target` holds a
recording's features and scores a candidate render with :meth:`Target.loss`:

* **spectral**: mean absolute difference of the band decibels, both floored 70 dB under the
  target's loudest band (so silence and the noise floor weigh nothing);
* **envelope**: mean absolute difference of the total decibels per hop, same floor;

after one gain offset (the median envelope difference over the target's loud hops), since a
recording's level says nothing about the SID's. Both are divided by 10 (bels), so a loss of 0.3
is an average error of 3 dB. Equivalent register settings score alike, which is the point: the
fitter is judged by the sound, not by its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import numpy as np

from .synth import RATE

WINDOW, HOP = 2048, 256
LOW_HZ, HIGH_HZ = 55.0, 10000.0
FLOOR_DB = 70.0


#: Longest sound (seconds) resampled in one FFT; longer ones go through scipy's polyphase filter.
FFT_RESAMPLE_S = 60.0


def to_rate(x: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Mono float samples resampled from ``rate`` to ``target`` (band-limited).

    A short sound (a note to fit) is resampled in the frequency domain with numpy's FFT: importing
    ``scipy.signal`` takes 1-3 s on this project's loaded 2-core machine, a third of a patch fit's
    10 s. A long one (a tune) goes through ``scipy.signal.resample_poly`` (anti-aliased polyphase).
    """
    x = np.asarray(x, dtype=np.float64)
    if rate == target:
        return x
    if len(x) <= FFT_RESAMPLE_S * rate:
        n = int(round(len(x) * target / rate))
        spec = np.fft.rfft(x)
        keep = min(len(spec), n // 2 + 1)
        out = np.zeros(n // 2 + 1, dtype=complex)
        out[:keep] = spec[:keep]
        return np.fft.irfft(out, n) * (n / max(len(x), 1))
    from scipy.signal import resample_poly

    g = gcd(int(rate), int(target))
    return resample_poly(x, target // g, rate // g)


def highpass(x: np.ndarray, hz: float = 30.0, rate: int = RATE) -> np.ndarray:
    """``x`` with what lies under ``hz`` taken out (in one FFT, a raised-cosine edge over the
    octave below ``hz``): the slow offset a SID leaves after a volume write or a sample, which the
    renderer's own high-pass lets die away over half a second. It is below every band the fitter
    and the benchmark hear, but a frame's loudness and the pitch search's lowest notes would take
    it for music."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return x
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / rate)
    edge = np.clip(np.log2(np.maximum(f, 1e-9) / (hz / 2)), 0.0, 1.0)  # 0 at hz/2, 1 at hz
    return np.fft.irfft(spec * (0.5 - 0.5 * np.cos(np.pi * edge)), len(x))


@lru_cache(maxsize=4)
def band_matrix(rate: int = RATE, window: int = WINDOW) -> np.ndarray:
    """``(bins, bands)`` 0/1 matrix summing FFT bins into the populated semitone bands."""
    freqs = np.fft.rfftfreq(window, 1 / rate)
    semis = np.floor(12 * np.log2(np.maximum(freqs, 1e-9) / LOW_HZ) + 0.5).astype(int)
    keep = (freqs >= LOW_HZ * 2 ** (-1 / 24)) & (freqs <= HIGH_HZ)
    bands = np.unique(semis[keep])
    m = np.zeros((len(freqs), len(bands)))
    for j, b in enumerate(bands):
        m[keep & (semis == b), j] = 1.0
    return m


def power_spectrogram(x: np.ndarray, window: int = WINDOW, hop: int = HOP) -> np.ndarray:
    """``(hops, bins)`` power of Hann-windowed frames; the input is padded to at least one window."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < window:
        x = np.pad(x, (0, window - len(x)))
    n = (len(x) - window) // hop + 1
    idx = np.arange(window)[None, :] + hop * np.arange(n)[:, None]
    return np.abs(np.fft.rfft(x[idx] * np.hanning(window), axis=1)) ** 2


def features(x: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, np.ndarray]:
    """``(bands dB (hops, bands), envelope dB (hops,))`` of mono samples at ``rate``."""
    p = power_spectrogram(x)
    bands = p @ band_matrix(rate)
    return 10 * np.log10(bands + 1e-12), 10 * np.log10(bands.sum(axis=1) + 1e-12)


@dataclass
class Target:
    """A recording's features, ready to score candidate renders against."""

    bands: np.ndarray  #: (hops, bands) dB
    env: np.ndarray  #: (hops,) dB
    samples: int  #: length at RATE

    @classmethod
    def of(cls, x: np.ndarray, rate: int = RATE) -> Target:
        x = to_rate(x, rate)
        bands, env = features(x)
        return cls(bands, env, len(x))

    @property
    def floor(self) -> float:
        return float(self.bands.max()) - FLOOR_DB

    @property
    def env_floor(self) -> float:
        return float(self.env.max()) - FLOOR_DB

    def loss(self, x: np.ndarray, hops: int | None = None) -> float:
        """The loss of candidate samples ``x`` (at RATE), over the first ``hops`` hops or all."""
        bands, env = features(x[: self.samples] if len(x) > self.samples else x)
        return self.loss_of(bands, env, hops)

    def colour_loss(self, x: np.ndarray, hops: int | None = None) -> float:
        """How far the mean spectrum of ``x`` is from the target's over the first ``hops`` hops
        (mean absolute dB difference of the time-averaged band power, each curve's own mean taken
        away, in bels): what tells a noise's colour, whose band powers frame by frame are random."""
        bands, _ = features(x[: self.samples] if len(x) > self.samples else x)
        n = min(len(bands), len(self.bands), hops or len(self.bands))

        def mean_db(b: np.ndarray) -> np.ndarray:
            m = 10 * np.log10(np.mean(10 ** (b[:n] / 10), axis=0) + 1e-12)
            m = np.maximum(m, float(m.max()) - 50)
            return m - m.mean()

        return float(np.abs(mean_db(bands) - mean_db(self.bands)).mean()) / 10

    def loss_of(self, bands: np.ndarray, env: np.ndarray, hops: int | None = None) -> float:
        n = min(len(env), len(self.env), hops or len(self.env))
        tb, te = self.bands[:n], self.env[:n]
        loud = te > float(te.max()) - 30
        gain = float(np.median((env[:n] - te)[loud])) if loud.any() else 0.0
        fb, fe = self.floor, self.env_floor
        spec = np.abs(np.maximum(bands[:n] - gain, fb) - np.maximum(tb, fb)).mean()
        envl = np.abs(np.maximum(env[:n] - gain, fe) - np.maximum(te, fe)).mean()
        return float(spec + envl) / 10
