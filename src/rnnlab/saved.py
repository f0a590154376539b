"""A trained model as a directory: ``config.json``, ``vocab.json``, ``model.safetensors``.

Nothing in it can run code when loaded (JSON and safetensors), and ``load`` restores the model
on CPU (or ``device``) whatever device trained it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.text import Vocab
from rnnlab.train import CheckpointError, load_weights
from rnnlab.train.files import atomic_write

FORMAT = "rnnlab-model"
VERSION = 1
CONFIG, VOCAB, WEIGHTS = "config.json", "vocab.json", "model.safetensors"


def save_config(model: TextClassifier, out_dir: str | os.PathLike) -> None:
    """Write ``config.json`` and ``vocab.json`` for ``model`` (weights come from the trainer)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "task": "classify",
        "model": asdict(model.config),
        "label_names": model.label_names,
        "level": model.level,
    }
    text = json.dumps(meta, indent=2)
    atomic_write(out / CONFIG, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    model.vocab.save(out / VOCAB)


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> TextClassifier:
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
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, not {FORMAT!r}")
        if meta.get("task") != "classify":
            raise ValueError(f"unknown task {meta.get('task')!r}")
        config = ClassifierConfig(**meta["model"])
        label_names, level = meta["label_names"], meta["level"]
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{cfg_path} is not a valid rnnlab model config: {e}") from e
    vocab = Vocab.load(root / VOCAB)
    try:
        model = TextClassifier(config, vocab, label_names, level)
    except ValueError as e:
        raise CheckpointError(f"{root}: config.json and vocab.json disagree: {e}") from e
    load_weights(model, root / WEIGHTS)
    return model.to(device).eval()
