"""Fidelity and speed of sidlang's .sid emulation against Debian's ``sidplayfp``.

For each tune: run it through sidlang's 6502 emulation for ``--seconds``, render the log with
reSIDfp (``formats/render.py``), render the same .sid with ``sidplayfp -q -m -tS -wOUT.wav``,
and compare log power in semitone-wide bands (110 Hz–14 kHz, 4096-sample Hann windows, hop
512) after aligning the starts (the lag, within 2 s, that best matches the two loudness curves):
the Pearson correlation of the two band-power matrices (``sidlang/c64/compare.py``, shared with
the reference tests). Calibration (issue 3): a plain cycle-counted 6502 run scores 0.971–0.989,
a different tune about 0.79; the goal is ≥ 0.97.

``--roundtrip`` also writes each tune back out as a .sid with sidlang and scores sidplayfp's
rendering of that file against sidlang's rendering of the tune.

``--v4`` also scores, for a PSID v3 whose header names a third SID (which only v4 defines;
SID-Wizard's 3-SID exports), sidplayfp playing a copy with the version word set to 4: sidlang
plays the third chip, sidplayfp plays it only with the v4 header.

Speed: emulated seconds per wall second (emulation only, not rendering), beside the seconds
sidplayfp takes for the same tune and length (it renders audio too, so it is a ceiling for
comparison, not like for like).

    python benchmarks/bench_sid.py [TUNE.sid ...] [--seconds 30] [--roundtrip]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sidlang
from sidlang.c64.compare import score, sidplayfp
from sidlang.formats.render import RenderOptions, render
from sidlang.formats.sid import parse

EXPORTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "sid-wizard" / "sid-exports"
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tunes", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--roundtrip", action="store_true")
    ap.add_argument("--v4", action="store_true", help="also score v3 3-SID headers marked v4")
    args = ap.parse_args(argv)
    if shutil.which("sidplayfp") is None:
        print("sidplayfp not found: apt-get install -y sidplayfp", file=sys.stderr)
        return 2
    tunes = args.tunes or sorted(EXPORTS.glob("*.sid"))
    sidlang.load(tunes[0], seconds=0.1)  # compile (or load) the emulation core before timing
    print(f"{'tune':22} {'corr':>6} {'lag s':>6} {'emu x':>7} {'sidplayfp s':>11}"
          + (f" {'rt corr':>7}" if args.roundtrip else "") + (f" {'v4 corr':>7}" if args.v4 else ""))
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
            if args.v4:
                line += f" {v4_score(path, ours, args.seconds, Path(tmp)):>7}"
            print(line, flush=True)
    print(f"mean {np.mean(scores):.3f}, min {np.min(scores):.3f}, {sum(s >= 0.97 for s in scores)}/{len(scores)} ≥ 0.97")
    return 0


def v4_score(path: Path, ours: np.ndarray, seconds: float, tmp: Path) -> str:
    """Score against sidplayfp playing ``path`` with a v3 header that names a third SID marked v4."""
    data = bytearray(path.read_bytes())
    head = parse(bytes(data))
    if head.version != 3 or len(head.sid_addresses()) < 3:
        return "-"
    data[5] = 4  # the version word's low byte; the v3 and v4 headers are laid out alike
    copy = tmp / "v4.sid"
    copy.write_bytes(bytes(data))
    return f"{score(ours, sidplayfp(copy, seconds, tmp / 'v4.wav')[0])[0]:.3f}"


if __name__ == "__main__":
    sys.exit(main())
