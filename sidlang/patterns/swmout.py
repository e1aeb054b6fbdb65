"""A pattern song written as a SID-Wizard module (``.swm``/``.sws``/``.swt``, built by pysidwizard).

The way back of :mod:`sidlang.patterns.swm`: the import's lead-in row and its tempo copy, the
one-frame hold at the start of pulse and filter programs, the looping empty pattern of an
ended voice and the octave shift folded into the wave steps are undone, so a module read and
written again reads back close to the same song (``tests/patterns/test_tracker_out.py`` says
how close). Slide and vibrato speeds become the SID-Wizard values whose per-frame step at the
row's note comes nearest. What SID-Wizard cannot hold is a :class:`~sidlang.errors.UsageError`
that names it (a hard restart over 2 frames, a wave step of only test/ring/sync bits, a
transpose past -16..+15, more than 62 instruments or 127 patterns, raw register lines, …).
"""

from __future__ import annotations

from pysidwizard.constants import SWM_FORMATS

from sidlang.errors import UsageError

from .model import GATE_OFF, Effect, Pattern, Row, Song, TableStep
from .swm import (
    LEAD_FRAMES,
    LEGATO,
    MIDI_OF_NOTE1,
    TABLE_BASE,
    TABLE_JUMP,
    _Freqmod,
    pysidwizard,
)

MAX_SWM_PATTERNS = 127
MAX_SWM_INSTRUMENTS = 0x3E
HOLD = TableStep("add", 0, 1)
SID_ADDRESSES = {1: [], 2: [0], 3: [0, 6]}  #: the editor's defaults, as the examples have them


def swm_bytes(song: Song) -> bytes:
    pw = pysidwizard()
    swm = swm_from_song(song)
    try:
        return pw.build_swm(swm)
    except pw.SWMError as e:  # a limit of the format itself (a pattern over 255 bytes, …)
        raise _cannot(str(e).splitlines()[0]) from None


def swm_from_song(song: Song):
    """A ``pysidwizard.SWMFile`` for ``song``; a :class:`UsageError` naming what SID-Wizard
    cannot hold."""
    return _Writer(song).build()


def _cannot(what: str) -> UsageError:
    return UsageError(f"a SID-Wizard module cannot hold {what}")


