"""Whole-sequence recurrent layers: ``RNN``, ``LSTM``, ``GRU``, drop-in for ``torch.nn``'s.

Symbols: T time, B batch, I input features, H hidden units, L layers, D directions (1 or 2).

A layer only loops: every layer direction is one autograd Function from ``rnn_bptt``,
``lstm_bptt`` or ``gru_bptt`` with a hand-written backward (or its twin in ``native_bptt``, whose
time loop is compiled: ``engine="native"``). Stacking feeds layer l's output (B, T, D*H) to
layer l+1, with dropout in between (never after the last layer, as in PyTorch).
Parameter names, shapes, initialisation and gate order are PyTorch's, so state dicts move both ways.

Gradient clipping is PyTorch's: call ``torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)``
(or ``clip_grad_value_``) between ``loss.backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

import math

import torch
from torch import _VF, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnlab.nn.dropout import locked_dropout
from rnnlab.nn.lengths import PADDING_SIDES, check_lengths, shift_padding, step_mask
from rnnlab.nn.native_bptt import function

ENGINES = ("rnnlab", "native", "auto", "torch")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(nn.Module):
    """Constructor, input checks, stacking and engines shared by :class:`RNN`, `LSTM`, `GRU`.

    Args (as ``torch.nn.RNNBase``, plus):
        padding_side: where ``lengths`` padding sits: ``"right"`` (PyTorch) or ``"left"`` (Keras).
        engine: which code runs the recurrence (same parameters, same results):

            ========  ==============================================================
            engine    runs
            ========  ==============================================================
            rnnlab    our BPTT Functions in plain torch (:mod:`rnnlab.nn.lstm_bptt`
                      ...), the readable reference: any device, any floating dtype,
                      autocast.
            native    the same Functions with the time loop compiled
                      (:mod:`rnnlab.nn.native_bptt`, built on first use): CPU,
                      float32/float64 parameters (under autocast the products over
                      all T*B rows still run in its lower precision). An error on
                      another device or dtype, or when it cannot be built.
            auto      native on CPU with float32/float64 parameters outside
                      autocast, when the extension builds (a failed build logs one
                      warning); rnnlab otherwise (GPU, autocast, half precision).
                      The default.
            torch     PyTorch's fused kernels (oneDNN, cuDNN); no
                      ``reset_after=False``, no variational dropout.
            ========  ==============================================================

            Without gradients (``torch.no_grad()``, or nothing requires grad) the native
            loop keeps no backward buffers.
        variational_dropout: between layers, drop the same units at every time step of a
            sequence (Gal & Ghahramani 2016; :mod:`rnnlab.nn.dropout`) instead of PyTorch's fresh
            mask per step. Not with ``engine="torch"``.
        weight_dropout: DropConnect on the recurrent matrices (Wan et al. 2013; the "weight-dropped
            LSTM" of Merity et al. 2018): in training, every ``weight_hh`` is multiplied by a
            Bernoulli(1 - p) mask scaled by 1 / (1 - p), one mask per forward call, so the same
            recurrent connections are cut at every step of every sequence in the batch. Gradients
            reach the kept entries through the mask. Any engine.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        padding_side: str = "right",
        engine: str = "auto",
        variational_dropout: bool = False,
        weight_dropout: float = 0.0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")
        if not 0.0 <= float(dropout) <= 1.0 or isinstance(dropout, bool):
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        if isinstance(weight_dropout, bool) or not 0.0 <= float(weight_dropout) < 1.0:
            raise ValueError(f"weight_dropout must be in [0, 1), got {weight_dropout!r}")
        if padding_side not in PADDING_SIDES:
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if variational_dropout and engine == "torch":
            raise ValueError(
                "variational_dropout needs engine='rnnlab', 'native' or 'auto' "
                "(PyTorch's kernels draw a fresh dropout mask at every step)"
            )
        self.mode = mode
        self.variational_dropout = bool(variational_dropout)
        self.weight_dropout = float(weight_dropout)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        self.padding_side, self.engine = padding_side, engine
        self._step_recorder = None  # (StepGradRecorder, name) while a recorder is attached
        D = 2 if bidirectional else 1
        G = _GATES[mode] * hidden_size
        kw = {"device": device, "dtype": dtype}
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (G, layer_in)), ("weight_hh", (G, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
                for name, shape in shapes:
                    self.register_parameter(name + sfx, nn.Parameter(torch.empty(shape, **kw)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def flatten_parameters(self) -> None:
        """No-op, for code written against ``torch.nn.LSTM`` (our weights need no flattening)."""

    def _dropped(self, name: str) -> torch.Tensor:
        """Parameter ``name``; in training a ``weight_hh`` has weight dropout applied."""
        w = getattr(self, name)
        if self.weight_dropout > 0 and self.training and name.startswith("weight_hh"):
            p = self.weight_dropout
            # W~_hh = W_hh * M / (1 - p),  M ~ Bernoulli(1 - p)^(G x H): DropConnect
            w = w * torch.empty_like(w).bernoulli_(1.0 - p).div_(1.0 - p)
        return w

    def _weights(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: self._dropped(n + sfx) if self.bias or "weight" in n else None  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    # ---- input checks ----------------------------------------------------------------------
    def _check_input(self, x) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{type(self).__name__} input must be a Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(
                f"{type(self).__name__} input must be floating point, got {x.dtype} "
                "(token ids go through an nn.Embedding first)"
            )
        if x.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__} expects a 3-D input "
                f"({'(B, T, I)' if self.batch_first else '(T, B, I)'}) or 2-D unbatched (T, I), "
                f"got {x.dim()}-D with shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"input feature size must be input_size={self.input_size}, got {x.shape[-1]} "
                f"(input shape {tuple(x.shape)})"
            )
        if x.dtype != self.weight_ih_l0.dtype and not torch.is_autocast_enabled(x.device.type):
            raise TypeError(
                f"input dtype {x.dtype} differs from the parameters' {self.weight_ih_l0.dtype}"
            )

    def _check_hidden(self, h: torch.Tensor, B: int, what: str) -> None:
        D = 2 if self.bidirectional else 1
        expected = (self.num_layers * D, B, self.hidden_size)
        if not isinstance(h, torch.Tensor) or tuple(h.shape) != expected:
            got = tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
            raise ValueError(f"{what} must have shape (L*D, B, H) = {expected}, got {got}")

    # ---- forward -----------------------------------------------------------------------------
    def forward(self, input, hx=None, lengths=None):
        """Run the whole stack over a sequence batch.

        Args:
            input: (B, T, I) if ``batch_first`` else (T, B, I); (T, I) unbatched; or a
                ``PackedSequence``.
            hx: initial state (L*D, B, H) (LSTM: a tuple ``(h_0, c_0)``); zeros when None.
            lengths: (B,) real length of each sequence, 1 <= len <= T; padding on
                ``padding_side``. Padded steps never change the state and output zeros.

        Returns:
            output: (B, T, D*H) or (T, B, D*H) (a ``PackedSequence`` for packed input);
            h_n: (L*D, B, H) state after each sequence's last real token (LSTM: ``(h_n, c_n)``).
        """
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("pass either a PackedSequence or lengths, not both")
            sorted_idx, unsorted_idx = input.sorted_indices, input.unsorted_indices
            input, lengths = pad_packed_sequence(input, batch_first=self.batch_first)
            if self.padding_side != "right":
                raise ValueError("a PackedSequence input needs padding_side='right'")
        self._check_input(input)
        # under torch.autocast the input may come in the lower precision (from an autocast
        # Linear); the state and the recurrence stay in the parameters' dtype (see precision)
        input = input.to(self.weight_ih_l0.dtype)
        unbatched = input.dim() == 2
        if unbatched:
            if lengths is not None:
                raise ValueError("lengths need a batched (3-D) input")
            input = input.unsqueeze(0 if self.batch_first else 1)
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        T, B = x.shape[:2]
        if T == 0 or B == 0:
            raise ValueError(f"input has an empty time or batch dimension: {tuple(input.shape)}")
        if lengths is not None:
            lengths = check_lengths(lengths, T, B, x.device)
        h0, c0 = self._initial_state(hx, x, B, unbatched)

        if self.engine == "torch":
            out, h_n, c_n = self._forward_torch(x, h0, c0, lengths)
        else:
            out, h_n, c_n = self._forward_rnnlab(x, h0, c0, lengths)

        if packed:
            out = pack_padded_sequence(out, lengths.cpu(), enforce_sorted=False)
            out = PackedSequence(out.data, out.batch_sizes, sorted_idx, unsorted_idx)
        else:
            if self.batch_first:
                out = out.transpose(0, 1)
            if unbatched:
                out = out.squeeze(0 if self.batch_first else 1)
        if unbatched:
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return out, (h_n if c_n is None else (h_n, c_n))

    def _initial_state(self, hx, x, B, unbatched):
        D = 2 if self.bidirectional else 1
        zeros = lambda: x.new_zeros(self.num_layers * D, B, self.hidden_size)  # noqa: E731
        is_lstm = self.mode == "LSTM"
        if hx is None:
            return zeros(), (zeros() if is_lstm else None)
        if is_lstm:
            if not (isinstance(hx, tuple | list) and len(hx) == 2):
                raise TypeError("LSTM hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
        else:
            if isinstance(hx, tuple | list):
                raise TypeError(f"{type(self).__name__} hx must be a Tensor, not a tuple")
            h0, c0 = hx, None
        if unbatched:
            h0 = h0.unsqueeze(1) if isinstance(h0, torch.Tensor) and h0.dim() == 2 else h0
            c0 = c0.unsqueeze(1) if isinstance(c0, torch.Tensor) and c0.dim() == 2 else c0
        self._check_hidden(h0, B, "h_0")
        if is_lstm:
            self._check_hidden(c0, B, "c_0")
        return h0, c0

    def _forward_rnnlab(self, x, h0, c0, lengths):
        """Our BPTT Functions, reference or native (``engine``), layer by layer."""
        D = 2 if self.bidirectional else 1
        kind = {"LSTM": "lstm", "GRU": "gru"}.get(self.mode, "rnn")
        fn = function(kind, self.engine, self.weight_hh_l0)
        mask = None
        if lengths is not None and int(lengths.min()) < x.shape[0]:
            mask = step_mask(lengths, x.shape[0], self.padding_side).unsqueeze(-1).to(x.dtype)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                rec = None
                if self._step_recorder is not None:
                    recorder, name = self._step_recorder
                    rec = recorder.slot(name, layer, d)
                rev = d == 1
                if self.mode == "LSTM":
                    o, h, c = fn.apply(x, h0[k], c0[k], w_ih, w_hh, b_ih, b_hh, mask, rev, rec)
                    c_n.append(c)
                elif self.mode == "GRU":
                    o, h = fn.apply(
                        x, h0[k], w_ih, w_hh, b_ih, b_hh, self.reset_after, mask, rev, rec
                    )
                else:
                    relu = self.mode == "RNN_RELU"
                    o, h = fn.apply(x, h0[k], w_ih, w_hh, b_ih, b_hh, relu, mask, rev, rec)
                outs.append(o)
                h_n.append(h)
            x = outs[0] if D == 1 else torch.cat(outs, dim=-1)  # (T, B, D*H)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                if self.variational_dropout:
                    x = locked_dropout(x, self.dropout)  # one mask per sequence
                else:
                    x = nn.functional.dropout(x, self.dropout, training=True)
        return x, torch.stack(h_n), (torch.stack(c_n) if c_n else None)

    def _forward_torch(self, x, h0, c0, lengths):
        if self.mode == "GRU" and not self.reset_after:
            raise ValueError("engine='torch' supports only reset_after=True (PyTorch's GRU form)")
        if self.variational_dropout and self.dropout > 0 and self.training:
            raise ValueError("engine='torch' cannot train with variational_dropout")
        fn = {"LSTM": _VF.lstm, "GRU": _VF.gru, "RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu}
        fn = fn[self.mode]
        hx = (h0, c0) if self.mode == "LSTM" else h0
        weights = [self._dropped(n) for n in self._flat_weights_names]
        args = (weights, self.bias, self.num_layers, self.dropout, self.training,
                self.bidirectional)  # fmt: skip
        if lengths is None:
            res = fn(x, hx, *args, False)
            return res[0], res[1], (res[2] if self.mode == "LSTM" else None)
        T = x.shape[0]
        if self.padding_side == "left":
            x = shift_padding(x, lengths, to="right")
        p = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        order, back = p.sorted_indices, p.unsorted_indices
        hx = tuple(h.index_select(1, order) for h in hx) if self.mode == "LSTM" else hx[:, order]
        res = fn(p.data, p.batch_sizes, hx, *args)
        out = PackedSequence(res[0], p.batch_sizes, order, back)
        out, _ = pad_packed_sequence(out, total_length=T)  # (T, B, D*H), zeros at padding
        if self.padding_side == "left":
            out = shift_padding(out, lengths, to="left")
        h_n = res[1].index_select(1, back)
        c_n = res[2].index_select(1, back) if self.mode == "LSTM" else None
        return out, h_n, c_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False), ("padding_side", "right"),
                              ("engine", "auto"), ("variational_dropout", False),
                              ("weight_dropout", 0.0)):  # fmt: skip
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)!r}"
        return s


class RNN(RNNBase):
    """Elman RNN, ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` with phi = tanh or relu.

    Same arguments, parameters (``weight_ih_l{k}`` (H, I), ``weight_hh_l{k}`` (H, H),
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,), ``..._reverse``) and return values as
    ``torch.nn.RNN``; see :class:`RNNBase` for ``padding_side`` and ``engine``, and
    :mod:`rnnlab.nn.rnn_bptt` for the BPTT equations.

    Example::

        rnn = RNN(10, 20, num_layers=2, batch_first=True)
        out, h_n = rnn(torch.randn(3, 5, 10))  # out (3, 5, 20), h_n (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", **kwargs) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, **kwargs
        )


class LSTM(RNNBase):
    """Long short-term memory, drop-in for ``torch.nn.LSTM`` (no ``proj_size``).

    Per layer and direction (gate order i, f, g, o; ``weight_ih_l{k}`` (4H, I)):

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    ``forward(x, (h_0, c_0)=None, lengths=None) -> output, (h_n, c_n)``; see
    :meth:`RNNBase.forward` for shapes and :mod:`rnnlab.nn.lstm_bptt` for the BPTT equations.

    Example::

        lstm = LSTM(32, 100, batch_first=True, padding_side="left")
        out, (h_n, c_n) = lstm(torch.randn(4, 600, 32), lengths=torch.tensor([600, 20, 5, 300]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **kwargs) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, drop-in for ``torch.nn.GRU``, in both published forms.

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     reset_after=True (default)
        n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)     reset_after=False
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    ``reset_after=True`` is PyTorch's, cuDNN's and Keras' default: the reset gate scales the
    recurrent product, so one GEMM per step serves all three gates. ``reset_after=False`` is Cho
    et al. (2014) and the usual lecture form: the reset gate scales h_{t-1} before W_hn, costing a
    second, dependent GEMM per step. Same parameters (gate order r, z, n), different functions.

    Example::

        gru = GRU(8, 16, bidirectional=True, reset_after=False)
        out, h_n = gru(torch.randn(7, 2, 8))  # out (7, 2, 32), h_n (2, 2, 16)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 reset_after: bool = True, **kwargs) -> None:  # fmt: skip
        self.reset_after = reset_after
        super().__init__("GRU", input_size, hidden_size, num_layers, **kwargs)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
