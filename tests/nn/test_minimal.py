"""MinGRU and MinLSTM: the parallel log-space scan against the step-by-step form and against a plain
loop of the paper's equations (Feng et al. 2024), outputs and gradients in float64."""

import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

from rnnlab.nn import MinGRU, MinLSTM, heinsen_scan
from rnnlab.nn.minimal import g, log_g, reverse_padded

CLASSES = [MinGRU, MinLSTM]
F64 = {"dtype": torch.float64}


def paper_step(cls, x_t, h, w, b):
    """The paper's equations, written out directly (f / (f + i), not the stable forms)."""
    u = x_t @ w.T + b
    if cls is MinGRU:
        u_z, u_h = u.chunk(2, -1)
        z = torch.sigmoid(u_z)
        h_tilde = torch.where(u_h >= 0, u_h + 0.5, torch.sigmoid(u_h))
        return (1 - z) * h + z * h_tilde
    u_f, u_i, u_h = u.chunk(3, -1)
    f, i = torch.sigmoid(u_f), torch.sigmoid(u_i)
    h_tilde = torch.where(u_h >= 0, u_h + 0.5, torch.sigmoid(u_h))
    return f / (f + i) * h + i / (f + i) * h_tilde


def paper_reference(model, x, h0, lengths):
    """One sequence at a time, cut to its length, each layer and direction a Python loop.

    x (B, T, I) -> output (B, T, D*H) with zeros after each length, h_n (L*D, B, H)."""
    B, T, _ = x.shape
    D = 2 if model.bidirectional else 1
    H = model.hidden_size
    outs, finals = [], []
    for b in range(B):
        n = T if lengths is None else int(lengths[b])
        seq = x[b, :n]  # (n, I)
        final = []
        for layer in range(model.num_layers):
            dirs = []
            for d in range(D):
                k = layer * D + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w, bias = getattr(model, "weight_ih" + sfx), getattr(model, "bias_ih" + sfx)
                h = torch.zeros(H, **F64) if h0 is None else h0[k, b]
                hs = []
                for t in reversed(range(n)) if d else range(n):
                    h = paper_step(type(model), seq[t], h, w, bias)
                    hs.append(h)
                final.append(h)
                dirs.append(torch.stack(hs[::-1] if d else hs))  # (n, H)
            seq = torch.cat(dirs, -1)  # (n, D*H)
        outs.append(torch.cat([seq, seq.new_zeros(T - n, D * H)]))
        finals.append(torch.stack(final))  # (L*D, H)
    return torch.stack(outs), torch.stack(finals, 1)


