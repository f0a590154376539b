"""Word vectors on IMDb: rnnlab's skip-gram beside gensim's Word2Vec on the same tokenised text
and settings, and the lecture's route (a language model's embedding matrix) beside both.

The text is the IMDb language-model training split (unsup + 90% of train: the reviews
`rnnlab train lm --data imdb` learns from), tokenised once by rnnlab; gensim gets those token
lists and rnnlab's trainer streams the same tokens from a file (one review a line). Both:
skip-gram, 100 dimensions, window 5, 5 negatives, min-count 5, subsampling 1e-3, alpha 0.025 ->
0.0001, 3 epochs, `--threads` threads.
Reported for each: training wall time (vocabulary building not included) and corpus words per
second (every token of every epoch, rare ones included, as gensim counts them), analogy accuracy
(questions-words, 3CosAdd, top 30,000 words, with coverage) and WordSim-353 Spearman. The two
top-30k cuts fall differently among words of equal count, so each trainer is asked a slightly
different set of questions; the accuracy of both on the questions both can be asked ("common")
is printed beside.

The language models: `--lm DIR` (default /tmp/runs/imdb_lm, an IMDb LM trained for ~150 minutes)
and, unless `--no-same-compute`, the same architecture trained here for as long as the skip-gram
trained (`rnnlab.tasks.language_model.train_lm` with `max_minutes`; its dev split is a small
held-out file so that the final scoring stays short). Their embedding matrices are scored the
same way.

Run it alone (two runs on two cores measure each other); the load average is printed:

    RNNLAB_DATA=../shared/data flock /tmp/rnnlab-cpu.lock python benchmarks/embeddings.py
    RNNLAB_DATA=../shared/data python benchmarks/embeddings.py --epochs 1 --no-same-compute
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

import rnnlab
from rnnlab import embeddings
from rnnlab.data import load_corpus
from rnnlab.data.word_benchmarks import word_benchmark
from rnnlab.models.word2vec import Word2VecConfig
from rnnlab.tasks.embeddings import EmbeddingsJob, train_embeddings

sys.path.insert(0, str(Path(__file__).parent))
from machine import cpu_name  # noqa: E402


def scores(kv: embeddings.KeyedVectors, questions, pairs) -> dict:
    """Analogy accuracy (top 30k, 3CosAdd), coverage, WordSim Spearman, king - man + woman."""
    a = embeddings.evaluate_analogies(kv, questions, 30000)
    w = embeddings.evaluate_word_pairs(kv, pairs)
    sem, syn = a.group(True), a.group(False)
    try:
        answer = kv.analogy("man", "woman", "king", topn=3, restrict_vocab=30000)
    except embeddings.UnknownWordError:
        answer = []
    return {"analogy": a.accuracy, "coverage": a.coverage, "semantic": sem[0] / max(1, sem[1]),
            "syntactic": syn[0] / max(1, syn[1]), "wordsim": w.spearman, "pairs": w.used,
            "queen": ", ".join(x for x, _ in answer), "words": len(kv)}  # fmt: skip


def common_questions(kvs: list[embeddings.KeyedVectors], questions: dict,
                     n: int = 30000) -> dict:  # fmt: skip
    """The questions whose four words (lower-cased) are among the ``n`` most frequent words of
    every one of ``kvs``: the same exam for all of them."""
    held = [{w.lower() for w in kv.words[:n]} for kv in kvs]
    return {name: [q for q in qs if all(w.lower() in h for h in held for w in q)]
            for name, qs in questions.items()}  # fmt: skip


def load_avg() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lm", default="/tmp/runs/imdb_lm", help="a finished IMDb LM run ('' none)")
    ap.add_argument("--no-same-compute", action="store_true",
                    help="skip training an LM for the skip-gram's training time")  # fmt: skip
    ap.add_argument("--reviews", type=int, help="only the first N reviews (a smoke run)")
    ap.add_argument("--seed", type=int, default=0, help="both trainers' seed")
    ap.add_argument("--out", help="keep our skip-gram run here (default: a temp folder)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_name()}; {os.cpu_count()} cores; torch {torch.__version__}, "
          f"{args.threads} threads")  # fmt: skip
    print(f"at start: {load_avg()}")

    t0 = time.perf_counter()
    lines = [line for line in load_corpus("imdb", "train", level="word").lines if line]
    lines = lines[: args.reviews]
    tokens = sum(map(len, lines))
    tmp = tempfile.TemporaryDirectory(prefix="bench-w2v-")
    text = Path(tmp.name) / "imdb_train.txt"  # the same tokens, one review a line, for ours
    text.write_text("\n".join(" ".join(t) for t in lines) + "\n", encoding="utf-8")
    print(f"IMDb LM training text: {len(lines):,} reviews, {tokens:,} tokens (tokenised in "
          f"{time.perf_counter() - t0:.0f} s)")  # fmt: skip
    questions = embeddings.read_analogies(word_benchmark("questions-words")[1])
    pairs = embeddings.read_word_pairs(word_benchmark("wordsim353")[1])
    cfg = Word2VecConfig()  # skip-gram, 100-d, window 5, 5 negatives, min-count 5, 1e-3
    rows = {}

    # gensim
    from gensim.models import Word2Vec as GensimWord2Vec

    print(f"gensim: {load_avg()}")
    g = GensimWord2Vec(vector_size=cfg.dim, window=cfg.window, negative=cfg.negative,
                       min_count=cfg.min_count, sample=cfg.sample, sg=1, alpha=cfg.alpha,
                       min_alpha=cfg.min_alpha, workers=args.threads, seed=args.seed)  # fmt: skip
    t = time.perf_counter()
    g.build_vocab(lines)
    vocab_s = time.perf_counter() - t
    t = time.perf_counter()
    g.train(lines, total_examples=len(lines), epochs=args.epochs)
    g_s = time.perf_counter() - t
    gkv = embeddings.KeyedVectors(g.wv.index_to_key, g.wv.vectors)
    rows["gensim skip-gram"] = {"seconds": g_s, "wps": args.epochs * tokens / g_s,
                                "prep": vocab_s, **scores(gkv, questions, pairs)}  # fmt: skip
    del g

    # ours
    print(f"rnnlab: {load_avg()}")
    t = time.perf_counter()
    r = train_embeddings(EmbeddingsJob(data=str(text), tokenizer="whitespace", model=cfg,
                                       out=args.out or str(Path(tmp.name) / "w2v"),
                                       epochs=args.epochs, seed=args.seed,
                                       threads=args.threads, progress=False))  # fmt: skip
    total_s = time.perf_counter() - t
    ours = r.model.keyed_vectors()
    rows["rnnlab skip-gram"] = {"seconds": r.seconds, "wps": r.words_per_second,
                                "prep": total_s - r.seconds,
                                **scores(ours, questions, pairs)}  # fmt: skip
    common = common_questions([gkv, ours], questions)
    same = {name: embeddings.evaluate_analogies(kv, common, 30000)
            for name, kv in (("gensim", gkv), ("rnnlab", ours))}  # fmt: skip

    # the lecture's route: language models' embedding matrices
    if args.lm and Path(args.lm).is_dir():
        lm_kv = embeddings.from_model(rnnlab.load(args.lm))
        rows["LM embedding (finished run, ~150 min)"] = {**scores(lm_kv, questions, pairs)}
    if not args.no_same_compute:
        rows.update(same_compute_lm(text, r.seconds))
    tmp.cleanup()

    print(f"at end: {load_avg()}\n")
    print(f"{'':<40} {'train s':>8} {'words/s':>10} {'prep s':>7} {'analogy':>8} {'(sem':>6} "
          f"{'syn)':>6} {'cover':>6} {'WS353':>6}  king - man + woman")  # fmt: skip
    for name, row in rows.items():
        timing = (f"{row['seconds']:8.1f} {row['wps']:10,.0f} {row['prep']:7.0f}"
                  if "seconds" in row else f"{'':8} {'':10} {'':7}")  # fmt: skip
        print(f"{name:<40} {timing} {row['analogy']:8.4f} {row['semantic']:6.3f} "
              f"{row['syntactic']:6.3f} {row['coverage']:6.1%} {row['wordsim']:6.3f}  "
              f"{row['queen']}")  # fmt: skip
    ours, theirs = rows["rnnlab skip-gram"], rows["gensim skip-gram"]
    print(f"\nwords/s rnnlab / gensim: {ours['wps'] / theirs['wps']:.2f}x; analogy "
          f"{ours['analogy']:.4f} vs {theirs['analogy']:.4f}; WordSim-353 {ours['wordsim']:.3f} "
          f"vs {theirs['wordsim']:.3f} ({theirs['pairs']} of {len(pairs)} pairs held)")  # fmt: skip
    print(f"analogy on the {same['rnnlab'].asked:,} questions both are asked (common): rnnlab "
          f"{same['rnnlab'].accuracy:.4f} vs gensim {same['gensim'].accuracy:.4f}")  # fmt: skip
    return 0


def same_compute_lm(text: Path, seconds: float) -> dict:
    """The finished LM's architecture, trained for ``seconds`` of training time on the same
    text; its embedding matrix scored."""
    from rnnlab.models.language_model import LMConfig
    from rnnlab.tasks.language_model import LMJob, train_lm
    from rnnlab.train import TrainConfig

    questions = embeddings.read_analogies(word_benchmark("questions-words")[1])
    pairs = embeddings.read_word_pairs(word_benchmark("wordsim353")[1])
    print(f"LM for {seconds:.0f} s: {load_avg()}")
    with tempfile.TemporaryDirectory(prefix="bench-lm-") as tmp:
        dev_file = Path(tmp) / "dev.txt"
        dev = load_corpus("imdb", "dev", level="word").lines[:200]  # held-out reviews
        dev_file.write_text("\n".join(" ".join(t) for t in dev if t) + "\n", encoding="utf-8")
        job = LMJob(
            data=str(text), dev=str(dev_file), out=str(Path(tmp) / "lm"), max_vocab=30000,
            batch_size=64, bptt=70,
            model=LMConfig(vocab_size=1, cell="lstm", embed_dim=256, hidden_size=384,
                           num_layers=2, dropout=0.1, adaptive_cutoffs=(2000, 10000)),
            train=TrainConfig(lr=2e-3, clip_norm=5.0, epochs=1, max_minutes=seconds / 60,
                              anneal_to=0.1, progress=False, seed=0),
        )  # fmt: skip
        t = time.perf_counter()
        result = train_lm(job)
        total = time.perf_counter() - t
        kv = embeddings.from_model(result.model)
    dev_ppl = result.scores["dev"]["perplexity"]
    name = f"LM embedding (same {seconds / 60:.1f} min; dev ppl {dev_ppl:.0f})"
    return {name: {"seconds": seconds, "wps": float("nan"), "prep": total - seconds,
                   **scores(kv, questions, pairs)}}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
