"""Parallel text for translation: the registered ``multi30k`` (English-German), and any pair of
line-aligned files.

>>> from rnnlab import data
>>> data.translation_names()
['multi30k']

A :class:`ParallelText` holds raw sentence pairs (untokenised, cased); tokenisation is the
pipeline's business. Line-aligned files (``--src-file/--tgt-file``): UTF-8, ``.gz`` allowed, line
i of one file translates line i of the other; both must have the same number of lines. A pair
whose two lines are both blank is skipped; a pair with one blank side is an error naming the line.

Registered (fetched like every dataset: ``$RNNLAB_DATA`` mirror, cache, download; sha256 always
checked):

- ``multi30k``: Multi30k Task 1 (Elliott et al., 2016; the WMT16-18 multimodal task), raw cased
  English and German image captions, from github.com/multi30k/dataset at a fixed commit. Splits
  (pairs): ``train`` 29,000, ``dev`` 1,014 (the official "val"), ``test2016`` 1,000 (the
  standard test set, also called ``test``), ``test2017`` 1,000, ``mscoco2017`` 461 (the
  out-of-domain "ambiguous COCO" test). Languages ``en`` and ``de``, either way round.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import DataFormatError
from rnnlab.data.registry import Registry
from rnnlab.data.text_files import read_path
from rnnlab.errors import InputError

__all__ = [
    "ParallelText",
    "TranslationSpec",
    "get_translation",
    "load_parallel",
    "load_translation",
    "pair_lines",
    "read_lines",
    "read_parallel",
    "register_translation",
    "translation_names",
]

logger = logging.getLogger(__name__)


@dataclass
class ParallelText:
    """Sentence pairs: ``src[i]`` translates to ``tgt[i]`` (raw text, one sentence each)."""

    src: list[str]
    tgt: list[str]
    src_lang: str = "src"
    tgt_lang: str = "tgt"

    def __post_init__(self) -> None:
        if len(self.src) != len(self.tgt):
            raise ValueError(f"{len(self.src)} source but {len(self.tgt)} target sentences")

    def __len__(self) -> int:
        return len(self.src)

    def head(self, n: int) -> ParallelText:
        """The first ``n`` pairs (a small slice for quick runs)."""
        return ParallelText(self.src[:n], self.tgt[:n], self.src_lang, self.tgt_lang)


def read_lines(path: str | os.PathLike) -> list[str]:
    """The lines of a UTF-8 text file (gunzipped when its name ends in ``.gz``), without their
    line ends; a final newline does not open an empty line.

    Raises:
        MissingDataError: no such file. DataFormatError: not gzip or not UTF-8.
    """
    lines = read_path(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def pair_lines(src: list[str], tgt: list[str], src_name: str, tgt_name: str) -> tuple[list, list]:
    """Line-aligned ``src`` and ``tgt`` as pairs of stripped sentences, both-blank lines skipped.

    Raises:
        DataFormatError: different line counts, or one side of a pair blank (named by line).
    """
    if len(src) != len(tgt):
        raise DataFormatError(
            f"{src_name} has {len(src)} lines but {tgt_name} has {len(tgt)}; line-aligned files "
            "must have one line per sentence pair"
        )
    out_src, out_tgt = [], []
    for number, (s, t) in enumerate(zip(src, tgt, strict=True), start=1):
        s, t = s.strip(), t.strip()
        if not s and not t:
            continue
        if not s or not t:
            blank = src_name if not s else tgt_name
            raise DataFormatError(f"{blank}:{number}: blank line whose translation is not blank")
        out_src.append(s)
        out_tgt.append(t)
    if not out_src:
        raise DataFormatError(f"{src_name} and {tgt_name} hold no sentence pairs")
    return out_src, out_tgt


def read_parallel(
    src_file: str | os.PathLike,
    tgt_file: str | os.PathLike,
    src_lang: str = "src",
    tgt_lang: str = "tgt",
) -> ParallelText:
    """A user's pair of line-aligned files as :class:`ParallelText` (rules in the module
    docstring).

    Raises:
        MissingDataError, DataFormatError: as :func:`read_lines` and :func:`pair_lines`.
    """
    src, tgt = pair_lines(read_lines(src_file), read_lines(tgt_file), str(src_file), str(tgt_file))
    return ParallelText(src, tgt, src_lang, tgt_lang)


# ----------------------------------------------------------------------------- the registry

Reader = Callable[[dict[str, Path], str, str], dict[str, ParallelText]]


@dataclass(frozen=True)
class TranslationSpec:
    """A registered parallel corpus.

    ``read`` receives ``{file name: verified local path}`` for every file in ``files`` and the
    source and target languages, and returns ``{split: ParallelText}`` for every split.
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "translation/multi30k"
    files: tuple[RemoteFile, ...]
    read: Reader
    languages: tuple[str, ...]
    splits: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, split), e.g. ("test", "test2016")
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.files or not self.splits or len(self.languages) < 2:
            raise ValueError(f"translation corpus {self.name!r} needs files, splits, 2 languages")

    def split_name(self, split: str) -> str:
        """``split`` with aliases resolved; InputError (a ValueError) naming the splits if it is
        unknown."""
        split = dict(self.aliases).get(split, split)
        if split not in self.splits:
            known = list(self.splits) + [a for a, _ in self.aliases]
            raise InputError(f"{self.name} has splits {known}, not {split!r}")
        return split


