"""The lecture's route: word vectors from a trained model's embedding matrix (language model,
classifier), the reserved tokens left out; a character-level model refused; a run directory."""

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab.embeddings import from_model, load
from rnnlab.errors import InputError
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
from rnnlab.saved import save_config
from rnnlab.text import Vocab
from rnnlab.train import save_weights

WORDS = ["the", "king", "queen", "man", "woman"]


def _vocab(tokens=WORDS):
    return Vocab(["<pad>", "<unk>", "<bos>", "<eos>", *tokens])


def test_language_model_rows_by_word(tmp_path):
    torch.manual_seed(0)
    lm = LanguageModel(LMConfig(vocab_size=9, embed_dim=6, hidden_size=8, num_layers=1),
                       _vocab())  # fmt: skip
    kv = from_model(lm)
    assert kv.words == WORDS and kv.dim == 6
    np.testing.assert_array_equal(kv["queen"], lm.embedding.weight[6].detach().numpy())
    # the same from its saved directory
    save_config(lm, tmp_path / "lm")
    save_weights(lm, tmp_path / "lm" / "model.safetensors")
    np.testing.assert_array_equal(from_model(rnnlab.load(tmp_path / "lm")).vectors, kv.vectors)
    with pytest.raises(InputError, match="from_model"):  # load() opens vector files only
        load(tmp_path / "lm")


def test_classifier_and_char_level():
    clf = TextClassifier(ClassifierConfig(vocab_size=9, num_classes=2, embed_dim=4,
                                          hidden_size=4), _vocab(), ["neg", "pos"])  # fmt: skip
    kv = from_model(clf)
    np.testing.assert_array_equal(kv["man"], clf.embedding.weight[7].detach().numpy())
    chars = LanguageModel(LMConfig(vocab_size=7, embed_dim=4, hidden_size=4, num_layers=1),
                          _vocab(["a", "b", "c"]), TextFormat("char", None, None))  # fmt: skip
    with pytest.raises(InputError, match="character-level"):
        from_model(chars)
    with pytest.raises(InputError, match="no word embedding"):
        from_model(torch.nn.Linear(2, 2))
