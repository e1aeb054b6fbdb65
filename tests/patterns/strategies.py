"""Hypothesis strategies for pattern songs: every Song they draw is one the text can hold."""

from __future__ import annotations

from hypothesis import strategies as st

from sidlang.patterns.model import (
    EFFECTS,
    GATE_OFF,
    MAX_TRANSPOSE,
    NOTE_RANGE,
    Effect,
    Instrument,
    OrderEntry,
    Orderlist,
    Pattern,
    Row,
    Song,
    Subtune,
    TableStep,
    WaveStep,
)
from sidlang.pitch import NTSC_HZ, PAL_HZ
from sidlang.registers import VOICES

notes = st.integers(*NOTE_RANGE)
waves = st.none() | st.integers(0, 127).map(lambda v: v * 2)  # no gate bit


@st.composite
def effects(draw) -> Effect:
    spec = EFFECTS[draw(st.sampled_from(sorted(EFFECTS)))]
    n = draw(st.integers(spec.least, len(spec.ranges)))
    return Effect(spec.name, tuple(draw(st.integers(lo, hi)) for lo, hi in spec.ranges[:n]))


def wave_steps():
    return st.builds(WaveStep, waves, st.integers(-MAX_TRANSPOSE, MAX_TRANSPOSE), st.just(False)) | st.builds(
        WaveStep, waves, notes, st.just(True)
    )


def table_steps(high: int):
    return st.builds(TableStep, st.just("set"), st.integers(0, high)) | st.builds(
        TableStep, st.just("add"), st.integers(-high, high), st.integers(1, 255)
    )


def loop_for(draw, steps) -> int | None:
    return draw(st.none() | st.integers(0, len(steps) - 1)) if steps else None


@st.composite
def instruments(draw) -> Instrument:
    wave = draw(st.lists(wave_steps(), max_size=5))
    pulse = draw(st.lists(table_steps(0xFFF), max_size=4))
    filt = draw(st.lists(table_steps(0x7FF), max_size=4))
    return Instrument(
        name=draw(st.text(max_size=12)),
        ad=draw(st.integers(0, 255)),
        sr=draw(st.integers(0, 255)),
        hr=draw(st.integers(0, 15)),
        hr_ad=draw(st.integers(0, 255)),
        hr_sr=draw(st.integers(0, 255)),
        wave=wave,
        wave_loop=loop_for(draw, wave),
        pulse=pulse,
        pulse_loop=loop_for(draw, pulse),
        filter=filt,
        filter_loop=loop_for(draw, filt),
        fmode=draw(st.integers(0, 15)),
        fres=draw(st.integers(0, 15)),
    )


@st.composite
def songs(draw) -> Song:
    chips = draw(st.integers(1, 3))
    insts = draw(st.dictionaries(st.integers(1, 99), instruments(), max_size=3))
    row = st.builds(
        Row,
        st.none() | st.just(GATE_OFF) | notes,
        st.none() | st.sampled_from(sorted(insts)) if insts else st.none(),
        st.none() | effects(),
    )
    pats = draw(
        st.dictionaries(
            st.integers(0, 255), st.builds(Pattern, st.lists(row, min_size=1, max_size=6)), max_size=3
        )
    )
    entry = (
        st.builds(
            OrderEntry,
            st.sampled_from(sorted(pats)),
            st.integers(-MAX_TRANSPOSE, MAX_TRANSPOSE),
            st.integers(1, 255),
        )
        if pats
        else st.nothing()
    )

    @st.composite
    def orderlist(draw2) -> Orderlist:
        entries = draw2(st.lists(entry, min_size=1, max_size=20))
        return Orderlist(entries, draw2(st.none() | st.integers(0, len(entries) - 1)))

    orders = (
        st.dictionaries(st.integers(0, chips * VOICES - 1), orderlist(), max_size=4) if pats else st.just({})
    )
    subs = draw(
        st.lists(
            st.builds(
                Subtune,
                st.lists(st.integers(1, 255), min_size=1, max_size=2).map(tuple),
                orders,
                st.integers(0, 1 << 20),
            ),
            min_size=1,
            max_size=2,
        )
    )
    return Song(
        title=draw(st.text(max_size=20)),
        author=draw(st.text(max_size=20)),
        released=draw(st.text(max_size=8)),
        clock_hz=draw(st.sampled_from([PAL_HZ, NTSC_HZ]) | st.integers(100_000, 4_000_000)),
        models=tuple(draw(st.lists(st.sampled_from([6581, 8580]), min_size=1, max_size=3))),
        chips=chips,
        vol=draw(st.integers(0, 15)),
        instruments=insts,
        patterns=pats,
        subtunes=subs,
    )