_TRANSLATION: Registry[TranslationSpec] = Registry("translation corpus", "translation corpora")
register_translation = _TRANSLATION.register  # (spec, replace=False) -> spec
translation_names = _TRANSLATION.names  # () -> the registered parallel corpora, sorted
get_translation = _TRANSLATION.get  # (name) -> spec; MissingDataError listing the known names


def _check_languages(spec: TranslationSpec, src_lang: str, tgt_lang: str) -> None:
    for lang in (src_lang, tgt_lang):
        if lang not in spec.languages:
            raise InputError(f"{spec.name} has languages {list(spec.languages)}, not {lang!r}: "
                             "choose the source and the target language among them")  # fmt: skip
    if src_lang == tgt_lang:
        raise InputError(
            f"source and target language are both {src_lang!r}: choose two different languages "
            f"of {spec.name} ({', '.join(spec.languages)})"
        )


def load_parallel(
    name: str, split: str, src_lang: str, tgt_lang: str, progress: bool = True
) -> ParallelText:
    """One split of a registered parallel corpus, ``src_lang`` -> ``tgt_lang``.

    Raises:
        MissingDataError: unknown name, or files that cannot be found or downloaded.
        ChecksumError: a file with the wrong sha256.
        InputError (a ValueError): a split or a language the corpus does not have.
    """
    spec = get_translation(name)
    _check_languages(spec, src_lang, tgt_lang)
    split = spec.split_name(split)
    paths = {f.name: fetch(f, spec.subdir, progress) for f in spec.files}
    return spec.read(paths, src_lang, tgt_lang)[split]


def load_translation(
    source: str | None,
    src_lang: str,
    tgt_lang: str,
    src_file: str | os.PathLike | None = None,
    tgt_file: str | os.PathLike | None = None,
    dev_src: str | os.PathLike | None = None,
    dev_tgt: str | os.PathLike | None = None,
    dev_fraction: float = 0.05,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, ParallelText]:
    """Every split for training a translator: a registered corpus (all its splits), or a user's
    ``src_file``/``tgt_file`` pair (``train``, and ``dev`` from ``dev_src``/``dev_tgt`` or a
    seeded ``dev_fraction`` of the pairs held out).

    Raises:
        InputError (a ValueError): neither or both of ``source`` and the file pair, a lone file,
            languages the corpus does not have, or a ``dev_fraction`` the pairs cannot hold.
        MissingDataError, DataFormatError, ChecksumError: as the readers raise them.
    """
    if (src_file is None) != (tgt_file is None):
        raise InputError("give both --src-file and --tgt-file (line-aligned files), or neither")
    if (dev_src is None) != (dev_tgt is None):
        raise InputError("give both dev files (source and target), or neither")
    if (source is None) == (src_file is None):
        raise InputError(
            "give either a registered corpus "
            f"({', '.join(translation_names())}) or --src-file/--tgt-file, not both or neither"
        )
    if source is not None:
        spec = get_translation(source)
        _check_languages(spec, src_lang, tgt_lang)
        paths = {f.name: fetch(f, spec.subdir, progress) for f in spec.files}
        splits = spec.read(paths, src_lang, tgt_lang)
    else:
        train = read_parallel(src_file, tgt_file, src_lang, tgt_lang)
        if dev_src is not None:
            splits = {"train": train, "dev": read_parallel(dev_src, dev_tgt, src_lang, tgt_lang)}
        else:
            splits = dict(zip(("train", "dev"), _hold_out(train, dev_fraction, seed), strict=True))
    if dev_src is not None and source is not None:
        splits["dev"] = read_parallel(dev_src, dev_tgt, src_lang, tgt_lang)
    for split, pairs in splits.items():
        logger.info("%s/%s: %d sentence pairs", source or src_file, split, len(pairs))
    return splits


