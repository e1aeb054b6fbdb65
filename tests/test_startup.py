"""Start-up: what a command imports, and numba's compiled code without a first-run wait."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sidlang import jitcache
from sidlang.cli import LISTED, build_parser

HEAVY = ("numba", "torch", "music21", "prompt_toolkit", "matplotlib")


def imported_by(code: str, env: dict | None = None) -> set[str]:
    """The top-level packages (and sidlang.c64) a fresh interpreter has after ``code``."""
    probe = (
        f"import sys, json\n{code}\n"
        "mods = {m.split('.')[0] for m in sys.modules} | {m for m in sys.modules if m.startswith('sidlang.c64')}\n"
        "print(json.dumps(sorted(mods)), file=sys.__stderr__)"
    )
    done = fresh(probe, {**os.environ, **(env or {})})
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def fresh(code: str, env: dict) -> subprocess.CompletedProcess:
    """A fresh interpreter running ``code`` with ``env`` (and no background compile)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "SIDLANG_PREWARM": "0"},
    )


def test_version_imports_no_heavy_module():
    mods = imported_by("from sidlang.cli import main\nassert main(['--version']) == 0")
    assert not mods & {*HEAVY, "numpy"}, mods & {*HEAVY, "numpy"}


def test_converting_text_imports_neither_numba_nor_the_emulation(tmp_path):
    src = tmp_path / "t.sidl"
    src.write_text("0 v1 freq=C-4 wave=pulse,gate | vol=15\n")
    mods = imported_by(
        f"from sidlang.cli import main\nassert main(['convert', {str(src)!r}, {str(tmp_path / 'o.vice')!r}]) == 0"
    )
    assert not mods & set(HEAVY) and "sidlang.c64" not in mods, mods & {*HEAVY, "sidlang.c64"}


