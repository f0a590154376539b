"""Resume: a run stopped anywhere and continued ends bit-for-bit where an uninterrupted one does.

Interruptions are simulated three ways: a KeyboardInterrupt raised by the dataset while the
loader fetches batch k (at an epoch boundary or mid-epoch), a real SIGINT (Ctrl-C) raised while
step k runs (deferred: step k completes first), and two SIGINTs (the second stops at once).
"""

from __future__ import annotations

import json
import signal

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from rnnlab.train import Trainer

EPOCHS = 3
BATCH = 32
STEPS = 384 // BATCH  # batches per epoch of the train_set fixture


class InterruptAt(Dataset):
    """A dataset that raises KeyboardInterrupt at the first item of batch `k` (counted overall)."""

    def __init__(self, dataset, k: int) -> None:
        self.dataset, self.at, self.fetched = dataset, k * BATCH, 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i):
        if self.fetched == self.at:
            self.fetched += 1
            raise KeyboardInterrupt
        self.fetched += 1
        return self.dataset[i]


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """The learning curve is tested elsewhere; drawing it would dominate these tests' time."""
    monkeypatch.setattr("rnnlab.train.trainer.plot_learning_curve", lambda *a, **k: None)


def weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def without_time(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


@pytest.fixture(scope="module", params=[False, True], ids=["global-rng", "own-generator"])
def reference(request, tmp_path_factory, make_model, train_set, dev_set, make_loader, config):
    """An uninterrupted run: (generator flag, final weights, best-weights bytes, history)."""
    model = make_model()
    out = tmp_path_factory.mktemp("reference")
    cfg = config(epochs=EPOCHS, monitor="accuracy", mode="max")
    history = Trainer(model, cfg, out).fit(
        make_loader(train_set, request.param), make_loader(dev_set, request.param)
    )
    return request.param, weights(model), (out / "model.safetensors").read_bytes(), history


def resume_and_compare(reference, out, make_model, train_set, dev_set, make_loader, config):
    """Resume the run in `out` on a differently initialised model; it must match `reference`."""
    generator, final, best_bytes, history = reference
    model = make_model(init_seed=123)
    cfg = config(epochs=EPOCHS, monitor="accuracy", mode="max")
    resumed = Trainer(model, cfg, out).fit(
        make_loader(train_set, generator), make_loader(dev_set, generator), resume=True
    )
    assert without_time(resumed) == without_time(history[: len(resumed)])
    assert len(resumed) == len(history)
    for k, v in weights(model).items():
        assert torch.equal(v, final[k]), f"{k} differs from the uninterrupted run"
    assert (out / "model.safetensors").read_bytes() == best_bytes
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert without_time(logged) == without_time(history)


def checkpoint_position(out) -> tuple[int, int]:
    state = json.loads((out / "checkpoint" / "state.json").read_text())["state"]
    return state["epoch"], state["step_in_epoch"]


@pytest.mark.parametrize(
    "k, position",
    [(STEPS, (1, 0)), (STEPS + 5, (1, 5)), (3, (0, 3))],
    ids=["epoch-boundary", "mid-epoch-2", "mid-epoch-1"],
)
def test_resume_after_interrupt_in_the_loader(
    k, position, reference, make_model, train_set, dev_set, make_loader, config, tmp_path
):
    generator = reference[0]
    cfg = config(epochs=EPOCHS, monitor="accuracy", mode="max")
    with pytest.raises(KeyboardInterrupt):
        Trainer(make_model(), cfg, tmp_path).fit(
            make_loader(InterruptAt(train_set, k), generator), make_loader(dev_set, generator)
        )
    assert checkpoint_position(tmp_path) == position
    resume_and_compare(reference, tmp_path, make_model, train_set, dev_set, make_loader, config)


@pytest.mark.parametrize("presses", [1, 2], ids=["ctrl-c", "ctrl-c-twice"])
def test_resume_after_ctrl_c(
    presses, reference, make_model, train_set, dev_set, make_loader, config, tmp_path
):
    """Ctrl-C during step 17: once, the step finishes first; twice, it is abandoned at once."""
    generator = reference[0]
    model = make_model()
    calls = 0
    plain_loss = model.loss

    def loss(batch):
        nonlocal calls
        calls += 1
        if calls == STEPS + 5:
            for _ in range(presses):
                signal.raise_signal(signal.SIGINT)
        return plain_loss(batch)

    model.loss = loss
    cfg = config(epochs=EPOCHS, monitor="accuracy", mode="max")
    before = signal.getsignal(signal.SIGINT)  # the default, or SIG_IGN under nohup / in background
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, cfg, tmp_path).fit(
            make_loader(train_set, generator), make_loader(dev_set, generator)
        )
    assert checkpoint_position(tmp_path) == (1, 5 if presses == 1 else 4)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is given back
    resume_and_compare(reference, tmp_path, make_model, train_set, dev_set, make_loader, config)


