"""The printer (all writes at once, with NumPy) against the token-by-token loop it replaced."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang.pitch import reg_to_note_table
from sidlang.testing import player_log
from sidlang.text.dump import _foldable, _tables, dumps, dumps_header
from sidlang.text.runs import find_runs
from tests.strategies import swept_tunes, tunes


def _by_frame(times, h) -> dict[int, list[int]]:
    """Event cycles as {frame: [offsets in it]}: frame N starts at ``start + N * frame``."""
    by: dict[int, list[int]] = {}
    for t in times.tolist():
        by.setdefault((t - h.start_cycle) // h.frame_cycles, []).append((t - h.start_cycle) % h.frame_cycles)
    return by


def reference_dumps(tune) -> str:
    """The canonical text, one token at a time: the rules of ``docs/sidlang.md`` in a loop."""
    h = tune.header
    first, rest, voice_of, wide = _tables()
    notes = reg_to_note_table(h.clock_hz)
    G = h.gap
    fr, w = tune.frames, tune.writes
    off, ch, rg, vl = fr.offset.tolist(), w["chip"].tolist(), w["reg"].tolist(), w["val"].tolist()
    fold_mask = _foldable(tune, wide)
    skip_mask, starts = find_runs(tune, fold_mask)
    fold, skip = fold_mask.tolist(), skip_mask.tolist()
    printed = [0] * len(fr)
    for i, f in enumerate(fr.index.tolist()):
        printed[f] += not skip[i]
    irqs, nmis = _by_frame(tune.irq, h), _by_frame(tune.nmi, h)
    frames = sorted({f for f, c in enumerate(printed) if c} | set(irqs) | set(nmis))
    lines = dumps_header(tune) + [""]
    bounds = fr.bounds.tolist()
    for f in frames:
        i, j = bounds[f], bounds[f + 1]
        parts = [str(f)]
        # docs/sidlang.md: under @timing irq a line with writes implies one IRQ at its start;
        # a line spells its IRQs out exactly when they differ from what it implies.
        implied = [0] if h.timing == "irq" and printed[f] else []
        shown = irqs.get(f, [])
        if shown != implied:
            parts.extend(["irq" if o == 0 else f"irq@{o}" for o in shown] or ["noirq"])
        parts.extend(f"nmi@{o}" for o in nmis.get(f, []))
        prev, cchip, cvoice, seg = -1, 0, -1, None
        while i < j:
            if skip[i]:
                i += 1
                continue
            r, c, v, o = rg[i], ch[i], vl[i], off[i]
            default = 0 if prev < 0 else prev + G
            if fold[i]:
                fld, digits = wide[r]
                if i in starts:
                    tok = fld.name + starts[i]
                else:
                    value = vl[i + 1] << fld.lo_bits | v
                    text = (notes.get(value) or f"${value:04x}") if fld.notes else f"${value:0{digits}x}"
                    tok = f"{fld.name}={text}"
                tail, step = "", 2
            else:
                tok, tail, step = first[r][v], rest[r][v], 1
            vo = voice_of[r]
            if vo >= 0:
                if c != cchip:
                    parts.append(f"| s{c + 1}.v{vo + 1}" if seg is not None else f"s{c + 1}.v{vo + 1}")
                    cchip, cvoice = c, vo
                elif vo != cvoice:
                    parts.append(f"| v{vo + 1}" if seg is not None else f"v{vo + 1}")
                    cvoice = vo
                elif seg != (c, vo):
                    parts.append("|")
                seg = (c, vo)
            else:
                if c != cchip:
                    parts.append(f"| s{c + 1}" if seg is not None else f"s{c + 1}")
                    cchip = c
                elif seg is not None and seg != (c, -1):
                    parts.append("|")
                seg = (c, -1)
            if o != default:
                tok = f"{tok}@{o}"
            parts.append(tok + tail)
            prev = off[i + step - 1]
            i += step
        lines.append(" ".join(parts))
    lines.append("")
    return "\n".join(lines)


@settings(max_examples=200)
@given(st.one_of(tunes(), tunes(chips=3, max_writes=16), swept_tunes()))
def test_printer_matches_the_token_loop(tune):
    assert dumps(tune) == reference_dumps(tune)


def test_printer_matches_the_token_loop_on_player_logs():
    for tune in (player_log(300), player_log(200, irq=True), player_log(100, chips=3, irq=True)):
        assert dumps(tune) == reference_dumps(tune)
