"""Fidelity and speed of sidlang's .sid emulation against Debian's ``sidplayfp``.

For each tune: run it through sidlang's 6502 emulation for ``--seconds``, render the log with
reSIDfp (``formats/render.py``), render the same .sid with ``sidplayfp -q -m -tS -wOUT.wav``,
and compare log power in semitone-wide bands (110 Hz–14 kHz, 4096-sample Hann windows, hop
512) after aligning the starts (the lag, within 2 s, that best matches the two loudness curves):
the Pearson correlation of the two band-power matrices. Calibration (issue 3): a plain
cycle-counted 6502 run scores 0.971–0.989, a different tune about 0.79; the goal is ≥ 0.97.

``--roundtrip`` also writes each tune back out as a .sid with sidlang and scores sidplayfp's
rendering of that file against sidlang's rendering of the tune.

Speed: emulated seconds per wall second (emulation only, not rendering), beside the seconds
sidplayfp takes for the same tune and length (it renders audio too, so it is a ceiling for
comparison, not like for like).

    python benchmarks/bench_sid.py [TUNE.sid ...] [--seconds 30] [--roundtrip]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sidlang.formats.render import RenderOptions, read_wav, render

import sidlang

EXPORTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "sid-wizard" / "sid-exports"
RATE = 44100
WINDOW, HOP = 4096, 512


def band_power(x: np.ndarray, rate: int = RATE) -> np.ndarray:
    """log power per semitone band (110 Hz–14 kHz) per hop: shape (hops, bands)."""
    x = x.astype(np.float64)
    n = (len(x) - WINDOW) // HOP + 1
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(WINDOW), axis=1)) ** 2
    freqs = np.fft.rfftfreq(WINDOW, 1 / rate)
    edges = 110 * 2 ** ((np.arange(0, 12 * np.log2(14000 / 110) + 1) - 0.5) / 12)
    band = np.digitize(freqs, edges) - 1
    nb = len(edges) - 1
    out = np.zeros((n, nb))
    for b in range(nb):
        sel = band == b
        if sel.any():
            out[:, b] = spec[:, sel].sum(axis=1)
    return np.log10(out + 1e-3)


def score(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """(correlation, lag in seconds) after aligning the starts by loudness."""
    a, b = band_power(ours), band_power(ref)
    la, lb = a.mean(axis=1), b.mean(axis=1)
    max_lag = int(2 * RATE / HOP)
    best, lag = -2.0, 0
    for k in range(-max_lag, max_lag + 1):
        x, y = (la[k:], lb) if k >= 0 else (la, lb[-k:])
        n = min(len(x), len(y))
        if n < 50:
            continue
        c = np.corrcoef(x[:n], y[:n])[0, 1]
        if c > best:
            best, lag = c, k
    x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
    n = min(len(x), len(y))
    return float(np.corrcoef(x[:n].ravel(), y[:n].ravel())[0, 1]), lag * HOP / RATE


def sidplayfp(path: Path, seconds: float, out: Path) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    subprocess.run(["sidplayfp", "-q", "-m", f"-t0:{int(seconds):02d}", f"-w{out}", str(path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    samples, rate = read_wav(out.read_bytes())
    assert rate == RATE, rate
    return samples.mean(axis=1), wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tunes", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--roundtrip", action="store_true")
    args = ap.parse_args(argv)
    if shutil.which("sidplayfp") is None:
        print("sidplayfp not found: apt-get install -y sidplayfp", file=sys.stderr)
        return 2
    tunes = args.tunes or sorted(EXPORTS.glob("*.sid"))
    sidlang.load(tunes[0], seconds=0.1)  # compile (or load) the emulation core before timing
    print(f"{'tune':22} {'corr':>6} {'lag s':>6} {'emu x':>7} {'sidplayfp s':>11}"
          + (f" {'rt corr':>7}" if args.roundtrip else ""))
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in tunes:
            t = time.perf_counter()
            tune = sidlang.load(path, seconds=args.seconds)
            speed = args.seconds / (time.perf_counter() - t)
            ours = render(tune, RenderOptions(seconds=args.seconds)).mean(axis=1)
            ref, ref_wall = sidplayfp(path, args.seconds, Path(tmp) / "ref.wav")
            corr, lag = score(ours, ref)
            scores.append(corr)
            line = f"{path.stem:22} {corr:6.3f} {lag:6.2f} {speed:7.0f} {ref_wall:11.2f}"
            if args.roundtrip:
                try:
                    written = Path(tmp) / "rt.sid"
                    written.write_bytes(sidlang.io.encode(tune, str(written)))
                    back, _ = sidplayfp(written, args.seconds, Path(tmp) / "rt.wav")
                    line += f" {score(ours, back)[0]:7.3f}"
                except sidlang.SidlangError as e:
                    line += f"    n/a ({e.message[:40]})"
            print(line, flush=True)
    print(f"mean {np.mean(scores):.3f}, min {np.min(scores):.3f}, {sum(s >= 0.97 for s in scores)}/{len(scores)} ≥ 0.97")
    return 0


if __name__ == "__main__":
    sys.exit(main())
