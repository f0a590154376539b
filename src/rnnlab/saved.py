"""A trained model as a directory: ``config.json``, the model's other files, ``model.safetensors``.

Nothing in it can run code when loaded (JSON and safetensors), and ``load`` restores the model
on CPU (or ``device``) whatever device trained it. ``config.json``'s ``task`` names the model's
class in :data:`MODELS`, and the class says which other files describe it:

    task          class            beside config.json
    "classify"    TextClassifier   vocab.json
    "lm"          LanguageModel    vocab.json
    "tag"         SequenceTagger   vocab.json, tags.json (tag names), chars.json (characters)
    "translate"   Seq2Seq          src_vocab.json, tgt_vocab.json
    "embeddings"  Word2Vec         words.json (the words, most frequent first, and their counts)
    "forecast"    Forecaster       history.json (the series trained on: dates, values, origins)
    "caption"     Captioner        vocab.json

A saved model class has a ``task`` name and a pair of methods, so this module knows no task:

    model.to_saved() -> (config, files)   config.json's fields beside "format", "version" and
                                          "task"; the other files by name: a Vocab (written
                                          with Vocab.save), a dict (a JSON file), or None (the
                                          model has no such file: a stale one is removed)
    cls.from_saved(config, files)         the model with fresh weights; files.vocab(name) and
                                          files.json(name) read the directory's other files

A new kind of model (speech, music, captioning ...) registers its class in :data:`MODELS`.

A training run also writes ``run.json``: its data and loader settings (batch size, BPTT length,
length limits ...) that resuming it exactly depends on. :func:`check_same_run` refuses to resume
a run whose files differ from what the model and those settings would write now.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import torch

from rnnlab.errors import InputError, MissingFileError
from rnnlab.models.caption import Captioner
from rnnlab.models.classifier import TextClassifier
from rnnlab.models.forecast import Forecaster
from rnnlab.models.language_model import LanguageModel
from rnnlab.models.music import MusicModel
from rnnlab.models.seq2seq import Seq2Seq
from rnnlab.models.series import SeriesClassifier
from rnnlab.models.speech import SpeechModel
from rnnlab.models.tagger import SequenceTagger
from rnnlab.models.truncated_bptt import StreamLM
from rnnlab.models.word2vec import Word2Vec
from rnnlab.text import Vocab
from rnnlab.train import CheckpointError, load_weights
from rnnlab.train.files import atomic_write_text

__all__ = ["MODELS", "check_same_run", "config_of", "load", "save_config"]

logger = logging.getLogger(__name__)

FORMAT = "rnnlab-model"
VERSION = 1
CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "model.safetensors"
RUN = "run.json"  # a training run's data and loader settings (not part of the model)

# config.json's "task" -> the class that saves and loads such models
MODELS: dict[str, type] = {
    cls.task: cls
    for cls in (
        TextClassifier,
        LanguageModel,
        SequenceTagger,
        Seq2Seq,
        SpeechModel,
        MusicModel,
        Forecaster,
        SeriesClassifier,
        Word2Vec,
        Captioner,
    )
}


def config_of(model) -> dict:
    """What ``config.json`` holds for ``model``: format, version, task, and its own fields
    (architecture, labels, tokenisation ...)."""
    config, _ = model.to_saved()
    return {"format": FORMAT, "version": VERSION, "task": model.task, **config}


def save_config(model, out_dir: str | os.PathLike, run: dict | None = None) -> None:
    """Write ``config.json`` and the model's other files (vocabularies ...) to ``out_dir`` (the
    weights come from the trainer); with ``run``, a training run's settings as ``run.json``."""
    _write(model, Path(out_dir), run)


def _write(model, out: Path, run: dict | None) -> list[str]:
    """:func:`save_config`; returns the names of the files written, config.json first."""
    out.mkdir(parents=True, exist_ok=True)
    config, files = model.to_saved()
    atomic_write_text(out / CONFIG, json.dumps(config_of(model), indent=2))
    written = [CONFIG]
    for name, content in files.items():
        if content is None:
            (out / name).unlink(missing_ok=True)  # from an earlier run in the same directory
            continue
        if isinstance(content, Vocab):
            content.save(out / name)
        else:
            text = json.dumps({"format": FORMAT, **content}, ensure_ascii=False, indent=0)
            atomic_write_text(out / name, text)
        written.append(name)
    if run is not None:
        atomic_write_text(out / RUN, json.dumps(run, indent=2))
        written.append(RUN)
    return written


class _Files:
    """The files of a saved model directory, as ``from_saved`` reads them; remembers which."""

    def __init__(self, root: Path) -> None:
        self.root, self.read = root, []

    def _path(self, name: str) -> Path:
        path = self.root / name
        if not path.is_file():
            raise MissingFileError(f"{self.root} is not a complete saved model: {name} is missing")
        self.read.append(name)
        return path

    def vocab(self, name: str) -> Vocab:
        """The vocabulary file ``name`` (CheckpointError naming it if it is corrupt)."""
        path = self._path(name)
        try:
            return Vocab.load(path)
        except ValueError as e:
            raise CheckpointError(str(e)) from e

    def json(self, name: str) -> dict:
        """The JSON file ``name`` written from a dict by :func:`save_config`."""
        path = self._path(name)
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(content, dict) or content.get("format") != FORMAT:
                raise ValueError(f"expected a JSON object with format {FORMAT!r}")
        except (ValueError, UnicodeDecodeError) as e:
            raise CheckpointError(f"{path} is not valid: {e}") from e
        return content


