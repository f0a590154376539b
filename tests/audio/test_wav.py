"""read_wav and load_audio: WAVs written here with the stdlib ``wave`` module (and by hand for
IEEE float and WAVE_FORMAT_EXTENSIBLE) read back exactly; every bad file gives its one error."""

import struct
import wave

import numpy as np
import pytest
import torch

from rnnlab.audio import load_audio, read_wav
from rnnlab.errors import InputError, MissingFileError

# integer sample -> float, by bits: what read_wav promises
SCALE = {8: 128.0, 16: 2.0**15, 24: 2.0**23, 32: 2.0**31}


def random_ints(bits: int, shape, seed: int = 0) -> np.ndarray:
    """Integer samples spanning the full range of a ``bits``-bit PCM (signed; 8-bit centred)."""
    rng = np.random.default_rng(seed)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1)
    ints = rng.integers(lo, hi, size=shape, dtype=np.int64)
    ints.flat[:2] = (lo, hi - 1)  # both extremes present
    return ints  # (N, C)


def write_pcm(path, ints: np.ndarray, bits: int, rate: int) -> None:
    """Write ``(N, C)`` integer samples with the stdlib wave module."""
    if bits == 8:
        data = (ints + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints.ravel())
    else:
        data = ints.astype("<i2" if bits == 16 else "<i4").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(ints.shape[1])
        w.setsampwidth(bits // 8)
        w.setframerate(rate)
        w.writeframes(data)


def riff(fmt: bytes, data: bytes, extra: bytes = b"") -> bytes:
    """A RIFF/WAVE file from a fmt chunk body and data bytes (``extra`` chunks before data)."""
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int, channels: int, rate: int, bits: int) -> bytes:
    block = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_pcm_reads_back_exactly(tmp_path, bits, channels, rate):
    ints = random_ints(bits, (301, channels), seed=bits + channels)  # (N, C)
    path = tmp_path / "x.wav"
    write_pcm(path, ints, bits, rate)
    wave_, got_rate = read_wav(path)
    expected = torch.from_numpy((ints.T / SCALE[bits]).astype(np.float32))  # (C, N)
    assert got_rate == rate
    assert wave_.dtype == torch.float32 and wave_.shape == (channels, 301)
    torch.testing.assert_close(wave_, expected, rtol=0, atol=0)
    assert wave_.min() >= -1 and wave_.max() <= 1  # 32-bit: (2^31 - 1) / 2^31 rounds to 1


@pytest.mark.parametrize("bits", [32, 64])
def test_ieee_float_reads_back(tmp_path, bits):
    x = np.random.default_rng(1).uniform(-1, 1, size=(50, 2))  # (N, C)
    data = x.astype("<f4" if bits == 32 else "<f8").tobytes()
    path = tmp_path / "f.wav"
    path.write_bytes(riff(fmt_chunk(3, 2, 22050, bits), data))
    wave_, rate = read_wav(path)
    assert rate == 22050
    torch.testing.assert_close(wave_, torch.from_numpy(x.T.astype(np.float32)), rtol=0, atol=0)


def test_extensible_pcm_24_bit_and_chunks_before_data(tmp_path):
    ints = random_ints(24, (40, 2), seed=5)
    data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints.ravel())
    guid_pcm = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    # cbSize 22, valid bits 24, channel mask front left|right, sub-format PCM
    fmt = fmt_chunk(0xFFFE, 2, 48000, 24) + struct.pack("<HHI", 22, 24, 3) + guid_pcm
    odd = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\0"  # odd-sized chunk with its pad byte
    path = tmp_path / "ext.wav"
    path.write_bytes(riff(fmt, data, extra=odd))
    wave_, rate = read_wav(path)
    assert rate == 48000
    expected = torch.from_numpy((ints.T / 2.0**23).astype(np.float32))
    torch.testing.assert_close(wave_, expected, rtol=0, atol=0)


def test_load_audio_mixes_channels_and_resamples(tmp_path):
    t = np.arange(4410) / 44100  # 0.1 s
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.1 * np.ones_like(t)
    ints = np.round(np.stack([left, right], axis=1) * 32767).astype(np.int64)
    path = tmp_path / "stereo.wav"
    write_pcm(path, ints, 16, 44100)
    mono44 = load_audio(path, rate=44100)
    assert mono44.shape == (4410,) and mono44.dtype == torch.float32
    torch.testing.assert_close(mono44, read_wav(path)[0].mean(dim=0))
    mono8 = load_audio(path)  # 8 kHz
    assert mono8.shape == (800,)  # ceil(4410 * 80 / 441)
    assert abs(float(mono8[100:700].mean()) - 0.05) < 2e-3  # the DC of the mix survives


