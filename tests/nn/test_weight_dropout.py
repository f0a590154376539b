"""Weight dropout (DropConnect on W_hh), held against torch.nn layers with the masked weights.

The mask is read back from the gradient (a dropped entry of W_hh gets exactly zero gradient),
then a torch.nn layer is given W_hh * M / (1 - p): outputs and every gradient must agree.
"""

import pytest
import torch

from rnnlab.nn import GRU, LSTM, RNN

P = 0.4
PAIRS = [(LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU), (RNN, torch.nn.RNN)]


@pytest.mark.parametrize("engine", ["rnnlab", "native", "torch"])
@pytest.mark.parametrize("ours_cls,ref_cls", PAIRS)
def test_training_forward_and_backward_equal_torch_with_the_masked_weights(
    ours_cls, ref_cls, engine
):
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True, dtype=torch.float64)
    ours = ours_cls(5, 12, weight_dropout=P, engine=engine, **kw).train()
    ref = ref_cls(5, 12, **kw).train()
    x = torch.randn(9, 3, 5, dtype=torch.float64)
    out, _ = ours(x)
    g = torch.randn_like(out)
    (out * g).sum().backward()

    masks = {}
    with torch.no_grad():
        for name, p in ours.named_parameters():
            w = p.detach().clone()
            if name.startswith("weight_hh"):
                kept = p.grad != 0  # DropConnect: a dropped connection gets no gradient
                masks[name] = kept
                w = w * kept / (1 - P)  # W~_hh = W_hh * M / (1 - p)
            getattr(ref, name).copy_(w)
    dropped = 1 - torch.cat([m.flatten().double() for m in masks.values()]).mean().item()
    assert 0.3 < dropped < 0.5  # about p of the 4 x 2 x 12G x 12 recurrent entries
    ref_out, _ = ref(x)
    torch.testing.assert_close(out, ref_out)  # the same cut at every step and sequence
    (ref_out * g).sum().backward()
    for name, p in ours.named_parameters():
        expected = getattr(ref, name).grad
        if name in masks:  # d/dW_hh = M / (1 - p) * d/dW~_hh
            expected = expected * masks[name] / (1 - P)
        torch.testing.assert_close(p.grad, expected, msg=name)


@pytest.mark.parametrize("ours_cls,ref_cls", PAIRS)
def test_eval_mode_uses_the_whole_weights(ours_cls, ref_cls):
    torch.manual_seed(1)
    ours = ours_cls(4, 6, weight_dropout=0.5).eval()
    ref = ref_cls(4, 6).eval()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(7, 2, 4)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])


def test_a_fresh_mask_per_forward_call_and_bad_values():
    torch.manual_seed(2)
    m = LSTM(3, 8, weight_dropout=0.5).train()
    x = torch.randn(5, 2, 3)
    assert not torch.allclose(m(x)[0], m(x)[0])
    assert "weight_dropout=0.5" in repr(m)
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match="weight_dropout"):
            LSTM(3, 4, weight_dropout=bad)
