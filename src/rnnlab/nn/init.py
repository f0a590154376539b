"""Keras' default initialisation, for reproducing a Keras model on rnnlab's layers.

PyTorch and Keras start the same architecture from different weights, and on long sequences the
difference shows (the lecture's IMDB LSTM over 600 steps learns much faster from Keras' start):

=====================  ==========================================  ==============================
parameter              PyTorch default                             Keras default
=====================  ==========================================  ==============================
Embedding              N(0, 1)                                     U(-0.05, 0.05)
W_ih (G*H, I)          U(-1/sqrt(H), 1/sqrt(H))                    Glorot uniform: U(-a, a),
                                                                   a = sqrt(6 / (I + G*H))
W_hh (G*H, H)          U(-1/sqrt(H), 1/sqrt(H))                    orthogonal (orthonormal
                                                                   columns)
biases                 U(-1/sqrt(H), 1/sqrt(H))                    0; the LSTM's forget gate 1
                                                                   (unit_forget_bias)
Linear (out, in)       U(-1/sqrt(in), 1/sqrt(in)) (Kaiming)        Glorot uniform, bias 0
=====================  ==========================================  ==============================

G = 1, 3 or 4 gates. Our layers keep PyTorch's two biases b_ih + b_hh where Keras has one b:
b_ih takes Keras' values and b_hh is 0, so b_ih + b_hh is Keras' b.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.nn.recurrent import RNNBase

__all__ = ["keras_init_"]


@torch.no_grad()
def keras_init_(module: nn.Module) -> nn.Module:
    """Re-initialise every Embedding, Linear and rnnlab RNN/LSTM/GRU layer inside ``module`` (and
    ``module`` itself) as Keras initialises them (the module docstring's table); return it."""
    for m in module.modules():
        if isinstance(m, nn.Embedding):
            nn.init.uniform_(m.weight, -0.05, 0.05)
            if m.padding_idx is not None:
                m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, RNNBase):
            H = m.hidden_size
            for name, p in m.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(p)  # fan_in I, fan_out G*H, as Keras' (I, G*H)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(p)  # (G*H, H): orthonormal columns
                elif name.startswith("bias"):
                    p.zero_()
                    if m.mode == "LSTM" and name.startswith("bias_ih"):
                        p[H : 2 * H] = 1.0  # gates (i, f, g, o): the forget gate's bias
    return module
