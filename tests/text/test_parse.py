"""The language as a person types it: fields, notes, bit names, ops, context, errors."""

import pytest

from sidlang import SidlangSyntaxError, dumps, parse
from sidlang.pitch import PAL_HZ, note_to_reg


def writes(text: str) -> list[tuple[int, int, int, int]]:
    return [tuple(int(x) for x in w) for w in parse(text).writes.tolist()]


def test_fields_notes_and_bits():
    t = parse("0 v1 freq=A-4 pw=$800 wave=pulse,gate ad=$09 sr=%11110000")
    a4 = note_to_reg(69, 0, PAL_HZ)
    assert writes("0 v1 freq=A-4 pw=$800 wave=pulse,gate ad=$09 sr=%11110000") == [
        (0, 0, 0, a4 & 0xFF),
        (0, 0, 1, a4 >> 8),
        (0, 0, 2, 0x00),
        (0, 0, 3, 0x08),
        (0, 0, 4, 0x41),
        (0, 0, 5, 0x09),
        (0, 0, 6, 0xF0),
    ]
    assert t.header.frame_cycles == 19656


def test_note_spellings_agree():
    a, b, c = (writes(f"0 v1 freq={n}") for n in ("C#4", "Db4", "C#4+0c"))
    assert a == b == c
    assert (a[1][3] << 8 | a[0][3]) == note_to_reg(61, 0, PAL_HZ)
    sharp = writes("0 v2 freq=C#4+12c")[0]
    assert sharp[2] == 7  # voice 2's freq_lo


def test_voice_context_and_globals():
    w = writes("0 v3 wave=saw,gate | vol=15 | v2 ad=$11")
    assert [(r, v) for _, _, r, v in w] == [(18, 0x21), (24, 15), (12, 0x11)]


def test_sub_fields_merge_into_one_write_and_keep_other_bits():
    w = writes("0 mode=lp vol=15\n1 vol=9\n2 res=15 route=v1,v3 res=2")
    assert [(r, v) for _, _, r, v in w] == [(24, 0x1F), (24, 0x19), (23, 0xF5), (23, 0x25)]


def test_a_d_s_r_nibbles():
    assert [v for *_, v in writes("0 v1 a=1 d=2 s=15 r=0")] == [0x12, 0xF0]


def test_diff_ops_change_the_current_value():
    w = writes("0 v1 freq=$1000\n1 v1 freq+=24\n2 v1 freq-=48\n3 vol=10\n4 vol+=3")
    assert [(r, v) for _, _, r, v in w] == [
        (0, 0x00),
        (1, 0x10),
        (0, 24),
        (1, 0x10),
        (0, 0xE8),
        (1, 0x0F),
        (24, 10),
        (24, 13),
    ]


def test_wait_and_implicit_frame_numbers():
    t = parse("v1 wave=gate\nwait 3\nv1 wave=0\n10 vol=1")
    assert [c // 19656 for c in t.writes["cycle"].tolist()] == [0, 4, 10]


def test_offsets_and_gap():
    w = writes("@gap 10\n0 v1 ad=1 sr=2@50 wave=gate freq=$1234")
    assert [c for c, *_ in w] == [0, 50, 60, 70, 80]


def test_raw_registers_and_addresses_with_two_chips():
    w = writes("@sids $d400 $d420\n0 $04=$41 $d424=$11 vol=2 s2.v1 wave=gate s1 vol=1")
    assert [(c, r, v) for _, c, r, v in w] == [(0, 4, 0x41), (1, 4, 0x11), (0, 24, 2), (1, 4, 1), (0, 24, 1)]


def test_comments_and_sharps():
    t = parse("# a tune\n0 v1 freq=C#4  # C# is a note, '# ' starts a comment\n")
    assert len(t.writes) == 2


def test_header_round_trip_and_length():
    text = '@title "Star \\"fish\\""\n@clock ntsc\n@model 8580\n0 vol=15\nwait 49\n'
    t = parse(text)
    assert t.header.title == 'Star "fish"' and t.header.models == (8580,)
    assert t.header.frames == 50 and len(t.frames) == 50
    assert parse(dumps(t)) == t


def test_irq_timing_elides_the_frame_start_interrupt():
    t = parse("@timing irq\n0 vol=1\n1 irq@5 vol=2\n2 noirq vol=3\n3 irq\n")
    assert t.irq.tolist() == [0, 19656 + 5, 3 * 19656]
    # Frames 0 and 3 have their IRQ at the start: frame 0's is implied by its writes, frame 3
    # (no writes) spells it out; frame 1's is late, frame 2 has none.
    assert dumps(t).splitlines()[-4:] == [
        "0 mode=0 vol=1",
        "1 irq@5 mode=0 vol=2",
        "2 noirq mode=0 vol=3",
        "3 irq",
    ]
    assert parse(dumps(t)) == t


@pytest.mark.parametrize(
    "text, line, col, needle",
    [
        ("0 v1 frq=1", 1, 6, "did you mean 'freq'"),
        ('@title "x"\n0 v1 wave=plse', 2, 11, "did you mean 'pulse'"),
        ("0 freq=C-4", 1, 3, "needs a voice"),
        ("0 v1 freq=70000", 1, 11, "out of range"),
        ("0 vol=1\n0 vol=2", 2, 1, "frame 0 comes after frame 0"),
        ("@clock pall", 1, 8, "bad value"),
        ("@colck pal", 1, 1, "did you mean 'clock'"),
        ("0 vol=1\n@clock pal", 2, 1, "before the first frame"),
        ("0 v1 ad=1@40 sr=2@10", 1, 14, "before the previous write"),
        ("0 v1 ad=1@99999", 1, 6, "past the end of the frame"),
        ("0 v1 ad=1@x", 1, 11, "bad cycle offset"),
        ("0 s3.v1 ad=1", 1, 3, "chip s3 not in this tune"),
        ("0 v1 pw-=1", 1, 6, "out of range"),
        ("0 $d464=1", 1, 3, "no SID at $d460"),
        ("wait x", 1, 1, "wait takes one number"),
        ("0 v1 freq=A-9", 1, 11, "above the SID's range"),
    ],
)
def test_errors_name_line_column_and_hint(text, line, col, needle):
    with pytest.raises(SidlangSyntaxError) as e:
        parse(text, "song.sidl")
    err = e.value
    assert (err.line, err.column) == (line, col), str(err)
    assert needle in str(err)
    assert str(err).startswith(f"song.sidl:{line}:{col}: ")
    assert "\n" not in str(err)
    pretty = err.pretty().splitlines()
    assert pretty[2].index("^") - 4 == col - 1


@pytest.mark.parametrize("word", ["$-5", "-5", "+5", "1_0", "$ f", "0x", "%2"])
def test_a_number_is_digits_only(word):
    """int() takes signs, '_' and spaces; a register value does not (``vol=$-5`` once wrote 251)."""
    from sidlang.text.lexicon import parse_int

    assert parse_int(word) is None
    with pytest.raises(SidlangSyntaxError):
        parse(f"0 vol={word}\n")
