"""The language model in two parts: LMNetwork (ids in, next-token scores out) trains and evaluates
without any vocabulary, and LanguageModel is that network plus the text API, with the same
parameters (so saved weights load either way) and every name still importable from
rnnlab.models.language_model."""

from __future__ import annotations

import pytest
import torch

import rnnlab.models.language_model as language_model
from rnnlab.models import lm_network
from rnnlab.models.lm_network import LMConfig, LMNetwork
from rnnlab.text import SPECIALS, Vocab
from rnnlab.text.sentences import collate_sentences


@pytest.mark.parametrize("cutoffs", [None, (6,)])
def test_the_network_trains_and_evaluates_on_ids_alone(cutoffs):
    torch.manual_seed(0)
    net = LMNetwork(LMConfig(10, embed_dim=4, hidden_size=16, num_layers=2,
                             adaptive_cutoffs=cutoffs))  # fmt: skip
    ids = torch.randint(1, 10, (3, 5))
    logits, _ = net(ids)
    assert logits.shape == (3, 5, 10)
    batch = collate_sentences([[2, 5, 6, 3], [2, 7, 3]])  # <bos> ... <eos>
    loss = net.loss(batch)
    loss.backward()
    assert loss.item() > 0 and net.embedding.weight.grad is not None
    metrics = net.eval().evaluate([batch])
    assert metrics["loss"] == pytest.approx(loss.item(), rel=1e-5)


def test_the_language_model_is_the_network_with_the_same_parameters():
    vocab = Vocab([*SPECIALS, "a", "b"])
    config = LMConfig(len(vocab), embed_dim=4, hidden_size=4, num_layers=1, tie_weights=True)
    lm = language_model.LanguageModel(config, vocab)
    assert isinstance(lm, LMNetwork) and lm.task == "lm"
    net = LMNetwork(config)
    assert list(lm.state_dict()) == list(net.state_dict())
    net.load_state_dict(lm.state_dict())
    ids = torch.tensor([[2, 4, 5]])
    torch.testing.assert_close(net.eval()(ids)[0], lm.eval()(ids)[0])


def test_every_name_of_the_language_model_module_is_still_there():
    for name in ("LanguageModel", "LMConfig", "TextFormat", "Score", "LOGITS_BUDGET"):
        assert hasattr(language_model, name), name
    assert language_model.LMConfig is lm_network.LMConfig
    from rnnlab.models import LanguageModel, LMConfig, TextFormat  # noqa: F401
