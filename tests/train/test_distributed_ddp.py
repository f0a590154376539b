"""torchrun -m rnnlab train classify with 2 processes on loopback (gloo) ends with the parameters
and the metrics log of one (plain, in-process) run on the same global batch: 2 x 8 texts against
1 x 16 (float tolerance: the two processes' gradients are averaged by an all-reduce, another order
of additions). Rank 0 alone writes the run; ``python -m rnnlab`` is the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from order_task import order_task
from rnnlab.cli import main
from run_files import current_weights, records


def _tsv(path: Path, n: int, seed: int) -> Path:
    path.write_text("".join(f"{t}\t{y}\n" for t, y in order_task(n, seed=seed)), encoding="utf-8")
    return path


def _argv(train: Path, dev: Path, batch: int, out: Path) -> list[str]:
    return ["train", "classify", "--data", str(train), "--dev", str(dev), "--embed", "8",
            "--hidden", "8", "--dropout", "0", "--epochs", "2", "--lr", "0.01", "--batch-size",
            str(batch), "--no-progress", "--out", str(out)]  # fmt: skip


def test_two_processes_train_as_one_with_the_same_global_batch(tmp_path):
    train, dev = _tsv(tmp_path / "train.tsv", 256, 1), _tsv(tmp_path / "dev.tsv", 64, 2)
    # 256 texts: 16 global batches of 16 per epoch
    two = _argv(train, dev, 8, tmp_path / "two")
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1",
            "--nproc_per_node=2", "-m", "rnnlab", *two]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert main(_argv(train, dev, 16, tmp_path / "one")) == 0  # meanwhile, in this process
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    assert stdout.count("saved to") == 1, stdout  # rank 0 prints, rank 1 does not
    one, two = current_weights(tmp_path / "one"), current_weights(tmp_path / "two")
    assert one.keys() == two.keys()
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    print(f"2 processes vs 1: max abs parameter difference {worst:.1e}")
    for k in one:
        torch.testing.assert_close(two[k], one[k], atol=1e-5, rtol=1e-4)
    assert not torch.equal(one["out.weight"], torch.zeros_like(one["out.weight"]))
    a, b = records(tmp_path / "one"), records(tmp_path / "two")
    assert [r["step"] for r in a] == [r["step"] for r in b] == [16, 32]
    for ra, rb in zip(a, b, strict=True):
        for key in ("train_loss", "dev_loss", "dev_accuracy"):
            assert abs(ra[key] - rb[key]) < 1e-5, (key, ra, rb)
    state = json.loads((tmp_path / "two" / "checkpoint" / "state.json").read_text())
    assert state["state"]["global_step"] == 32
    leftovers = [p.name for p in (tmp_path / "two" / "checkpoint").iterdir()]
    assert len(leftovers) == 4, leftovers  # one writer: state.json and its three files


def _examples(loader) -> list[list[int]]:
    """The dataset indices of each batch (the datasets below hold their own index)."""
    return [sorted(int(i) for i in batch) for batch in loader]


@pytest.mark.parametrize("kind", ["bucket", "shuffled"])
def test_the_shards_of_every_global_batch_are_one_process_batches(kind):
    """Without a process group: N = 3 shards at B = 4 together are, batch for batch, the loader
    of one process at 12 (rnnlab's bucketing sampler, and a DistributedSampler for a plain
    shuffled loader, whose one process reference is itself at N = 1)."""
    from torch.utils.data import DataLoader

    from rnnlab.text import bucket_loader
    from rnnlab.train.distributed import Context, shard_loader

    data, lengths = list(range(72)), [1 + (7 * i) % 13 for i in range(72)]
    collate = torch.tensor

    def loader(batch: int):
        if kind == "bucket":
            return bucket_loader(data, batch, collate, train=True, seed=5, lengths=lengths)
        return DataLoader(data, batch_size=batch, shuffle=True, collate_fn=collate)

    one = _examples(shard_loader(loader(12), Context(0, 1), seed=5))
    if kind == "shuffled":  # the reference: the same DistributedSampler order, one process
        from torch.utils.data import DistributedSampler

        sampler = DistributedSampler(data, 1, 0, shuffle=True, seed=5)
        one = _examples(DataLoader(data, batch_size=12, sampler=sampler, collate_fn=collate))
    shards = [_examples(shard_loader(loader(4), Context(r, 3), seed=5)) for r in range(3)]
    assert [len(s) for s in shards] == [len(one)] * 3 == [6] * 3
    for k, batch in enumerate(one):
        joined = sorted(i for s in shards for i in s[k])
        assert joined == batch, k
        assert all(len(s[k]) == 4 for s in shards)
