"""Start-up of the ``sidlang`` command, and a first ``.sid`` conversion against a warm one.

Start-up: each command run as a fresh process (``python -c "from sidlang.cli import main"``,
what the console script does), alternating with the baseline, best of ``--repeat``:

* **python** — ``python -c pass``: the interpreter's own start-up, the baseline;
* ``import numpy`` — for scale: what any command that touches a tune pays;
* ``sidlang --version``, ``sidlang convert tiny.sidl out.vice``.

Printed: milliseconds beyond the baseline (the goal: at most 150) and the ratio to it.

First run: ``sidlang convert TUNE out.vice6 --seconds S`` in a fresh numba cache
(``NUMBA_CACHE_DIR`` set to an empty folder: a new installation) against the same command once
the cache is warm (the baseline, best of ``--repeat``), in the same run:

* **before** — ``SIDLANG_JIT=wait``: compile the 6502 core first, as plain numba does (and as
  sidlang did before ``sidlang.jitcache``);
* **first** — the default: the core runs interpreted while one background process compiles it,
  and switches to the compiled code when that is cached;
* **warm** — the compiled core from the cache.

Printed: seconds and the ratio to warm (the goal: first within 2x). TUNE defaults to
``kicksamule.sid`` from ``../shared/testdata`` where that is present, else a PSID the project
writes from a synthetic player log.

Render, whole process: ``sidlang render TUNE.vice OUT.wav`` against a bare script (the
baseline) that reads the same dump with ``str.split``, feeds pyresidfp's low-level ``SID`` and
writes the WAV with the ``wave`` module, each a fresh process, alternating, best of
``--repeat``; printed as the speed ratio bare / sidlang (the goal: at least 0.95).

    python benchmarks/bench_startup.py [TUNE] [--seconds 30 180] [--repeat 5] [--no-before]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_TUNE = ROOT.parent / "shared" / "testdata" / "sid-wizard" / "sid-exports" / "kicksamule.sid"
CLI = [sys.executable, "-c", "import sys; from sidlang.cli import main; sys.exit(main())"]


def run(cmd: list[str], env: dict | None = None) -> float:
    """Wall seconds of one process."""
    t = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[3:])} failed: {done.stderr.decode()[-400:]}")
    return time.perf_counter() - t


def startup(repeat: int, folder: Path) -> None:
    tiny = folder / "tiny.sidl"
    tiny.write_text("0 v1 freq=C-4 wave=pulse,gate | vol=15\n1 v1 freq=D-4\n")
    env = {**os.environ, "SIDLANG_PREWARM": "0"}
    cases = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "sidlang --version": CLI + ["--version"],
        "sidlang convert tiny.sidl out.vice": CLI
        + ["convert", str(tiny), str(folder / "out.vice"), "--force"],
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):
        for name, cmd in cases.items():
            best[name] = min(best[name], run(cmd, env))
    base = best["python -c pass (baseline)"]
    print(f"start-up, best of {repeat} (the goal: at most 150 ms beyond the baseline)")
    for name, t in best.items():
        print(
            f"  {name:38s} {t * 1000:6.0f} ms   beyond baseline {(t - base) * 1000:5.0f} ms   "
            f"x{t / base:5.2f}"
        )


def _wait_for_background(cache: Path, limit: float = 600) -> None:
    """Until the background compile of the 6502 core has finished (it leaves a stamp)."""
    stamp = cache / "sidlang-warm" / "sidlang.c64.jit.stamp"
    end = time.monotonic() + limit
    while not stamp.exists() and time.monotonic() < end:
        time.sleep(0.2)


def first_run(tune: Path, seconds: float, repeat: int, before: bool, folder: Path) -> None:
    out = folder / "out.vice6"
    cmd = CLI + ["convert", str(tune), str(out), "--seconds", str(seconds), "--force"]
    base_env = {k: v for k, v in os.environ.items() if k not in ("SIDLANG_JIT", "SIDLANG_NO_JIT")}
    base_env["SIDLANG_PREWARM"] = "0"  # the conversion is the first command ever run
    results = {}
    if before:
        cache = Path(tempfile.mkdtemp(dir=folder))
        results["before (compile first)"] = run(
            cmd, {**base_env, "NUMBA_CACHE_DIR": str(cache), "SIDLANG_JIT": "wait"}
        )
    cache = Path(tempfile.mkdtemp(dir=folder))
    env = {**base_env, "NUMBA_CACHE_DIR": str(cache)}
    results["first"] = run(cmd, env)
    first_out = out.read_bytes()
    _wait_for_background(cache)
    warm = min(run(cmd, env) for _ in range(repeat))
    if out.read_bytes() != first_out:
        raise SystemExit("the first run wrote another dump than the warm one")
    print(f"\nfirst run: convert {tune.name} --seconds {seconds:g}, fresh numba cache; warm best of {repeat}")
    print(f"  {'warm (baseline)':24s} {warm:6.2f} s")
    for name, t in results.items():
        print(f"  {name:24s} {t:6.2f} s   x{t / warm:5.2f} of warm")


BARE = """\
import array, sys, wave
from pyresidfp._pyresidfp import SID, ChipModel, SamplingMethod
rows = [tuple(map(int, line.split())) for line in open(sys.argv[1])]
sid = SID(ChipModel.MOS6581, SamplingMethod.RESAMPLE, 985248.0, 44100.0)
out = []
for delta, reg, val in rows:
    if delta:
        out.extend(sid.clock(delta))
    sid.write(reg & 31, val)
out.extend(sid.clock(19656))
with wave.open(sys.argv[2], "wb") as w:
    w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
    w.writeframes(array.array("h", out).tobytes())
"""


def render_process(tune: Path, seconds: float, repeat: int, folder: Path) -> None:
    dump = folder / "render.vice"
    env = {**os.environ, "SIDLANG_PREWARM": "0"}
    run(CLI + ["convert", str(tune), str(dump), "--seconds", str(seconds), "--force"], env)
    script = folder / "bare.py"
    script.write_text(BARE)
    cases = {
        "bare script (baseline)": [sys.executable, str(script), str(dump), str(folder / "bare.wav")],
        "sidlang render": CLI + ["render", str(dump), str(folder / "out.wav"), "--force"],
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):
        for name, cmd in cases.items():
            best[name] = min(best[name], run(cmd, env))
    base = best["bare script (baseline)"]
    print(
        f"\nrender, whole process: {tune.name} {seconds:g} s as a VICE dump, best of {repeat} (goal: at least 0.95)"
    )
    for name, t in best.items():
        print(f"  {name:24s} {t:6.2f} s   speed vs bare {base / t:5.3f}")


def synthetic_tune(folder: Path) -> Path:
    from sidlang.formats.sid import write_sid
    from sidlang.testing import player_log

    path = folder / "synthetic.sid"
    path.write_bytes(write_sid(player_log(60 * 50, jitter=0)))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tune", nargs="?", type=Path)
    ap.add_argument("--seconds", type=float, nargs="+", default=[30.0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-before", action="store_true", help="skip the compile-first run (saves a compile)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        startup(args.repeat, folder)
        tune = args.tune or (SHARED_TUNE if SHARED_TUNE.exists() else synthetic_tune(folder))
        for seconds in args.seconds:
            first_run(tune, seconds, args.repeat, not args.no_before, folder)
        render_process(tune, 30.0, args.repeat, folder)


if __name__ == "__main__":
    main()
