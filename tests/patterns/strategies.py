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
        hr_wave=draw(waves),
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
                raw_writes(chips),
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
        pitch=draw(st.dictionaries(notes, st.integers(0, 0xFFFF), max_size=4)),
        frame_cycles=draw(st.just(0) | st.integers(1024, 100_000)),
    )


def raw_writes(chips: int):
    """A subtune's raw writes: (frame, chip, reg, val) in frame order, any register slot."""
    write = st.tuples(st.integers(0, 300), st.integers(0, chips - 1), st.integers(0, 31), st.integers(0, 255))
    return st.lists(write, max_size=12).map(lambda ws: tuple(sorted(ws, key=lambda w: w[0])))


PLAIN_WAVES = (0x10, 0x20, 0x40, 0x80, 0x08 | 0x40, 0x14)  #: tri saw pulse noise test+pulse tri+ring


@st.composite
def plain_instruments(draw) -> Instrument:
    """An instrument of the kind a tracker song has: ADSR, a hard restart, a short wave and
    arpeggio table (maybe looping), maybe a pulse sweep."""
    wave = draw(
        st.lists(
            st.builds(WaveStep, st.sampled_from(PLAIN_WAVES), st.sampled_from((0, 0, 12, 7, 4, -12))),
            min_size=1,
            max_size=4,
        )
    )
    pulse = draw(
        st.just([])
        | st.builds(
            lambda v, d, n: [TableStep("set", v), TableStep("add", d, n)],
            st.integers(0x100, 0xE00),
            st.integers(-64, 64).filter(bool),
            st.integers(1, 60),
        )
    )
    hr = draw(st.sampled_from((0, 1, 2, 3)))
    return Instrument(
        ad=draw(st.integers(0, 255)),
        sr=draw(st.integers(0, 255)),
        hr=hr,
        hr_ad=draw(st.sampled_from((0, 0x0F))) if hr else 0,
        hr_sr=0,
        wave=wave,
        wave_loop=draw(st.none() | st.integers(0, len(wave) - 1)),
        pulse=pulse,
    )


@st.composite
def plain_songs(draw) -> Song:
    """A one-SID song made the way a tracker song is: one tempo, a few instruments, patterns
    of notes, gate-offs and empty rows, orderlists that repeat and transpose them."""
    insts = draw(st.dictionaries(st.integers(1, 9), plain_instruments(), min_size=1, max_size=3))
    row = st.builds(
        Row, st.none() | st.just(GATE_OFF) | st.integers(36, 84), st.sampled_from(sorted(insts))
    ).map(lambda r: r if r.note not in (None, GATE_OFF) else Row(r.note))
    pats = draw(
        st.dictionaries(
            st.integers(0, 9),
            st.builds(Pattern, st.lists(row, min_size=1, max_size=8)),
            min_size=1,
            max_size=3,
        )
    )
    entry = st.builds(OrderEntry, st.sampled_from(sorted(pats)), st.integers(-5, 5), st.integers(1, 3))
    orders = draw(
        st.dictionaries(
            st.integers(0, VOICES - 1),
            st.builds(Orderlist, st.lists(entry, min_size=1, max_size=4)),
            min_size=1,
        )
    )
    return Song(
        instruments=insts, patterns=pats, subtunes=[Subtune(tempo=(draw(st.integers(3, 8)),), orders=orders)]
    )
