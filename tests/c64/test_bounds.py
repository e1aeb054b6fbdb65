"""Hostile .sid files: every emulation is bounded in cycles and in what it records.

Each file is a few bytes built here. The bounds: at most 512 PSID play calls and 512
interrupts a video frame, 100,000 SID writes a second, 2**23 writes and 4,194,304 frames
in all. Exceeding one is a one-line error, found within a second or two of emulated time;
the command-line cases run in a child process under a 2 GB address-space limit and a
time limit.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import numpy as np
import pytest

import sidlang
from sidlang.c64.asm import assemble
from sidlang.c64.machine import C64, MachineError
from tests.sidfiles import CIA_PLAYER, psid, rsid

STA_LOOP = rsid("lda #0\nloop: sta $d418\njmp loop")  # 133,000 writes a second (bad lines take 5%)
NMI_STORM = rsid("""
        sei
        lda #$35
        sta $01
        lda #<nmi
        sta $fffa
        lda #>nmi
        sta $fffb
        lda #1
        sta $dd04
        lda #0
        sta $dd05
        lda #$81
        sta $dd0d
        lda #$11
        sta $dd0e
loop:   jmp loop
nmi:    bit $dd0d
        rti
""")  # CIA 2's timer at latch 1: an NMI as soon as the last RTI is done
LATCH_1 = psid(CIA_PLAYER.format(latch=1), speed=1)

CASES = [
    (LATCH_1, {}, r"calls play every 2 cycles \(492,624 times a second\); sidlang calls it at most every 38"),
    (
        psid(CIA_PLAYER.format(latch=76), speed=1),
        {"seconds": 3600},
        r"play is called every 77 cycles, so 3600 s would be more than the 4,194,304 frames .* at most 327 s \(--seconds 327\)",
    ),
    (STA_LOOP, {}, r"writes the SID 1\d\d,\d+ times a second .* at most 100,000 a second"),
    (
        NMI_STORM,
        {"seconds": 3600},
        r"takes [\d,]+ interrupts in its first 0\.\d+ s \(\d+ a video frame\); .* 512",
    ),
]


@pytest.fixture(scope="module")
def compiled_core():
    """Play a good tune once, so the core is compiled before any case is timed (a fresh
    machine with no numba cache spends 10-20 s compiling it on the first call)."""
    sidlang.load(psid(CIA_PLAYER.format(latch=19656), speed=1), format="sid", seconds=1)


@pytest.mark.parametrize("data, options, match", CASES)
def test_limits_are_one_clear_error_found_early(compiled_core, data, options, match):
    t = time.process_time()
    with pytest.raises(MachineError, match=match) as e:
        sidlang.load(data, format="sid", **options)
    assert "\n" not in e.value.message
    assert time.process_time() - t < 3


def test_just_under_the_tick_limit_plays():
    tune = sidlang.load(psid(CIA_PLAYER.format(latch=76), speed=1), format="sid", seconds=5)
    assert tune.header.frame_cycles == 77 and tune.header.frames == 5 * 985248 // 77 + 1
    gaps = np.diff(tune.writes["cycle"][2::2])  # INC writes twice; after the player's volume
    assert np.median(gaps) == 77 and np.all(np.abs(gaps - 77) <= 43)  # bad lines hold some calls


def test_the_whole_write_log_is_bounded():
    code, _ = assemble("ldy #0\nouter: ldx #0\nloop: sta $d400\ninx\nbne loop\ndey\nbne outer\nrts", 0x1000)
    m = C64(log_capacity=1024, max_writes=4096)
    m.load(0x1000, code)
    with pytest.raises(
        MachineError, match=r"writes the SID 4,\d+ times in its first 0\.0 s, as many as sidlang"
    ):
        m.call(0x1000, 0, 10**6, "test")


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("data", [LATCH_1, STA_LOOP, NMI_STORM], ids=["latch-1", "sta-loop", "nmi-storm"])
def test_info_refuses_in_one_line_under_2gb_and_5s(tmp_path, data):
    path = tmp_path / "hostile.sid"
    path.write_bytes(data)
    t = time.perf_counter()
    cli = "import sys; from sidlang.cli import main; sys.exit(main(sys.argv[1:]))"
    p = subprocess.run(
        [sys.executable, "-c", cli, "info", str(path), "--seconds", "3600"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_cap,
    )
    assert p.returncode == 1, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("sidlang: ")
    assert time.perf_counter() - t < 5 + 15  # 5 s of work, plus a slow start on a loaded machine
