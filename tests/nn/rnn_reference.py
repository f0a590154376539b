"""Shared helpers for the rnnlab.nn tests: our layers paired with torch's."""

import torch

import rnnlab.nn as rnn

# (our class, torch's class, constructor kwargs) for every recurrent kind
KINDS = {
    "rnn_tanh": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (rnn.LSTM, torch.nn.LSTM, {}),
    "gru": (rnn.GRU, torch.nn.GRU, {}),
}


def pair(kind, I, H, engine="rnnlab", **kw):
    """Our layer on ``engine`` and torch's with the same weights (torch's init, copied via
    state_dict)."""
    ours_cls, torch_cls, extra = KINDS[kind]
    ref = torch_cls(I, H, **extra, **kw)
    ours = ours_cls(I, H, **extra, engine=engine, **kw)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def final_h(state):
    """h_n from an RNN/GRU state or an LSTM (h_n, c_n) tuple."""
    return state[0] if isinstance(state, tuple) else state


def state_loss(out, state, w):
    """A loss touching outputs (weighted by w), h_n and (LSTM) c_n, so every path gets gradient."""
    loss = (out * w).sum()
    if isinstance(state, tuple):
        return loss + state[0].sin().sum() + 0.5 * state[1].cos().sum()
    return loss + state.sin().sum()
