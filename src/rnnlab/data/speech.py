"""Spoken words: the Free Spoken Digit Dataset, any folder of ``<label>_<speaker>_<index>.wav``
recordings, and seeded strings of spoken digits made from them.

An :class:`Utterance` is one recording, described by its file name as FSDD names them:
``7_jackson_32.wav`` is the label ``"7"`` said by ``jackson``, his recording number 32. The label
is the text before the first underscore, the index the number after the last one, the speaker
everything between. This module reads names only; the samples are read by
:func:`rnnlab.audio.load_audio` when asked for.

Splits (:func:`split_utterances`): FSDD's official one puts indices 0-4 of every speaker and
label in test (300 of 3,000 recordings) and shares speakers between train and test; naming
test speakers instead holds out all their recordings (leave-speaker-out).

- **fsdd**: Jakobovski's Free Spoken Digit Dataset at commit 26eb9aa: 3,000 mono 8 kHz WAVs,
  6 speakers x 10 digits x 50 recordings (``load_speech("fsdd", "train")``: 2,700;
  ``"test"``: 300). What is pinned is a manifest, ``SHA256SUMS`` (``sha256sum``'s format, paths
  sorted), whose own sha256 is registered here: each recording is checked against it whenever
  the dataset is loaded. A mirror holds the manifest and ``recordings/`` unpacked under
  ``$RNNLAB_DATA/speech/fsdd``. Without one, the repository's zip archive at that commit is
  downloaded and its ``recordings/`` unpacked into the cache, where the manifest is rebuilt
  from the unpacked files and must hash as registered. The archive's own bytes are not pinned
  (GitHub builds archives on request and does not promise them byte for byte); its content is.

:class:`DigitStrings` joins 1-7 recordings with random silences and light Gaussian noise into
one waveform with the list of their labels: the unaligned many-to-many task that CTC learns.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from rnnlab.data.download import RemoteFile, cache_dir, fetch, sha256_file
from rnnlab.data.errors import ChecksumError, DataFormatError, MissingDataError
from rnnlab.data.registry import Registry
from rnnlab.errors import InputError

__all__ = [
    "FILE_PATTERN",
    "DigitStrings",
    "SpeechSpec",
    "Utterance",
    "label_names",
    "load_speech",
    "load_speech_folder",
    "parse_utterance_name",
    "register_speech",
    "speech_folder",
    "speech_names",
    "split_utterances",
]

logger = logging.getLogger(__name__)

FILE_PATTERN = "<label>_<speaker>_<index>.wav"
_NAME = re.compile(r"^(?P<label>[^_]+)_(?P<speaker>.+)_(?P<index>\d+)\.wav$", re.IGNORECASE)
OFFICIAL_TEST_INDEX = range(0, 5)


@dataclass(frozen=True)
class Utterance:
    """One recording: its file, what is said (``"7"``), who says it, and its number."""

    path: Path
    label: str
    speaker: str
    index: int


def parse_utterance_name(path: str | os.PathLike) -> Utterance:
    """The :class:`Utterance` that a file named ``<label>_<speaker>_<index>.wav`` holds.

    Raises:
        DataFormatError: a name that does not follow :data:`FILE_PATTERN` (the file is named).
    """
    path = Path(path)
    match = _NAME.match(path.name)
    if match is None:
        raise DataFormatError(
            f"{path}: a recording's name must be {FILE_PATTERN} (e.g. 7_jackson_32.wav: "
            "label 7, speaker jackson, recording 32); rename the file or move it out"
        )
    return Utterance(path, match["label"], match["speaker"], int(match["index"]))


def _sort_key(u: Utterance) -> tuple:
    return (u.speaker, _label_key(u.label), u.index)


def _label_key(label: str) -> tuple:
    """Numbers in numeric order, before other labels in text order."""
    return (0, int(label), "") if label.isdigit() else (1, 0, label)


def load_speech_folder(path: str | os.PathLike) -> list[Utterance]:
    """Every ``.wav`` directly in a folder, as utterances sorted by speaker, label and index.

    Other files are ignored; a ``.wav`` whose name does not follow :data:`FILE_PATTERN` is an
    error rather than skipped, so that no recording is silently left out.

    Raises:
        MissingDataError: no such folder.
        DataFormatError: a folder without WAVs, or a WAV named otherwise (the message says which
            file and the expected pattern).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise MissingDataError(f"no such folder of recordings: {folder}")
    wavs = [p for p in folder.iterdir() if p.suffix.lower() == ".wav" and p.is_file()]
    if not wavs:
        inside = sorted(d.name for d in folder.iterdir() if d.is_dir() and any(d.glob("*.wav")))
        hint = f" (its sub-folders {', '.join(inside)} have some: name one)" if inside else ""
        raise DataFormatError(
            f"{folder} holds no .wav files{hint}; a folder of recordings holds files named "
            f"{FILE_PATTERN}"
        )
    return sorted((parse_utterance_name(p) for p in wavs), key=_sort_key)


