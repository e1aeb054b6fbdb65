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
SWM_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "sid-wizard"


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


def wanted(path: Path, only: list[str] | None) -> bool:
    return not only or any(o in path.name for o in only)


def export_of(module: Path) -> Path | None:
    """The ``.sid`` export of a module: the same name, or with a ``-2SID``/``-3SID`` suffix."""
    folder = module.parent.parent / "sid-exports"
    for name in (module.stem, f"{module.stem}-2SID", f"{module.stem}-3SID"):
        if (folder / f"{name}.sid").exists():
            return folder / f"{name}.sid"
    return None


def swm_renders(module: Path, export: Path, seconds: float):
    """(export, sidp, pysidwizard or None, approximations) renders of one module, first subtune."""
    import sidlang
    from sidlang.formats.swm import read_swm as read_swm_frames
    from sidlang.patterns.swm import read_swm

    opts = RenderOptions(rate=RATE, seconds=seconds, chip=6581)
    ref = mono(render(sidlang.load(export, seconds=seconds), opts))
    imported = read_swm(module.read_bytes(), str(module))
    song = parse(dump(imported.song))
    frames = round(seconds * Header(clock_hz=song.clock_hz, frame_cycles=song.frame_cycles).frame_hz)
    ours = mono(render(play(song, 1, frames=frames), opts))
    lib = None
    tune = read_swm_frames(module.read_bytes(), str(module), seconds=seconds)
    if tune.meta.get("source") == "pysidwizard":
        lib = mono(render(tune, opts))
    return ref, ours, lib, sum(imported.approximated.values())


def main_swm(args) -> int:
    modules = [m for m in sorted((args.dir / "modules").glob("*.sw[mst]")) if wanted(m, args.only)]
    pairs = [(m, export_of(m)) for m in modules]
    missing = [m.name for m, e in pairs if e is None]
    pairs = [(m, e) for m, e in pairs if e is not None]
    if not pairs:
        print(f"no modules with .sid exports under {args.dir}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    got = [swm_renders(m, e, args.seconds) for m, e in pairs]
    refs = [g[0] for g in got]
    n = min(len(r) for r in refs)
    silence = 1e-9 * np.random.default_rng(0).standard_normal(n)
    print(
        f"SID-Wizard modules through .sidp, {args.seconds:g} s each: band correlation with the "
        f"module's .sid export run through the 6502 emulation (baselines: itself, silence, the next song)"
    )
    print(
        f"{'module':18s} {'sidp@0':>7s} {'sidp':>6s} {'lag s':>6s} {'pysw@0':>7s} {'pysw':>6s} "
        f"{'self':>5s} {'silent':>7s} {'other':>6s} {'approx':>6s}"
    )
    rows = []
    for i, (m, _) in enumerate(pairs):
        ref, ours, lib, approx = got[i]
        at0 = score_at(ours, ref, RATE)
        best, lag = score(ours, ref, RATE)
        lib0, libbest = (
            (score_at(lib, ref, RATE), score(lib, ref, RATE)[0]) if lib is not None else (np.nan, np.nan)
        )
        other = score_at(refs[(i + 1) % len(refs)], ref, RATE)
        itself = score_at(ref, ref, RATE)
        silent = score_at(silence[: len(ref)], ref[: len(silence)], RATE)
        rows.append((at0, best, lib0, libbest, itself, silent, other))
        print(
            f"{m.name:18s} {at0:7.3f} {best:6.3f} {lag:6.2f} {lib0:7.3f} {libbest:6.3f} {itself:5.2f} "
            f"{silent:7.3f} {other:6.3f} {approx:6d}"
        )
    a = np.array(rows)
    mean = np.nanmean(a, axis=0)
    print(
        f"{'mean':18s} {mean[0]:7.3f} {mean[1]:6.3f} {'':6s} {mean[2]:7.3f} {mean[3]:6.3f} {mean[4]:5.2f} "
        f"{mean[5]:7.3f} {mean[6]:6.3f}"
    )
    if missing:
        print(f"(no export for: {', '.join(missing)})")
    print(f"({len(pairs)} modules, {time.perf_counter() - t0:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--dir", type=Path, default=None, help="where the songs are")
    ap.add_argument("--swm", action="store_true", help="SID-Wizard modules against their .sid exports")
    ap.add_argument("--only", metavar="NAME", action="append", help="only songs whose name holds NAME")
    args = ap.parse_args(argv)
    if args.swm:
        args.dir = args.dir or SWM_DIR
        return main_swm(args)
    args.dir = args.dir or EXAMPLES
    paths = [p for p in sorted(args.dir.glob("*.sng")) if wanted(p, args.only)]
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