# --- bad files: one clear error each -------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match=r"nope\.wav: no such file"):
        read_wav(tmp_path / "nope.wav")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_wav(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is text\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"RIFF\0\0\0\0AVI LIST"],
    ids=["empty", "text", "png", "avi"],
)
def test_not_a_wav(tmp_path, content):
    path = tmp_path / "fake.wav"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"fake\.wav: not a WAV file"):
        read_wav(path)


def test_truncated_data(tmp_path):
    path = tmp_path / "cut.wav"
    write_pcm(path, random_ints(16, (1000, 1)), 16, 8000)
    path.write_bytes(path.read_bytes()[:-501])
    with pytest.raises(InputError, match=r"cut\.wav: truncated WAV: its data chunk declares 2000"):
        read_wav(path)


def test_truncated_inside_header(tmp_path):
    path = tmp_path / "head.wav"
    write_pcm(path, random_ints(16, (10, 1)), 16, 8000)
    path.write_bytes(path.read_bytes()[:30])  # cut inside the fmt chunk
    with pytest.raises(InputError, match=r"head\.wav: truncated WAV: its fmt chunk declares 16"):
        read_wav(path)


def test_partial_frame(tmp_path):
    path = tmp_path / "odd.wav"
    path.write_bytes(riff(fmt_chunk(1, 2, 8000, 16), b"\1\2\3\4\5\6"))  # 1.5 stereo frames
    with pytest.raises(InputError, match="whole number of 4-byte frames"):
        read_wav(path)


def test_empty_data_chunk(tmp_path):
    path = tmp_path / "silent.wav"
    write_pcm(path, np.zeros((0, 1), dtype=np.int64), 16, 8000)
    with pytest.raises(InputError, match=r"silent\.wav: the WAV file holds no samples"):
        read_wav(path)


@pytest.mark.parametrize(
    "tag, bits, name",
    [(7, 8, "mu-law"), (2, 4, "MS ADPCM"), (1, 12, "12-bit PCM"), (3, 16, "16-bit IEEE")],
)
def test_unsupported_encoding(tmp_path, tag, bits, name):
    path = tmp_path / "enc.wav"
    path.write_bytes(riff(fmt_chunk(tag, 1, 8000, bits), b"\0" * 64))
    with pytest.raises(InputError, match=f"enc.wav: unsupported WAV encoding {name}"):
        read_wav(path)


def test_rifx_is_refused(tmp_path):
    path = tmp_path / "be.wav"
    path.write_bytes(b"RIFX" + riff(fmt_chunk(1, 1, 8000, 16), b"\0\0")[4:])
    with pytest.raises(InputError, match="big-endian RIFX"):
        read_wav(path)


@pytest.mark.data
def test_fsdd_recordings_read_as_the_stdlib_reads_them(data_root):
    paths = sorted((data_root / "speech" / "fsdd" / "recordings").glob("*_theo_*.wav"))[:20]
    assert len(paths) == 20
    for path in paths:
        wave_, rate = read_wav(path)
        with wave.open(str(path)) as w:
            ints = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert rate == 8000 and wave_.shape == (1, len(ints))
        torch.testing.assert_close(wave_[0], torch.from_numpy(ints / 32768.0).float())


def test_data_before_fmt(tmp_path):
    path = tmp_path / "order.wav"
    data = b"data" + struct.pack("<I", 2) + b"\0\0"
    fmt = b"fmt " + struct.pack("<I", 16) + fmt_chunk(1, 1, 8000, 16)
    body = b"WAVE" + data + fmt
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(InputError, match="data chunk comes before any fmt chunk"):
        read_wav(path)


def test_header_only(tmp_path):
    path = tmp_path / "hdr.wav"
    path.write_bytes(b"RIFF\x04\0\0\0WAVE")
    with pytest.raises(InputError, match=r"hdr\.wav: truncated or corrupt WAV: no fmt and data"):
        read_wav(path)