def label_names(utterances: Iterable[Utterance]) -> list[str]:
    """The distinct labels, numbers in numeric order first (``["0", "1", ..., "9"]``)."""
    return sorted({u.label for u in utterances}, key=_label_key)


def split_utterances(
    utterances: Sequence[Utterance],
    test_speakers: str | Iterable[str] | None = None,
    test_index: Iterable[int] = OFFICIAL_TEST_INDEX,
) -> tuple[list[Utterance], list[Utterance]]:
    """``(train, test)``: test holds the ``test_speakers`` (all their recordings), or when none
    are named, the recordings whose index is in ``test_index`` (FSDD's official 0-4).

    Args:
        utterances: e.g. :func:`load_speech_folder`'s.
        test_speakers: speakers to hold out, as names or one comma-separated string
            (``"george,nicolas"``); ``test_index`` is then not used.
        test_index: recording numbers that go to test.

    Raises:
        InputError: a named speaker with no recordings, or a split that comes out empty.
    """
    speakers = sorted({u.speaker for u in utterances})
    if test_speakers is not None:
        if isinstance(test_speakers, str):
            test_speakers = test_speakers.split(",")
        held = {s.strip() for s in test_speakers if s.strip()}
        unknown = sorted(held - set(speakers))
        if unknown or not held:
            raise InputError(
                f"test speakers {sorted(held) or '(none)'}: {', '.join(unknown) or 'none given'}"
                f" not among the speakers of these recordings ({', '.join(speakers)})"
            )
        in_test = [u.speaker in held for u in utterances]
        how = f"speakers {', '.join(sorted(held))} in test"
    else:
        indices = set(test_index)
        in_test = [u.index in indices for u in utterances]
        shown = sorted(indices)
        how = f"recording numbers {shown[:8]}{'...' if len(shown) > 8 else ''} in test"
    train = [u for u, t in zip(utterances, in_test, strict=True) if not t]
    test = [u for u, t in zip(utterances, in_test, strict=True) if t]
    for name, split in (("train", train), ("test", test)):
        if not split:
            raise InputError(
                f"the {name} split is empty with {how} ({len(utterances)} recordings, speakers "
                f"{', '.join(speakers) or 'none'}); choose other test speakers or indices"
            )
    return train, test


# ----------------------------------------------------------------------------- registered data


@dataclass(frozen=True)
class SpeechSpec:
    """A registered folder of recordings, pinned by a manifest of per-file sha256 sums.

    ``manifest`` (``sha256sum`` lines ``<sha256>  <folder>/<file>.wav``, sorted by path) is
    looked for in the mirror, then the cache; failing both, the first of ``archive_urls`` that
    downloads is unpacked (its ``<folder>/*.wav`` members) into the cache and the manifest is
    rebuilt from what was unpacked.
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "speech/fsdd"
    manifest: RemoteFile  # urls=(): its sha256 pins the recordings
    archive_urls: tuple[str, ...]  # zip archives holding <folder>/*.wav, their bytes unpinned
    folder: str = "recordings"
    test_index: range = OFFICIAL_TEST_INDEX
    description: str = ""


_SPEECH: Registry[SpeechSpec] = Registry("speech dataset", "speech datasets")
register_speech = _SPEECH.register  # (spec, replace=False) -> spec
speech_names = _SPEECH.names  # () -> the registered speech datasets, sorted


def _manifest_text(root: Path, folder: str) -> str:
    """``sha256sum``'s lines for every ``root/folder/*.wav``, sorted by path."""
    paths = sorted(f"{folder}/{p.name}" for p in (root / folder).glob("*.wav"))
    return "".join(f"{sha256_file(root / p)}  {p}\n" for p in paths)


def _read_manifest(path: Path) -> list[tuple[str, str]]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DataFormatError(f"{path}:{number}: expected '<sha256>  <path>', got {line!r}")
        entries.append((digest, name))
    return entries


def _download_to(url: str, dest: Path, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        length = response.headers.get("Content-Length")
        with tqdm(
            total=int(length) if length else None,
            unit="B",
            unit_scale=True,
            desc=dest.name,
            disable=not progress,
        ) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))


