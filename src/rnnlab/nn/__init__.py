"""Recurrent cells and layers with hand-written backpropagation through time.

Drop-in for ``torch.nn.RNN/LSTM/GRU`` and their cells (same arguments, parameter names, shapes and
return values), plus ``lengths=`` with right or left padding, ``GRU(reset_after=False)``,
``engine="native"`` (the same BPTT with its time loop compiled, :mod:`rnnlab.nn.native_bptt`),
``"auto"`` (native where it runs) or ``"torch"`` (PyTorch's fused kernels on the same
parameters), and variational (locked) dropout between layers. Under ``torch.autocast`` the layers
run their large products in the lower precision (:mod:`rnnlab.nn.precision`);
``linear_cross_entropy`` is an output layer and loss that never stores the (N, V) logits.

``rnn_step``, ``lstm_step``, ``gru_step`` and the loop ``run_steps`` are the cells' equations in
plain torch: the reference the fused BPTT Functions are tested against.
"""

from rnnlab.nn.cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step, run_steps
from rnnlab.nn.dropout import locked_dropout
from rnnlab.nn.gru_bptt import GRUFunction
from rnnlab.nn.linear_cross_entropy import linear_cross_entropy
from rnnlab.nn.lstm_bptt import LSTMFunction
from rnnlab.nn.minimal import MinGRU, MinLSTM, heinsen_scan
from rnnlab.nn.native_bptt import NativeGRUFunction, NativeLSTMFunction, NativeRNNFunction
from rnnlab.nn.recorder import StepGradRecorder
from rnnlab.nn.recurrent import GRU, LSTM, RNN, RNNBase
from rnnlab.nn.rnn_bptt import RNNFunction

__all__ = [
    "RNN", "LSTM", "GRU", "RNNBase", "RNNCell", "LSTMCell", "GRUCell",
    "RNNFunction", "LSTMFunction", "GRUFunction", "StepGradRecorder",
    "NativeRNNFunction", "NativeLSTMFunction", "NativeGRUFunction",
    "locked_dropout", "linear_cross_entropy", "rnn_step", "lstm_step", "gru_step", "run_steps",
    "MinGRU", "MinLSTM", "heinsen_scan",
]  # fmt: skip
