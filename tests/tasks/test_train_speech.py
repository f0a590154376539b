"""rnnlab.tasks.speech end to end on synthetic "words" (two tones per label, shifted per speaker):
a classifier and a CTC model learn them, splits by index and by speaker, new digit strings every
epoch, and a resumed run that ends with the weights of an uninterrupted one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rnnlab.errors import InputError
from rnnlab.models.speech import SpeechConfig
from rnnlab.tasks.speech import SpeechJob, speech_splits, train_speech
from rnnlab.train import TrainConfig
from run_files import current_weights
from speech_files import write_tone_folder

# the tones' pitch is what tells the words apart: log-mel features, mild speed perturbation
SMALL = SpeechConfig(num_outputs=2, features="logmel", hidden_size=24, num_layers=1, dropout=0.1)


@pytest.fixture(scope="module")
def tones(tmp_path_factory) -> Path:
    return write_tone_folder(tmp_path_factory.mktemp("tones") / "rec", per=10)


def job(data, out, **kw) -> SpeechJob:
    train = TrainConfig(epochs=kw.pop("epochs", 6), lr=kw.pop("lr", 1e-2), seed=kw.pop("seed", 0),
                        monitor=kw.pop("monitor", "accuracy"), mode=kw.pop("mode", "max"),
                        clip_norm=5.0, progress=False)  # fmt: skip
    return SpeechJob(data=str(data), out=str(out), model=kw.pop("model", SMALL), train=train,
                     batch_size=kw.pop("batch_size", 16),
                     speed_perturb=kw.pop("speed_perturb", (0.95, 1.0, 1.05)), **kw)  # fmt: skip


def test_splits_by_index_and_by_speaker(tones):
    s = speech_splits(job(tones, "unused"))
    assert {u.index for u in s["test"]} == set(range(5))
    assert len(s["test"]) == 3 * 4 * 5 and len(s["train"]) + len(s["dev"]) == 3 * 4 * 5
    assert not {u.path for u in s["dev"]} & {u.path for u in s["train"]}
    s = speech_splits(job(tones, "unused", test_speakers=("cy",)))
    assert {u.speaker for u in s["test"]} == {"cy"}
    assert {u.speaker for u in s["train"] + s["dev"]} == {"ann", "bob"}
    with pytest.raises(InputError, match="zed"):
        speech_splits(job(tones, "unused", test_speakers=("zed",)))


def test_a_classifier_learns_the_words_of_an_unseen_speaker(tones, tmp_path):
    # the third speaker's pitch is shifted 4% above the second's: unseen in training
    result = train_speech(job(tones, tmp_path / "run", test_speakers=("cy",), epochs=8))
    assert result.model.labels == ["0", "1", "2", "3"]
    # chance is 0.25; the tones' order tells "0" from "1", which a bag of frames could not
    assert result.scores["test"]["accuracy"] >= 0.9, result.scores
    assert (tmp_path / "run" / "learning_curve.png").is_file()


def test_a_ctc_model_learns_strings_of_words(tones, tmp_path):
    model = replace(SMALL, stack=2, hidden_size=32)
    result = train_speech(job(tones, tmp_path / "ctc", objective="ctc", model=model, epochs=12,
                              max_digits=4, train_strings=400, eval_strings=60,
                              monitor="error_rate", mode="min"))  # fmt: skip
    m = result.model
    assert m.config.objective == "ctc" and m.labels[0] == "0" and m.config.num_outputs == 11
    first, last = result.history[0]["dev_error_rate"], result.scores["test"]["error_rate"]
    # strings of up to 4 words from the test recordings; untrained, the error rate is ~1
    assert last <= 0.25 and last < first / 2, (first, result.scores)


def test_new_strings_every_epoch_and_the_same_strings_on_a_rerun(tones, tmp_path):
    from rnnlab.models.speech import SpeechModel
    from rnnlab.tasks.speech import Waves, string_set

    j = job(tones, tmp_path, objective="ctc")
    m = SpeechModel(replace(SMALL, num_outputs=11, objective="ctc"), [str(d) for d in range(10)])
    waves = Waves(speech_splits(j)["train"], 8000)
    a, b = string_set(m, waves, j, 20, seed=5, train=False), string_set(m, waves, j, 20, 5, False)
    epoch0 = [a[i][1] for i in range(20)]
    assert epoch0 == [b[i][1] for i in range(20)]
    assert all(torch.equal(a[i][0], b[i][0]) for i in range(3))
    a.set_epoch(1)
    assert [a[i][1] for i in range(20)] != epoch0
    assert a.lengths == [len(a[i][0]) for i in range(20)]


@pytest.mark.parametrize("objective", ["classify", "ctc"])
def test_an_interrupted_run_resumes_to_the_uninterrupted_weights(tones, tmp_path, objective,
                                                                monkeypatch):  # fmt: skip
    """Ctrl-C inside epoch 2's second step, then --resume: bit-for-bit the uninterrupted run
    (speed perturbation, noise, SpecAugment and dropout all draw random numbers)."""
    from rnnlab.models.speech import SpeechModel

    extra = {"objective": "ctc", "train_strings": 64, "eval_strings": 16, "max_digits": 3,
             "monitor": "error_rate", "mode": "min"} if objective == "ctc" else {}  # fmt: skip
    spec = {"model": replace(SMALL, spec_augment={"freq_masks": 1, "time_masks": 1}),
            "epochs": 2, **extra}  # fmt: skip
    train_speech(job(tones, tmp_path / "full", **dict(spec)))
    calls = []

    def interrupted_loss(self, batch):
        calls.append(1)
        if len(calls) == 6:  # epoch 1 has 4 (classify) or 4 (ctc: 64 strings) batches of 16
            raise KeyboardInterrupt
        return original(self, batch)

    original = SpeechModel.loss
    with monkeypatch.context() as mp:
        mp.setattr(SpeechModel, "loss", interrupted_loss)
        with pytest.raises(KeyboardInterrupt):
            train_speech(job(tones, tmp_path / "cut", **dict(spec)))
    train_speech(replace(job(tones, tmp_path / "cut", **dict(spec)), resume=True))
    a, b = current_weights(tmp_path / "full"), current_weights(tmp_path / "cut")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    full, cut = (Path(tmp_path, d, "model.safetensors").read_bytes() for d in ("full", "cut"))
    assert full == cut


def test_a_ctc_model_over_the_letters_of_the_digit_names(tones, tmp_path):
    from rnnlab.tasks.speech import CHARS, evaluate_strings, symbol_ids

    j = job(tones, tmp_path / "chars", objective="ctc", alphabet="chars", epochs=2,
            model=replace(SMALL, stack=2), max_digits=3, train_strings=64, eval_strings=16,
            monitor="error_rate", mode="min")  # fmt: skip
    m = train_speech(j).model
    assert m.labels == CHARS and m.config.num_outputs == len(CHARS) + 1
    assert sorted(CHARS) == [" ", "e", "f", "g", "h", "i", "n", "o", "r", "s", "t", "u", "v",
                             "w", "x", "z"]  # fmt: skip
    assert evaluate_strings(m, speech_splits(j)["test"], j, 8, seed=3)["strings"] == 8
    # the digits 2 0 are trained as the letters of "two zero", and read back as "20"
    ids = [CHARS.index(ch) + 1 for ch in "two zero"]
    assert symbol_ids(m, [2, 0]) == ids
    assert m.symbols_to_text(ids) == ("two zero", "20")
