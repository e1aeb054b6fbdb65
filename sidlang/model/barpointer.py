"""The bar pointer: a tracker's pattern loop as one more voice in the tune's memory.

Trackers write music as patterns that come back at fixed distances: the same rows a pattern
later, per voice. The suffix matcher in :mod:`sidlang.model.cache` finds what followed the
same tokens, but it does not know where in the song a frame is, so a continuation that
follows it loses the bar within a few frames. The pointer knows only that: it reaches back
``reach`` frames (the smallest whole number of the prompt's bars that is at least
:data:`SPAN` frames; a pattern, not a row) and votes, segment by segment, for the COPY token
that writes what that group wrote then (``v1~64``: one token a voice, so following it does not
hinge on every write of a frame being drawn right). The frame ``reach`` back is read from
the prompt and, once the continuation is that long, from the continuation itself: what the
network changed comes back a pattern later, as a tracker's edit would.

The vote is one token: the next segment the source frame opened that this frame has not, or
the next frame's opening once this frame holds them all. Where the grammar forbids it (that
group wrote nothing ``reach`` frames back) the mixture drops it (:func:`sidlang.model.cache.mix`).
"""

from __future__ import annotations

from sidlang.model.tokenizer import AGAIN, COPY_BACK, FRAME

#: The pointer reaches back the smallest whole number of bars that is at least this many frames
#: (chosen with ``benchmarks/bench_style.py`` on the selection tunes: 32, 64, 128, 256 kept
#: 0.70, 0.86, 0.95, 0.98; 128, about 2.5 s, leaves the network more to write).
SPAN = 128


def reach_for(bar: int, span: int = SPAN) -> int:
    """Frames back: the smallest multiple of ``bar`` at least ``span`` that a COPY token can
    reach (0 where there is none, or no bar)."""
    if bar <= 0:
        return 0
    k = -(-span // bar)
    while bar * k <= COPY_BACK[-1]:
        if bar * k in COPY_BACK:
            return bar * k
        k += 1
    return 0


class BarPointer:
    """Votes for the segment that the frame ``reach`` frames back opened next."""

    def __init__(self, history, vocab, reach: int, skip: frozenset[int] = frozenset()) -> None:
        self.vocab, self.reach = vocab, reach
        self.skip = skip  #: chip * 4 + group of segments not voted for (voices kept from the tune)
        self.back = COPY_BACK.index(reach) if reach in COPY_BACK else -1
        self.seq: list[int] = [int(t) for t in history]
        self.frame_at = [i for i, t in enumerate(self.seq) if t in (FRAME, AGAIN)]
        self.opened: set[int] = set()  # chip * 4 + group of the segments this frame opened
        self._segments_cache: dict[int, list[int]] = {}
        self.ended = True  # the history ends with a whole frame: what comes next opens one

    def _group_of(self, t: int) -> int:
        """chip * 4 + group of a token that opens a segment (marker or COPY), else -1."""
        v = self.vocab
        if v.mark0 <= t < v.setv0:
            return t - v.mark0
        if v.copy0 <= t < v.size:
            return (t - v.copy0) // len(COPY_BACK)
        return -1

    def _segments(self, frame: int) -> list[int]:
        """The groups frame ``frame`` opened, in order (frames that are complete only)."""
        while frame > 0 and self.seq[self.frame_at[frame]] == AGAIN:  # the frame before, again
            frame -= 1
        got = self._segments_cache.get(frame)
        if got is None:
            a, b = self.frame_at[frame] + 1, self.frame_at[frame + 1]
            got = [g for g in map(self._group_of, self.seq[a:b]) if g >= 0]
            self._segments_cache[frame] = got
        return got

    def vote(self) -> int:
        """The token the pointer predicts next, or -1."""
        if self.back < 0 or not self.frame_at:
            return -1
        cur = len(self.frame_at) - 1  # the frame being written (or just ended)
        src = cur - self.reach
        if self.ended or self.seq[self.frame_at[cur]] == AGAIN:  # an AGAIN frame is whole at once
            return self._opening(src + 1)
        if src < 0:
            return -1
        for g in self._segments(src):
            if g not in self.opened and g not in self.skip:
                return self.vocab.copy0 + g * len(COPY_BACK) + self.back
        return self._opening(src + 1)

    def _opening(self, frame: int) -> int:
        return self.seq[self.frame_at[frame]] if 0 <= frame < len(self.frame_at) else -1

    def update(self, token: int) -> None:
        self.ended = False
        self.seq.append(token)
        if token in (FRAME, AGAIN):
            self.frame_at.append(len(self.seq) - 1)
            self.opened = set()
            return
        g = self._group_of(token)
        if g >= 0:
            self.opened.add(g)


__all__ = ["BarPointer", "SPAN", "reach_for"]
