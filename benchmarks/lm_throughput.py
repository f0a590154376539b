"""End-to-end training speed of the tiny-shakespeare character LM: tokens/s of `rnnlab train lm`
against the plain-PyTorch peer ../shared/peers/char_lstm.py, run one after the other on the same
machine with the same budget.

Our run is the peer's model and recipe through our pipeline (`rnnlab.tasks.language_model`):
Embedding(65, 128) -> LSTM 2 x 256 -> Linear(65), 64 streams of 100 characters, Adam 2e-3, clip
5, no dropout, fp32, 2 threads, once with each engine (`auto`, the default: the compiled time
loop; `rnnlab`: the pure-torch reference). Tokens/s = optimizer steps x 64 x 100 / training
seconds; evaluation is not counted, in either script.

    RNNLAB_DATA=../shared/data python benchmarks/lm_throughput.py --minutes 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from unittest.mock import patch

import torch

import rnnlab.nn as rnn
from machine import cpu_name
from rnnlab.models import lm_network
from rnnlab.models.language_model import LMConfig
from rnnlab.tasks.language_model import LMJob, train_lm
from rnnlab.train import TrainConfig

PEER = Path(__file__).resolve().parents[2] / "shared" / "peers" / "char_lstm.py"


def run_ours(engine: str, minutes: float, out: Path) -> float:
    """Train our LM with ``engine`` for ``minutes`` of training time; its tokens/s."""
    lstm = partial(rnn.LSTM, engine=engine)  # the LM builds lm_network.CELLS["lstm"]
    with patch.dict(lm_network.CELLS, {"lstm": lstm}):
        job = LMJob(
            data="tinyshakespeare", out=str(out), level="char", batch_size=64, bptt=100,
            eval_batch_size=16,
            model=LMConfig(1, cell="lstm", embed_dim=128, hidden_size=256, num_layers=2),
            train=TrainConfig(epochs=1000, lr=2e-3, clip_norm=5.0, progress=False,
                              max_minutes=minutes),
        )  # fmt: skip
        result = train_lm(job)
        assert result.model.rnn.engine == engine
    steps = json.loads((out / "checkpoint" / "state.json").read_text())["state"]["global_step"]
    train_s = minutes * 60 if result.budget_spent else sum(r["time"] for r in result.history)
    return steps * 64 * 100 / train_s


def run_peer(minutes: float) -> float:
    """Run the peer script for ``minutes`` of training; its recorded tokens/s."""
    proc = subprocess.run([sys.executable, str(PEER), "--budget", str(minutes * 60)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"peer failed: {proc.stderr[-500:]}")
    return json.loads((PEER.parent / "out" / "char_lstm.json").read_text())["train_tokens_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=2.0, help="training budget of each run")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"# {cpu_name()}, torch {torch.__version__}, 2 threads, {args.minutes:g} min each, "
          "one run at a time")  # fmt: skip
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        ours = {e: run_ours(e, args.minutes, Path(tmp, e)) for e in ("auto", "rnnlab")}
    peer = run_peer(args.minutes)
    print("| run | tokens/s | / peer |")
    print("|---|---|---|")
    for engine, rate in ours.items():
        print(f"| rnnlab train lm, engine={engine} | {rate:,.0f} | {rate / peer:.2f}x |")
    print(f"| peer char_lstm.py (torch.nn.LSTM) | {peer:,.0f} | 1.00x |")
    print(f"# wall {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
