"""Frames back to patterns on real songs: how much the inferred patterns explain, and how fast.

For each real song (the SID-Wizard ``.sid`` exports in ``../shared/testdata/sid-wizard/sid-exports``
and the CheeseCutter songs that ``sidlang corpus gather /work/data/real`` exports), ``--seconds``
of it run through the 6502 emulation (``sidlang.io.load``), then ``sidlang.patterns.infer``:

* **explained**: the share of the tune's effective register writes (``infer_frames``: writes
  that change their register) that the patterns alone, played without the raw writes,
  reproduce exactly: same frame, same register, same values;
* **corr**: band correlation (``sidlang.c64.compare.score``) of the patterns-only playback
  against the original, both rendered by reSIDfp (``sidlang.formats.render``);
* **lossless**: whether the whole song (patterns and raw writes) plays the same writes, and its
  correlation (write order inside a frame differs, so a little under 1.0 can remain);
* the **baseline** that explains nothing (every write raw): share 0, and the correlation of
  an empty playback (silence) against the original, measured in the same run;
* speed of frames -> patterns (``infer``) and patterns -> frames (``play``), frames per second.

    python benchmarks/bench_infer.py [--seconds 20] [--only NAME ...] [--no-render]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from sidlang.c64.compare import score
from sidlang.formats.render import RenderOptions, render
from sidlang.io import load
from sidlang.patterns.infer import infer
from sidlang.patterns.infer_frames import cells, effective, explained, patterns_only, same
from sidlang.patterns.player import play

ROOT = Path(__file__).resolve().parents[1]
DIRS = [
    ROOT / ".." / "shared" / "testdata" / "sid-wizard" / "sid-exports",
    Path("/work/data/real/cheesecutter"),
]
RATE = 22050


def mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x.mean(axis=1) if x.ndim == 2 else x) / 32768


def measure(path: Path, seconds: float, do_render: bool) -> dict:
    tune = load(str(path), seconds=seconds)
    n = len(tune.frames)
    t0 = time.perf_counter()
    song = infer(tune)
    t1 = time.perf_counter()
    full = play(song)
    t2 = time.perf_counter()
    bare = play(patterns_only(song))
    hit, total = explained(cells(effective(tune)), cells(effective(bare)))
    row = {
        "name": path.stem,
        "frames": n,
        "explained": hit / max(total, 1),
        "raw": len(song.subtunes[0].raw),
        "lossless": same(tune, full),
        "infer_fps": n / (t1 - t0),
        "play_fps": n / (t2 - t1),
        "tempo": song.subtunes[0].tempo[0],
        "instruments": len(song.instruments),
        "patterns": len(song.patterns),
    }
    if do_render:
        opts = RenderOptions(rate=RATE, seconds=seconds)
        ref = mono(render(tune, opts))
        row["corr"] = score(mono(render(bare, opts)), ref)[0]
        row["corr_full"] = score(mono(render(full, opts)), ref)[0]
        row["corr_silence"] = score(
            np.zeros_like(ref) + 1e-9 * np.random.default_rng(0).standard_normal(len(ref)), ref
        )[0]
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--only", nargs="*", help="songs whose file name contains one of these")
    ap.add_argument("--no-render", action="store_true", help="skip the renders (shares and speed only)")
    args = ap.parse_args()
    paths = [p for d in DIRS if d.is_dir() for p in sorted(d.glob("*.sid"))]
    if args.only:
        paths = [p for p in paths if any(o in p.name for o in args.only)]
    if not paths:
        print("no songs found (run: sidlang corpus gather /work/data/real)", file=sys.stderr)
        return 1
    rows = []
    head = f"{'song':28} {'frames':>6} {'expl':>6} {'corr':>6} {'base':>6} {'full':>6} {'loss':>5} {'infer/s':>8} {'play/s':>8} T ins pat"
    print(head)
    for p in paths:
        r = measure(p, args.seconds, not args.no_render)
        rows.append(r)
        print(
            f"{r['name'][:28]:28} {r['frames']:6d} {r['explained']:6.3f} {r.get('corr', float('nan')):6.3f} "
            f"{r.get('corr_silence', float('nan')):6.3f} {r.get('corr_full', float('nan')):6.3f} "
            f"{str(r['lossless']):>5} {r['infer_fps']:8.0f} {r['play_fps']:8.0f} "
            f"{r['tempo']} {r['instruments']} {r['patterns']}",
            flush=True,
        )
    for key, label in (
        ("explained", "explained share"),
        ("corr", "patterns-only corr"),
        ("corr_silence", "baseline corr (silence)"),
        ("corr_full", "with raw corr"),
    ):
        vals = [r[key] for r in rows if key in r]
        if vals:
            print(
                f"{label:26} median {statistics.median(vals):.3f}  range {min(vals):.3f}–{max(vals):.3f}  (n={len(vals)})"
            )
    print("baseline explained share (every write raw): 0.000")
    print(f"lossless: {sum(r['lossless'] for r in rows)}/{len(rows)}")
    for key, label in (("infer_fps", "frames->patterns"), ("play_fps", "patterns->frames")):
        vals = [r[key] for r in rows]
        print(
            f"{label:26} median {statistics.median(vals):.0f} frames/s  range {min(vals):.0f}–{max(vals):.0f}"
        )
    good = [r["name"] for r in rows if r["explained"] > 0.5 and r.get("corr", 0) >= 0.9]
    print(f"songs with most writes explained and patterns-only corr >= 0.9: {len(good)} {good}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