def _unpack_archive(spec: SpeechSpec, url: str, progress: bool) -> Path:
    """Download ``url``, unpack its recordings into the cache, check them; the manifest's path.

    Everything happens in a temporary folder beside the cache's; the manifest is moved into
    place last, so that the cache holds a manifest only beside complete, checked recordings.
    """
    dest = cache_dir() / spec.subdir
    dest.mkdir(parents=True, exist_ok=True)
    member = re.compile(rf"(?:^|/){re.escape(spec.folder)}/([^/]+\.wav)$", re.IGNORECASE)
    tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".unpack."))
    try:
        archive = tmp / "archive.zip"
        _download_to(url, archive, progress)
        (tmp / spec.folder).mkdir()
        try:
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    match = member.search(info.filename)
                    if match and not info.is_dir():
                        (tmp / spec.folder / match[1]).write_bytes(zf.read(info))
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise ChecksumError(f"the archive from {url} is not a readable zip: {e}") from e
        text = _manifest_text(tmp, spec.folder)
        manifest = tmp / spec.manifest.name
        manifest.write_text(text, encoding="utf-8")
        if sha256_file(manifest) != spec.manifest.sha256:
            count = text.count("\n")
            raise ChecksumError(
                f"the archive from {url} holds {count} {spec.folder}/*.wav files that differ from "
                f"the registered {spec.name} (manifest sha256 {spec.manifest.sha256}); nothing "
                "was saved"
            )
        shutil.rmtree(dest / spec.folder, ignore_errors=True)
        os.replace(tmp / spec.folder, dest / spec.folder)
        os.replace(manifest, dest / spec.manifest.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("unpacked %s from %s into %s", spec.name, url, dest)
    return dest / spec.manifest.name


def speech_folder(name: str, progress: bool = True) -> Path:
    """The checked folder of a registered speech dataset's recordings (mirror, cache or a
    download), every recording's sha256 matched against the pinned manifest.

    Raises:
        MissingDataError: an unknown name, or no mirror, cache or working download.
        ChecksumError: a manifest or recording that differs from the registered one.
    """
    spec = _SPEECH.get(name)
    try:
        manifest = fetch(spec.manifest, spec.subdir, progress=progress)
    except MissingDataError:
        manifest = None
        failures = []
        for url in spec.archive_urls:
            try:
                manifest = _unpack_archive(spec, url, progress)
                break
            except (urllib.error.URLError, OSError) as e:
                logger.warning("could not download %s: %s", url, e)
                failures.append(f"{url} ({getattr(e, 'reason', e)})")
        if manifest is None:
            raise MissingDataError(
                f"{name} is not in a mirror ($RNNLAB_DATA/{spec.subdir}/{spec.manifest.name} with "
                f"{spec.folder}/) nor the cache ({cache_dir() / spec.subdir}), and could not be "
                f"downloaded from {'; '.join(failures) or 'anywhere'}; set RNNLAB_DATA to a "
                "copy of the project's data"
            ) from None
    root = manifest.parent
    entries = _read_manifest(manifest)
    listed = {relative for _, relative in entries}
    extra = sorted(f"{spec.folder}/{p.name}" for p in (root / spec.folder).glob("*.wav"))
    extra = [p for p in extra if p not in listed]
    if extra:
        raise ChecksumError(
            f"{root / spec.folder} holds {len(extra)} recordings that {manifest} does not list "
            f"({', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''}); remove them"
        )
    for digest, relative in entries:
        path = root / relative
        if not path.is_file():
            raise ChecksumError(f"{path} is listed in {manifest} but missing; restore it")
        if sha256_file(path) != digest:
            raise ChecksumError(
                f"{path} has not the sha256 that {manifest} lists: corrupt or another version; "
                "restore it from the data mirror"
            )
    logger.info("%s: %d recordings checked in %s", name, len(entries), root / spec.folder)
    return root / spec.folder


def load_speech(
    name: str,
    split: str = "train",
    test_speakers: str | Iterable[str] | None = None,
    progress: bool = True,
) -> list[Utterance]:
    """One split of a registered speech dataset (``"fsdd"``): ``"train"`` or ``"test"``, by its
    official test indices, or by ``test_speakers`` when given (:func:`split_utterances`).

    Raises:
        InputError: a split other than train and test, or one that comes out empty.
        MissingDataError, ChecksumError: as :func:`speech_folder`.
    """
    if split not in ("train", "test"):
        raise InputError(f"{name} has splits ['train', 'test'], not {split!r}")
    spec = _SPEECH.get(name)
    utterances = load_speech_folder(speech_folder(name, progress))
    train, test = split_utterances(utterances, test_speakers, spec.test_index)
    return train if split == "train" else test


register_speech(
    SpeechSpec(
        "fsdd",
        "speech/fsdd",
        # shared/data/speech/fsdd/SHA256SUMS: the 3,000 recordings at commit 26eb9aa
        RemoteFile(
            "SHA256SUMS",
            (),
            "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b",
            size=278_900,
        ),
        (
            "https://codeload.github.com/Jakobovski/free-spoken-digit-dataset/zip/"
            "26eb9aaf76e81b692f806f9140c2d2777410d7a1",
        ),
        description="Free Spoken Digit Dataset: 3,000 8 kHz recordings of digits, 6 speakers",
    )
)


# ----------------------------------------------------------------------------- digit strings


class DigitStrings:
    """Strings of 1-7 spoken labels, made by joining recordings: a seeded, indexable dataset.

    Item ``i`` draws (from ``numpy.random.default_rng([seed, i])``, so it is the same on every
    call and in every process) a length n in ``[min_digits, max_digits]``, n recordings of
    ``utterances`` with replacement, and n + 1 silences of ``silence`` seconds (uniform), one
    before each recording and one after the last; the waveform is their concatenation plus
    white Gaussian noise at ``snr_db`` below the recordings' mean power:

        x = concat(s_0, w_1, s_1, ..., w_n, s_n) + e,   e ~ N(0, P_w 10^(-snr_db / 10))

    where P_w is the mean square of w_1 .. w_n. A test set built from test recordings with a
    fixed seed is therefore fixed; a training set draws fresh strings with each new seed.

    Args:
        utterances: the recordings to draw from (e.g. the train or the test split).
        load: ``path -> (N,) float32`` waveform at ``rate``; default
            ``rnnlab.audio.load_audio(path, rate)``. Waveforms are kept in memory once loaded.
        size: the number of strings (``len``).
        rate: sample rate of the waveforms, in Hz (for the silences' lengths).
        min_digits, max_digits: bounds of n, inclusive.
        silence: (shortest, longest) silence in seconds.
        snr_db: signal-to-noise ratio of the added noise, in dB; ``None`` for no noise.
        seed: the strings' seed.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        load: Callable[[Path], torch.Tensor] | None = None,
        size: int = 1000,
        rate: int = 8000,
        min_digits: int = 1,
        max_digits: int = 7,
        silence: tuple[float, float] = (0.05, 0.3),
        snr_db: float | None = 30.0,
        seed: int = 0,
    ) -> None:
        if not utterances:
            raise InputError("no recordings to build strings from: the split is empty")
        if not 1 <= min_digits <= max_digits:
            raise InputError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
        if not 0 <= silence[0] <= silence[1]:
            raise InputError(f"silence must be (shortest, longest) >= 0 seconds, got {silence}")
        if size < 1 or rate < 1:
            raise InputError(f"size and rate must be >= 1, got {size} and {rate}")
        self.utterances = list(utterances)
        self.size, self.rate, self.seed = size, rate, seed
        self.min_digits, self.max_digits = min_digits, max_digits
        self.silence, self.snr_db = silence, snr_db
        self._load = load if load is not None else self._load_audio
        self._waves: dict[Path, torch.Tensor] = {}

    def _load_audio(self, path: Path) -> torch.Tensor:
        from rnnlab.audio import load_audio  # only when no loader was given

        return load_audio(path, self.rate)

    def __len__(self) -> int:
        return self.size

    def wave(self, utterance: Utterance) -> torch.Tensor:
        """The recording's (N,) float32 waveform, loaded once."""
        if utterance.path not in self._waves:
            self._waves[utterance.path] = self._load(utterance.path).float().reshape(-1)
        return self._waves[utterance.path]

    def plan(self, i: int) -> tuple[list[Utterance], list[int], np.random.Generator]:
        """The recordings of string ``i``, its n + 1 silence lengths in samples, and the
        generator (already advanced past them) that draws its noise."""
        if not 0 <= i < self.size:
            raise IndexError(f"string {i} of {self.size}")
        rng = np.random.default_rng([self.seed, i])
        n = int(rng.integers(self.min_digits, self.max_digits + 1))
        chosen = [self.utterances[j] for j in rng.integers(0, len(self.utterances), n)]
        gaps = rng.uniform(self.silence[0], self.silence[1], n + 1)  # (n + 1,) seconds
        return chosen, [round(g * self.rate) for g in gaps], rng

    def __getitem__(self, i: int) -> tuple[torch.Tensor, list[str]]:
        """String ``i``: its (N,) float32 waveform and the labels said, in order."""
        chosen, gaps, rng = self.plan(i)
        waves = [self.wave(u) for u in chosen]
        pieces = [torch.zeros(gaps[0])]
        for w, gap in zip(waves, gaps[1:], strict=True):
            pieces += [w, torch.zeros(gap)]
        x = torch.cat(pieces)  # (N,)
        if self.snr_db is not None:
            # e ~ N(0, P_w 10^(-snr_db / 10)), P_w the recordings' mean square
            power = float(torch.cat(waves).double().square().mean())
            std = (power * 10 ** (-self.snr_db / 10)) ** 0.5
            x = x + torch.from_numpy(rng.standard_normal(x.numel())).float() * std  # (N,)
        return x, [u.label for u in chosen]