def load(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Restore a saved model directory, in eval mode, on ``device`` (default CPU).

    Raises:
        MissingFileError (a FileNotFoundError): ``path`` or one of its files is missing.
        CheckpointError: a file is corrupt or does not fit the configuration.
    """
    root = Path(path)
    if not root.is_dir():
        raise MissingFileError(f"no saved model at {root}: expected a directory with {CONFIG}")
    cfg_path = root / CONFIG
    if not cfg_path.is_file():
        raise MissingFileError(f"{root} is not a saved rnnlab model: {CONFIG} is missing")
    try:
        meta = json.loads(cfg_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, not {FORMAT!r}")
        if meta.get("task") not in MODELS:
            raise ValueError(f"unknown task {meta.get('task')!r} (known: {', '.join(MODELS)})")
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path} is not a valid rnnlab model config: {e}") from e
    config = {k: v for k, v in meta.items() if k not in ("format", "version", "task")}
    files = _Files(root)
    try:
        # from_saved reads its config before its files, so an error after a file was read is a
        # disagreement between the two
        model = MODELS[meta["task"]].from_saved(config, files)
    except (ValueError, KeyError, TypeError) as e:
        if files.read:
            raise CheckpointError(
                f"{root}: {CONFIG} and {', '.join(files.read)} disagree: {e}"
            ) from e
        raise CheckpointError(f"{cfg_path} is not a valid rnnlab model config: {e}") from e
    _load_weights(model, root / WEIGHTS)
    return model.to(device).eval()


def _load_weights(model, path: Path) -> None:
    """Load ``model.safetensors`` into ``model``. A language model trained on a stream wrote
    :class:`StreamLM`'s state: the model as ``lm.*`` beside the carried state ``carry_*``."""
    if not path.is_file():
        raise MissingFileError(f"weights file not found: {path}")
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            carried = f.get_slice("carry_h").get_shape() if "carry_h" in f.keys() else None
    except Exception:  # unreadable: load_weights names the problem
        carried = None
    if carried is not None and len(carried) == 3:
        load_weights(StreamLM(model, carried[1]), path)  # (L, B, H)
    else:
        load_weights(model, path)


# ---- resuming a run ------------------------------------------------------------------------


def check_same_run(model, out: str | os.PathLike, run: dict | None = None) -> None:
    """Refuse to resume the run in ``out`` unless it was started with this model and data: every
    file that describes the run (``config.json``, the vocabularies, tags, characters and, with
    ``run``, ``run.json``) must hold what :func:`save_config` would write now. Nothing in ``out``
    is written.

    A run started before rnnlab wrote ``run.json`` is resumed without that comparison.

    Raises:
        MissingFileError (a FileNotFoundError): ``out`` holds no run to resume.
        InputError (a ValueError): naming each file that differs and how (config keys, the
            number of words that differ ...).
    """
    out = Path(out)
    if not (out / CONFIG).is_file():
        raise MissingFileError(
            f"nothing to resume in {out}: no checkpoint ({out / CONFIG} is missing)"
        )
    if run is not None and not (out / RUN).is_file():
        logger.warning("%s has no %s (an older run): its loader settings are not compared", out,
                       RUN)  # fmt: skip
        run = None
    with tempfile.TemporaryDirectory(prefix="rnnlab-resume-") as tmp:
        names = _write(model, Path(tmp), run)
        changes = [c for name in names if (c := _change(name, out / name, Path(tmp) / name))]
    if changes:
        raise InputError(
            f"cannot resume {out}: it was started with other settings or data "
            f"({'; '.join(changes)}); use the original options, or a new --out"
        )


def _change(name: str, old: Path, new: Path) -> str | None:
    """How the file ``old`` of a run differs from ``new``, what would be written now; None if
    they hold the same (JSON compared as data, not as bytes)."""
    if not old.is_file():
        return f"{name} is missing"
    if old.read_bytes() == new.read_bytes():
        return None
    now = json.loads(new.read_text(encoding="utf-8"))
    try:
        before = json.loads(old.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return f"{name} cannot be read"
    if before == now:
        return None
    if not isinstance(before, dict):
        return f"{name} cannot be read"
    if now.get("format") == "rnnlab.vocab":  # a vocabulary: which tokens differ
        itos, new_itos = before.get("itos"), now["itos"]
        if not _strings(itos):
            return f"{name} cannot be read"
        chars = all(len(t) == 1 for t in itos[4:] + new_itos[4:])
        return f"{name}: {_list_change(itos, new_itos, 'characters' if chars else 'words')}"
    return f"{name}: {', '.join(_dict_changes(before, now))}"


def _dict_changes(before: dict, now: dict, prefix: str = "") -> list[str]:
    """The keys whose values differ (nested objects as ``model.hidden_size``) and how."""
    changes = []
    for key in [*now, *(k for k in before if k not in now)]:
        a, b, name = before.get(key), now.get(key), f"{prefix}{key}"
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changes += _dict_changes(a, b, f"{name}.")
        elif _strings(a) and _strings(b):
            changes.append(_list_change(a, b, name))
        else:
            changes.append(f"different {name} ({a!r}, now {b!r})")
    return changes


def _strings(x) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) for s in x)


def _list_change(before: list, now: list, noun: str) -> str:
    """``12 words differ (first: 'foo')`` (the first new one, else the first gone), or the same
    ones in another order."""
    old, new = set(before), set(now)
    added, gone = [x for x in now if x not in old], [x for x in before if x not in new]
    if added or gone:
        n = len(added) + len(gone)
        differ = f"{n} {noun} differ" if n > 1 else f"1 {noun.removesuffix('s')} differs"
        return f"{differ} (first: {(added or gone)[0]!r})"
    same = (i for i, (a, b) in enumerate(zip(before, now, strict=False)) if a != b)
    i = next(same, min(len(before), len(now)))  # or one list repeats a token more often
    return f"the same {noun} in another order (from id {i})"
