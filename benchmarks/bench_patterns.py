"""GoatTracker songs through the pattern text: how close the imported ``.sidp`` plays.

For each example ``.sng`` (Debian's ``goattracker``, ``/usr/share/doc/goattracker/examples``):

* **reference**: pygoattracker's playback (a transcription of GoatTracker's playroutine, exact to
  it), rendered by reSIDfp, ``--seconds`` long;
* **sidp**: the song mapped onto the pattern model (``sidlang.patterns.goat``), printed as
  ``.sidp`` text and parsed back, played by sidlang's pattern player and rendered the same way.

The figure is the band correlation (``sidlang.c64.compare``: log power in semitone bands,
110 Hz-14 kHz) of the two renders, at lag 0 (both start on frame 0 or 1) and at the best lag
within 2 s. Beside it are the baselines measured in the same run: the reference against itself
(1.0), against silence (a flat, near-zero figure) and against the next song's reference (what
two different GoatTracker songs score).

    python benchmarks/bench_patterns.py [--seconds 10] [--dir /usr/share/doc/goattracker/examples]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from sidlang.c64.compare import score, score_at
from sidlang.corpus.realtunes import read_sng
from sidlang.formats.render import RenderOptions, render
from sidlang.patterns import dump, parse
from sidlang.patterns.goat import read_goat
from sidlang.patterns.player import play
from sidlang.tune import Header

RATE = 44100
EXAMPLES = Path("/usr/share/doc/goattracker/examples")


def mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x.mean(axis=1) if x.ndim == 2 else x) / 32768


def renders(path: Path, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(reference, sidp) renders of one song's first subtune, ``seconds`` each."""
    opts = RenderOptions(rate=RATE, seconds=seconds, chip=6581)
    ref = mono(render(read_sng(path, seconds), opts))
    song = parse(dump(read_goat(path.read_bytes(), str(path))))
    frames = round(seconds * Header(clock_hz=song.clock_hz).frame_hz)
    ours = mono(render(play(song, 1, frames=frames), opts))
    return ref, ours


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--dir", type=Path, default=EXAMPLES)
    args = ap.parse_args(argv)
    paths = sorted(args.dir.glob("*.sng"))
    if not paths:
        print(f"no .sng files in {args.dir}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    refs, ours = zip(*(renders(p, args.seconds) for p in paths))
    silence = np.zeros_like(refs[0]) + 1e-9 * np.random.default_rng(0).standard_normal(len(refs[0]))
    print(
        f"GoatTracker examples through .sidp, {args.seconds:g} s each: band correlation "
        f"with pygoattracker's playback (baselines: itself, silence, the next song)"
    )
    print(f"{'song':16s} {'sidp@0':>7s} {'sidp':>6s} {'lag s':>6s} {'self':>5s} {'silent':>7s} {'other':>6s}")
    rows = []
    for i, p in enumerate(paths):
        ref, got = refs[i], ours[i]
        at0 = score_at(got, ref, RATE)
        best, lag = score(got, ref, RATE)
        other = score_at(refs[(i + 1) % len(refs)], ref, RATE)
        rows.append((at0, best, other))
        print(
            f"{p.stem:16s} {at0:7.3f} {best:6.3f} {lag:6.2f} {score_at(ref, ref, RATE):5.2f} "
            f"{score_at(silence, ref, RATE):7.3f} {other:6.3f}"
        )
    a = np.array(rows)
    print(
        f"{'mean':16s} {a[:, 0].mean():7.3f} {a[:, 1].mean():6.3f} {'':6s} {'1.00':>5s} {'':7s} "
        f"{a[:, 2].mean():6.3f}"
    )
    print(f"({len(paths)} songs, {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
