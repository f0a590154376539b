"""The classification pipeline learns: a generated order-dependent task (LSTM well above 90%, the
bag-of-words baseline at chance) and a real slice of SST-2; evaluate_classifier's tables."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from rnnlab import data
from rnnlab.data import LabelledTexts
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.tasks.classify import (
    ClassifyJob,
    build_vocab,
    evaluate_classifier,
    loader,
    train_classifier,
)
from rnnlab.train import TrainConfig, Trainer, seed_everything


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """The learning curve is checked in test_classify_resume; drawing it here only costs time."""
    monkeypatch.setattr("rnnlab.train.trainer.plot_learning_curve", lambda *a, **k: None)


def order_job(order_files, out, model: str = "rnn", epochs: int = 4) -> ClassifyJob:
    train, dev = order_files
    return ClassifyJob(
        data=str(train),
        dev=str(dev),
        out=str(out),
        model=ClassifierConfig(1, 2, model=model, embed_dim=16, hidden_size=16, dropout=0.0),
        train=TrainConfig(epochs=epochs, lr=0.02, monitor="accuracy", mode="max", progress=False),
    )


@pytest.fixture(scope="module")
def lstm_run(order_files, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("rnnlab.train.trainer.plot_learning_curve", lambda *a, **k: None)
        return train_classifier(order_job(order_files, tmp_path_factory.mktemp("lstm")))


def test_lstm_reads_the_order(lstm_run):
    # 3 seeds x 1/2 threads: accuracy 1.0, loss 0.022-0.029 (chance: ln 2 = 0.69), last/first
    # train loss 0.005-0.006; thresholds 0.9, 0.3 and 0.1 leave >= 0.1, 0.27 and 0.094
    assert lstm_run.scores["dev"]["accuracy"] > 0.9
    assert lstm_run.scores["dev"]["loss"] < 0.3
    losses = [r["train_loss"] for r in lstm_run.history]
    assert losses[-1] < 0.1 * losses[0]
    assert lstm_run.model.label_names == ["neg", "pos"]
    assert [p.label for p in lstm_run.model.predict(["good film bad", "bad so good plot"])] == [
        "neg",
        "pos",
    ]


def test_bag_of_words_cannot_learn_the_order(order_files, tmp_path):
    result = train_classifier(order_job(order_files, tmp_path, model="bow"))
    # 3 seeds x 1/2 threads: 0.515-0.555 (chance 0.5, sd 0.035 on 200 texts); 0.65 leaves >= 0.095
    assert result.scores["dev"]["accuracy"] < 0.65


def test_scores_are_the_dev_metrics_of_the_best_epoch(lstm_run):
    best = max(lstm_run.history, key=lambda r: r["dev_accuracy"])
    assert lstm_run.scores["dev"]["accuracy"] == pytest.approx(best["dev_accuracy"])
    assert lstm_run.scores["dev"]["loss"] == pytest.approx(best["dev_loss"], rel=1e-5)
    assert "test" not in lstm_run.scores  # a user TSV has no test split


def test_evaluate_classifier_agrees_with_the_training_scores(lstm_run, order_files):
    model = lstm_run.model
    dev = data.load_tsv(order_files[1], label_names=model.label_names)
    report, cm = evaluate_classifier(model, dev, batch_size=64)
    assert report.accuracy == pytest.approx(lstm_run.scores["dev"]["accuracy"])
    assert cm.sum() == len(dev) == report.num_examples
    assert cm.sum(1).tolist() == dev.class_counts()  # rows are gold


def test_evaluate_classifier_tables_agree_with_predictions(lstm_run, order_files):
    """On an untrained model, whose errors make the confusion matrix asymmetric."""
    trained = lstm_run.model
    seed_everything(1)
    model = TextClassifier(trained.config, trained.vocab, trained.label_names).eval()
    dev = data.load_tsv(order_files[1], label_names=model.label_names)
    report, cm = evaluate_classifier(model, dev, batch_size=64)
    preds = [p.label_id for p in model.predict(dev.texts)]
    assert not np.array_equal(cm, cm.T)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(dev.labels, preds, labels=[0, 1]))
    assert report.accuracy == pytest.approx(np.mean(np.array(preds) == np.array(dev.labels)))
    assert [s.support for s in report.per_class] == dev.class_counts()
    assert [s.recall for s in report.per_class] == pytest.approx(np.diag(cm) / cm.sum(1))


def test_loader_refuses_data_with_other_labels(lstm_run):
    other = LabelledTexts(["good", "bad"], [0, 1], ["negative", "positive"])
    with pytest.raises(ValueError, match="differ from the model's"):
        loader(lstm_run.model, other, batch_size=2)


def test_loader_batches_cover_the_split_once_per_epoch(lstm_run, order_files):
    model = lstm_run.model
    split = data.load_tsv(order_files[1], label_names=model.label_names)
    batches = list(loader(model, split, batch_size=16, train=True, seed=3, max_len=4))
    assert sum(len(labels) for _, _, labels in batches) == len(split)
    assert sorted(int(y) for *_, labels in batches for y in labels) == sorted(split.labels)
    assert max(ids.shape[1] for ids, _, _ in batches) == 4  # max_len cuts
    for ids, lengths, _ in batches:  # pre-padding: the real tokens sit at the end
        for row, n in zip(ids, lengths, strict=True):
            assert (row[: ids.shape[1] - n] == 0).all() and (row[ids.shape[1] - n :] != 0).all()


def test_build_vocab_numbers_by_frequency():
    vocab = build_vocab(["b a b", "c b a !"], "word", None, 1)
    assert vocab.itos[4:] == ["b", "a", "c", "!"]
    assert build_vocab(["b a b", "c b a"], "word", 5, 1).itos[4:] == ["b"]
    assert build_vocab(["b a b", "c b a"], "word", None, 3).itos[4:] == ["b"]
    assert "x" in build_vocab(["xy"], "char", None, 1)


@pytest.mark.data
def test_a_tiny_lstm_learns_a_slice_of_sst2(data_root, monkeypatch, tmp_path):
    """400 SST-2 training sentences (a seeded sample: 198 negative, 202 positive), 6 epochs (a
    few seconds): from chance to fitting them.

    3 seeds x 1/2 threads: first-epoch loss 0.698-0.700, train accuracy 0.995-0.9975, train loss
    0.017-0.030; the thresholds 0.6, 0.9 and 0.2 leave >= 0.098, 0.095 and 0.17 (dev accuracy
    on 400 sentences is too noisy to assert).
    """
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    full = data.load("sst2", "train", progress=False)  # the tree file runs roughly pos -> neg
    train = full.subset(sorted(random.Random(0).sample(range(len(full)), 400)))
    assert train.label_names == ["negative", "positive"] and min(train.class_counts()) > 150
    vocab = build_vocab(train.texts, "word", None, 1)
    seed_everything(0)
    config = ClassifierConfig(len(vocab), 2, cell="lstm", embed_dim=32, hidden_size=32, dropout=0)
    model = TextClassifier(config, vocab, train.label_names)
    cfg = TrainConfig(epochs=6, lr=0.01, clip_norm=5.0, progress=False)
    history = Trainer(model, cfg, tmp_path).fit(loader(model, train, 32, train=True))
    assert history[0]["train_loss"] > 0.6  # chance: ln 2 = 0.69
    model.eval()
    metrics = model.evaluate(loader(model, train, 400))
    assert metrics["accuracy"] > 0.9
    assert metrics["loss"] < 0.2 < math.log(2)