def _hold_out(pairs: ParallelText, fraction: float, seed: int) -> tuple[ParallelText, ParallelText]:
    """(train, dev): a seeded random ``fraction`` of the pairs (at least one, and at least one
    left for training) held out."""
    if not 0.0 < fraction < 1.0:
        raise InputError(f"the dev fraction must be in (0, 1), got {fraction}")
    if len(pairs) < 2:
        raise DataFormatError("need at least 2 sentence pairs to hold some out as dev")
    n_dev = max(1, round(len(pairs) * fraction))
    if n_dev >= len(pairs):
        raise InputError(
            f"holding out {fraction:.0%} of {len(pairs)} sentence pairs as dev leaves none to "
            "train on: give a smaller dev fraction, more pairs, or a dev pair of files"
        )
    dev_idx = set(random.Random(seed).sample(range(len(pairs)), n_dev))
    parts = [([], []), ([], [])]
    for i, (s, t) in enumerate(zip(pairs.src, pairs.tgt, strict=True)):
        part = parts[1 if i in dev_idx else 0]
        part[0].append(s)
        part[1].append(t)
    (train_src, train_tgt), (dev_src, dev_tgt) = parts
    return (
        ParallelText(train_src, train_tgt, pairs.src_lang, pairs.tgt_lang),
        ParallelText(dev_src, dev_tgt, pairs.src_lang, pairs.tgt_lang),
    )


# ----------------------------------------------------------------------------- Multi30k

_M30K_URL = (
    "https://raw.githubusercontent.com/multi30k/dataset/"
    "a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1/raw/{}"
)
_M30K_FILES = {  # (split, file stem): {language: (sha256, bytes)}, from SOURCE.md of the mirror
    ("train", "train"): {
        "en": ("d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", 568929),
        "de": ("726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", 637044),
    },
    ("dev", "val"): {
        "en": ("14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", 21650),
        "de": ("f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", 24681),
    },
    ("test2016", "test_2016_flickr"): {
        "en": ("611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9", 21077),
        "de": ("9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8", 22890),
    },
    ("test2017", "test_2017_flickr"): {
        "en": ("76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074", 19138),
        "de": ("a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee", 21471),
    },
    ("mscoco2017", "test_2017_mscoco"): {
        "en": ("aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58", 8844),
        "de": ("799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338", 10230),
    },
}
_M30K_SPLITS = tuple(split for split, _ in _M30K_FILES)
_M30K_STEMS = {split: stem for split, stem in _M30K_FILES}


def _read_multi30k(paths: dict[str, Path], src_lang: str, tgt_lang: str) -> dict:
    """``{split: ParallelText}`` for every split whose two files are in ``paths``."""
    out = {}
    for split, stem in _M30K_STEMS.items():
        src_name, tgt_name = f"{stem}.{src_lang}.gz", f"{stem}.{tgt_lang}.gz"
        if src_name in paths and tgt_name in paths:
            src, tgt = pair_lines(
                read_lines(paths[src_name]), read_lines(paths[tgt_name]), src_name, tgt_name
            )
            out[split] = ParallelText(src, tgt, src_lang, tgt_lang)
    return out


register_translation(
    TranslationSpec(
        name="multi30k",
        subdir="translation/multi30k",
        files=tuple(
            RemoteFile(f"{stem}.{lang}.gz", (_M30K_URL.format(f"{stem}.{lang}.gz"),), sha, size)
            for (_, stem), langs in _M30K_FILES.items()
            for lang, (sha, size) in langs.items()
        ),
        read=_read_multi30k,
        languages=("en", "de"),
        splits=_M30K_SPLITS,
        aliases=(("test", "test2016"), ("val", "dev")),
        description="Multi30k Task 1 image captions, English-German (Elliott et al., 2016)",
    )
)