@pytest.mark.parametrize("given, seen", [(None, "1"), ("3", "3")])
def test_render_asks_openblas_for_no_thread_pool_unless_told(tmp_path, given, seen):
    src, out = tmp_path / "t.sidl", tmp_path / "t.wav"
    src.write_text("0 v1 freq=C-4 wave=pulse,gate | vol=15\n1 v1 freq=D-4\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given:
        env["OPENBLAS_NUM_THREADS"] = given
    code = (
        "import os, sys\nfrom sidlang.cli import main\n"
        f"assert main(['render', {str(src)!r}, {str(out)!r}]) == 0\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), file=sys.__stderr__)"
    )
    done = fresh(code, env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == seen


def test_listed_commands_are_what_their_modules_say():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    said = {c.dest: c.help for c in sub._choices_actions}
    assert said == dict(LISTED.values())


def test_format_tables_are_what_the_modules_say():
    from sidlang import formats

    reg = formats.registry()
    assert {n: f.__module__ for n, f in ((n, f.read or f.write) for n, f in reg.items())} == {
        n: f"sidlang.formats.{m}" for n, m in formats.MODULE_OF.items()
    }
    assert formats.FORMAT_OF == {e: n for n, f in reg.items() for e in f.extensions}


def test_prewarm_compiles_ahead_only_what_is_cold(monkeypatch, tmp_path):
    started = []
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SIDLANG_JIT", raising=False)
    monkeypatch.delenv("SIDLANG_PREWARM", raising=False)
    monkeypatch.setattr(jitcache, "compile_in_background", lambda m: started.append(m) or m)
    assert jitcache.prewarm() == "all" and started == ["all"]
    for module in jitcache.KERNELS:
        jitcache._write_stamp(module)
    assert jitcache.prewarm() is None and started == ["all"]
    monkeypatch.setenv("SIDLANG_PREWARM", "0")
    (tmp_path / "sidlang-warm" / "sidlang.c64.jit.stamp").write_text("another source")
    assert jitcache.prewarm() is None


@pytest.fixture(scope="module")
def warm_core():
    """The 6502 core compiled and cached by the background compile's own code (in a process of
    its own, waiting for any other compile to end)."""
    pytest.importorskip("numba")
    from sidlang.c64 import jit

    if not jit.JIT:
        pytest.skip("SIDLANG_NO_JIT is set")
    env = {**os.environ, "SIDLANG_JIT": "wait"}
    done = subprocess.run(
        [sys.executable, "-m", "sidlang.jitcache", "--block", "sidlang.c64.jit"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert jitcache.is_warm("sidlang.c64.jit")


def test_every_core_function_is_in_the_cache_after_the_warm_up(warm_core):
    """The switch to compiled code waits for all of them: none may be left uncompiled."""
    from numba.core.registry import CPUDispatcher

    from sidlang.c64 import bus, cpu, voice3

    kernels = [
        (m.__name__, k)
        for m in (bus, cpu, voice3)
        for k, v in vars(m).items()
        if isinstance(v, CPUDispatcher) and v.targetoptions.get("inline") != "always"
    ]
    assert len(kernels) > 10
    missing = [f"{m}.{k}" for m, k in kernels if not jitcache.on_disk(getattr(sys.modules[m], k))]
    assert not missing, f"compiled by nothing the warm-up plays: {missing}"


COLD_RUN = r"""
import json, sys
import numpy as np
from sidlang import jitcache
from sidlang.c64 import jit
from sidlang.io import load

class Running:
    def poll(self):
        return None

asked, real_on_disk = [], jitcache.on_disk
jitcache.compile_in_background = lambda m: asked.append(m) or Running()
jitcache.on_disk = lambda d: False  # a fresh install: nothing compiled yet
tune = jit._psid(bytes([0xA9, 0x0F, 0x8D, 0x18, 0xD4, 0xEE, 0x00, 0xD4, 0x60]), 0, 0)
cold = load(tune, format="sid", seconds=2)
state = [jit._core.compiled, asked]
jitcache.on_disk = real_on_disk  # the background compile has finished, and left its stamp
jitcache.is_warm = lambda module: True
jit._core.next_check = 0
warm = load(tune, format="sid", seconds=2)
state.append(jit._core.compiled)
w = lambda t: [t.writes["cycle"].tolist(), t.writes["val"].tolist()]
print(json.dumps([state, w(cold) == w(warm), w(warm)]))
"""


def test_a_first_sid_runs_interpreted_then_switches_to_the_compiled_core(warm_core):
    from sidlang.c64 import jit
    from sidlang.io import load

    env = {**os.environ, "SIDLANG_PREWARM": "0"}
    env.pop("SIDLANG_JIT", None)
    env.pop("SIDLANG_NO_JIT", None)
    done = subprocess.run(
        [sys.executable, "-c", COLD_RUN], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (compiled_first, asked, compiled_then), same, writes = json.loads(done.stdout.strip().splitlines()[-1])
    assert compiled_first is False and asked == ["sidlang.c64.jit"]
    assert compiled_then is True and same
    here = load(
        jit._psid(bytes([0xA9, 0x0F, 0x8D, 0x18, 0xD4, 0xEE, 0x00, 0xD4, 0x60]), 0, 0),
        format="sid",
        seconds=2,
    )
    assert writes == [here.writes["cycle"].tolist(), here.writes["val"].tolist()]
    assert np.all(np.diff(here.writes["cycle"]) >= 0)


RACE = r"""
import json, time
from sidlang import jitcache
from sidlang.c64 import jit
from sidlang.io import load

class Running:
    def poll(self):
        return None

real_on_disk, t = jitcache.on_disk, time.monotonic()
ended = lambda: time.monotonic() - t > 0.3  # the compile ends while the child runs
jitcache.compile_in_background = lambda m: Running()
jitcache.is_warm = lambda module: ended()
jitcache.on_disk = lambda d: real_on_disk(d) if ended() else False
raced = []
race = jit._core.race
kill = jit.os.kill
jit.os.kill = lambda pid, sig: raced.append("stopped") or kill(pid, sig)
jit._core.race = lambda fn, args: raced.append(fn.__name__) or race(fn, args)
tune = load(jit._psid(BUSY, 0, 0), format="sid", seconds=60)
print(json.dumps([jit._core.compiled and raced[-2:] == ["execute", "stopped"], time.monotonic() - t,
                  tune.writes["cycle"].tolist()[-5:], len(tune.writes)]))
"""
#: A play routine that loops 256 times a frame: a minute of it takes the interpreted core long.
BUSY = bytes([0xA2, 0x00, 0xE8, 0xD0, 0xFD, 0x8E, 0x18, 0xD4, 0x60])  # LDX #0; INX; BNE; STX $D418; RTS


def test_the_compiled_core_takes_over_a_long_interpreted_call(warm_core):
    from sidlang.c64 import jit
    from sidlang.io import load

    env = {**os.environ, "SIDLANG_PREWARM": "0"}
    env.pop("SIDLANG_JIT", None)
    env.pop("SIDLANG_NO_JIT", None)
    code = RACE.replace("BUSY", repr(BUSY))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    compiled, took, last, n = json.loads(done.stdout.strip().splitlines()[-1])
    here = load(jit._psid(BUSY, 0, 0), format="sid", seconds=60)
    assert compiled is True and took < 10
    assert [last, n] == [here.writes["cycle"].tolist()[-5:], len(here.writes)]
