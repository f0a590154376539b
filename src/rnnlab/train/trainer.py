"""`Trainer`: the task-agnostic training loop.

One epoch, in order:
    seed every generator (and the loaders' own) from epoch_seed(seed, epoch)
    for each batch:  lr <- lr_at(step); loss = model.loss(batch); backward; clip; optimizer step
    dev metrics = model.evaluate(dev_loader) under no_grad and eval()
    keep the best weights (out_dir/model.safetensors), early stopping, metrics.jsonl, checkpoint

Resume is exact (bit-for-bit on CPU): an epoch's randomness depends only on (seed, epoch), and a
mid-epoch checkpoint records how many steps of the epoch are done and every generator's state
after the last one; resuming replays the epoch's loader from its seeded start, drops the batches
already trained on (they are read, not trained on), restores the generators and carries on.
Exactness needs the same data, batch size and loader each time, and a loader whose order comes
from the global torch generator or a `torch.Generator` of its own (a DataLoader with
`shuffle=True` does either); `persistent_workers=True` is not supported.

Ctrl-C is deferred to the end of the current step (or evaluation), then a checkpoint is saved and
KeyboardInterrupt re-raised; a second Ctrl-C stops at once (still saving, unless it lands inside
an optimizer update, where the previous checkpoint is kept).

A NaN or infinite loss stops the run with `rnnlab.errors.DivergedError` naming the step, before
its backward pass; the weights are checked finite too before an epoch's weights and checkpoint
are saved. Nothing is written then: the checkpoint of the last finished epoch stays as it was.

Under `torchrun` several processes train one model with DistributedDataParallel, each on its
share of every global batch, and only rank 0 writes files (`rnnlab.train.distributed`).

A time budget (`TrainConfig.max_minutes`) stops the run the same way, with a checkpoint to
resume from, but `fit` then returns: the model keeps the better on dev of the best finished epoch
and the weights at the cut, and `Trainer.budget_spent` is True.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from rnnlab.errors import DivergedError
from rnnlab.train.budget import BudgetSpent, TimeBudget
from rnnlab.train.checkpoint import (
    TrainerState,
    discard_checkpoint,
    has_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from rnnlab.train.config import TrainConfig
from rnnlab.train.device import OnDevice, to_device
from rnnlab.train.distributed import Context, DistributedError, context, shard_loader
from rnnlab.train.interrupts import DeferredInterrupt
from rnnlab.train.metrics_log import append_record, write_records
from rnnlab.train.plots import plot_learning_curve
from rnnlab.train.protocol import TrainableModel
from rnnlab.train.rng import (
    RngState,
    capture_rng,
    epoch_seed,
    reseed_loader,
    restore_rng,
    seed_everything,
)
from rnnlab.train.weights import load_weights, save_weights

logger = logging.getLogger(__name__)

# Config fields that may change between a run and its resumption without breaking exactness.
RESUMABLE_CHANGES = {"epochs", "patience", "device", "log_every", "progress", "max_minutes"}


class Trainer:
    """Trains any `TrainableModel` (an nn.Module with `loss(batch)` and `evaluate(loader)`).

    Writes to `out_dir`: model.safetensors (best weights), metrics.jsonl (one record per epoch),
    learning_curve.png, and checkpoint/ (see `rnnlab.train.checkpoint`). Seed the model's
    initialisation yourself (`seed_everything(seed)` before building it); the trainer seeds
    everything after that.
    """

    def __init__(self, model: torch.nn.Module, config: TrainConfig, out_dir: str | os.PathLike):
        if not isinstance(model, torch.nn.Module) or not isinstance(model, TrainableModel):
            raise TypeError(
                f"model must be a torch.nn.Module with loss(batch) and evaluate(loader) methods, "
                f"got {type(model).__name__}"
            )
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        self.model = model
        self.config = config
        self._steps_per_epoch: int | None = None  # set by fit when config.anneal_to is used
        self.out_dir = Path(out_dir)
        self.device = config.resolved_device()
        self.optimizer: torch.optim.Optimizer | None = None
        self._unsafe = False  # inside an optimizer update or epoch bookkeeping
        self._last_rng: RngState | None = None  # generators after the last completed step
        self.budget: TimeBudget | None = None  # the running fit's time budget (max_minutes)
        self.budget_spent = False  # the last fit was stopped by its time budget
        self.dist = Context(device=self.device)  # this process under torchrun (train.distributed)
        self._ddp: torch.nn.Module | None = None  # the DistributedDataParallel loss, if any

    @property
    def weights_path(self) -> Path:
        """Best weights so far (safetensors)."""
        return self.out_dir / "model.safetensors"

    @property
    def metrics_path(self) -> Path:
        """The metrics log (JSON lines, one record per epoch)."""
        return self.out_dir / "metrics.jsonl"

    @property
    def curve_path(self) -> Path:
        """The learning-curve PNG."""
        return self.out_dir / "learning_curve.png"

    @property
    def checkpoint_dir(self) -> Path:
        """Where the resumable checkpoint lives."""
        return self.out_dir / "checkpoint"

    def fit(
        self,
        train_loader: Iterable[Any],
        dev_loader: Iterable[Any] | None = None,
        resume: bool = False,
    ) -> list[dict[str, Any]]:
        """Train for `config.epochs` epochs (or until early stopping); return the history.

        `train_loader` is iterated once per epoch (a DataLoader, or any re-iterable); each batch
        goes through `to_device` then `model.loss`. Without `dev_loader` the monitored value is
        the epoch's mean train loss (so `monitor` must be "loss"). `resume=True` continues the
        run saved in `out_dir/checkpoint` (FileNotFoundError if there is none); without it any
        previous run in `out_dir` is replaced. At the end the best weights are loaded back into
        the model. The history is the list of metrics-log records, one per epoch.

        On Ctrl-C (or any KeyboardInterrupt) a checkpoint of the last completed step is saved, a
        warning says how to resume, and the KeyboardInterrupt propagates; the model then holds
        its current, not its best, weights.

        With `config.max_minutes` the loader is wrapped in a :class:`TimeBudget`: once that much
        training time is spent (in this call; a resumed run gets a fresh budget) a checkpoint is
        saved as on Ctrl-C, `budget_spent` is set, the model keeps the better on dev of its best
        finished epoch and its weights at the cut (saved as the best weights), and the history
        of the finished epochs is returned.
        """
        cfg = self.config
        if dev_loader is None and cfg.monitor != "loss":
            raise ValueError(
                f"monitor={cfg.monitor!r} is a dev metric but no dev_loader was given "
                f"(without one only monitor='loss', the train loss, can be watched)"
            )
        self._steps_per_epoch, self.budget_spent = None, False
        self.budget = None
        self.dist = context(self.device)  # torchrun: join the process group (train.distributed)
        self.device, main = self.dist.device, self.dist.is_main
        if self.dist.active and cfg.max_minutes is not None:
            raise DistributedError(
                "a time budget (max_minutes) is not supported under torchrun yet: the processes "
                "would stop at different steps; give epochs instead"
            )
        train_loader = shard_loader(train_loader, self.dist, cfg.seed)
        if cfg.max_minutes is not None:
            train_loader = self.budget = TimeBudget(train_loader, 60.0 * cfg.max_minutes)
        if cfg.anneal_to is not None:
            try:
                self._steps_per_epoch = len(train_loader)  # type: ignore[arg-type]
            except TypeError:
                raise ValueError(
                    "anneal_to anneals over epochs * steps per epoch: the training loader "
                    f"must have a length ({type(train_loader).__name__} has none)"
                ) from None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._unsafe, self._last_rng = False, None
        self.model.to(self.device)
        self.optimizer = make_optimizer(self.model, cfg)
        resume_rng: RngState | None = None
        if resume:
            state, resume_rng, saved = load_checkpoint(
                self.checkpoint_dir, self.model, self.optimizer
            )
            self._warn_config_changes(saved)
            if main:
                write_records(self.metrics_path, state.history)
            logger.info(
                "resuming %s at epoch %d, step %d",
                self.out_dir,
                state.epoch + 1,
                state.step_in_epoch,
            )
        else:
            if has_checkpoint(self.checkpoint_dir):
                logger.warning(
                    "starting afresh in %s: the previous run there is replaced", self.out_dir
                )
            state = TrainerState()
            if main:
                discard_checkpoint(self.checkpoint_dir)  # before anything of the new run
                self.weights_path.unlink(missing_ok=True)
                write_records(self.metrics_path, [])

        with DeferredInterrupt() as interrupt:
            try:
                while state.epoch < cfg.epochs and not state.early_stopped:
                    self._epoch(state, train_loader, dev_loader, resume_rng, interrupt)
                    resume_rng = None
                    if main:
                        save_checkpoint(
                            self.checkpoint_dir,
                            self.model,
                            self.optimizer,
                            state,
                            capture_rng(),
                            cfg.to_dict(),
                        )
                    if interrupt.requested:
                        raise KeyboardInterrupt
            except BudgetSpent:
                self._on_interrupt(state, budget=True)
                self.budget_spent = True
                self._keep_the_better(state, dev_loader)
                return state.history
            except KeyboardInterrupt:
                self._on_interrupt(state)
                raise
            finally:
                if main:
                    self._plot(state.history)

        self.dist.barrier()  # rank 0 has written the best weights the others read back
        if state.best_epoch is not None:
            load_weights(self.model, self.weights_path)
            logger.info(
                "restored the best weights: epoch %d, %s %.4g",
                state.best_epoch,
                cfg.monitor,
                state.best_value,
            )
        return state.history

    def _epoch(
        self,
        state: TrainerState,
        train_loader: Iterable[Any],
        dev_loader: Iterable[Any] | None,
        resume_rng: RngState | None,
        interrupt: DeferredInterrupt,
    ) -> None:
        """Run (the rest of) epoch `state.epoch`: its steps, then evaluation and bookkeeping."""
        seed = epoch_seed(self.config.seed, state.epoch)
        seed_everything(seed)
        reseed_loader(train_loader, seed, state.epoch)
        start_epoch = getattr(self.model, "start_epoch", None)
        if callable(start_epoch):  # e.g. gradual unfreezing: a pure function of the epoch
            start_epoch(state.epoch)
        # under torchrun: wrapped after start_epoch, which may change what requires gradients
        self._ddp = self.dist.wrap(self.model) if self.dist.active else None
        self.model.train()
        batches = iter(train_loader)
        if state.step_in_epoch:
            _skip(batches, state.step_in_epoch, state.epoch)
            assert resume_rng is not None
            restore_rng(resume_rng)
        self._last_rng = capture_rng()
        total = len(train_loader) if hasattr(train_loader, "__len__") else None
        self._train_steps(state, batches, total, interrupt)
        if state.step_in_epoch == 0:
            raise ValueError(f"the training loader yielded no batches in epoch {state.epoch + 1}")
        self._end_epoch(state, dev_loader)

    def _train_steps(
        self,
        state: TrainerState,
        batches: Iterator[Any],
        total: int | None,
        interrupt: DeferredInterrupt,
    ) -> None:
        """One optimizer step per remaining batch, keeping `state` and `_last_rng` current."""
        cfg, model, optimizer = self.config, self.model, self.optimizer
        assert optimizer is not None
        started, elapsed_before = time.perf_counter(), state.elapsed
        bar = tqdm(
            total=total,
            initial=state.step_in_epoch,
            desc=f"epoch {state.epoch + 1}/{cfg.epochs}",
            disable=not cfg.progress or not self.dist.is_main,
            dynamic_ncols=True,
            leave=False,
        )
        try:
            for batch in batches:
                lr = self._lr(state.global_step)
                for group in optimizer.param_groups:
                    # a model's own groups (optimizer_groups) may scale the rate per group
                    group["lr"] = lr * group.get("lr_scale", 1.0)
                optimizer.zero_grad(set_to_none=True)
                with cfg.autocast(self.device):
                    batch = to_device(batch, self.device)
                    loss = model.loss(batch) if self._ddp is None else self._ddp(batch)
                # under torchrun: the global batch's loss (every process stops at a NaN)
                value = _check_loss(loss, state, self.out_dir, self.dist.mean)
                loss.backward()
                self._unsafe = True  # from here to the end of the update, Ctrl-C saves nothing
                if cfg.clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
                optimizer.step()
                state.step_in_epoch += 1
                state.global_step += 1
                state.loss_sum += value
                state.elapsed = elapsed_before + time.perf_counter() - started
                self._last_rng = capture_rng()
                self._unsafe = False
                running = state.loss_sum / state.step_in_epoch
                bar.update(1)
                bar.set_postfix(loss=f"{running:.4f}", refresh=False)
                if state.global_step % cfg.log_every == 0:
                    logger.info(
                        "epoch %d step %d: loss %.4f (epoch mean %.4f), lr %.3g",
                        state.epoch + 1,
                        state.step_in_epoch,
                        value,
                        running,
                        lr,
                    )
                if interrupt.requested:
                    raise KeyboardInterrupt
        finally:
            bar.close()

    def _end_epoch(self, state: TrainerState, dev_loader: Iterable[Any] | None) -> None:
        """Evaluate, keep the best weights, decide on early stopping, log; then close the epoch."""
        cfg = self.config
        _check_weights(self.model, state, self.out_dir)
        started = time.perf_counter()
        train_loss = state.loss_sum / state.step_in_epoch
        dev: dict[str, float] = {}
        if dev_loader is not None:
            reseed_loader(dev_loader, epoch_seed(cfg.seed, state.epoch, stream=1), state.epoch)
            dev = self._evaluate(dev_loader)
            if cfg.monitor not in dev:
                raise ValueError(
                    f"model.evaluate returned {sorted(dev)}, which lacks the monitored metric "
                    f"{cfg.monitor!r} (TrainConfig.monitor)"
                )
        value = dev[cfg.monitor] if dev_loader is not None else train_loss
        elapsed = state.elapsed + time.perf_counter() - started

        self._unsafe = True
        improved = self._improved(value, state.best_value)
        if improved:
            state.best_value, state.best_epoch, state.bad_epochs = value, state.epoch + 1, 0
            if self.dist.is_main:
                save_weights(self.model, self.weights_path)
        else:
            state.bad_epochs += 1
        record = {
            "epoch": state.epoch + 1,
            "step": state.global_step,
            "lr": self._lr(state.global_step - 1),
            "time": round(elapsed, 3),
            "train_loss": train_loss,
            **{f"dev_{k}": v for k, v in dev.items()},
            "best": improved,
        }
        state.history.append(record)
        if self.dist.is_main:
            append_record(self.metrics_path, record)
        logger.info(
            "epoch %d: train loss %.4f%s%s",
            state.epoch + 1,
            train_loss,
            "".join(f", dev {k} {v:.4f}" for k, v in dev.items()),
            " (best)" if improved else "",
        )
        if cfg.patience is not None and state.bad_epochs >= cfg.patience:
            state.early_stopped = True
            logger.info(
                "early stopping after epoch %d: no %s improvement in %d epochs "
                "(best %.4g at epoch %s)",
                state.epoch + 1,
                cfg.monitor,
                state.bad_epochs,
                state.best_value,
                state.best_epoch,
            )
        state.epoch += 1
        state.step_in_epoch, state.loss_sum, state.elapsed = 0, 0.0, 0.0
        self._unsafe = False

    def _lr(self, step: int) -> float:
        """`config.lr_at(step)` with this run's steps per epoch and time budget."""
        annealed = self.budget is not None and self.config.anneal_to is not None
        fraction = self.budget.fraction() if annealed else None
        return self.config.lr_at(step, self._steps_per_epoch, fraction)

    def _keep_the_better(self, state: TrainerState, dev_loader: Iterable[Any] | None) -> None:
        """After the time budget cut a run short: keep, as the run's model, the better on the dev
        set of the best finished epoch and the weights at the cut (those are then saved as the
        best weights; the checkpoint still holds the cut, to resume from). Without a dev set the
        best finished epoch is kept, or the cut when no epoch finished."""
        cfg = self.config
        now = None
        if dev_loader is not None and state.step_in_epoch > 0:
            now = self._evaluate(dev_loader).get(cfg.monitor)
        best = state.best_value if state.best_epoch is not None else None
        if best is None or (now is not None and self._improved(now, best)):
            save_weights(self.model, self.weights_path)
            kept, value = "the weights at the cut", now
        else:
            load_weights(self.model, self.weights_path)
            kept, value = f"the best finished epoch ({state.best_epoch})", best
        logger.warning(
            "time budget of %g minutes spent after %d finished epochs: kept %s (%s %s)",
            cfg.max_minutes,
            len(state.history),
            kept,
            cfg.monitor,
            "not measured" if value is None else f"{value:.4g}",
        )

    def _evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """`model.evaluate(loader)` in eval mode without gradients, batches on the device."""
        self.model.eval()
        try:
            with torch.no_grad():
                metrics = self.model.evaluate(OnDevice(loader, self.device))
        finally:
            self.model.train()
        if not isinstance(metrics, dict):
            raise TypeError(
                f"model.evaluate must return a dict of floats, got {type(metrics).__name__}"
            )
        return {str(k): float(v) for k, v in metrics.items()}

    def _improved(self, value: float, best: float | None) -> bool:
        """Whether `value` beats `best` by more than min_delta in the configured direction."""
        if not math.isfinite(value):
            logger.warning(
                "the monitored %s is %s; it never counts as best", self.config.monitor, value
            )
            return False
        if best is None:
            return True
        if self.config.mode == "min":
            return value < best - self.config.min_delta
        return value > best + self.config.min_delta

    def _on_interrupt(self, state: TrainerState, budget: bool = False) -> None:
        """Save a checkpoint of the last completed step (unless the state is mid-update) and log
        (not for a spent time ``budget``: that is logged when the kept weights are chosen)."""
        if not self.dist.is_main:
            return
        if self._unsafe or self._last_rng is None or self.optimizer is None:
            logger.warning(
                "interrupted inside an update: kept the previous checkpoint in %s; "
                "resume with fit(..., resume=True) (CLI: --resume)",
                self.checkpoint_dir,
            )
            return
        save_checkpoint(
            self.checkpoint_dir,
            self.model,
            self.optimizer,
            state,
            self._last_rng,
            self.config.to_dict(),
        )
        if budget:
            return
        logger.warning(
            "interrupted at epoch %d, step %d: checkpoint saved in %s; "
            "resume with fit(..., resume=True) (CLI: --resume)",
            state.epoch + 1,
            state.step_in_epoch,
            self.checkpoint_dir,
        )

    def _warn_config_changes(self, saved: dict[str, Any]) -> None:
        """Log config fields that differ from the checkpoint's and break exact resumption."""
        now = self.config.to_dict()
        changed = sorted(
            k for k in now if k not in RESUMABLE_CHANGES and k in saved and saved[k] != now[k]
        )
        if changed:
            logger.warning(
                "resuming with a different %s than the checkpoint: the run will not match an "
                "uninterrupted one",
                ", ".join(f"{k} ({saved[k]!r} -> {now[k]!r})" for k in changed),
            )

    def _plot(self, history: list[dict[str, Any]]) -> None:
        """Draw the learning curve; a plotting failure is logged, never fatal."""
        if not history:
            return
        try:
            plot_learning_curve(history, self.curve_path, monitor=self.config.monitor)
        except Exception:  # noqa: BLE001 - a picture must not lose a training run
            logger.exception("could not draw %s", self.curve_path)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by `config` over the model's trainable parameters.

    A model with an ``optimizer_groups()`` method gives its own parameter groups instead: a list
    of ``{"params": [...], "lr_scale": s}``, each trained at ``s`` times the run's rate (e.g.
    discriminative fine-tuning, :meth:`rnnlab.models.classifier.TextClassifier.optimizer_groups`);
    they may hold parameters frozen for now (``requires_grad`` False: no gradient, no update).
    """
    groups = getattr(model, "optimizer_groups", None)
    params: list = groups() if callable(groups) else []
    if not params:
        params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameters")
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


def _check_loss(loss: Any, state: TrainerState, out_dir: Path, reduce=None) -> float:
    """The float value of `loss` (of `reduce(loss)`: the mean over the processes of a
    distributed run), after checking it is a finite scalar tensor (DivergedError, naming the
    step and the checkpoint kept, if it is NaN or infinite)."""
    where = f"epoch {state.epoch + 1}, step {state.step_in_epoch + 1}"
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise TypeError(f"model.loss must return a scalar (0-d) tensor, got {shape} at {where}")
    value = (reduce(loss) if reduce is not None else loss).item()
    if not math.isfinite(value):
        raise DivergedError(
            f"the loss is {value} at {where} (global step {state.global_step + 1}): training "
            f"stopped; {_kept(out_dir)}; lower the learning rate or clip the gradients "
            "(--lr, --clip; TrainConfig.lr, clip_norm)"
        )
    return value


def _check_weights(model: torch.nn.Module, state: TrainerState, out_dir: Path) -> None:
    """DivergedError if a parameter holds a NaN or infinity at the end of an epoch, before its
    weights or checkpoint are saved (finite losses, then a non-finite update)."""
    bad = [n for n, p in model.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise DivergedError(
            f"after epoch {state.epoch + 1} (global step {state.global_step}) the weights "
            f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''} hold NaN or infinite values: "
            f"training stopped; {_kept(out_dir)}; lower the learning rate or clip the "
            "gradients (--lr, --clip; TrainConfig.lr, clip_norm)"
        )


def _kept(out_dir: Path) -> str:
    """What a run stopped by a non-finite value leaves to resume from."""
    directory = out_dir / "checkpoint"
    if not has_checkpoint(directory):
        return "there is no checkpoint yet"
    return f"its last checkpoint, in {directory}, is kept (--resume / fit(resume=True))"


def _skip(batches: Iterator[Any], n: int, epoch: int) -> None:
    """Draw and drop the `n` batches already trained on in this epoch."""
    for i in range(n):
        try:
            next(batches)
        except StopIteration:
            raise ValueError(
                f"the training loader has {i} batches, but the checkpoint is at step {n} of epoch "
                f"{epoch + 1}: resume needs the same data, batch size and loader"
            ) from None
