"""Dataset loaders: a registry of named datasets (download + sha256 + cache, or a local mirror
in ``$RNNLAB_DATA``) and loaders for a user's own TSV files and class folders.

>>> from rnnlab import data
>>> data.names()
['imdb', 'review_polarity', 'sst2', 'sst5']

``load_splits(name)`` gives a dataset's ``train``/``dev``/``test``; ``load(name, split)`` also
its extra splits: ``load("sst2", "phrases")`` (every labelled phrase of the SST training trees)
and ``load("imdb", "unsup")`` (the 50,000 unlabelled reviews, a ``list[str]``). The SST tree
reader is :mod:`rnnlab.data.sst_trees` (:class:`Tree`, :func:`read_trees`).

Speech (:mod:`rnnlab.data.speech`) has its own registry, as tagging and translation have:
``load_speech("fsdd", "train")`` gives FSDD's recordings as :class:`Utterance` lists;
``load_speech_folder(path)`` reads any folder of ``<label>_<speaker>_<index>.wav``,
``split_utterances`` splits by recording number or by speaker, and :class:`DigitStrings` joins
recordings into seeded strings of spoken digits.

Music (:mod:`rnnlab.data.music`) has its own registry too: ``load_music("jsb_chorales",
"train")`` gives the chorales as ``(T, 88)`` piano rolls (``resolution="quarter"``, ``"8th"``,
``"16th"``); ``read_midi``, ``write_midi`` and ``load_midi_folder`` read and write MIDI files.

Numeric series (:mod:`rnnlab.data.series`): ``load_series("japanese_vowels", "test")`` gives a
:class:`SeriesSet` (X (N, T, C), lengths, class ids); ``read_ts`` reads any UEA/UCR ``.ts`` file,
``read_npz`` a ``.npz`` of X and y.

Time series for forecasting (:mod:`rnnlab.data.timeseries`): ``load_time_series(
"airline-passengers")`` (or any CSV of a date column and value columns) gives a :class:`TimeSeries`
(values (T,), dates, frequency, default season); ``time_series_names()`` lists the registered ones.
"""

from rnnlab.data.conll import TaggedSentences
from rnnlab.data.corpus import Corpus
from rnnlab.data.download import RemoteFile, cache_dir, download, fetch, mirror_dir, sha256_file
from rnnlab.data.errors import ChecksumError, DataError, DataFormatError, MissingDataError
from rnnlab.data.examples import LabelledTexts, split_dev
from rnnlab.data.files import load_folder, load_path, load_tsv
from rnnlab.data.language_modeling import corpus_names, load_corpora, load_corpus  # LM
from rnnlab.data.music import load_midi_folder, load_music, music_names, read_midi, write_midi
from rnnlab.data.registry import DatasetSpec, get, load, load_splits, names, register
from rnnlab.data.sentiment import BINARY_LABELS, SST5_LABELS  # registers the sentiment datasets
from rnnlab.data.series import (  # registers basic_motions, japanese_vowels
    SeriesSet,
    load_series,
    read_npz,
    read_ts,
    series_names,
)
from rnnlab.data.speech import (  # registers fsdd
    DigitStrings,
    Utterance,
    load_speech,
    load_speech_folder,
    speech_names,
    split_utterances,
)
from rnnlab.data.sst_trees import Tree, parse_tree, read_trees
from rnnlab.data.tagging import (  # registers conll2003, conll2000, ud_english_lines
    load_tagged,
    load_tagging_splits,
    tagging_names,
)
from rnnlab.data.timeseries import TimeSeries, load_time_series, time_series_names
from rnnlab.data.translation import (  # registers multi30k
    ParallelText,
    load_parallel,
    load_translation,
    read_parallel,
    translation_names,
)

__all__ = [
    "BINARY_LABELS",
    "SST5_LABELS",
    "TaggedSentences",
    "TimeSeries",
    "Utterance",
    "Tree",
    "ChecksumError",
    "Corpus",
    "DigitStrings",
    "DataError",
    "DataFormatError",
    "DatasetSpec",
    "LabelledTexts",
    "SeriesSet",
    "MissingDataError",
    "ParallelText",
    "RemoteFile",
    "cache_dir",
    "corpus_names",
    "download",
    "fetch",
    "get",
    "load",
    "load_corpora",
    "load_corpus",
    "load_folder",
    "load_midi_folder",
    "load_music",
    "load_path",
    "load_parallel",
    "load_series",
    "load_speech",
    "load_speech_folder",
    "load_splits",
    "load_tagged",
    "load_tagging_splits",
    "load_translation",
    "load_tsv",
    "mirror_dir",
    "music_names",
    "names",
    "parse_tree",
    "read_npz",
    "read_midi",
    "read_parallel",
    "read_ts",
    "read_trees",
    "register",
    "load_time_series",
    "sha256_file",
    "series_names",
    "speech_names",
    "split_utterances",
    "split_dev",
    "tagging_names",
    "time_series_names",
    "translation_names",
    "write_midi",
]