CONFIGS = [  # (T, layers, bidirectional, with h0, lengths or None); B = 3
    (1, 1, False, False, None),
    (2, 1, False, True, None),
    (7, 2, False, True, [7, 3, 1]),
    (7, 1, True, False, [4, 7, 2]),
    (33, 2, True, True, [33, 1, 20]),
]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("T, layers, bi, with_h0, lengths", CONFIGS)
def test_parallel_sequential_and_paper_agree(cls, T, layers, bi, with_h0, lengths):
    B, I, H = 3, 4, 5
    model = cls(I, H, num_layers=layers, bidirectional=bi, batch_first=True, **F64)
    x = torch.randn(B, T, I, **F64, requires_grad=True)
    h0 = torch.randn(layers * (1 + bi), B, H, **F64, requires_grad=True) if with_h0 else None
    lens = None if lengths is None else torch.tensor(lengths)
    w_out, w_h = torch.randn(B, T, (1 + bi) * H, **F64), torch.randn(layers * (1 + bi), B, H, **F64)
    leaves = [x, *model.parameters()] + ([h0] if with_h0 else [])
    results = []
    for run in ("parallel", "sequential", "paper"):
        if run == "paper":
            out, h_n = paper_reference(model, x, h0, lens)
        else:
            out, h_n = model(x, h0, lens, mode=run)
        grads = torch.autograd.grad((out * w_out).sum() + (h_n * w_h).sum(), leaves)
        results.append((out, h_n, grads))
    for out, h_n, grads in results[1:]:
        torch.testing.assert_close(out, results[0][0], rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(h_n, results[0][1], rtol=1e-10, atol=1e-12)
        for a, b in zip(grads, results[0][2], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls", CLASSES)
def test_step_by_step_is_the_forward(cls):
    model = cls(3, 4, num_layers=2, **F64).eval()
    x, h0 = torch.randn(9, 2, 3, **F64), torch.randn(2, 2, 4, **F64)  # time-major
    out, h_n = model(x, h0)
    h, outs = h0, []
    for t in range(9):
        h = model.step(x[t], h)  # (L, B, H)
        outs.append(h[-1])
    torch.testing.assert_close(torch.stack(outs), out)
    torch.testing.assert_close(h, h_n)
    torch.testing.assert_close(model.step(x[0]), model.step(x[0], torch.zeros(2, 2, 4, **F64)))


def test_heinsen_scan_is_the_recurrence_and_passes_gradcheck():
    B, T, H = 2, 6, 3
    log_a = torch.randn(B, T, H, **F64).neg().exp().neg().requires_grad_()  # log a in (-1, 0)
    log_b = torch.randn(B, T, H, **F64, requires_grad=True)
    h0 = torch.randn(B, H, **F64, requires_grad=True)  # any sign
    h, expected = heinsen_scan(log_a, log_b, h0), []
    state = h0
    for t in range(T):
        # h_t = a_t h_{t-1} + b_t
        state = log_a[:, t].exp() * state + log_b[:, t].exp()
        expected.append(state)
    torch.testing.assert_close(h, torch.stack(expected, 1))
    assert gradcheck(heinsen_scan, (log_a, log_b, h0))
    assert gradcheck(lambda a, b: heinsen_scan(a, b), (log_a, log_b))


@pytest.mark.parametrize("cls", CLASSES)
def test_gradcheck_through_the_layer(cls):
    model = cls(3, 2, num_layers=2, bidirectional=True, batch_first=True, **F64)
    names = [n for n, _ in model.named_parameters()]
    x = torch.randn(3, 5, 3, **F64, requires_grad=True)
    h0 = torch.randn(4, 3, 2, **F64, requires_grad=True)
    lengths = torch.tensor([5, 2, 3])

    def f(x, h0, *params):
        return functional_call(model, dict(zip(names, params, strict=True)), (x, h0, lengths))

    params = [p.detach().requires_grad_() for p in model.parameters()]
    assert gradcheck(f, (x, h0, *params))


@pytest.mark.parametrize("cls", CLASSES)
def test_padding_changes_nothing_and_gets_no_gradient(cls):
    model = cls(3, 4, batch_first=True, bidirectional=True, **F64)
    x = torch.randn(2, 8, 3, **F64, requires_grad=True)
    out, h_n = model(x, lengths=[8, 5])
    alone, h_alone = model(x[1:, :5])
    torch.testing.assert_close(out[1, :5], alone[0])
    torch.testing.assert_close(h_n[:, 1], h_alone[:, 0])
    assert out[1, 5:].abs().max() == 0
    (dx,) = torch.autograd.grad(out.sum() + h_n.sum(), x)
    assert dx[1, 5:].abs().max() == 0 and dx[1, :5].abs().min() > 0


@pytest.mark.parametrize("cls", CLASSES)
def test_long_sequences_stay_finite_and_exact(cls):
    torch.manual_seed(1)
    model = cls(4, 8, batch_first=True, **F64)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(5.0)  # saturated gates: a_t near 0 or 1, |a*_T| in the thousands
    x = torch.randn(2, 4096, 4, **F64)
    h0 = torch.randn(1, 2, 8, **F64)
    out, h_n = model(x, h0)
    with torch.no_grad():
        seq, h_seq = model(x, h0, mode="sequential")
    torch.testing.assert_close(out, seq, rtol=1e-8, atol=1e-12)
    torch.testing.assert_close(h_n, h_seq, rtol=1e-8, atol=1e-12)
    # float32: finite outputs and gradients; the log-space rounding grows with |a*_t|
    model32 = cls(4, 8, batch_first=True)
    model32.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    x32 = x.float().requires_grad_()
    out32, _ = model32(x32, h0.float())
    out32.sum().backward()
    assert torch.isfinite(out32).all() and torch.isfinite(x32.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in model32.parameters())
    torch.testing.assert_close(out32.double(), out, rtol=1e-2, atol=1e-6)


def test_g_and_log_g():
    v = torch.tensor([-1000.0, -30.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 100.0], **F64)
    torch.testing.assert_close(log_g(v)[1:], torch.log(g(v))[1:])
    assert torch.isfinite(log_g(v)).all()  # log g(-1000) = -1000, where exp underflows
    expected = torch.tensor([0.5, 2.5, float(torch.sigmoid(torch.tensor(-2.0)))])
    torch.testing.assert_close(g(torch.tensor([0.0, 2.0, -2.0])), expected)
    v = torch.randn(20, **F64, requires_grad=True)
    assert gradcheck(log_g, (v,)) and gradcheck(g, (v,))


def test_reverse_padded_is_its_own_inverse():
    x = torch.arange(12.0).view(2, 6, 1)
    r = reverse_padded(x, torch.tensor([6, 4]))
    assert r[:, :, 0].tolist() == [[5, 4, 3, 2, 1, 0], [9, 8, 7, 6, 10, 11]]
    torch.testing.assert_close(reverse_padded(r, torch.tensor([6, 4])), x)


def test_parameters_layout_and_time_major():
    m = MinGRU(6, 5, num_layers=2, bidirectional=True)
    names = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert names == {"weight_ih_l0": (10, 6), "bias_ih_l0": (10,), "weight_ih_l0_reverse": (10, 6),
                     "bias_ih_l0_reverse": (10,), "weight_ih_l1": (10, 10), "bias_ih_l1": (10,),
                     "weight_ih_l1_reverse": (10, 10), "bias_ih_l1_reverse": (10,)}  # fmt: skip
    assert sum(p.numel() for p in MinLSTM(6, 5, bias=False).parameters()) == 3 * 5 * 6
    x = torch.randn(7, 2, 6)  # (T, B, I)
    out, h_n = m(x)
    assert out.shape == (7, 2, 10) and h_n.shape == (4, 2, 5)
    m.batch_first = True
    torch.testing.assert_close(m(x.transpose(0, 1))[0], out.transpose(0, 1))
    assert "num_layers=2" in repr(m) and "bidirectional=True" in repr(m)


def test_dropout_between_layers_only_in_training():
    m = MinLSTM(3, 4, num_layers=2, dropout=0.5, batch_first=True)
    x = torch.randn(2, 5, 3)
    torch.manual_seed(0)
    a = m(x)[0]
    torch.manual_seed(1)
    assert not torch.equal(a, m(x)[0])
    m.eval()
    assert torch.equal(m(x)[0], m(x)[0])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: m(torch.randn(2, 5)), ValueError, "3-D|input"),
        (lambda m: m(torch.randn(2, 5, 4)), ValueError, "input_size = 3"),
        (lambda m: m(torch.randn(2, 0, 3)), ValueError, "non-empty"),
        (lambda m: m(torch.randint(0, 3, (2, 5, 3))), TypeError, "floating-point"),
        (lambda m: m(torch.randn(2, 5, 3, **F64)), TypeError, "dtype"),
        (lambda m: m(torch.randn(2, 5, 3), torch.zeros(1, 2, 5)), ValueError, "h_0"),
        (lambda m: m(torch.randn(2, 5, 3), torch.zeros(2, 4)), ValueError, "h_0"),
        (lambda m: m(torch.randn(2, 5, 3), lengths=[5, 6]), ValueError, "longer"),
        (lambda m: m(torch.randn(2, 5, 3), lengths=[5]), ValueError, "one entry"),
        (lambda m: m(torch.randn(2, 5, 3), lengths=[5, 0]), ValueError, ">= 1"),
        (lambda m: m(torch.randn(2, 5, 3), mode="scan"), ValueError, "mode"),
        (lambda m: m.step(torch.randn(2, 5, 3)), ValueError, "x_t"),
        (lambda m: m.step(torch.randn(2, 4)), ValueError, "x_t"),
        (lambda m: m.step(torch.randn(2, 3), torch.zeros(2, 4)), ValueError, "h_0"),
    ],
)
@pytest.mark.parametrize("cls", CLASSES)
def test_errors_on_bad_input(cls, call, error, match):
    with pytest.raises(error, match=match):
        call(cls(3, 4, batch_first=True))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_layers": 0}, "num_layers"),
        ({"dropout": 1.5}, "dropout"),
        ({"input_size": 2.0}, "input_size"),
    ],
)
def test_errors_in_constructor(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MinGRU(**({"input_size": 3, "hidden_size": 4} | kwargs))


def test_step_refuses_bidirectional():
    with pytest.raises(ValueError, match="bidirectional"):
        MinGRU(3, 4, bidirectional=True).step(torch.randn(2, 3))
