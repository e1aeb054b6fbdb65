"""Parse and print speed of the text language, against pandas reading the same tune.

A dense three-minute tune (synthetic player log, about 185,000 writes, two chips' worth of
voices on one) is printed to sidlang and parsed back; the baseline is ``pandas.read_csv``
reading the same tune as an asid-vice (``vice6``) dump, measured in the same run. Each figure
is the best of ``--repeat`` runs (the machine is shared; the best run is the least disturbed).

    python benchmarks/bench_text.py [--frames 9000] [--repeat 3]

Goal: parse and print at least 500,000 writes per second on one core.
"""

from __future__ import annotations

import argparse
import io
import time

from sidlang import dumps, parse
from sidlang.formats.vice import write_vice6
from sidlang.testing import player_log

GOAL = 500_000


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=9000, help="frames (9000 = 3 minutes PAL)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import pandas as pd

    tune = player_log(args.frames, irq=True)
    n = len(tune.writes)
    text = dumps(tune)
    dump = write_vice6(tune)
    assert parse(text) == tune

    t_csv = best_of(args.repeat, lambda: pd.read_csv(io.BytesIO(dump), sep=" ", header=None))
    t_print = best_of(args.repeat, lambda: dumps(tune))
    t_parse = best_of(args.repeat, lambda: parse(text))

    csv_rate = n / t_csv
    print(f"tune: {args.frames} frames, {n} writes, {len(text) / n:.1f} bytes of text per write")
    print(f"baseline pandas.read_csv (vice6 dump): {csv_rate:12,.0f} rows/s")
    for name, t in (("print (dumps)", t_print), ("parse", t_parse)):
        rate = n / t
        verdict = "meets" if rate >= GOAL else "MISSES"
        print(
            f"{name:<14} {rate:12,.0f} writes/s = {rate / csv_rate:.3f} x pandas  "
            f"({verdict} the {GOAL:,} writes/s goal)"
        )


if __name__ == "__main__":
    main()