class _Writer:
    def __init__(self, song: Song) -> None:
        from pysidwizard.features import features_for_driver

        self.pw = pysidwizard()
        self.song = song
        self.freqmod = _Freqmod(features_for_driver(0))

    def build(self):
        song, pw = self.song, self.pw
        if not 1 <= song.chips <= 3:
            raise _cannot(f"{song.chips} SIDs")
        if song.frame_cycles:
            raise _cannot("a frame length of its own (write multispeed modules from SID-Wizard)")
        if any(sub.raw for sub in song.subtunes):
            raise _cannot("raw register lines")
        if not song.subtunes:
            raise _cannot("a song without subtunes")
        self.lead = self._lead()
        self.hold = {n for n, p in song.patterns.items() if p.rows and set(p.rows) == {Row()}}
        skip = {self.lead} if self.lead is not None else set()
        # an empty pattern that only ends orderlists (the import's hold) is SID-Wizard's end
        used = {
            e.pattern
            for sub in song.subtunes
            for o in sub.orders.values()
            for i, e in enumerate(o.entries)
            if not (e.pattern in self.hold and i == len(o.entries) - 1 and o.loop == i)
        }
        skip |= self.hold - used
        self.copy_of = self._copies() if self.lead is not None else {}
        skip |= set(self.copy_of)
        numbers = [n for n in sorted(song.patterns) if n not in skip]
        if len(numbers) > MAX_SWM_PATTERNS:
            raise _cannot(f"{len(numbers)} patterns (up to {MAX_SWM_PATTERNS})")
        self.number = {n: i + 1 for i, n in enumerate(numbers)}
        inst = sorted(song.instruments)
        if inst and max(inst) > MAX_SWM_INSTRUMENTS:
            raise _cannot(f"instrument {max(inst)} (1-{MAX_SWM_INSTRUMENTS})")
        instruments = [self.instrument(n) for n in range(1, max(inst, default=0) + 1)]
        patterns = [self.pattern(n) for n in numbers]
        sequences, tempos = [], []
        for sub in song.subtunes:
            for v in range(song.voices):
                sequences.append(self.sequence(sub.orders.get(v)))
            t = sub.tempo
            if len(t) == 1:
                tempos.append((0x80 | min(t[0], 0x7F), 0x80 | min(t[0], 0x7F)))
            else:
                tempos.append((min(t[0], 0x7F), 0x80 | min(t[1], 0x7F)))
        return pw.SWMFile(
            author=song.author.encode("latin-1", "replace")[:40],
            sid_amount=song.chips,
            sid_addresses=list(SID_ADDRESSES[song.chips]),
            mute=b"\xff" * (3 * song.chips),
            reserved=bytes(SWM_FORMATS[song.chips].expected_reserved),
            sequences=sequences,
            patterns=patterns,
            instruments=instruments,
            subtune_tempos=tempos,
        )

    def _copies(self) -> dict[int, int]:
        """The import's tempo copies: a voice's first pattern after the lead-in, the same as
        another pattern but for its first row setting the subtune's tempo."""
        out = {}
        for sub in self.song.subtunes:
            for o in sub.orders.values():
                if len(o.entries) < 2:
                    continue
                n = o.entries[1].pattern
                rows = self.song.patterns[n].rows
                if not rows or rows[0].effect != Effect("tempo", sub.tempo):
                    continue
                plain = [Row(rows[0].note, rows[0].instrument), *rows[1:]]
                for m, p in self.song.patterns.items():
                    if m != n and p.rows == plain:
                        out[n] = m
                        break
        return out

    def _lead(self) -> int | None:
        firsts = {
            o.entries[0].pattern for sub in self.song.subtunes for o in sub.orders.values() if o.entries
        }
        if len(firsts) == 1:
            n = next(iter(firsts))
            if self.song.patterns[n].rows == [Row(effect=Effect("tempo", (LEAD_FRAMES,)))]:
                return n
        return None

    # -- orderlists --------------------------------------------------------------------------

    def sequence(self, o) -> list:
        pw = self.pw
        if o is None or not o.entries:
            return [pw.End()]
        entries, loop = list(o.entries), o.loop
        if self.lead is not None and entries[0].pattern == self.lead:
            entries, loop = entries[1:], None if loop is None else max(loop - 1, 0)
        if loop is not None and loop == len(entries) - 1 and entries[-1].pattern in self.hold:
            entries, loop = entries[:-1], None  # an ended voice holding its note: SID-Wizard's end
        cmds, at, trans, offset = [], None, 0, 0
        for i, e in enumerate(entries):
            if not -16 <= e.transpose <= 15:
                raise _cannot(f"transpose {e.transpose} (SID-Wizard: -16..+15)")
            if i == loop:
                at = offset
            if e.transpose != trans or i == loop:
                cmds.append(pw.Transpose(e.transpose))
                trans, offset = e.transpose, offset + 1
            for _ in range(e.repeat):
                cmds.append(pw.PlayPattern(self.number[self.copy_of.get(e.pattern, e.pattern)]))
                offset += 1
        if not cmds:
            return [pw.End()]
        cmds.append(pw.End() if at is None else pw.Loop(at))
        return cmds

    # -- patterns ----------------------------------------------------------------------------

    def pattern(self, n: int):
        pw = self.pw
        p: Pattern = self.song.patterns[n]
        rows, note_byte = [], 49
        for r in p.rows:
            row = pw.Row()
            if r.note == GATE_OFF:
                row.note = 0x7E
            elif r.note is not None:
                b = r.note - MIDI_OF_NOTE1 + 1
                if not 1 <= b <= 0x5F:
                    raise _cannot(
                        f"note {r.note} in pattern {n} (MIDI {MIDI_OF_NOTE1}-{MIDI_OF_NOTE1 + 0x5E})"
                    )
                row.note = note_byte = b
            if r.instrument is not None:
                row.instrument = r.instrument
            e = r.effect
            if (
                e is not None
                and e.name == "tp"
                and e.args[0] == 0xFFFF
                and r.note is not None
                and r.instrument is None
            ):
                row.instrument = LEGATO
            elif e is not None:
                row.fx, row.fx_value = self.effect(e, note_byte, n)
            rows.append(row)
        return pw.Pattern(rows=rows)

    def _nearest(self, target: int, note_byte: int, extra: int = 0) -> int:
        return min(range(1, 256), key=lambda v: abs(self.freqmod(v, note_byte) + extra - target))

    def effect(self, e: Effect, note_byte: int, n: int) -> tuple[int, int | None]:
        a = e.args
        if e.name in ("up", "dn"):
            return (1 if e.name == "up" else 2), (self._nearest(a[0], note_byte) if a[0] else 0)
        if e.name == "tp":
            return 3, self._nearest(a[0], note_byte, 1)
        if e.name == "vib":
            if a[1] == 0:
                return 8, 0
            amp = min(range(1, 16), key=lambda k: abs(self.freqmod(k << 3, note_byte) - a[1]))
            return 8, amp << 4 | min(2 * a[0], 15)
        if e.name in ("ad", "sr"):
            return (5 if e.name == "ad" else 6), a[0]
        if e.name == "pw":
            return 0x0E, a[0] >> 8
        if e.name == "cut":
            return 0x0F, a[0] >> 3
        if e.name == "route":
            return 0x1F, a[0]
        if e.name in ("res", "mode", "vol"):
            return {"res": 0xF0, "mode": 0xB0, "vol": 0xA0}[e.name] | a[0], None
        if e.name == "tempo":
            if len(a) == 1:
                if a[0] > 0x7F:
                    raise _cannot(f"tempo:{a[0]} in pattern {n} (1-127)")
                return 0x10, a[0]
            if max(a) > 15:
                raise _cannot(f"tempo:{a[0]},{a[1]} in pattern {n} (a funktempo effect holds 1-15 each)")
            return 0x11, a[0] << 4 | a[1]
        raise _cannot(f"the {e.name}: effect (pattern {n})")

    # -- instruments -------------------------------------------------------------------------

    def instrument(self, number: int):
        pw = self.pw
        ins = self.song.instruments.get(number)
        if ins is None:
            return pw.Instrument(name=b"        ", control=0x1A, hr_decay=0xF, first_waveform=0x09)
        if ins.hr > 2:
            raise _cannot(f"instrument {number}'s hard restart of {ins.hr} frames (0-2)")
        head = ins.wave[0] if ins.wave else None
        octave = head.note if head is not None and not head.absolute else 0
        if head is not None and head.wave is None:
            raise _cannot(f"instrument {number}'s first wave step without a waveform")
        wf = self.wave(ins, octave, number)
        pw_base = TABLE_BASE + len(wf) + 1
        pulse = self.table(ins.pulse, ins.pulse_loop, pw_base, "pulse", number, ins)
        flt = self.table(ins.filter, ins.filter_loop, pw_base + len(pulse) + 1, "filter", number, ins)
        return pw.Instrument(
            name=ins.name.encode("latin-1", "replace")[:8].ljust(8),
            control=0x18 | {0: 0, 1: 0x01, 2: 0x02}[ins.hr],
            hr_attack=ins.hr_ad >> 4,
            hr_decay=ins.hr_ad & 0xF,
            hr_sustain=ins.hr_sr >> 4,
            hr_release=ins.hr_sr & 0xF,
            attack=ins.ad >> 4,
            decay=ins.ad & 0xF,
            sustain=ins.sr >> 4,
            release=ins.sr & 0xF,
            octave_shift=octave,
            first_waveform=(head.wave | 1) if head is not None else 0x09,
            wf_table=wf,
            pw_table=pulse,
            filter_table=flt,
        )

    def wave(self, ins, octave: int, number: int) -> bytes:
        out = bytearray()
        for s in ins.wave[1:]:
            if s.wave is None:
                b0 = 0x00
            elif s.wave | 1 < 0x10:
                raise _cannot(f"instrument {number}'s wave step of only test/ring/sync bits (${s.wave:02x})")
            else:
                b0 = s.wave | 1
            if s.absolute:
                b1 = 0x80 | (s.note - MIDI_OF_NOTE1 + 1)
            else:
                rel = s.note - octave
                if not -32 <= rel <= 0x7E:
                    raise _cannot(f"instrument {number}'s arpeggio step {s.note:+d} (octave shift {octave})")
                b1 = rel & 0xFF
            out += bytes([b0, b1, 0])
        if ins.wave_loop is not None:
            if ins.wave_loop == 0:
                raise _cannot(f"instrument {number}'s wave loop to its first frame")
            out += bytes([TABLE_JUMP, TABLE_BASE + 3 * (ins.wave_loop - 1), 0])
        return bytes(out)

    def table(self, steps, loop, base: int, kind: str, number: int, ins) -> bytes:
        if steps[:1] == [HOLD]:
            steps, loop = steps[1:], None if loop is None else max(loop - 1, 0)
        out, at, i = bytearray(), {}, 0
        while i < len(steps):
            s = steps[i]
            at[i] = len(out) // 3
            if s.kind == "set":
                if kind == "pulse":
                    out += bytes([0x80 | s.value >> 8, s.value & 0xFF, 0])
                else:
                    out += bytes([0x80 | ins.fmode << 4 | ins.fres, s.value >> 3, 0])
            else:
                if not -128 <= s.value <= 127 or s.frames > 0x7F:
                    raise _cannot(f"instrument {number}'s {kind} step add {s.value} {s.frames}")
                idle = i + 1 < len(steps) and steps[i + 1] == HOLD and s != HOLD
                frames = 0 if s == HOLD else s.frames
                out += bytes([frames, s.value & 0xFF if frames else 0, 0])
                if idle:  # the sweep row's own frame to move on
                    at[i + 1] = at[i]
                    i += 1
            i += 1
        if loop is not None and loop in at:
            out += bytes([TABLE_JUMP, base + 3 * at[loop], 0])
        return bytes(out)
