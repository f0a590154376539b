"""Data-parallel training under ``torchrun``: DistributedDataParallel, sharded batches, rank 0
writes.

    torchrun --nproc_per_node=2 -m rnnlab train classify --data sst2 --batch-size 32 --out runs/x

``torchrun`` starts N processes with ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` set; :func:`context` (called by the trainer) sees them and joins the process group
(gloo on CPU, NCCL on CUDA, each process on ``cuda:LOCAL_RANK``). Then, in every process:

    the model is wrapped in DistributedDataParallel (rebuilt each epoch, after the model's
        ``start_epoch`` hook may have frozen or unfrozen parameters): backward averages the
        gradients of all processes, so every process takes the same optimizer step
    the training loader is sharded (:func:`shard_loader`): ``--batch-size B`` is per process and
        the global batch is N * B. With a plain shuffled loader, a DistributedSampler; with
        rnnlab's bucketing sampler, its batches are drawn N * B examples at a time and process r
        takes examples r, r + N, r + 2N ... of each (the split DistributedSampler makes), so N
        processes see exactly the batches of one process with ``--batch-size N*B``
    the loss each step is averaged over the processes (:meth:`Context.mean`): the log shows the
        global batch's loss, and a NaN anywhere stops every process at the same step
    only rank 0 writes weights, checkpoints, the metrics log and the learning curve; the others
        wait at a barrier before reading them back; every process evaluates the (whole) dev set

A run without ``WORLD_SIZE`` (or with ``WORLD_SIZE=1`` outside torchrun) is a plain one process run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, RandomSampler

from rnnlab.errors import InputError

logger = logging.getLogger(__name__)


class DistributedError(InputError):
    """What a distributed run was asked cannot be done (a loader that cannot be sharded ...)."""


@dataclass
class Context:
    """Where this process stands: ``rank`` of ``world`` processes, on ``device``."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def active(self) -> bool:
        """Whether several processes train together."""
        return self.world > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and logs."""
        return self.rank == 0

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean over the processes of a scalar tensor (itself in a one process run)."""
        if not self.active:
            return value
        t = value.detach().float().reshape(1).clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return (t / self.world).reshape(())

    def barrier(self) -> None:
        """Wait until every process gets here (a no-op in a one process run)."""
        if self.active:
            dist.barrier()

    def wrap(self, model: nn.Module) -> nn.Module:
        """A DistributedDataParallel module whose forward(batch) is ``model.loss(batch)``."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(_Loss(model), device_ids=ids)


class _Loss(nn.Module):
    """forward(batch) = model.loss(batch): what DistributedDataParallel calls, so that its
    gradient hooks see the loss's backward."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model.loss(batch)


def context(device: torch.device) -> Context:
    """This process's :class:`Context`; under torchrun (``WORLD_SIZE`` > 1) joins the process
    group first (once): NCCL for a CUDA ``device`` (then ``cuda:LOCAL_RANK``), gloo otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context(0, 1, device)
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        logger.info("process %d of %d joined the %s group", rank, world, dist.get_backend())
    return Context(rank, world, device)


class ShardedBatches:
    """A batch sampler's batches, split across processes: process ``rank`` takes examples
    ``rank, rank + world ...`` of each batch of ``sampler`` (which draws world * B examples at a
    time); a batch with fewer than ``world`` examples is dropped (some process would get none).
    ``set_epoch`` and ``len`` pass through, so a resumed epoch is drawn the same way."""

    def __init__(self, sampler: Any, rank: int, world: int) -> None:
        self.sampler, self.rank, self.world = sampler, rank, world

    def set_epoch(self, epoch: int) -> None:
        if callable(getattr(self.sampler, "set_epoch", None)):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.sampler:
            if len(batch) >= self.world:
                yield list(batch)[self.rank :: self.world]

    def __len__(self) -> int:
        return len(self.sampler)


def shard_loader(loader: Iterable[Any], ctx: Context, seed: int) -> Iterable[Any]:
    """``loader`` for process ``ctx.rank``: each process gets its share of every global batch
    (the module docstring says how). The loader itself in a one process run.

    Raises:
        DistributedError: a loader that is not a torch DataLoader with a plain or rnnlab
            bucketing sampler (e.g. a language model's stream of BPTT chunks).
    """
    if not ctx.active:
        return loader
    from rnnlab.text.batching import BucketBatchSampler

    inner = getattr(loader, "batch_sampler", None)
    if not isinstance(loader, DataLoader) or inner is None:
        raise DistributedError(
            f"this task's training batches ({type(loader).__name__}) cannot be split across "
            "processes yet: train it in one process (without torchrun)"
        )
    common = {"collate_fn": loader.collate_fn, "num_workers": loader.num_workers,
              "pin_memory": loader.pin_memory}  # fmt: skip
    if isinstance(inner, BucketBatchSampler):
        wide = BucketBatchSampler(inner.lengths.tolist(), inner.batch_size * ctx.world,
                                  seed=inner.seed, pool_batches=inner.pool_batches,
                                  drop_last=inner.drop_last)  # fmt: skip
        wide.epoch = inner.epoch
        sharded = ShardedBatches(wide, ctx.rank, ctx.world)
        return DataLoader(loader.dataset, batch_sampler=sharded, **common)
    if type(inner) is BatchSampler:
        sampler = DistributedSampler(loader.dataset, ctx.world, ctx.rank,
                                     shuffle=isinstance(inner.sampler, RandomSampler), seed=seed,
                                     drop_last=inner.drop_last)  # fmt: skip
        return DataLoader(loader.dataset, batch_size=inner.batch_size, sampler=sampler,
                          drop_last=inner.drop_last, **common)  # fmt: skip
    raise DistributedError(
        f"this task's training batches (a {type(inner).__name__}) cannot be split across "
        "processes yet: train it in one process (without torchrun)"
    )
