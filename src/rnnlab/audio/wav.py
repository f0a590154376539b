"""Reading WAV files into float tensors: ``read_wav`` (as stored) and ``load_audio`` (mono, at the
model's rate).

Symbols: C channels, N samples per channel.

A WAV file is a RIFF container: the 12-byte header ``b"RIFF" <size> b"WAVE"`` and then chunks, each
``<4-byte id> <uint32 little-endian size> <size bytes> [a pad byte when size is odd]``. We need two
of them: ``fmt `` (encoding, channels, rate, bits per sample) and ``data`` (the interleaved frames).
We parse the chunks here rather than through the stdlib ``wave`` module so that one code path reads
every encoding we accept, which ``wave`` (Python 3.10/3.11) does not:

==================================  ==================  ======================================
format tag                          bits per sample     sample -> float
==================================  ==================  ======================================
1 PCM                               8 (unsigned)        ``(x - 128) / 128``
1 PCM                               16, 24, 32 (signed) ``x / 2^(bits-1)``
3 IEEE float                        32, 64              as stored (not clipped)
0xFFFE EXTENSIBLE                   as above            by its sub-format GUID (PCM or float)
==================================  ==================  ======================================

Everything else (A-law, mu-law, ADPCM, big-endian RIFX, RF64) is refused with an
:class:`~rnnlab.errors.InputError` naming the file and the encoding. So are a missing file
(:class:`~rnnlab.errors.MissingFileError`), a file that is not a WAV, a truncated or otherwise
corrupt one, and one without samples. Chunks after ``data`` are not read, so a damaged trailing
metadata chunk does not stop a file whose samples are whole.
"""

from __future__ import annotations

import logging
import struct
from os import PathLike
from pathlib import Path

import numpy as np
import torch

from rnnlab.audio.resample import resample
from rnnlab.errors import InputError, MissingFileError

__all__ = ["load_audio", "read_wav"]

log = logging.getLogger(__name__)

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
# The sub-format GUIDs of WAVE_FORMAT_EXTENSIBLE end in these 14 bytes; their first 2 are the tag.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_TAG_NAMES = {2: "MS ADPCM", 6: "A-law", 7: "mu-law", 0x11: "IMA ADPCM", 0x55: "MP3"}
_HOW_TO_FIX = "convert it to 16-bit PCM WAV (e.g. `ffmpeg -i IN -acodec pcm_s16le OUT.wav`)"


