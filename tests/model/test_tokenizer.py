"""Tokenizer: exact round trips (hypothesis), the grammar, augmentation as token maps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang.errors import SidlangError
from sidlang.model.tokenizer import (
    AGAIN,
    BOS,
    EOS,
    FLIP,
    FRAME,
    REPEAT,
    Tokenizer,
    TokenizerConfig,
    rotation_map,
)
from sidlang.testing import player_log
from sidlang.text import dumps, parse
from sidlang.transforms import rotate_voices, transpose
from tests.strategies import tunes

TOK = Tokenizer()


def key(tune):
    """What the token form keeps exactly: frame, chip, register and value of every write, in order."""
    w = tune.writes
    return np.stack([tune.frames.index, w["chip"], w["reg"], w["val"]]), len(tune.frames)


@settings(max_examples=40)
@given(tunes(max_frames=30, max_writes=12))
def test_round_trip_keeps_every_change_exactly_but_for_offsets(tune):
    back = TOK.decode(TOK.encode(tune), tune.header)
    a, na = key(TOK.model_form(tune))
    b, nb = key(back)
    assert np.array_equal(a, b) and na == nb
    assert parse(dumps(back)) == back  # every decoded tune is valid sidlang
    for chip in range(tune.header.chips):  # dropped rewrites change nothing the chip holds
        assert np.array_equal(back.frames.state(chip), tune.frames.state(chip))


def test_model_form_drops_only_rewrites_of_an_unchanged_value():
    tune = parse(
        "0 v1 freq=$1234 wave=pulse,gate\n1 v1 freq=$1234 wave=pulse wave=pulse,gate\n"
        "2 v1 freq_lo=$35 | vol=15\n3 vol=15 vol=14\n"
    )
    kept = TOK.model_form(tune)
    names = [
        (int(f), int(r), int(x)) for f, r, x in zip(kept.frames.index, kept.writes["reg"], kept.writes["val"])
    ]
    # frame 1: freq rewritten (dropped), the gate toggled off and on (kept: a retrigger)
    assert names == [
        (0, 0, 0x34),
        (0, 1, 0x12),
        (0, 4, 0x41),
        (1, 4, 0x40),
        (1, 4, 0x41),
        (2, 0, 0x35),
        (2, 24, 15),
        (3, 24, 14),
    ]
    assert key(TOK.decode(TOK.encode(tune), tune.header))[0].tolist() == key(kept)[0].tolist()


def test_copy_reaches_back_to_a_repeated_pattern_row():
    """A drum hit every 12 frames (a program of three frames) comes back as COPY tokens."""
    from sidlang.model.tokenizer import COPY_BACK

    lines = []
    for f in range(96):
        step = f % 12
        if step == 0:
            lines.append(f"{f} v3 freq=C-6 ad=$08 wave=noise,gate")
        elif step == 1:
            lines.append(f"{f} v3 freq=C-2 wave=pulse,gate")
        elif step == 2:
            lines.append(f"{f} v3 wave=pulse")
    tune = parse("\n".join(lines) + "\n")
    toks = TOK.encode(tune)
    v = TOK.vocab
    copies = [v.name(t) for t in toks if v.describe(t)[0] == "copy"]
    assert copies and all(c == f"v3~{12}" for c in copies) and 12 in COPY_BACK
    assert len(toks) < 2 + 96 + 3 * 9  # one token a row once the pattern has been heard
    a, _ = key(TOK.decode(toks, tune.header))
    assert np.array_equal(a, key(TOK.model_form(tune))[0])
    s = TOK.state(1)  # the grammar: a COPY needs something to copy
    s.feed(BOS)
    s.feed(FRAME)
    assert not s.allowed()[v.copy_token(0, 2, 0)]
    with pytest.raises(SidlangError):
        s.feed(v.copy_token(0, 2, 0))


@settings(max_examples=25)
@given(tunes(max_frames=20, max_writes=8, events=False))
def test_grid_tunes_come_back_identical(tune):
    h = tune.header.replace(gap=0)
    w = tune.writes.copy()
    w["cycle"] = h.start_cycle + tune.frames.index * h.frame_cycles  # on the decode grid
    from sidlang.tune import Tune

    t = TOK.model_form(Tune(h, w))
    back = TOK.decode(TOK.encode(t), h)
    assert np.array_equal(back.writes, t.writes)


def test_player_log_uses_the_change_ops():
    toks = TOK.encode(player_log(300, seed=2))
    assert toks[0] == BOS and toks[-1] == EOS
    assert REPEAT in toks and len(toks) < len(player_log(300, seed=2).writes)


def test_copy_repeat_and_again():
    from sidlang.tune import Header, Tune, make_writes

    # Vibrato: freq_lo goes +5, -5, +5 … every frame (a COPY of two frames back); then ten
    # frames of a steady sweep (+3 a frame: REPEAT, then AGAIN for the whole frame).
    vals = [100 + (5 if i % 2 else 0) for i in range(10)] + [110 + 3 * i for i in range(10)]
    h = Header()
    t = Tune(h, make_writes([i * h.frame_cycles for i in range(20)], [0] * 20, [0] * 20, vals))
    toks = TOK.encode(t)
    assert TOK.vocab.copy_token(0, 0, 0) in toks and REPEAT in toks and AGAIN in toks
    assert np.array_equal(TOK.decode(toks, h).writes["val"], t.writes["val"])


def test_grammar_rejects_and_masks():
    s = TOK.state(1)
    assert s.allowed().sum() == 1 and s.allowed()[BOS]
    s.feed(BOS)
    with pytest.raises(SidlangError):
        s.feed(REPEAT)  # nothing to repeat yet
    s.feed(FRAME)
    s.feed(TOK.vocab.marker(0, 0))
    m = s.allowed()
    assert not m[FRAME] and not m[REPEAT]  # a voice marker must be followed by a write
    assert m[TOK.vocab.set_token(0, 4, 0x41)] and not m[TOK.vocab.set_token(3, 24, 15)]
    with pytest.raises(SidlangError):
        TOK.state(9)


def test_every_allowed_token_keeps_the_state_valid():
    rng = np.random.default_rng(0)
    s = TOK.state(2)
    s.feed(BOS)
    for _ in range(3000):
        allowed = np.flatnonzero(s.allowed() & (np.arange(TOK.vocab_size) != EOS))
        s.feed(int(rng.choice(allowed)))
    from sidlang.tune import Header

    t = TOK.decode([BOS], Header())  # an empty sequence decodes too
    assert len(t.writes) == 0
    h = Header(sids=(0xD400, 0xD420))
    from sidlang.model.tokenizer import writes_to_tune

    tune = writes_to_tune(s.writes, s.frame + 1, h)
    assert parse(dumps(tune)) == tune


def test_high_bytes_never_wrap():
    """A DIFF on freq_hi/pw_hi/cutoff_hi stays in 0-255: the encoder sets, the grammar forbids."""
    v = TOK.vocab
    s = TOK.state(1)
    s.feed(BOS)
    s.feed(FRAME)
    s.feed(v.marker(0, 0))
    s.feed(v.set_token(0, 1, 2))  # freq_hi = 2
    m = s.allowed()
    assert m[v.diff_token(1, -1)] and m[v.diff_token(1, 1)]  # a slide's carry
    assert not m[v.diff_token(1, -2)] and not m[v.diff_token(1, 5)]  # a note change is a SET
    assert m[v.diff_token(3, 5)] and not m[v.diff_token(3, -1)]  # pw_hi is 0: no DIFF below it
    assert m[v.diff_token(0, -64)]  # the low byte carries, so it may wrap
    with pytest.raises(SidlangError):
        s.feed(v.diff_token(1, -3))
    # The encoder writes 2 -> 250 as a SET, not as DIFF -8 modulo 256.
    tune = parse("0 v1 freq_hi=2\n1 v1 freq_hi=250\n")
    toks = TOK.encode(tune)
    assert v.set_token(0, 1, 250) in toks and v.diff_token(1, -8) not in toks
    assert TOK.decode(toks, tune.header).writes["val"].tolist() == [2, 250]
    # A melody's steps set freq_hi (absolute pitch); a slide's carry is a DIFF.
    toks = TOK.encode(parse("0 v1 freq=C-4\n1 v1 freq=E-4\n2 v1 freq+=200\n"))
    hi = [v.name(t) for t in toks if v.name(t).startswith("freq_hi")]
    assert hi[1].startswith("freq_hi=") and hi[2] == "freq_hi+1", hi


@pytest.mark.parametrize("seed", range(4))
def test_walk_heavy_on_high_diffs_repeat_flip_again_stays_valid(seed):
    """Sampling that favours high-byte DIFFs near the ends, REPEAT, FLIP and AGAIN never wraps."""
    v, rng = TOK.vocab, np.random.default_rng(seed)
    weight = np.ones(TOK.vocab_size)
    for slot in (1, 3, 5):
        weight[v.diff_token(slot, -64) : v.diff_token(slot, 64) + 1] = 40.0
    weight[[REPEAT, FLIP, AGAIN]] = 400.0
    weight[EOS] = 0
    s = TOK.state(1)
    s.feed(BOS)
    for _ in range(4000):
        p = weight * s.allowed()
        s.feed(int(rng.choice(TOK.vocab_size, p=p / p.sum())))  # feed raises on a wrap
    hi = [val for _, _, reg, val in s.writes if reg in (1, 3, 8, 10, 15, 17, 22)]
    assert len(hi) > 500 and all(0 <= x <= 255 for x in hi)


@pytest.mark.parametrize("seed", range(3))
def test_walk_heavy_on_copies_decodes_what_it_was_fed(seed):
    """COPY tokens write what their group wrote that far back; AGAIN over them stays valid."""
    v, rng = TOK.vocab, np.random.default_rng(seed)
    weight = np.ones(TOK.vocab_size)
    weight[v.copy0 :] = 30.0
    weight[[REPEAT, FLIP, AGAIN]] = 30.0
    weight[EOS] = 0
    s = TOK.state(2)
    s.max_writes = 1000  # AGAIN over copies grows frames fast; keep them encodable
    s.feed(BOS)
    for _ in range(3000):
        p = weight * s.allowed()
        t = int(rng.choice(TOK.vocab_size, p=p / p.sum()))
        s.feed(t)
    from sidlang.model.tokenizer import COPY_BACK
    from sidlang.tune import Header

    assert s.frame > 100
    h = Header(sids=(0xD400, 0xD420))
    from sidlang.model.tokenizer import writes_to_tune

    tune = writes_to_tune(s.writes, s.frame + 1, h)
    assert parse(dumps(tune)) == tune
    # Encoding what was decoded and decoding again changes nothing the model keeps.
    again = TOK.decode(TOK.encode(tune), h)
    assert np.array_equal(key(again)[0], key(TOK.model_form(tune))[0])
    assert len(COPY_BACK) == len(set(COPY_BACK)) and min(COPY_BACK) >= 2


@pytest.mark.parametrize("k", [1, 2])
def test_rotation_is_a_token_permutation(k):
    t = player_log(80, seed=k)
    assert np.array_equal(np.array(TOK.encode(rotate_voices(t, k))), rotation_map(k)[TOK.encode(t)])
    assert sorted(rotation_map(k)) == list(range(TOK.vocab_size))


@settings(max_examples=15)
@given(st.integers(-12, 12))
def test_transpose_moves_every_pitch(semis):
    t = player_log(20, seed=3)
    moved = transpose(t, semis)
    from sidlang.pitch import PAL_HZ, reg_to_hz

    s0, s1 = t.frames.state(0), moved.frames.state(0)
    f0 = s0[:, 0].astype(int) + 256 * s0[:, 1].astype(int)
    f1 = s1[:, 0].astype(int) + 256 * s1[:, 1].astype(int)
    sel = (f0 > 200) & (f1 < 0xFFFF)
    ratio = np.array([reg_to_hz(b, PAL_HZ) / reg_to_hz(a, PAL_HZ) for a, b in zip(f0[sel], f1[sel])])
    assert np.allclose(ratio, 2 ** (semis / 12), rtol=5e-3)


def test_config_json_round_trip_and_version_check():
    c = TokenizerConfig(diff_range=32)
    assert TokenizerConfig.from_json(c.to_json()) == c
    assert '"sidlang"' in c.to_json()
    with pytest.raises(SidlangError):
        TokenizerConfig.from_json('{"version": 99}')
