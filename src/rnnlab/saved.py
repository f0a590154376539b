"""A trained model as a directory: ``config.json``, ``vocab.json``, ``model.safetensors``.

Nothing in it can run code when loaded (JSON and safetensors), and ``load`` restores the model
on CPU (or ``device``) whatever device trained it. ``config.json``'s ``task`` says which model it
is: ``"classify"`` (a :class:`TextClassifier`) or ``"lm"`` (a :class:`LanguageModel`).
A tagger (``"tag"``, a :class:`SequenceTagger`) also keeps ``tags.json`` (its tag names) and,
with a character model, ``chars.json`` (a character vocabulary).
A translator (``"translate"``, a :class:`Seq2Seq`) keeps its two vocabularies in
``src_vocab.json`` and ``tgt_vocab.json`` instead of ``vocab.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnlab.models.tagger import SequenceTagger, TaggerConfig
from rnnlab.models.truncated_bptt import StreamLM
from rnnlab.text import Vocab
from rnnlab.train import CheckpointError, load_weights
from rnnlab.train.files import atomic_write
from rnnlab.train.weights import read_tensors

FORMAT = "rnnlab-model"
VERSION = 1
CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "model.safetensors"
TAGS, CHARS = "tags.json", "chars.json"  # a tagger's tag names and character vocabulary
SRC_VOCAB, TGT_VOCAB = "src_vocab.json", "tgt_vocab.json"  # a translator's two vocabularies


def config_of(model: TextClassifier | LanguageModel) -> dict:
    """What ``config.json`` holds for ``model``: JSON-able architecture, labels, tokenisation."""
    if isinstance(model, Seq2Seq):
        return {"format": FORMAT, "version": VERSION, "task": "translate", **model.config_dict()}
    if isinstance(model, LanguageModel):
        return {"format": FORMAT, "version": VERSION, "task": "lm", **model.config_dict()}
    if isinstance(model, SequenceTagger):
        return {"format": FORMAT, "version": VERSION, "task": "tag", "model": model.config_dict(),
                "scheme": model.scheme}  # fmt: skip
    return {
        "format": FORMAT,
        "version": VERSION,
        "task": "classify",
        "model": asdict(model.config),
        "label_names": model.label_names,
        "level": model.level,
        "max_len": model.max_len,
    }


def save_config(model: TextClassifier | LanguageModel, out_dir: str | os.PathLike) -> None:
    """Write ``config.json`` and ``vocab.json`` for ``model`` (weights come from the trainer)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config_of(model), indent=2)
    atomic_write(out / CONFIG, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    if isinstance(model, Seq2Seq):
        model.src_vocab.save(out / SRC_VOCAB)
        model.tgt_vocab.save(out / TGT_VOCAB)
        return
    model.vocab.save(out / VOCAB)
    if isinstance(model, SequenceTagger):
        save_tagger_vocabularies(model, out)


def load(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> TextClassifier | LanguageModel:
    """Restore a saved model directory, in eval mode, on ``device`` (default CPU).

    Raises:
        FileNotFoundError: ``path`` or one of its three files is missing.
        CheckpointError: a file is corrupt or does not fit the configuration.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no saved model at {root}: expected a directory with {CONFIG}")
    cfg_path = root / CONFIG
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{root} is not a saved rnnlab model: {CONFIG} is missing")
    try:
        meta = json.loads(cfg_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, not {FORMAT!r}")
        task = meta.get("task")
        if task == "classify":
            config = ClassifierConfig(**meta["model"])
            label_names, level = meta["label_names"], meta["level"]
            max_len = meta.get("max_len")
        elif task == "lm":
            lm_config, text_format = LMConfig(**meta["model"]), TextFormat(**meta["text_format"])
        elif task == "tag":
            tag_config, scheme = TaggerConfig(**meta["model"]), meta["scheme"]
        elif task == "translate":
            mt_config, languages = Seq2SeqConfig(**meta["model"]), tuple(meta["languages"])
        else:
            raise ValueError(f"unknown task {task!r}")
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{cfg_path} is not a valid rnnlab model config: {e}") from e
    if task == "translate":
        return _load_translator(root, mt_config, languages).to(device).eval()
    try:
        vocab = Vocab.load(root / VOCAB)
    except ValueError as e:
        raise CheckpointError(str(e)) from e
    try:
        if task == "lm":
            model = LanguageModel(lm_config, vocab, text_format)
        elif task == "tag":
            model = SequenceTagger(tag_config, vocab, *load_tagger_vocabularies(root), scheme)
        else:
            model = TextClassifier(config, vocab, label_names, level, max_len)
    except ValueError as e:
        raise CheckpointError(f"{root}: config.json and vocab.json disagree: {e}") from e
    if task == "lm":
        _load_lm_weights(model, root / WEIGHTS)
    else:
        load_weights(model, root / WEIGHTS)
    return model.to(device).eval()


def save_tagger_vocabularies(model: SequenceTagger, out: Path) -> None:
    """Write a tagger's ``tags.json`` (its tag names by id) and ``chars.json`` (if it has one)."""
    text = json.dumps({"format": FORMAT, "tags": model.tag_names}, ensure_ascii=False, indent=0)
    atomic_write(out / TAGS, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    if model.chars is not None:
        model.chars.save(out / CHARS)
    else:
        (out / CHARS).unlink(missing_ok=True)  # from an earlier run in the same directory


def load_tagger_vocabularies(root: Path) -> tuple[list[str], Vocab | None]:
    """(tag names, character vocabulary or None) of a saved tagger.

    Raises:
        FileNotFoundError: ``tags.json`` is missing. CheckpointError: it is corrupt.
    """
    path = root / TAGS
    if not path.is_file():
        raise FileNotFoundError(f"{root} holds a tagger without {TAGS}")
    try:
        tags = json.loads(path.read_text(encoding="utf-8"))["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValueError("'tags' must be a list of strings")
        chars = Vocab.load(root / CHARS) if (root / CHARS).is_file() else None
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path} or {CHARS} is not valid: {e}") from e
    return tags, chars


def _load_lm_weights(model: LanguageModel, path: Path) -> None:
    """Load a language model's weights, also from a stream-trained run's file, which is
    :class:`StreamLM`'s state (the model as ``lm.*`` beside the carried state ``carry_*``)."""
    if path.is_file():
        carried = read_tensors(path).get("carry_h")
        if carried is not None and carried.dim() == 3:
            load_weights(StreamLM(model, carried.shape[1]), path)  # (L, B, H)
            return
    load_weights(model, path)


def _load_translator(root: Path, config: Seq2SeqConfig, languages: tuple) -> Seq2Seq:
    """A saved :class:`Seq2Seq` from its two vocabularies and weights.

    Raises:
        FileNotFoundError: a vocabulary or the weights are missing. CheckpointError: corrupt.
    """
    try:
        src_vocab, tgt_vocab = Vocab.load(root / SRC_VOCAB), Vocab.load(root / TGT_VOCAB)
    except ValueError as e:
        raise CheckpointError(str(e)) from e
    try:
        model = Seq2Seq(config, src_vocab, tgt_vocab, languages)
    except ValueError as e:
        raise CheckpointError(f"{root}: config.json and the vocabularies disagree: {e}") from e
    load_weights(model, root / WEIGHTS)
    return model


def check_same_run(model, out: str | os.PathLike) -> None:
    """Refuse to resume a run in ``out`` that was started with other settings or data: its
    ``config.json`` and ``vocab.json`` must equal what ``model`` would write.

    Raises:
        FileNotFoundError: ``out`` holds no run to resume.
        ValueError: naming the settings that differ.
    """
    path = Path(out, CONFIG)
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume in {out}: no checkpoint ({path} is missing)")
    old = json.loads(path.read_text(encoding="utf-8"))
    new = config_of(model)
    if old != new or Vocab.load(Path(out, VOCAB)).itos != model.vocab.itos:
        changed = sorted(k for k in new if old.get(k) != new[k]) or ["vocabulary"]
        raise ValueError(
            f"cannot resume {out}: it was trained with different {', '.join(changed)}; "
            "use the original options, or a new --out"
        )
