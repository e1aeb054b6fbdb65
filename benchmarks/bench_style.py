"""Style kept: does a model's continuation keep a real tune's style? Against looping the prompt.

For each tune (at least 1500 frames): the prompt is frames 0-999, the truth its own frames
1000-1499, and the model continues the prompt by 500 frames (``continue_tune(tune, 500,
start=1000)``). :mod:`sidlang.model.stylemeasure` scores each continuation:

* ``kept`` = (D(prompt, other tunes) - D(prompt, continuation)) / (D(prompt, other tunes) -
  D(prompt, truth)), D(prompt, other tunes) the mean distance to every other tune's frames
  1000-1499: 1 is as close to the prompt as the tune's own next frames, 0 no closer than
  another tune (so "another tune" scores 0 on average by construction);
* ``new``: the share of continued frames whose whole register state never occurs in the prompt.

The baseline, measured in the same run with the same measure: the prompt's last 64 frames
(936-999) looped to 500 frames. A loop keeps the style and makes nothing new; the goal for
the model is a median kept of at least 0.8 with a median new of at least 0.3.

``--keep-voices 1`` copies voice 1 of the truth into the continuation and lets the model
write the other voices and the filter (``continue_tune(..., keep_voices=(1,))``); everything
is then measured on the written voices and the global registers only.

Run: ``python benchmarks/bench_style.py [FILE ...] [--weights W] [--temperature T] [--seeds N]
[--keep-voices 1] [--json]``. Without files: six held-out SID-Wizard exports and, where
``/work/data/real`` exists, the CheeseCutter and GoatTracker songs named in ``REAL_STEMS``
found there (any readable ending). ``.sid`` files are played for 35 seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from sidlang.errors import SidlangError
from sidlang.io import load
from sidlang.model.stylemeasure import distance, features, kept, new_frames
from sidlang.registers import N_WRITABLE
from sidlang.tune import Tune, make_writes

EXPORTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "sid-wizard" / "sid-exports"
EXPORT_STEMS = ("congabeat", "glacialblues", "kicksamule", "oakyardmemo", "versenyvagym", "cloudlessr")
REAL = Path("/work/data/real")
#: CheeseCutter songs, then GoatTracker songs, looked for by file stem under REAL.
REAL_STEMS = (
    "scarzix-visualbrothers",
    "abaddon-swingcat",
    "wisdom-Adrift",
    "tempest-soyoudied",
    "consultant",
    "dojo",
)
PROMPT, FRAMES, LOOP = 1000, 500, 64
SECONDS = 35  #: how long a .sid is played: 1750 frames at 50 Hz
GOAL_KEPT, GOAL_NEW = 0.8, 0.3


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def default_files() -> list[Path]:
    files = [EXPORTS / f"{stem}.sid" for stem in EXPORT_STEMS]
    if REAL.is_dir():
        found: dict[str, list[Path]] = {}
        for p in sorted(REAL.rglob("*")):
            if p.is_file() and readable(p):
                found.setdefault(p.name.split(".")[0].lower(), []).append(p)
        for stem in REAL_STEMS:
            hits = found.get(stem.lower())
            if hits:
                files.append(min(hits, key=lambda p: (p.suffix.lower() != ".sidl", len(p.parts), str(p))))
            else:
                say(f"bench_style: no readable file named {stem}.* under {REAL}; left out")
    return files


def readable(path: Path) -> bool:
    from sidlang.formats import for_path

    try:
        return for_path(str(path)).read is not None
    except SidlangError:
        return False


def load_tune(path: Path):
    """The tune, or None (and a line saying why) where it is shorter than 1500 frames."""
    opts = {"seconds": SECONDS} if path.suffix.lower() == ".sid" else {}
    tune = load(path, **opts)
    if len(tune.frames) < PROMPT + FRAMES:
        say(f"bench_style: {path}: {len(tune.frames)} frames, fewer than {PROMPT + FRAMES}; left out")
        return None
    return tune


def loop_of_prompt(tune):
    """Frames 0-999, then frames 936-999 played again and again to 500 more frames (a little over).

    Each pass starts by writing back every register's state after frame 935, then replays the
    writes of frames 936-999 at their offsets, so the register states repeat exactly (a plain
    replay of the writes would carry values from frame 999 into the next pass) and a
    retrigger inside a frame is replayed too.
    """
    h, w, fr = tune.header, tune.writes, tune.frames
    first = PROMPT - LOOP
    inside = (fr.index >= first) & (fr.index < PROMPT)
    block, offsets = w[inside], fr.offset[inside]
    regs = np.arange(N_WRITABLE)
    restore = np.concatenate(
        [
            make_writes(np.zeros(N_WRITABLE, np.int64), np.full(N_WRITABLE, c), regs, fr.state(c)[first - 1])
            for c in range(h.chips)
        ]
    )
    parts = [w[fr.index < PROMPT]]
    passes = math.ceil(FRAMES / LOOP)
    for k in range(passes):
        at = h.start_cycle + (PROMPT + k * LOOP) * h.frame_cycles
        r = restore.copy()
        r["cycle"] = at
        b = block.copy()
        b["cycle"] = at + (fr.index[inside] - first) * h.frame_cycles + offsets
        parts += [r, b]
    return Tune(h.replace(frames=PROMPT + passes * LOOP, timing="grid"), np.concatenate(parts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="tunes (.sid, .sidl, any sidlang-readable file)")
    ap.add_argument("--weights", help="weights file (default: the bundled model)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument(
        "--cache",
        type=float,
        default=None,
        help="weight of the tune's own memory in each draw (default: continue_tune's)",
    )
    ap.add_argument(
        "--pointer",
        type=float,
        default=None,
        help="share of the cache's vote given to the bar pointer (default: sidlang.model.cache.POINTER)",
    )
    ap.add_argument(
        "--span",
        type=int,
        default=None,
        help="frames the bar pointer reaches back at least (default: sidlang.model.cache.SPAN)",
    )
    ap.add_argument("--seeds", type=int, default=1, help="continuations per tune (seeds 0…N-1)")
    ap.add_argument("--keep-voices", default="", help="voices of the truth to keep, e.g. 1 or 1,2")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args(argv)
    try:
        keep = tuple(sorted({int(v) for v in args.keep_voices.split(",") if v.strip()}))
    except ValueError:
        ap.error(f"--keep-voices takes voice numbers like 1 or 1,2, got {args.keep_voices!r}")
    if any(v not in (1, 2, 3) for v in keep) or len(keep) == 3:
        ap.error(f"--keep-voices: at most two of the voices 1, 2, 3, got {args.keep_voices!r}")
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    voices = tuple(v for v in (1, 2, 3) if v not in keep)
    cache = {} if args.cache is None else {"cache": args.cache}
    from sidlang.model import cache as cache_module

    if args.pointer is not None:
        cache_module.POINTER = args.pointer
    if args.span is not None:
        from sidlang.model import barpointer

        barpointer.SPAN = args.span
    files = args.files or default_files()
    for p in files:
        if not p.is_file():
            say(f"bench_style: {p}: no such file")
            return 1
    from sidlang.model.network import bundled, continue_tune, load_model

    try:
        bundle = load_model(args.weights) if args.weights else bundled()
    except SidlangError as e:
        say(f"bench_style: {e}" if e.file else f"bench_style: weights {args.weights or 'bundled'}: {e}")
        return 1
    try:
        tunes = {}
        for p in files:
            say(f"loading {p}")
            tune = load_tune(p)
            if tune is not None:
                tunes[p] = tune
    except SidlangError as e:
        say(f"bench_style: {e}")
        return 1
    if len(tunes) < 2:
        say("bench_style: kept needs at least two tunes (the others are its zero); it will be blank")

    t0 = time.perf_counter()
    prompts = {p: features(t, 0, PROMPT, voices=voices) for p, t in tunes.items()}
    truths = {p: features(t, PROMPT, PROMPT + FRAMES, voices=voices) for p, t in tunes.items()}
    measure_ms = (time.perf_counter() - t0) / max(2 * len(tunes), 1) * 1000

    rows = []
    for i, (p, tune) in enumerate(tunes.items()):
        prompt, truth = prompts[p], truths[p]
        others = [f for q, f in truths.items() if q != p]
        model_kept, model_new, secs = [], [], []
        for seed in range(args.seeds):
            say(f"continuing {p.stem} ({i + 1}/{len(tunes)}), seed {seed}")
            t = time.perf_counter()
            out = continue_tune(
                tune,
                FRAMES,
                start=PROMPT,
                temperature=args.temperature,
                seed=seed,
                keep_voices=keep,
                model=bundle,
                **cache,
            )
            secs.append(time.perf_counter() - t)
            f = features(out, PROMPT, PROMPT + FRAMES, voices=voices)
            model_kept.append(kept(prompt, f, truth, others))
            model_new.append(new_frames(prompt, f))
        loop = features(loop_of_prompt(tune), PROMPT, PROMPT + FRAMES, voices=voices)
        rows.append(
            {
                "tune": p.stem,
                "file": str(p),
                "chips": tune.header.chips,
                "d_truth": distance(prompt, truth),
                "d_others": float(np.mean([distance(prompt, o) for o in others])) if others else float("nan"),
                "kept": _mean(model_kept),
                "new": _mean(model_new),
                "kept_seeds": model_kept,
                "new_seeds": model_new,
                "loop_kept": kept(prompt, loop, truth, others),
                "loop_new": new_frames(prompt, loop),
                "truth_new": new_frames(prompt, truth),
                "seconds": statistics.mean(secs),
            }
        )
    summary = {
        "median_kept": _median(r["kept"] for r in rows),
        "median_new": _median(r["new"] for r in rows),
        "loop_median_kept": _median(r["loop_kept"] for r in rows),
        "loop_median_new": _median(r["loop_new"] for r in rows),
        "truth_median_new": _median(r["truth_new"] for r in rows),
    }
    summary["goal_met"] = bool(summary["median_kept"] >= GOAL_KEPT and summary["median_new"] >= GOAL_NEW)
    settings = {
        "weights": args.weights or "bundled",
        "temperature": args.temperature,
        "seeds": args.seeds,
        "keep_voices": list(keep),
        "measured_voices": list(voices),
        "prompt_frames": PROMPT,
        "frames": FRAMES,
        "loop_frames": LOOP,
        "measure_ms_per_stretch": measure_ms,
    }
    if args.json:
        print(json.dumps(_clean({"settings": settings, "tunes": rows, **summary})))
    else:
        report(rows, summary, settings)
    return 0


def report(rows: list[dict], s: dict, settings: dict) -> None:
    kv = settings["keep_voices"]
    print(
        f"style kept: {len(rows)} tunes, prompt frames 0-{PROMPT - 1}, {FRAMES} frames continued "
        f"(temperature {settings['temperature']}, {settings['seeds']} seed(s), weights {settings['weights']})"
        + (
            f"; voice(s) {kv} kept from the truth, measured on voices {settings['measured_voices']} "
            "and the global registers"
            if kv
            else ""
        )
    )
    print(
        f"{'tune':24} {'D truth':>7} {'D other':>7} | {'kept':>6} {'new':>5} | {'loop kept':>9} "
        f"{'loop new':>8} | {'truth new':>9} | {'s':>5}"
    )
    for r in rows:
        print(
            f"{r['tune'][:24]:24} {r['d_truth']:7.2f} {r['d_others']:7.2f} | {r['kept']:6.2f} {r['new']:5.2f} | "
            f"{r['loop_kept']:9.2f} {r['loop_new']:8.2f} | {r['truth_new']:9.2f} | {r['seconds']:5.1f}"
        )
    print(
        f"{'median':24} {'':7} {'':7} | {s['median_kept']:6.2f} {s['median_new']:5.2f} | "
        f"{s['loop_median_kept']:9.2f} {s['loop_median_new']:8.2f} | {s['truth_median_new']:9.2f} |"
    )
    ratio = s["median_kept"] / s["loop_median_kept"] if s["loop_median_kept"] else float("nan")
    print(
        f"median kept: model {s['median_kept']:.2f}, baseline loop-the-last-{LOOP}-frames "
        f"{s['loop_median_kept']:.2f} (ratio model/loop {ratio:.2f}x); another tune 0 by construction"
    )
    print(
        f"median new frames: model {s['median_new']:.2f}, loop {s['loop_median_new']:.2f}, "
        f"the tunes' own frames 1000-1499 {s['truth_median_new']:.2f}"
    )
    print(
        f"goal median kept >= {GOAL_KEPT} with median new >= {GOAL_NEW}: "
        f"{'met' if s['goal_met'] else 'NOT met'}"
    )
    print(f"measure: {settings['measure_ms_per_stretch']:.1f} ms per stretch of frames")


def _mean(xs: list[float]) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.mean(xs) if xs else float("nan")


def _median(xs) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")


def _clean(obj):
    """NaN as null, so the output is strict JSON."""
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


if __name__ == "__main__":
    sys.exit(main())
