"""rnnlab train embeddings, rnnlab similar, rnnlab analogy, rnnlab inspect embeddings, and
rnnlab evaluate for word vectors.

RUN is a directory written by ``rnnlab train embeddings`` (or by any word-level ``rnnlab train``:
a language model's, classifier's or tagger's embedding matrix, the lecture's route), or a
word2vec (text or ``.bin``) or GloVe file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    as_usage_error,
    positive_int,
    print_budget_spent,
    register,
)

BENCHMARKS = ("questions-words", "wordsim353")


def add_train(sub) -> None:
    """``rnnlab train embeddings``."""
    p = sub.add_parser("embeddings", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       help="word vectors: skip-gram or CBOW with negative sampling (word2vec) "
                            "on imdb, ptb or any text file")  # fmt: skip
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True,
                   help="a registered corpus (imdb: unsup + train reviews, ptb ...) or a text "
                        "file, one sentence or document per line")  # fmt: skip
    g.add_argument("--tokenizer", choices=("word", "whitespace"), default="word",
                   help="a text file's tokens: rnnlab's word tokenizer (lower-cased, PTB "
                        "style) or whitespace (already tokenised)")  # fmt: skip
    g.add_argument("--min-count", type=positive_int, default=5, help="drop rarer words")
    g.add_argument("--max-vocab", type=positive_int, help="keep only the most frequent words")
    g = p.add_argument_group("model")
    g.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    g.add_argument("--dim", type=positive_int, default=100, help="vector dimensions")
    g.add_argument("--window", type=positive_int, default=5, help="largest window each side")
    g.add_argument("--negative", type=positive_int, default=5, help="noise words per word")
    g.add_argument("--sample", type=float, default=1e-3,
                   help="subsampling threshold of frequent words (0: off)")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=positive_int, default=5, help="passes over the corpus")
    g.add_argument("--alpha", type=float, default=0.025, help="learning rate at the start")
    g.add_argument("--min-alpha", type=float, default=0.0001,
                   help="learning rate at the end (it falls linearly)")  # fmt: skip
    g.add_argument("--threads", type=int, default=0,
                   help="Hogwild threads of the native engine (0: torch's)")  # fmt: skip
    g.add_argument("--engine", choices=("auto", "native", "torch"), default="auto",
                   help="native: the compiled loop; torch: batched PyTorch")  # fmt: skip
    g.add_argument("--max-minutes", type=float, metavar="M",
                   help="stop after this much training time (with a checkpoint; --resume goes "
                        "on)")  # fmt: skip
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--out", default="runs/embeddings", help="the run directory to write")
    g.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from rnnlab.models.word2vec import Word2VecConfig
    from rnnlab.tasks.embeddings import EmbeddingsJob, train_embeddings

    with as_usage_error():
        job = EmbeddingsJob(
            data=args.data, out=args.out, tokenizer=args.tokenizer, epochs=args.epochs,
            seed=args.seed, engine=args.engine, threads=args.threads,
            max_minutes=args.max_minutes, progress=not args.no_progress, resume=args.resume,
            model=Word2VecConfig(
                architecture="cbow" if args.cbow else "skipgram", dim=args.dim,
                window=args.window, negative=args.negative, min_count=args.min_count,
                max_vocab=args.max_vocab, sample=args.sample, alpha=args.alpha,
                min_alpha=args.min_alpha,
            ),
        )  # fmt: skip
    try:
        result = train_embeddings(job)
    except KeyboardInterrupt:
        print(f"interrupted: a checkpoint is in {args.out}; continue with the same command and "
              "--resume")  # fmt: skip
        return 130
    if result.budget_spent:
        print_budget_spent(args.max_minutes, len(result.history))
    kv = result.model.keyed_vectors()
    rate = f"{result.words_per_second:,.0f} words/s over {result.seconds:.1f} s of training"
    print(f"{len(kv):,} words x {kv.dim} dimensions; {result.words:,} corpus words per epoch, "
          f"{rate}")  # fmt: skip
    if result.history:
        print(f"loss per scored word, last epoch: {result.history[-1]['train_loss']:.4f}")
    print(f"saved to {args.out} (model.safetensors, config.json, words.json, metrics.jsonl)")
    return 0


# ---- reading RUN ------------------------------------------------------------------------------


def load_vectors(run: str, limit: int | None = None):
    """The word vectors of RUN (a run directory or a vector file), errors as one line."""
    from rnnlab import embeddings

    if not Path(run).exists():
        raise UsageError(f"{run} does not exist: give a directory written by rnnlab train or a "
                         "word2vec / GloVe file")  # fmt: skip
    if Path(run).is_dir():
        import rnnlab

        kv = embeddings.from_model(rnnlab.load(run))
        return kv if limit is None else kv.restrict(limit)
    return embeddings.load(run, limit=limit)


def _words(kv, words: list[str]) -> list[str]:
    """``words`` as the vectors spell them: the word itself, else its lower-cased form."""
    out = []
    for w in words:
        if w not in kv and w.lower() in kv:
            w = w.lower()
        kv.id(w)  # UnknownWordError (an InputError) names it
        out.append(w)
    return out


# ---- rnnlab evaluate ------------------------------------------------------------------------


def is_vector_query(run: str, data: str | None) -> bool:
    """Whether ``rnnlab evaluate RUN --data DATA`` is for word vectors: RUN is a vector file,
    or DATA names a word-vector test set (any model with an embedding then answers)."""
    return Path(run).is_file() or data in BENCHMARKS


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate RUN --data questions-words|wordsim353|FILE``: analogy accuracy per
    section (top-``--restrict`` words, coverage stated) or Spearman's rho of word pairs."""
    from rnnlab import embeddings
    from rnnlab.data.word_benchmarks import word_benchmark

    kv = embeddings.from_model(model) if model is not None else load_vectors(args.model_dir)
    if args.data in BENCHMARKS:
        kind, path = word_benchmark(args.data)
    elif args.data is None or not Path(args.data).is_file():
        raise UsageError(f"--data must be {' or '.join(BENCHMARKS)}, or a file of analogy "
                         "questions ('a b c d' lines under ': section' headers) or of word "
                         "pairs ('word1 word2 score' lines)")  # fmt: skip
    else:
        path = Path(args.data)
        first = next((ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()
                      if ln.strip() and not ln.startswith("#")), "")  # fmt: skip
        kind = "analogies" if first.startswith(":") or len(first.split()) == 4 else "pairs"
    restrict = getattr(args, "restrict", None)
    if kind == "analogies":
        n = restrict or 30000
        scores = embeddings.evaluate_analogies(kv, embeddings.read_analogies(path), n,
                                               getattr(args, "method", "add"))  # fmt: skip
        print(f"{'section':<28} {'accuracy':>8} {'correct':>8} {'asked':>6} {'total':>6}")
        for name, (correct, asked, total) in scores.sections.items():
            acc = f"{correct / asked:.4f}" if asked else "-"
            print(f"{name:<28} {acc:>8} {correct:>8} {asked:>6} {total:>6}")
        for label, semantic in (("semantic", True), ("syntactic", False)):
            correct, asked, total = scores.group(semantic)
            if total:
                print(f"{label:<28} {correct / max(1, asked):>8.4f} {correct:>8} {asked:>6} "
                      f"{total:>6}")  # fmt: skip
        print(f"accuracy {scores.accuracy:.4f} ({scores.correct:,} of {scores.asked:,} asked); "
              f"coverage {scores.coverage:.1%} of {scores.total:,} questions (top {n:,} words "
              f"of {len(kv):,})")  # fmt: skip
    else:
        n = restrict or 300000
        s = embeddings.evaluate_word_pairs(kv, embeddings.read_word_pairs(path), n)
        print(f"Spearman {s.spearman:.4f}, Pearson {s.pearson:.4f} over {s.used} of {s.total} "
              f"pairs ({s.oov} with a word out of the vocabulary)")  # fmt: skip
    return 0


