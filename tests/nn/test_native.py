"""The compiled engine (engine="native") against the reference on fresh random inputs, its
inference path, its two GEMM paths, and how "auto" and "native" resolve.

The torch-equivalence, gradcheck, recorder and plain-step suites run on both engines through the
``engine``/``functions`` fixtures of tests/nn/conftest.py; this file holds what only the native
engine has.
"""

import logging
import shutil

import pytest
import torch

import rnnlab.nn as rnn
from conftest import skip_without_native
from rnnlab.nn import native, native_bptt

# kind -> (layer class, cell class, constructor kwargs)
KINDS = {
    "rnn_tanh": (rnn.RNN, rnn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnn.RNN, rnn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (rnn.LSTM, rnn.LSTMCell, {}),
    "gru": (rnn.GRU, rnn.GRUCell, {}),
    "gru_cho": (rnn.GRU, rnn.GRUCell, {"reset_after": False}),
}


def test_the_native_engine_builds_where_there_is_a_compiler():
    """Fails (rather than skipping the native half of the suite) when a machine with a C++
    compiler cannot build the extension: CI must run the equivalence suite on the native engine."""
    if shutil.which("c++") is None and shutil.which("g++") is None:
        pytest.skip("no C++ compiler here: engine='auto' runs the reference engine")
    assert native.available(), native.build_error()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach(), b.detach()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def _pair(kind, I, H, **kw):
    """The same layer on the reference engine and on the native one (same weights)."""
    cls, _, extra = KINDS[kind]
    ref = cls(I, H, **extra, **kw)
    nat = cls(I, H, **extra, engine="native", **kw)
    nat.load_state_dict(ref.state_dict())
    return ref, nat


def _run(layer, x, hx, lengths):
    """Outputs, final states and the gradients of a loss touching all of them."""
    out, st = layer(x, hx, lengths=lengths)
    states = st if isinstance(st, tuple) else (st,)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    loss = (out * w).sum() + sum((k + 1) * s.sin().sum() for k, s in enumerate(states))
    hx_leaves = hx if isinstance(hx, tuple) else (hx,)
    grads = torch.autograd.grad(loss, [x, *hx_leaves, *layer.parameters()])
    return [out, *states, *grads]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("side", ["right", "left"])
def test_native_layer_equals_reference_in_float32(kind, side):
    """Stacked, bidirectional, variable lengths, initial state: every output, state and gradient
    within 1e-5 relative of the reference."""
    skip_without_native()
    B, T, I, H, L = 5, 9, 6, 16, 2
    ref, nat = _pair(kind, I, H, num_layers=L, bidirectional=True, batch_first=True,
                     padding_side=side)  # fmt: skip
    x = torch.randn(B, T, I, requires_grad=True)
    lengths = torch.randint(1, T + 1, (B,))
    lengths[0] = T
    h0 = torch.randn(2 * L, B, H, requires_grad=True)
    hx = (h0, torch.randn(2 * L, B, H, requires_grad=True)) if kind == "lstm" else h0
    for a, b in zip(_run(nat, x, hx, lengths), _run(ref, x, hx, lengths), strict=True):
        assert _rel(a, b) < 1e-5


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("B,T,H", [(5, 40, 96), (20, 4, 360)])
def test_threaded_loops_and_both_gemm_paths_equal_the_reference(kind, B, T, H):
    """On two threads each thread runs the whole loop on a block of batch rows (B = 5: 3 + 2
    rows; B = 20 with a weight larger than a core's L2). float32 runs MKL's packed GEMM where
    torch exports it, else ATen's: both paths, with lengths and in reverse (bidirectional)."""
    skip_without_native()
    ops = native.load()
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ref, nat = _pair(kind, 4, H, bidirectional=True)
        x = torch.randn(T, B, 4, requires_grad=True)
        lengths = torch.randint(1, T + 1, (B,))
        lengths[0] = T
        h0 = torch.randn(2, B, H, requires_grad=True)
        hx = (h0, torch.randn_like(h0, requires_grad=True)) if kind == "lstm" else h0
        expected = _run(ref, x, hx, lengths)
        for packed in (True, False):
            ops.use_mkl_packed(packed)
            for a, b in zip(_run(nat, x, hx, lengths), expected, strict=True):
                assert _rel(a, b) < 1e-5, f"packed={packed}"
    finally:
        ops.use_mkl_packed(True)
        torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", list(KINDS))
def test_inference_takes_the_path_without_backward_buffers(kind, monkeypatch):
    """Under torch.no_grad, or when nothing requires grad, the native layer never enters the
    autograd Function (whose forward keeps the caches) and returns what training returns."""
    skip_without_native()
    ref, nat = _pair(kind, 3, 8, num_layers=2, bidirectional=True)
    x = torch.randn(6, 4, 3)
    lengths = torch.tensor([6, 2, 5, 1])
    expected = nat(x, lengths=lengths)  # parameters require grad: the training path
    fn = native_bptt.NATIVE[kind.split("_")[0]]

    def no_caches(*args, **kwargs):
        raise AssertionError("the autograd Function ran without a gradient to compute")

    monkeypatch.setattr(fn, "forward", staticmethod(no_caches))
    with torch.no_grad():
        got = nat(x, lengths=lengths)
    for p in nat.parameters():
        p.requires_grad_(False)
    got_frozen = nat(x, lengths=lengths)  # nothing requires grad
    with torch.no_grad():
        want = ref(x, lengths=lengths)
    flat = lambda r: [r[0], *(r[1] if isinstance(r[1], tuple) else (r[1],))]  # noqa: E731
    for a, b, c, d in zip(flat(got), flat(got_frozen), flat(expected), flat(want), strict=True):
        assert a.grad_fn is None
        torch.testing.assert_close(a, c.detach(), rtol=0, atol=0)  # the same loop, no caches
        torch.testing.assert_close(b, c.detach(), rtol=0, atol=0)
        assert _rel(a, d) < 1e-5


@pytest.mark.parametrize("kind", list(KINDS))
def test_cells_step_by_step_as_in_generation(kind):
    """A cell driven one step at a time, as sampling and beam search do: native equals the
    reference with gradients (one step's backward) and under no_grad (no buffers)."""
    skip_without_native()
    _, cls, extra = KINDS[kind]
    ref = cls(5, 12, **extra)
    nat = cls(5, 12, **extra, engine="native")
    nat.load_state_dict(ref.state_dict())
    xs = torch.randn(8, 3, 5)
    with torch.no_grad():
        s_ref = s_nat = None
        for x in xs:
            s_ref, s_nat = ref(x, s_ref), nat(x, s_nat)
    flat = lambda s: torch.cat(s, -1) if isinstance(s, tuple) else s  # noqa: E731
    assert _rel(flat(s_nat), flat(s_ref)) < 1e-5
    x = torch.randn(3, 5, requires_grad=True)
    g_ref = torch.autograd.grad(flat(ref(x)).sin().sum(), [x, *ref.parameters()])
    g_nat = torch.autograd.grad(flat(nat(x)).sin().sum(), [x, *nat.parameters()])
    for a, b in zip(g_nat, g_ref, strict=True):
        assert _rel(a, b) < 1e-5


def test_native_under_autocast_follows_the_precision_rules():
    """engine='native' under autocast: bfloat16 products over all T*B rows, the recurrence in
    float32, as the reference does (the two agree to float32 rounding of the recurrence)."""
    skip_without_native()
    ref, nat = _pair("lstm", 16, 24, num_layers=2, batch_first=True)
    x = torch.randn(3, 9, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_r, _ = ref(x)
        out_n, _ = nat(x)
    assert out_n.dtype == torch.float32
    assert _rel(out_n, out_r) < 1e-3


def test_auto_and_native_resolve_by_device_dtype_and_autocast():
    skip_without_native()
    w32 = torch.zeros(4, 2)
    assert native_bptt.function("lstm", "auto", w32) is native_bptt.NativeLSTMFunction
    assert native_bptt.function("gru", "auto", w32.double()) is native_bptt.NativeGRUFunction
    assert native_bptt.function("rnn", "rnnlab", w32) is native_bptt.REFERENCE["rnn"]
    assert native_bptt.function("lstm", "auto", w32.bfloat16()) is native_bptt.REFERENCE["lstm"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert native_bptt.function("lstm", "auto", w32) is native_bptt.REFERENCE["lstm"]
        assert native_bptt.function("lstm", "native", w32) is native_bptt.NativeLSTMFunction
    layer = rnn.GRU(3, 4, engine="native", dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="float32 or float64.*engine='auto'"):
        layer(torch.randn(2, 1, 3, dtype=torch.bfloat16))
    out, _ = rnn.GRU(3, 4, engine="auto", dtype=torch.bfloat16)(torch.randn(2, 1, 3).bfloat16())
    assert out.dtype == torch.bfloat16  # the reference ran


def test_a_failed_build_falls_back_once_for_auto_and_raises_for_native(monkeypatch, caplog):
    from torch.utils import cpp_extension

    def no_compiler(*args, **kwargs):
        raise RuntimeError("Error building extension 'rnnlab_native': c++: not found")

    monkeypatch.setattr(native, "_state", {})  # as before the first build
    monkeypatch.setattr(cpp_extension, "load", no_compiler)
    layer = rnn.LSTM(3, 4, engine="auto")
    x = torch.randn(5, 2, 3)
    with caplog.at_level(logging.WARNING, logger="rnnlab.nn.native"):
        out, _ = layer(x)
        layer(x)
    assert out.shape == (5, 2, 4)
    warnings = [r for r in caplog.records if r.name == "rnnlab.nn.native"]
    assert len(warnings) == 1 and "falls back to the reference" in warnings[0].getMessage()
    with pytest.raises(RuntimeError, match="could not be built.*c\\+\\+: not found"):
        rnn.LSTM(3, 4, engine="native")(x)
    assert not native.available()
