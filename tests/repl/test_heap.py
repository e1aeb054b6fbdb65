"""The REPL's allocator setting: on glibc it takes effect; it can be turned off."""

import sys

import pytest

from sidlang.repl import heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_big_blocks_takes_effect_on_linux():
    import ctypes.util

    if "musl" in (ctypes.util.find_library("c") or ""):
        pytest.skip("not glibc")
    assert heap.keep_big_blocks() is True


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("SIDLANG_KEEP_HEAP", "0")
    assert heap.keep_big_blocks() is False