# ---- rnnlab similar, rnnlab analogy -----------------------------------------------------------


def add_similar_and_analogy(sub) -> None:
    """``rnnlab similar RUN WORD`` and ``rnnlab analogy RUN A B C``."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser("similar", formatter_class=fmt,
                       help="the nearest words (cosine, euclidean or manhattan)")  # fmt: skip
    p.add_argument("run", help="a run directory, or a word2vec / GloVe file")
    p.add_argument("words", nargs="+", help="a word; several: their vectors added")
    p.add_argument("--minus", nargs="*", default=[], help="words whose vectors are subtracted")
    p.add_argument("--metric", choices=("cosine", "euclidean", "manhattan"), default="cosine",
                   help="how nearness is measured")  # fmt: skip
    p.add_argument("--topn", type=positive_int, default=10, help="answers to print")
    p.add_argument("--restrict", type=positive_int, help="search the N most frequent words only")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("analogy", formatter_class=fmt,
                       help="a : b :: c : ?  (man woman king -> queen)")  # fmt: skip
    p.add_argument("run", help="a run directory, or a word2vec / GloVe file")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("--method", choices=("add", "mul"), default="add",
                   help="3CosAdd or 3CosMul (Levy & Goldberg 2014)")  # fmt: skip
    p.add_argument("--topn", type=positive_int, default=5, help="answers to print")
    p.add_argument("--restrict", type=positive_int, default=30000,
                   help="search the N most frequent words only")  # fmt: skip
    p.set_defaults(func=cmd_analogy)


def cmd_similar(args) -> int:
    kv = load_vectors(args.run)
    words, minus = _words(kv, args.words), _words(kv, args.minus)
    with as_usage_error():
        best = kv.most_similar(words, minus, topn=args.topn, metric=args.metric,
                               restrict_vocab=args.restrict)  # fmt: skip
    for word, score in best:
        print(f"{word}\t{score:.4f}")
    return 0


def cmd_analogy(args) -> int:
    kv = load_vectors(args.run)
    a, b, c = _words(kv, [args.a, args.b, args.c])
    for word, score in kv.analogy(a, b, c, topn=args.topn, method=args.method,
                                  restrict_vocab=args.restrict):  # fmt: skip
        print(f"{word}\t{score:.4f}")
    return 0


# ---- rnnlab inspect embeddings ----------------------------------------------------------------


def add_inspect(kinds) -> None:
    """``rnnlab inspect embeddings RUN --words ... --out fig.png``."""
    p = kinds.add_parser("embeddings", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                         help="chosen words' vectors in 2-D (PCA, or t-SNE with "
                              "scikit-learn)")  # fmt: skip
    p.add_argument("run", help="a run directory, or a word2vec / GloVe file")
    p.add_argument("--words", nargs="+", required=True,
                   help="the words to draw (also comma-separated); a:b draws an arrow from a "
                        "to b")  # fmt: skip
    p.add_argument("--method", choices=("pca", "tsne"), default="pca", help="the projection")
    p.add_argument("--seed", type=int, default=0, help="t-SNE's seed")
    p.add_argument("--out", default="runs/inspect/embeddings.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect)


def cmd_inspect(args) -> int:
    from rnnlab.inspect.embedding_plot import plot_embeddings

    kv = load_vectors(args.run)
    items = [w for arg in args.words for w in arg.split(",") if w]
    pairs = [tuple(_words(kv, item.split(":", 1))) for item in items if ":" in item]
    words = list(dict.fromkeys(_words(kv, [w for item in items for w in item.split(":")])))
    path = plot_embeddings(words, kv.vectors[[kv.id(w) for w in words]], args.out, args.method,
                           pairs, f"{Path(args.run).name}: {args.method.upper()} of "
                           f"{len(words)} words", args.seed)  # fmt: skip
    print(f"wrote {path}")
    return 0


TASK = register(TaskCLI(
    "embeddings", "a word-vector model", "rnnlab similar or rnnlab analogy", cmd_evaluate,
    "--data questions-words (analogy accuracy per section, top 30,000 words, coverage stated), "
    "wordsim353 (Spearman's rho), or a file of either; also for any word-level model's "
    "embedding and for a word2vec / GloVe file given as the model",
))  # fmt: skip
