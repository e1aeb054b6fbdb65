"""Reading WAV files: the ``wav`` format's reader, which transcribes audio into a Tune.

The writer is :mod:`sidlang.formats.render`'s (reSIDfp); this module adds the other direction.
:func:`read_audio` decodes the bytes of any common WAV file into mono float samples: PCM of 8,
16, 24 or 32 bits, 32/64-bit IEEE float, ``WAVE_FORMAT_EXTENSIBLE``, any channel count (mixed to
mono) and any rate from 4 kHz to 384 kHz. It parses the RIFF chunks itself rather than through
the standard ``wave`` module, which reads neither float files nor, before Python 3.12, the
extensible header most tools write for 24-bit audio. A file that is cut short is read up to where
its data stops (as most players do) and says so in the Tune's ``meta``; one whose header is
broken is a :class:`~sidlang.errors.FormatError`, one clear line.

:func:`read_wav_tune` (the registry's ``read``) hands the samples to
:func:`sidlang.fit.transcribe.transcribe`: pitch, onsets, loudness and timbre into three voices.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

import numpy as np

from sidlang.errors import FormatError, UsageError

from .render import FORMATS as _WRITTEN

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
RATE_RANGE = (4000, 384000)
MAX_CHANNELS = 64


@dataclass(frozen=True)
class Audio:
    """Decoded audio: ``samples`` mono float64 in -1..1, its ``rate``, and what the file held."""

    samples: np.ndarray
    rate: int
    channels: int
    bits: int
    truncated: bool = False

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def _chunks(data: bytes):
    """``(id, offset, size)`` of each RIFF chunk after the ``WAVE`` tag; sizes cut to the data."""
    pos = 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack_from("<4sI", data, pos)
        yield cid, pos + 8, min(size, len(data) - pos - 8), size > len(data) - pos - 8
        pos += 8 + size + (size & 1)


def read_audio(data: bytes, file: str | None = None) -> Audio:
    """Decode a WAV file's bytes into :class:`Audio` (mono, float64), or raise :class:`FormatError`."""

    def bad(message: str) -> FormatError:
        return FormatError(message, file=file)

    if len(data) < 12 or data[:4] not in (b"RIFF", b"RF64") or data[8:12] != b"WAVE":
        raise bad("not a WAV file (no RIFF/WAVE header)")
    fmt = None
    body = None
    truncated = False
    for cid, off, size, short in _chunks(data):
        if cid == b"fmt ":
            if size < 16:
                raise bad(f"the fmt chunk is {size} bytes; at least 16 are needed")
            fmt = struct.unpack_from("<HHIIHH", data, off)
            if fmt[0] == EXTENSIBLE and size >= 40:
                fmt = (struct.unpack_from("<H", data, off + 24)[0], *fmt[1:])
        elif cid == b"data":
            body, truncated = data[off : off + size], short
            break
    if fmt is None:
        raise bad("WAV file has no fmt chunk")
    if body is None:
        raise bad("WAV file has no data chunk")
    tag, channels, rate, _, align, bits = fmt
    if tag not in (PCM, FLOAT):
        raise bad(f"WAV sample format {tag:#x} is not read (PCM and IEEE float are)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise bad(f"WAV channel count must be 1–{MAX_CHANNELS}, got {channels}")
    lo, hi = RATE_RANGE
    if not lo <= rate <= hi:
        raise bad(f"WAV sample rate must be {lo}–{hi} Hz, got {rate}")
    kinds = {
        (PCM, 8): "u1",
        (PCM, 16): "<i2",
        (PCM, 24): "i3",
        (PCM, 32): "<i4",
        (FLOAT, 32): "<f4",
        (FLOAT, 64): "<f8",
    }
    kind = kinds.get((tag, bits))
    if kind is None:
        raise bad(
            f"{'float' if tag == FLOAT else 'PCM'} WAV of {bits} bits is not read "
            "(PCM 8/16/24/32 and float 32/64 are)"
        )
    width = bits // 8
    if align != width * channels:
        raise bad(f"WAV block align is {align}, expected {width * channels} for {channels} x {bits} bits")
    frames = len(body) // align
    truncated = truncated or len(body) % align != 0
    body = body[: frames * align]
    if kind == "i3":  # 24-bit: widen each sample to 32 bits, sign from the top byte
        raw = np.frombuffer(body, np.uint8).reshape(-1, 3)
        wide = np.zeros((len(raw), 4), np.uint8)
        wide[:, 1:] = raw
        x = wide.view("<i4").ravel().astype(np.float64) / 2**31
    elif kind == "u1":
        x = (np.frombuffer(body, np.uint8).astype(np.float64) - 128) / 128
    elif tag == FLOAT:
        x = np.frombuffer(body, kind).astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise bad("float WAV holds NaN or infinite samples")
    else:
        x = np.frombuffer(body, kind).astype(np.float64) / 2 ** (bits - 1)
    x = x.reshape(frames, channels).mean(axis=1) if channels > 1 else x
    return Audio(np.clip(x, -1.0, 1.0), rate, channels, bits, truncated)


#: Reading options (``sidlang.load("x.wav", voices=2)``), beside the writer's render options.
READ_OPTIONS = {"voices": "3", "seconds": "None", "clock": "pal", "chip": "6581", "drums": "True"}


def read_wav_tune(data: bytes, file: str | None = None, **options):
    """The ``wav`` format's reader: decode, then transcribe (:func:`sidlang.fit.transcribe.transcribe`)."""
    writing = sorted(set(options) - set(READ_OPTIONS))
    if writing:
        raise UsageError(
            f"option(s) {', '.join(writing)} only apply to writing a WAV; reading takes "
            f"{', '.join(sorted(READ_OPTIONS))}"
        )
    from sidlang.fit.transcribe import TranscribeOptions, transcribe

    audio = read_audio(data, file)
    opts = TranscribeOptions.from_options(options)
    return transcribe(audio.samples, audio.rate, opts, file=file, meta={"truncated": audio.truncated})


FORMATS = [
    replace(
        _WRITTEN[0],
        description="16-bit PCM audio rendered through reSIDfp; read back by transcription (docs/fit.md)",
        read=read_wav_tune,
        options={**_WRITTEN[0].options, **READ_OPTIONS},
    )
]