def test_interrupt_during_evaluation_resumes_exactly(
    reference, make_model, train_set, dev_set, make_loader, config, tmp_path
):
    generator = reference[0]
    model = make_model()
    plain_evaluate = model.evaluate
    evaluations = 0

    def evaluate(loader):
        nonlocal evaluations
        evaluations += 1
        if evaluations == 2:
            raise KeyboardInterrupt
        return plain_evaluate(loader)

    model.evaluate = evaluate
    cfg = config(epochs=EPOCHS, monitor="accuracy", mode="max")
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, cfg, tmp_path).fit(
            make_loader(train_set, generator), make_loader(dev_set, generator)
        )
    assert checkpoint_position(tmp_path) == (1, STEPS)  # all steps done, evaluation not
    resume_and_compare(reference, tmp_path, make_model, train_set, dev_set, make_loader, config)


def test_more_epochs_after_a_finished_run(
    reference, make_model, train_set, dev_set, make_loader, config, tmp_path
):
    """A finished 2-epoch run resumed with epochs=3 equals the 3-epoch run."""
    generator = reference[0]
    cfg = config(epochs=EPOCHS - 1, monitor="accuracy", mode="max")
    Trainer(make_model(), cfg, tmp_path).fit(
        make_loader(train_set, generator), make_loader(dev_set, generator)
    )
    resume_and_compare(reference, tmp_path, make_model, train_set, dev_set, make_loader, config)


def test_interrupted_run_differs_without_resume(
    reference, make_model, train_set, dev_set, make_loader, config, tmp_path
):
    """Control: the comparison can fail. Restarting from scratch on the stopped weights differs."""
    generator, final, _, _ = reference
    cfg = config(epochs=EPOCHS, monitor="accuracy", mode="max")
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, cfg, tmp_path).fit(
            make_loader(InterruptAt(train_set, STEPS + 5), generator),
            make_loader(dev_set, generator),
        )
    Trainer(model, cfg, tmp_path / "again").fit(
        make_loader(train_set, generator), make_loader(dev_set, generator)
    )
    assert any(not torch.equal(v, final[k]) for k, v in weights(model).items())


class EpochBatches(Sampler):
    """A batch sampler with its own per-epoch order (seeded by its epoch), like bucketing ones."""

    def __init__(self, n: int) -> None:
        self.n, self.epoch = n, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(100 + self.epoch))
        self.epoch += 1
        return iter(order.split(BATCH))

    def __len__(self) -> int:
        return -(-self.n // BATCH)


def test_resume_calls_set_epoch_of_a_batch_sampler(make_model, train_set, config, tmp_path):
    def run(out, model, dataset=train_set, resume=False):
        loader = DataLoader(dataset, batch_sampler=EpochBatches(len(train_set)))
        Trainer(model, config(epochs=EPOCHS), out).fit(loader, resume=resume)
        return weights(model)

    final = run(tmp_path / "reference", make_model())
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "stopped", make_model(), InterruptAt(train_set, STEPS + 5))
    resumed = run(tmp_path / "stopped", make_model(init_seed=123), resume=True)
    assert all(torch.equal(v, final[k]) for k, v in resumed.items())
