"""rnnlab serve under load: latency (p50, p99) and throughput of the JSON API at 1, 10 and 100
requests in flight, for a text classifier (with the sentiment after each token) and a language
model (sampling), each served by ``rnnlab serve`` in its own process on loopback.

The models have the default sizes of ``rnnlab train`` (their weights are untrained: the work of a
request does not depend on them) unless runs are given:

    classify  LSTM, embedding 128, hidden 128, vocabulary 16,000; a 20-word review, traced
              (its 20 prefixes classified in one batch beside the whole text)
    lm        2-layer LSTM, hidden 256, vocabulary 10,000 (PTB's size); 20 words sampled

Each level sends ``--requests`` requests (at least 2 x the concurrency) from that many clients
at once, after a warm-up; latency is the client's, from sending to the whole answer. The server
answers one request at a time per model (rnnlab.serve's lock), so at concurrency c a request
waits for those ahead of it: p50 grows about linearly with c while throughput stays flat.

Run it alone (two runs on two cores measure each other); the load average is printed:

    flock /tmp/rnnlab-cpu.lock python benchmarks/serve.py
    python benchmarks/serve.py --classify runs/sst2 --lm runs/ptb --levels 1,10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch

from machine import cpu_name  # benchmarks/ is on the path of a script run from it
from rnnlab import saved
from rnnlab.train import save_weights

REVIEW = ("an enjoyable one-time-watch for the funny punchlines , though the plot drags in the "
          "middle and the ending is far too neat")  # fmt: skip


def default_models(root: Path) -> dict[str, Path]:
    """Untrained models of the default sizes, saved in ``root``: {"classify": dir, "lm": dir}."""
    from rnnlab.models.classifier import ClassifierConfig, TextClassifier
    from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
    from rnnlab.text import Vocab, tokenize

    words = [f"w{i}" for i in range(16_000 - 4 - 40)] + tokenize(REVIEW) + "the cat sat".split()
    vocab = Vocab.build([words])
    torch.manual_seed(0)
    clf = TextClassifier(ClassifierConfig(len(vocab), 2), vocab, ["neg", "pos"])
    lm_vocab = Vocab.build([words[: 10_000 - 4]])
    lm = LanguageModel(LMConfig(len(lm_vocab), embed_dim=256, hidden_size=256, num_layers=2),
                       lm_vocab, TextFormat("word", "<eos>", "<eos>"))  # fmt: skip
    out = {}
    for task, model in (("classify", clf), ("lm", lm)):
        saved.save_config(model.eval(), root / task)
        save_weights(model, root / task / "model.safetensors")
        out[task] = root / task
    return out


def start_server(runs: list[Path], port: int) -> subprocess.Popen:
    """``rnnlab serve RUNS --port PORT`` in a child process, once it answers."""
    command = "import sys; from rnnlab.cli import main; sys.exit(main())"  # rnnlab's entry point
    proc = subprocess.Popen([sys.executable, "-c", command, "serve", *map(str, runs),
                             "--port", str(port), "--timeout", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rnnlab serve exited: {proc.stderr.read().decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/models", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("rnnlab serve did not answer within 60 s")


async def load(base: str, name: str, body: dict, concurrency: int, n: int) -> tuple[list, float]:
    """``n`` requests from ``concurrency`` clients at once: (latencies in s, wall time)."""
    latencies: list[float] = []
    todo = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:

        async def worker() -> None:
            for _ in todo:
                start = time.perf_counter()
                r = await client.post(f"/api/models/{name}/predict", json=body)
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {r.status_code} {r.text}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("--classify", help="a saved classifier run; default: an untrained one")
    p.add_argument("--lm", help="a saved language model run; default: an untrained one")
    p.add_argument("--levels", default="1,10,100", help="concurrency levels")
    p.add_argument("--requests", type=int, default=200, help="requests per level (at least 2c)")
    p.add_argument("--port", type=int, default=0, help="0: a free one")
    args = p.parse_args()
    levels = [int(c) for c in args.levels.split(",")]
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-serve-") as tmp:
        made = default_models(Path(tmp)) if not (args.classify and args.lm) else {}
        runs = {"classify": Path(args.classify or made["classify"]),
                "lm": Path(args.lm or made["lm"])}  # fmt: skip
        bodies = {
            "classify": {"text": REVIEW},
            "lm": {"prompt": "the cat", "max_tokens": 20, "temperature": 1.0, "seed": 1},
        }
        print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        print(f"server: rnnlab serve, torch {torch.__version__}, {torch.get_num_threads()} "
              f"threads; classify {runs['classify']}, lm {runs['lm']}")  # fmt: skip
        proc = start_server(list(runs.values()), port)
        base = f"http://127.0.0.1:{port}"
        try:
            print(f"\n{'model':8s} {'concurrency':>11s} {'requests':>8s} {'p50 ms':>8s} "
                  f"{'p99 ms':>8s} {'req/s':>7s}")  # fmt: skip
            for task, body in bodies.items():
                name = runs[task].resolve().name
                asyncio.run(load(base, name, body, 1, 5))  # warm-up
                for c in levels:
                    n = max(args.requests, 2 * c)
                    lat, wall = asyncio.run(load(base, name, body, c, n))
                    print(
                        f"{task:8s} {c:11d} {n:8d} {1000 * percentile(lat, 0.5):8.1f} "
                        f"{1000 * percentile(lat, 0.99):8.1f} {n / wall:7.1f}",
                        flush=True,
                    )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
