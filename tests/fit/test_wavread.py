"""The WAV reader: every common sample format decodes to the same mono signal; broken files are one line."""

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidlang.errors import FormatError
from sidlang.formats.wavread import read_audio


def wav(body: bytes, *, tag=1, channels=1, rate=44100, bits=16, extensible=False, extra=b"") -> bytes:
    align = channels * bits // 8
    if extensible:
        fmt = struct.pack(
            "<HHIIHHHHIH14s",
            0xFFFE,
            channels,
            rate,
            rate * align,
            align,
            bits,
            22,
            bits,
            0,
            tag,
            b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71",
        )
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    chunks = (
        b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra + b"data" + struct.pack("<I", len(body)) + body
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


SINE = 0.5 * np.sin(2 * np.pi * 440 * np.arange(2000) / 44100)


def encode(x: np.ndarray, kind: str) -> bytes:
    if kind == "u8":
        return np.clip(np.rint(x * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    if kind == "i16":
        return np.rint(x * 32767).astype("<i2").tobytes()
    if kind == "i24":
        v = np.rint(x * (2**23 - 1)).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        return v.tobytes()
    if kind == "i32":
        return np.rint(x * (2**31 - 1)).astype("<i4").tobytes()
    return x.astype({"f32": "<f4", "f64": "<f8"}[kind]).tobytes()


@pytest.mark.parametrize(
    "kind, tag, bits, tol",
    [
        ("u8", 1, 8, 1e-2),
        ("i16", 1, 16, 1e-4),
        ("i24", 1, 24, 1e-6),
        ("i32", 1, 32, 1e-8),
        ("f32", 3, 32, 1e-7),
        ("f64", 3, 64, 0),
    ],
)
@pytest.mark.parametrize("extensible", [False, True])
def test_every_sample_format_decodes_to_the_signal(kind, tag, bits, tol, extensible):
    audio = read_audio(wav(encode(SINE, kind), tag=tag, bits=bits, extensible=extensible))
    assert audio.rate == 44100 and audio.bits == bits and not audio.truncated
    assert np.max(np.abs(audio.samples - SINE)) <= tol + 1e-12


@given(st.integers(1, 6), st.sampled_from([8000, 22050, 96000, 192000]))
def test_channels_are_mixed_and_rates_kept(channels, rate):
    inter = np.repeat(SINE[:300, None], channels, axis=1).ravel()
    audio = read_audio(wav(encode(inter, "i16"), channels=channels, rate=rate))
    assert audio.channels == channels and audio.rate == rate and len(audio.samples) == 300
    assert np.max(np.abs(audio.samples - SINE[:300])) < 1e-4


def test_unknown_chunks_are_skipped_and_a_cut_file_is_read_to_where_it_stops():
    data = wav(encode(SINE, "i16"), extra=b"LIST" + struct.pack("<I", 5) + b"abcde\x00")
    assert len(read_audio(data).samples) == len(SINE)
    cut = read_audio(data[:-1001])
    assert cut.truncated and len(cut.samples) == len(SINE) - 501


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "not a WAV"),
        (b"RIFF\x00\x00\x00\x00WAVX", "not a WAV"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
        (wav(b"", bits=12), "12 bits"),
        (wav(b"\x00" * 8, tag=2), "format 0x2"),
        (wav(b"\x00" * 8, rate=100), "sample rate"),
        (wav(b"\x00" * 8, channels=0), "channel"),
        (wav(encode(np.array([np.nan, 0.0]), "f32"), tag=3, bits=32), "NaN"),
    ],
)
def test_broken_files_are_one_clear_error(data, words):
    with pytest.raises(FormatError) as e:
        read_audio(data, "x.wav")
    assert words in str(e.value) and "\n" not in str(e.value)