def read_wav(path: str | PathLike) -> tuple[torch.Tensor, int]:
    """Read a WAV file as it is stored: every channel, at its own sample rate.

    Args:
        path: a ``.wav`` file (PCM 8/16/24/32-bit or IEEE float 32/64-bit, plain or
            WAVE_FORMAT_EXTENSIBLE).

    Returns:
        ``(wave, sample_rate)``: ``wave`` of shape ``(C, N)``, float32, integer PCM scaled into
        ``[-1, 1]`` (``[-1, 1)`` before float32 rounding); float files as stored.
        ``sample_rate`` in Hz.

    Raises:
        MissingFileError: ``path`` does not exist.
        InputError: ``path`` is a directory, not a WAV file, truncated or corrupt, has an
            encoding listed as unsupported above, or holds no samples.
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a WAV file; name a .wav file")
    raw = path.read_bytes()
    tag, channels, rate, bits, data = _chunks(path, raw)
    block = channels * bits // 8  # bytes per frame (one sample of every channel)
    if len(data) % block:
        raise InputError(
            f"{path}: truncated WAV: its data chunk ({len(data)} bytes) does not hold a whole "
            f"number of {block}-byte frames; the file was cut short, re-export it"
        )
    if not data:
        raise InputError(f"{path}: the WAV file holds no samples (its data chunk is empty)")
    samples = _decode(data, tag, bits)  # (N * C,) float32, frames interleaved
    wave = torch.from_numpy(samples.reshape(-1, channels).T.copy())  # (C, N)
    return wave, rate


def load_audio(path: str | PathLike, rate: int = 8000) -> torch.Tensor:
    """Read a WAV file as one mono signal at ``rate``: the mean of its channels, resampled.

    Args:
        path: a ``.wav`` file (see :func:`read_wav`).
        rate: the sample rate wanted, in Hz (8 kHz: FSDD's rate and the models' default).

    Returns:
        ``(N,)`` float32 at ``rate``; ``N = ceil(N_file * rate / file_rate)`` (see
        :func:`~rnnlab.audio.resample`).

    Raises:
        MissingFileError, InputError: as :func:`read_wav`.
    """
    wave, file_rate = read_wav(path)  # (C, N_file)
    mono = wave.mean(dim=0)  # (N_file,)
    if file_rate != rate:
        log.debug("%s: resampling %d Hz -> %d Hz", path, file_rate, rate)
    return resample(mono, file_rate, rate)


def _chunks(path: Path, raw: bytes) -> tuple[int, int, int, int, bytes]:
    """``(format tag, channels, sample rate, bits per sample, data bytes)`` of a RIFF/WAVE file."""
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        if raw[:4] in (b"RIFX", b"RF64"):
            kind = "big-endian RIFX" if raw[:4] == b"RIFX" else "RF64 (over 4 GB)"
            raise InputError(f"{path}: {kind} WAV files are not supported; {_HOW_TO_FIX}")
        what = "an empty file" if not raw else f"it starts with {raw[:12]!r}"
        raise InputError(f"{path}: not a WAV file ({what}, not b'RIFF....WAVE'); {_HOW_TO_FIX}")
    fmt = None
    pos = 12
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos : pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        body = raw[pos + 8 : pos + 8 + size]
        if len(body) < size:
            name = chunk_id.decode("latin-1").strip()
            name = name if name.isprintable() else repr(chunk_id)
            raise InputError(
                f"{path}: truncated WAV: its {name} chunk declares {size} bytes but the file "
                f"holds only {len(body)}; the file was cut short, re-export it"
            )
        if chunk_id == b"fmt ":
            if size < 16:
                raise InputError(f"{path}: corrupt WAV: its fmt chunk is {size} bytes (< 16)")
            fmt = _format(path, body)
        elif chunk_id == b"data":
            if fmt is None:
                raise InputError(f"{path}: corrupt WAV: the data chunk comes before any fmt chunk")
            return (*fmt, body)
        pos += 8 + size + (size & 1)
    missing = "fmt and data chunks" if fmt is None else "data chunk"
    raise InputError(f"{path}: truncated or corrupt WAV: no {missing} found")


def _format(path: Path, body: bytes) -> tuple[int, int, int, int]:
    """Check a fmt chunk and return ``(tag, channels, rate, bits)`` with the tag resolved to
    PCM (1) or IEEE float (3)."""
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _EXTENSIBLE:
        if len(body) < 40 or body[26:40] != _GUID_TAIL:
            raise InputError(f"{path}: corrupt or unknown WAVE_FORMAT_EXTENSIBLE fmt chunk")
        tag = struct.unpack_from("<H", body, 24)[0]  # the sub-format's tag
    supported = {_PCM: (8, 16, 24, 32), _FLOAT: (32, 64)}
    if tag not in supported:
        name = _TAG_NAMES.get(tag, f"format tag {tag:#06x}")
        raise InputError(f"{path}: unsupported WAV encoding {name}; {_HOW_TO_FIX}")
    if bits not in supported[tag]:
        kind = "PCM" if tag == _PCM else "IEEE float"
        raise InputError(f"{path}: unsupported WAV encoding {bits}-bit {kind}; {_HOW_TO_FIX}")
    if channels < 1 or rate < 1:
        raise InputError(f"{path}: corrupt WAV: {channels} channels at {rate} Hz")
    return tag, channels, rate, bits


def _decode(data: bytes, tag: int, bits: int) -> np.ndarray:
    """Interleaved little-endian samples -> float32 array of the same count."""
    if tag == _FLOAT:
        return np.frombuffer(data, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
    if bits == 8:  # unsigned, 128 is silence
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if bits == 24:  # three bytes, little-endian: put them in the high bytes of an int32
        triples = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        words = np.zeros((len(triples), 4), dtype=np.uint8)
        words[:, 1:] = triples
        ints = words.view("<i4").ravel()  # x * 2^8
        return (ints.astype(np.float64) / 2.0**31).astype(np.float32)
    ints = np.frombuffer(data, dtype="<i2" if bits == 16 else "<i4")
    return (ints.astype(np.float64) / 2.0 ** (bits - 1)).astype(np.float32)
