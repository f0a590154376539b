"""The tagging pipeline end to end: a tiny tagger learns a real slice of CoNLL-2003 in seconds,
and generated data shows it reads context, works without span tags, and saves what it learned."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import rnnlab
from rnnlab.data.tagging import load_tagged, parse_token_tag
from rnnlab.models.tagger import TaggerConfig
from rnnlab.tasks.tag import TagJob, evaluate_tagger, train_tagger
from rnnlab.train import TrainConfig

SMALL = {"embed_dim": 32, "hidden_size": 32, "char_dim": 16, "char_hidden": 16, "case_dim": 4,
         "dropout": 0.2}  # fmt: skip


def write_tagged(path: Path, tokens, tags) -> Path:
    lines = ["".join(f"{w}\t{t}\n" for w, t in zip(ws, ts, strict=True))
             for ws, ts in zip(tokens, tags, strict=True)]  # fmt: skip
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def job(data, out, dev=None, crf=True, chars=False, epochs=5, **kw) -> TagJob:
    return TagJob(data=str(data), dev=str(dev) if dev else None, out=str(out), chars=chars,
                  batch_size=16, model=TaggerConfig(vocab_size=1, num_tags=1, crf=crf, **SMALL),
                  train=TrainConfig(epochs=epochs, lr=1e-2, monitor="f1", mode="max",
                                    clip_norm=5.0, progress=False), **kw)  # fmt: skip


@pytest.mark.data
def test_a_tiny_tagger_learns_a_slice_of_conll2003(data_root, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    train = load_tagged("conll2003", "train", progress=False).subset(range(500))
    dev = load_tagged("conll2003", "dev", progress=False).subset(range(200))
    train_file = write_tagged(tmp_path / "train.tsv", train.tokens, train.tags)
    dev_file = write_tagged(tmp_path / "dev.tsv", dev.tokens, dev.tags)
    result = train_tagger(job(train_file, tmp_path / "run", dev_file))
    scores = result.scores["dev"]
    majority = sum(t == "O" for s in dev.tags for t in s) / dev.num_tokens()  # 0.81
    # the untrained model's entity F1 is 0.0; 500 sentences and 5 epochs reach 0.6 (eng.testa)
    # 3 seeds x 1/2 threads: F1 0.547-0.597, accuracy 0.101-0.119 above the majority tag's,
    # last/first train loss 0.185-0.208; thresholds 0.35, 0.05 and 0.5 leave >= 0.197, 0.051
    # and 0.29
    assert scores["entities"]["overall"]["f1"] > 0.35, scores["entities"]["overall"]
    assert scores["accuracy"] > majority + 0.05
    assert result.history[-1]["train_loss"] < 0.5 * result.history[0]["train_loss"]
    # the saved directory tags as the trained model does
    loaded = rnnlab.load(tmp_path / "run")
    assert evaluate_tagger(loaded, dev) == scores
    saved = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert saved["dev"]["entities"]["overall"]["f1"] == scores["entities"]["overall"]["f1"]


NAMES = ["Mohan", "Anna", "Ravi", "Chen", "Maria", "Omar", "Ines", "Kofi", "Lena", "Tariq"]
PLACES = ["Paris", "Delhi", "Lagos", "Lima", "Oslo", "Quito", "Hanoi", "Accra"]
FILLER = ["the", "a", "report", "said", "today", "that", "new", "plan", "was", "late"]


def context_task(n: int, seed: int, names, places):
    """Sentences where a capitalised word is PER after "met" and LOC after "in": only the left
    context tells which (the same words occur in both roles)."""
    r = random.Random(seed)
    tokens, tags = [], []
    for _ in range(n):
        words, labels = [], []
        for _ in range(r.randint(1, 3)):
            words += [r.choice(FILLER) for _ in range(r.randint(0, 3))]
            labels += ["O"] * (len(words) - len(labels))
            cue, kind = r.choice([("met", "PER"), ("in", "LOC")])
            name = r.choice(names + places)
            words += [cue, name]
            labels += ["O", f"I-{kind}"]  # IOB1, as CoNLL-2003 writes it
        tokens.append(words)
        tags.append(labels)
    return tokens, tags


@pytest.mark.parametrize("crf", [True, False])
def test_tags_come_from_context_and_carry_over_to_unseen_words(tmp_path, crf):
    train = write_tagged(tmp_path / "train.tsv", *context_task(200, 1, NAMES[:7], PLACES[:5]))
    dev = write_tagged(tmp_path / "dev.tsv", *context_task(100, 2, NAMES[7:], PLACES[5:]))
    result = train_tagger(job(train, tmp_path / "run", dev, crf=crf, epochs=5))
    f1 = result.scores["dev"]["entities"]["overall"]["f1"]
    # names in dev are unseen: a tagger that guessed one type for every name would score ~0.5
    # 3 seeds x 1/2 threads (each head): 1.0; threshold 0.9 leaves 0.1
    assert f1 > 0.9, f1
    assert result.model.scheme == "IOB2"  # the IOB1 file was converted
    tagged = rnnlab.load(tmp_path / "run").tag(["the plan was late in Zanzibar",
                                                "they met Zanele today"])  # fmt: skip
    assert [e[0] for e in tagged[0].entities] == ["LOC"] and tagged[0].entities[0][3] == "Zanzibar"
    assert [e[0] for e in tagged[1].entities] == ["PER"]


def test_tags_without_spans_are_monitored_by_accuracy(tmp_path):
    r = random.Random(0)
    lines = []
    for _ in range(200):
        n = r.randint(2, 6)
        words = [r.choice(["the", "a"])] + [r.choice(["cat", "dog", "bird"]) for _ in range(n)]
        lines.append("".join(f"{w}\t{'DET' if w in ('the', 'a') else 'NOUN'}\n" for w in words))
    path = tmp_path / "pos.tsv"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert parse_token_tag(path.read_text()).scheme is None
    result = train_tagger(job(path, tmp_path / "run", crf=False, epochs=3))
    assert "dev_f1" not in result.history[0] and "dev_accuracy" in result.history[0]
    assert result.scores["dev"]["entities"] is None
    # 3 seeds x 1/2 threads: 1.0 (the word alone tells the tag); threshold 0.95 leaves 0.05
    assert result.scores["dev"]["accuracy"] > 0.95


def test_resume_refuses_other_settings(tmp_path):
    tokens, tags = context_task(40, 3, NAMES, PLACES)
    train = write_tagged(tmp_path / "train.tsv", tokens, tags)
    train_tagger(job(train, tmp_path / "run", epochs=1))
    with pytest.raises(ValueError, match="cannot resume"):
        train_tagger(job(train, tmp_path / "run", crf=False, epochs=2, resume=True))
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train_tagger(job(train, tmp_path / "empty", epochs=1, resume=True))
