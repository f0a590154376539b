"""Speech data: the folder loader and its splits, the registered FSDD (mirror, cache, a download
served from a file:// URL), and the digit-string synthesiser, on WAVs written here."""

from __future__ import annotations

import hashlib
import wave
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data import ChecksumError, DataFormatError, MissingDataError, speech
from rnnlab.data.speech import (
    DigitStrings,
    SpeechSpec,
    Utterance,
    label_names,
    load_speech,
    load_speech_folder,
    split_utterances,
)
from rnnlab.errors import InputError


def write_wav(path: Path, samples, rate: int = 8000) -> Path:
    """A mono 16-bit PCM WAV of ``samples`` (floats in [-1, 1]), by the standard library."""
    pcm = (np.asarray(samples, dtype=np.float64) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def read_wav(path: Path) -> torch.Tensor:
    """The loader handed to DigitStrings in these tests: stdlib wave, no resampling."""
    with wave.open(str(path), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return torch.from_numpy(pcm.astype(np.float32) / 32767)


def level(label: str) -> float:
    """Each label's recordings are a constant at its own level, so a string can be read back."""
    return (int(label) + 1) / 16


def make_folder(folder: Path, speakers=("alice", "bob"), labels="012", indices=range(7)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for s, speaker in enumerate(speakers):
        for label in labels:
            for i in indices:
                n = 100 + 10 * i + s  # lengths differ between recordings
                write_wav(folder / f"{label}_{speaker}_{i}.wav", np.full(n, level(label)))
    return folder


# ----------------------------------------------------------------------------- folder loader


def test_folder_loader_reads_names(tmp_path):
    folder = make_folder(tmp_path / "wavs", indices=range(3))
    (folder / "README.txt").write_text("not a recording")
    write_wav(folder / "3_mary_ann_12.WAV", [0.1] * 10)  # underscores in the speaker, upper case
    utts = load_speech_folder(folder)
    assert len(utts) == 2 * 3 * 3 + 1
    assert utts[0] == Utterance(folder / "0_alice_0.wav", "0", "alice", 0)
    assert Utterance(folder / "3_mary_ann_12.WAV", "3", "mary_ann", 12) in utts
    keys = [(u.speaker, int(u.label), u.index) for u in utts]
    assert keys == sorted(keys)


@pytest.mark.parametrize("name", ["seven.wav", "7_jackson_x.wav", "7_32.wav", "_jackson_1.wav"])
def test_bad_name_is_named_with_the_pattern(tmp_path, name):
    folder = make_folder(tmp_path / "wavs", indices=range(1))
    write_wav(folder / name, [0.0] * 10)
    with pytest.raises(DataFormatError, match=rf"{name}.*<label>_<speaker>_<index>\.wav"):
        load_speech_folder(folder)


def test_folder_without_wavs(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataFormatError, match="holds no .wav files"):
        load_speech_folder(tmp_path)
    make_folder(tmp_path / "recordings", indices=range(1))
    with pytest.raises(DataFormatError, match="sub-folders recordings have some"):
        load_speech_folder(tmp_path)
    with pytest.raises(MissingDataError, match="no such folder"):
        load_speech_folder(tmp_path / "absent")


def test_label_names_in_numeric_order():
    utts = [Utterance(Path(f"{y}_a_0.wav"), y, "a", 0) for y in ["10", "yes", "2", "9", "no"]]
    assert label_names(utts) == ["2", "9", "10", "no", "yes"]


# ----------------------------------------------------------------------------- splits


def test_official_split_by_index(tmp_path):
    utts = load_speech_folder(make_folder(tmp_path / "wavs"))  # 2 speakers x 3 labels x 7
    train, test = split_utterances(utts)
    assert len(test) == 2 * 3 * 5 and len(train) == 2 * 3 * 2
    assert {u.index for u in test} == set(range(5)) and {u.index for u in train} == {5, 6}
    train, test = split_utterances(utts, test_index=[6])
    assert len(test) == 6 and {u.index for u in test} == {6}


@pytest.mark.parametrize("speakers", ["bob", ["bob"], " bob, ", ("bob",)])
def test_leave_speaker_out(tmp_path, speakers):
    utts = load_speech_folder(make_folder(tmp_path / "wavs", speakers=("alice", "bob", "carol")))
    train, test = split_utterances(utts, test_speakers=speakers)
    assert {u.speaker for u in test} == {"bob"} and len(test) == 3 * 7
    assert {u.speaker for u in train} == {"alice", "carol"} and len(train) == 2 * 3 * 7


def test_split_errors(tmp_path):
    utts = load_speech_folder(make_folder(tmp_path / "wavs", indices=range(5, 8)))
    with pytest.raises(InputError, match="test split is empty"):
        split_utterances(utts)  # no recording numbered 0-4
    with pytest.raises(InputError, match="train split is empty"):
        split_utterances(utts, test_index=range(100))
    with pytest.raises(InputError, match="train split is empty"):
        split_utterances(utts, test_speakers="alice,bob")
    with pytest.raises(InputError, match="george not among the speakers .*alice, bob"):
        split_utterances(utts, test_speakers="george")
    with pytest.raises(InputError, match="none given"):
        split_utterances(utts, test_speakers=",")


# ----------------------------------------------------------------------------- digit strings


def read_back(x: torch.Tensor) -> tuple[list[str], list[int]]:
    """The labels of a noiseless string (runs of one non-zero level) and its silences' lengths."""
    labels, gaps, run = [], [], 0
    previous = 0.0
    for v in x.tolist():
        if v == 0.0:
            run += 1
        elif previous == 0.0:
            gaps.append(run)
            run = 0
            labels.append(str(round(v * 16) - 1))
        previous = v
    return labels, gaps + [run]


def test_digit_strings_labels_and_silences(tmp_path):
    train, _ = split_utterances(load_speech_folder(make_folder(tmp_path / "wavs")))
    strings = DigitStrings(train, load=read_wav, size=50, snr_db=None, seed=3)
    lengths = Counter()
    for i in range(len(strings)):
        x, labels = strings[i]
        assert x.dtype == torch.float32 and x.dim() == 1
        chosen, gaps, _ = strings.plan(i)
        assert labels == [u.label for u in chosen]
        assert 1 <= len(labels) <= 7
        lengths[len(labels)] += 1
        seen, seen_gaps = read_back(x)
        assert seen == labels
        assert seen_gaps == gaps and all(400 <= g <= 2400 for g in gaps)  # 0.05-0.3 s at 8 kHz
        assert x.numel() == sum(gaps) + sum(strings.wave(u).numel() for u in chosen)
    assert len(lengths) >= 5  # lengths spread over 1-7


def test_digit_strings_are_seeded(tmp_path):
    utts = load_speech_folder(make_folder(tmp_path / "wavs"))
    a = DigitStrings(utts, load=read_wav, size=20, seed=7)
    b = DigitStrings(utts, load=read_wav, size=20, seed=7)
    c = DigitStrings(utts, load=read_wav, size=20, seed=8)
    for i in (0, 5, 19):
        (xa, ya), (xb, yb) = a[i], b[i]
        assert ya == yb and torch.equal(xa, xb)
        assert torch.equal(a[i][0], xa)  # the same item again, after other items
    assert any(a[i][1] != c[i][1] for i in range(20))
    with pytest.raises(IndexError):
        a[20]


def test_digit_strings_noise_level(tmp_path):
    utts = load_speech_folder(make_folder(tmp_path / "wavs"))
    clean = DigitStrings(utts, load=read_wav, size=10, snr_db=None, min_digits=7, seed=1)
    noisy = DigitStrings(utts, load=read_wav, size=10, snr_db=20.0, min_digits=7, seed=1)
    for i in range(10):
        (x, labels), (y, same) = clean[i], noisy[i]
        assert same == labels and len(labels) == 7
        signal = torch.cat([clean.wave(u) for u in clean.plan(i)[0]]).double().square().mean()
        noise = (y - x).double().square().mean()
        assert float(10 * torch.log10(signal / noise)) == pytest.approx(20.0, abs=0.5)


def test_digit_strings_settings(tmp_path):
    utts = load_speech_folder(make_folder(tmp_path / "wavs"))
    one = DigitStrings(utts, load=read_wav, size=5, min_digits=2, max_digits=2, silence=(0, 0))
    for i in range(5):
        assert len(one[i][1]) == 2
    with pytest.raises(InputError, match="split is empty"):
        DigitStrings([], load=read_wav)
    with pytest.raises(InputError, match="min_digits"):
        DigitStrings(utts, load=read_wav, min_digits=3, max_digits=2)
    with pytest.raises(InputError, match="silence"):
        DigitStrings(utts, load=read_wav, silence=(0.3, 0.1))


def test_digit_strings_default_loader_is_the_audio_front_end(tmp_path):
    pytest.importorskip("rnnlab.audio")
    utts = load_speech_folder(make_folder(tmp_path / "wavs", indices=range(1)))
    x, labels = DigitStrings(utts, size=3, snr_db=None, seed=0)[2]
    y, same = DigitStrings(utts, load=read_wav, size=3, snr_db=None, seed=0)[2]
    assert labels == same
    torch.testing.assert_close(x, y, atol=1e-4, rtol=0)


# ----------------------------------------------------------------------------- registered


def manifest_of(root: Path) -> str:
    paths = sorted(f"recordings/{p.name}" for p in (root / "recordings").glob("*.wav"))
    return "".join(f"{hashlib.sha256((root / p).read_bytes()).hexdigest()}  {p}\n" for p in paths)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A registered ``tiny`` dataset: its recordings in a zip at a file:// URL, with an empty
    mirror and cache. Returns the spec and the source folder of the recordings."""
    source = make_folder(tmp_path / "repo-abc123" / "recordings", indices=range(6)).parent
    (source / "README.md").write_text("a repository holds other files too")
    archive = tmp_path / "server" / "abc123.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(source.rglob("*")):
            zf.write(path, path.relative_to(tmp_path).as_posix())
    manifest_sha = hashlib.sha256(manifest_of(source).encode()).hexdigest()
    spec = SpeechSpec(
        "tiny",
        "speech/tiny",
        speech.RemoteFile("SHA256SUMS", (), manifest_sha),
        (archive.as_uri(),),
    )
    monkeypatch.setitem(speech._SPEECH._specs, "tiny", spec)
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    return spec, source


def test_download_unpacks_and_checks_then_uses_the_cache(tiny, tmp_path):
    spec, source = tiny
    train = load_speech("tiny", "train", progress=False)
    test = load_speech("tiny", "test", progress=False)
    assert (len(train), len(test)) == (2 * 3 * 1, 2 * 3 * 5)
    cached = tmp_path / "cache" / "speech" / "tiny"
    assert sorted(p.name for p in cached.iterdir()) == ["SHA256SUMS", "recordings"]
    assert (cached / "SHA256SUMS").read_text() == manifest_of(source)
    Path(spec.archive_urls[0][len("file://") :]).unlink()  # no download any more: the cache
    by_speaker = load_speech("tiny", "test", test_speakers="bob", progress=False)
    assert {u.speaker for u in by_speaker} == {"bob"} and len(by_speaker) == 3 * 6


def test_download_of_other_recordings_saves_nothing(tiny, tmp_path):
    spec, _ = tiny
    archive = Path(spec.archive_urls[0][len("file://") :])
    with zipfile.ZipFile(archive, "a") as zf:  # one more recording than the manifest pins
        zf.writestr("repo-abc123/recordings/9_zoe_0.wav", b"RIFF")
    with pytest.raises(
        ChecksumError,
        match=r"holds 37 recordings/\*.wav files that differ from the registered tiny",
    ):
        load_speech("tiny", "train", progress=False)
    assert [p.name for p in (tmp_path / "cache" / "speech" / "tiny").iterdir()] == []


def test_no_mirror_no_cache_no_download(tiny, tmp_path):
    spec, _ = tiny
    Path(spec.archive_urls[0][len("file://") :]).unlink()
    with pytest.raises(MissingDataError, match="tiny is not in a mirror .*could not be downloaded"):
        load_speech("tiny", "train", progress=False)


def test_mirror_recordings_are_checked(tiny, tmp_path):
    _, source = tiny
    mirror = tmp_path / "mirror" / "speech" / "tiny"
    mirror.mkdir(parents=True)
    (mirror / "SHA256SUMS").write_text(manifest_of(source))
    (mirror / "recordings").symlink_to(source / "recordings")
    assert len(load_speech("tiny", "test", progress=False)) == 30
    changed = source / "recordings" / "0_alice_3.wav"
    original = changed.read_bytes()
    write_wav(changed, [0.5] * 10)
    with pytest.raises(ChecksumError, match="0_alice_3.wav has not the sha256"):
        load_speech("tiny", "test", progress=False)
    changed.write_bytes(original)
    write_wav(source / "recordings" / "5_carol_1.wav", [0.5] * 10)  # extra
    with pytest.raises(ChecksumError, match="1 recordings that .* does not list"):
        load_speech("tiny", "test", progress=False)
    assert not (tmp_path / "cache").exists()


def test_unknown_split_and_name():
    with pytest.raises(InputError, match="not 'dev'"):
        load_speech("fsdd", "dev")
    with pytest.raises(MissingDataError, match="known speech datasets: fsdd"):
        load_speech("timit", "train")


@pytest.mark.data
def test_real_fsdd(data_root, monkeypatch, tmp_path):
    """Counts from shared/data/speech/fsdd/SOURCE.md: 3,000 files, 6 speakers x 10 digits x 50."""
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))  # must stay unused
    train = load_speech("fsdd", "train", progress=False)
    test = load_speech("fsdd", "test", progress=False)
    assert (len(train), len(test)) == (2700, 300)
    utts = train + test
    assert len({u.path for u in utts}) == 3000
    assert sorted({u.speaker for u in utts}) == [
        "george", "jackson", "lucas", "nicolas", "theo", "yweweler"
    ]  # fmt: skip
    assert label_names(utts) == [str(d) for d in range(10)]
    assert Counter(u.label for u in test) == {str(d): 30 for d in range(10)}
    assert {u.index for u in test} == set(range(5))
    # the manifest as a download would rebuild it hashes as registered
    root = data_root / "speech" / "fsdd"
    rebuilt = hashlib.sha256(manifest_of(root).encode()).hexdigest()
    assert rebuilt == speech._SPEECH.get("fsdd").manifest.sha256
    held_out = load_speech("fsdd", "test", test_speakers="george,nicolas", progress=False)
    assert len(held_out) == 1000
    assert not (tmp_path / "cache").exists()
