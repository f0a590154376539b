"""StreamLM: truncated BPTT over contiguous streams, the state carried between chunks (and
detached), reset at the start of every pass, kept in buffers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
from rnnlab.models.truncated_bptt import StreamLM
from rnnlab.text import SPECIALS, Vocab
from rnnlab.text.stream import StreamBatch, StreamBatches

CHARS = list("abcdefgh .\n")


def char_model(cell="lstm", seed=0, **kw) -> LanguageModel:
    vocab = Vocab(list(SPECIALS) + CHARS)
    torch.manual_seed(seed)
    config = LMConfig(len(vocab), cell=cell, **{"embed_dim": 6, "hidden_size": 7, **kw})
    return LanguageModel(config, vocab, TextFormat("char", "\n", "\n")).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stream_training_carries_the_state_detached_and_resets_each_pass(cell):
    model = char_model(cell, num_layers=2)
    ids = torch.randint(4, len(model.vocab), (203,))
    batches = StreamBatches(ids, 4, 9)
    trainer = StreamLM(model, 4)
    # the chunk losses are those of one long forward over each row: the state is carried
    rows = batches.data
    logits, _ = model(rows[:, :-1])
    per_token = F.cross_entropy(logits.flatten(0, 1), rows[:, 1:].flatten(), reduction="none")
    per_token = per_token.view(4, -1)
    for _ in range(2):  # a second pass starts from zeros again
        start = 0
        for batch in batches:
            T = batch.inputs.shape[1]
            loss = trainer.loss(batch)
            torch.testing.assert_close(loss, per_token[:, start : start + T].mean())
            assert not trainer.carry_h.requires_grad  # detached: BPTT stops at the chunk edge
            start += T
    assert set(trainer.state_dict()) >= {"carry_h", "lm.embedding.weight"}
    assert ("carry_c" in trainer.state_dict()) == (cell == "lstm")


def test_truncated_bptt_gradients_stop_at_the_chunk_boundary():
    model = char_model("rnn")
    trainer = StreamLM(model, 2)
    ids = torch.randint(4, len(model.vocab), (41,))
    first, second = list(StreamBatches(ids, 2, 10))[:2]
    trainer.loss(first)
    carried = trainer.carry_h.clone()
    model.zero_grad()
    trainer.loss(second).backward()
    got = model.rnn.weight_hh_l0.grad.clone()
    model.zero_grad()
    logits, _ = model(second.inputs, carried)  # the carried state as a constant
    F.cross_entropy(logits.flatten(0, 1), second.targets.flatten()).backward()
    torch.testing.assert_close(got, model.rnn.weight_hh_l0.grad)


def test_stream_batches_of_the_wrong_size_are_refused():
    trainer = StreamLM(char_model(), 3)
    with pytest.raises(ValueError, match="2 rows for B=3"):
        trainer.loss(StreamBatch(torch.ones(2, 4).long(), torch.ones(2, 4).long(), True))
    with pytest.raises(ValueError, match="batch_size"):
        StreamLM(char_model(), 0)
