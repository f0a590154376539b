"""rnnlab demo, rnnlab inspect ..., rnnlab bench dependencies."""

from __future__ import annotations

import argparse

from rnnlab.cli.common import (
    UsageError,
    as_usage_error,
    cell_list,
    int_list,
    load_model,
    positive_int,
)


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="RNN vs LSTM vs GRU on parity: who learns which length, "
                       "and why (about 20 seconds, no download)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument(
        "--steps", type=positive_int, default=1000, help="training budget per cell and length"
    )
    p.add_argument("--lengths", type=int_list, default="5,10,20,50",
                   help="string lengths L (trained on 1..L bits)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/demo", help="folder for the pictures")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from rnnlab.inspect import format_at_steps
    from rnnlab.tasks.demo import DemoConfig, run_demo
    from rnnlab.tasks.dependencies import format_table

    with as_usage_error():
        config = DemoConfig(lengths=args.lengths, steps=args.steps, seed=args.seed, out=args.out,
                            progress=not args.no_progress)  # fmt: skip
        config.bench()  # checks the options before anything runs
    print("rnnlab demo: parity of bit strings, e.g. 1000010101 -> YES (even number of ones), "
          "100011 -> NO (odd)")  # fmt: skip
    print(f"a vanilla RNN, an LSTM and a GRU ({config.hidden_size} units) each train on strings "
          f"of 1..L bits, 64 a step, for at most {config.steps} steps per L (stopping once "
          "solved)\n")  # fmt: skip
    result = run_demo(config)
    print("\naccuracy on 1,000 new strings of exactly L bits (chance 0.5); @step: solved "
          "(>= 99% on a dev set) at that step, x: not within the budget")  # fmt: skip
    print(format_table(result.results, "accuracy"))
    print()
    for cell, longest in result.learned_up_to().items():
        said = f"learned parity up to L={longest}" if longest else "learned none of the lengths"
        if cell in result.transfer:
            _, acc = result.transfer[cell]
            said += f"; that model scores {acc:.3f} on strings of {config.flow_length} bits"
        print(f"{cell:>4}: {said}")
    flow = result.flow
    print(f"\n||dL/dh_t|| on strings of {flow.length} bits (loss at the last step; float64):")
    print(format_at_steps({k: f.curve() for k, f in flow.flows.items()}))
    e = flow.exploding
    print(f"vanilla RNN with weight_hh ~ N(0, {flow.gain:g}^2/H): ||dL/dh_1|| "
          f"{float(e.curve()[0]):.2e}, parameter gradient norm {e.grad_norm:.2e}; "
          f"clip_grad_norm_({flow.clip_norm:g}) scales every step by {e.clip_coef:.2e} (same "
          "shape, bounded update)")  # fmt: skip
    print(f"\ntook {result.seconds:.0f} s; pictures:")
    for path in result.pictures.values():
        print(f"  {path}")
    return 0


def add_inspect(sub) -> None:
    p = sub.add_parser("inspect", help="look inside recurrent models (pictures + numbers)")
    kinds = p.add_subparsers(dest="what", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter

    p = kinds.add_parser("gradient-flow", formatter_class=fmt,
                         help="||dL/dh_t|| over time per cell; explosion and clipping")  # fmt: skip
    p.add_argument("--cells", type=cell_list, default="rnn,lstm,gru", help="cells")
    p.add_argument("--length", type=positive_int, default=100, help="bits in the parity strings")
    p.add_argument("--hidden", type=positive_int, default=32, help="hidden units")
    p.add_argument("--batch-size", type=positive_int, default=32, help="strings in the batch")
    p.add_argument("--gain", type=float, default=3.0, help="large recurrent init: weight_hh ~ "
                   "N(0, gain^2/H)")  # fmt: skip
    p.add_argument("--clip", type=float, default=1.0, help="clip_grad_norm_ max norm")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/inspect/gradient_flow.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_gradient_flow)

    p = kinds.add_parser("sensitivity", formatter_class=fmt,
                         help="how much each output step depends on the first input")  # fmt: skip
    p.add_argument("--cells", type=cell_list, default="rnn,lstm,gru", help="cells")
    p.add_argument("--length", type=positive_int, default=50, help="time steps")
    p.add_argument("--hidden", type=positive_int, default=32, help="hidden units")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/inspect/sensitivity.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_sensitivity)

    p = kinds.add_parser("gates", formatter_class=fmt,
                         help="per-token LSTM/GRU gate activations as heatmaps")  # fmt: skip
    p.add_argument("text", help="a text for --model, or a bit string such as 1000010101")
    p.add_argument("--model", help="a model directory written by rnnlab train; without it, a "
                   "parity model of --cell is trained on the spot (seconds)")  # fmt: skip
    p.add_argument("--cell", choices=("lstm", "gru"), default="lstm", help="parity model's cell")
    p.add_argument("--layer", type=int, default=0, help="layer of the stack")
    p.add_argument("--direction", type=int, default=0, help="0 forward, 1 backward")
    p.add_argument("--units", type=positive_int, default=32, help="units to draw")
    p.add_argument("--out", default="runs/inspect/gates.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_gates)

    p = kinds.add_parser("summary", formatter_class=fmt,
                         help="Keras-style table: shapes, parameters, formulas")  # fmt: skip
    p.add_argument("--model", help="a model directory; without it, the lecture's example "
                   "Embedding(vocab, embed) -> cell(hidden) -> Dense(1)")  # fmt: skip
    p.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="cell")
    p.add_argument("--vocab", type=positive_int, default=10000, help="vocabulary size")
    p.add_argument("--embed", type=positive_int, default=32, help="embedding size")
    p.add_argument("--hidden", type=positive_int, default=100, help="hidden units")
    p.add_argument("--layers", type=positive_int, default=1, help="stacked layers")
    p.add_argument("--bidirectional", action="store_true", help="two directions")
    p.add_argument("--max-len", type=positive_int, default=600, help="tokens in the example input")
    p.set_defaults(func=cmd_inspect_summary)
    from rnnlab.cli import speech as speech_cli

    speech_cli.add_inspect(kinds)  # rnnlab inspect speech MODEL FILE.wav
    from rnnlab.cli import embeddings as embeddings_cli

    embeddings_cli.add_inspect(kinds)  # rnnlab inspect embeddings RUN --words ...


def cmd_inspect_gradient_flow(args) -> int:
    import torch

    from rnnlab.data.synthetic import TASKS
    from rnnlab.inspect import format_at_steps
    from rnnlab.inspect.plots import plot_gradient_flow
    from rnnlab.tasks.demo import flow_experiment
    from rnnlab.tasks.dependencies import build_model

    models = {}
    for cell in args.cells:
        torch.manual_seed(args.seed)
        models[f"{cell} at init"] = build_model(cell, TASKS["parity"], args.hidden)
    with as_usage_error():  # it checks the gain first
        flow = flow_experiment(models, args.length, args.hidden, args.batch_size, args.gain,
                               args.clip, args.seed)  # fmt: skip
    print(f"||dL/dh_t|| on {args.batch_size} parity strings of {args.length} bits, loss at the "
          f"last step, {args.hidden} units, freshly initialised (LSTM forget bias 1):")  # fmt: skip
    curves = {k: f.curve() for k, f in flow.flows.items()}
    e = flow.exploding
    curves[f"rnn, gain {args.gain:g}"] = e.curve()
    curves[f"  after clipping (x{e.clip_coef:.1e})"] = e.clipped_curve()
    print(format_at_steps(curves))
    print(f"parameter gradient norm with the large init: {e.grad_norm:.3e}, after "
          f"clip_grad_norm_({args.clip:g}): {e.clipped_grad_norm:.3e}")  # fmt: skip
    print(f"wrote {plot_gradient_flow(flow.panels(), args.out)}")
    return 0


def cmd_inspect_sensitivity(args) -> int:
    import torch

    from rnnlab.data.synthetic import TASKS, parity
    from rnnlab.inspect import format_at_steps, sensitivity
    from rnnlab.inspect.plots import plot_sensitivity
    from rnnlab.tasks.dependencies import build_model

    x = parity(1, args.length, torch.Generator().manual_seed(args.seed), args.length).x[0]
    maps = {}
    for cell in args.cells:
        torch.manual_seed(args.seed)
        layer = build_model(cell, TASKS["parity"], args.hidden).rnn.double()
        maps[cell] = sensitivity(layer, x.double()).norms
    print(f"||dh_t/dx_1|| over {args.length} steps of random bits, {args.hidden} units, "
          "freshly initialised (LSTM forget bias 1), float64:")  # fmt: skip
    print(format_at_steps({cell: m.norm(dim=1) for cell, m in maps.items()}))
    print(f"wrote {plot_sensitivity(maps, args.out)}")
    return 0


def cmd_inspect_gates(args) -> int:
    from rnnlab.inspect import gate_activations
    from rnnlab.inspect.plots import plot_gates

    if args.model:
        model, inputs = load_model(args.model), args.text
    else:
        inputs = _bits(args.text)  # checked before the model trains
        model = _parity_model(args.cell)
    with as_usage_error():  # its ValueErrors are about the model, text, layer or direction
        acts = gate_activations(model, inputs, layer=args.layer, direction=args.direction,
                                tokens=None if args.model else list(args.text))  # fmt: skip
    means = acts.means()
    print("token".ljust(16) + "".join(f"{name:>9}" for name in means) + "   (mean over units)")
    for t, token in enumerate(acts.tokens):
        print(token[:15].ljust(16) + "".join(f"{float(m[t]):>9.3f}" for m in means.values()))
    print(f"wrote {plot_gates(acts, args.out, units=args.units)}")
    return 0


def _bits(text: str):
    import torch

    if not text or set(text) - {"0", "1"}:
        raise UsageError(f"without --model the text must be a bit string like 1000010101, "
                         f"got {text!r}")  # fmt: skip
    return torch.nn.functional.one_hot(torch.tensor([int(b) for b in text]), 2).float()


def _parity_model(cell: str):
    from rnnlab.tasks.dependencies import BenchConfig, train_run

    run = train_run(cell, 10, BenchConfig(cells=(cell,), lengths=(10,), steps=500, progress=False))
    print(f"trained a {cell} on parity of 1..10 bits: accuracy {run.scores['accuracy']:.3f} after "
          f"{run.steps} steps")  # fmt: skip
    return run.model


def cmd_inspect_summary(args) -> int:
    import torch

    from rnnlab.inspect import summary
    from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier

    if args.model:
        model = load_model(args.model)
    else:
        model = SequenceClassifier(ClassifierConfig(
            vocab_size=args.vocab, num_classes=2, cell=args.cell, embed_dim=args.embed,
            hidden_size=args.hidden, num_layers=args.layers, bidirectional=args.bidirectional,
            dropout=0.0,
        ))  # fmt: skip
    ids = torch.ones(1, args.max_len, dtype=torch.long)  # one example of max_len tokens
    if isinstance(model, SequenceClassifier):
        table = summary(model, ids, torch.tensor([args.max_len]))
    else:
        table = summary(model, ids)
    print(table)
    return 0


def add_bench(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks")
    kinds = p.add_subparsers(dest="what", required=True)
    p = kinds.add_parser("dependencies", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                         help="every cell at every length, one budget each")  # fmt: skip
    p.add_argument("--task", choices=("parity", "adding", "copy"), default="parity",
                   help="parity of 1..L bits, adding problem of length L, or recall after a "
                        "delay of L")  # fmt: skip
    p.add_argument("--cells", type=cell_list, default="rnn,lstm,gru", help="cells")
    p.add_argument("--lengths", type=int_list, default="10,20,50,100,200", help="lengths L")
    p.add_argument(
        "--steps", type=positive_int, default=1000, help="budget: training steps per run"
    )
    p.add_argument("--hidden", type=positive_int, default=32, help="hidden units")
    p.add_argument("--batch-size", type=positive_int, default=64, help="sequences per step")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/bench/dependencies.png", help="the PNG to write")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_bench_dependencies)


def cmd_bench_dependencies(args) -> int:
    import time

    from rnnlab.data.synthetic import TASKS
    from rnnlab.inspect.plots import plot_metric_vs_length
    from rnnlab.tasks.dependencies import BenchConfig, format_table, result_table, run_bench

    with as_usage_error():
        config = BenchConfig(task=args.task, cells=args.cells, lengths=args.lengths,
                             steps=args.steps, hidden_size=args.hidden,
                             batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             progress=not args.no_progress)  # fmt: skip
    task = TASKS[args.task]
    start = time.perf_counter()
    results = run_bench(config)
    seconds = time.perf_counter() - start
    print(f"{task.name}: {task.description}; {args.hidden} units, at most {args.steps} steps of "
          f"{args.batch_size}; test {task.metric} (chance {task.chance:.3g}); @step: solved "
          "then, x: not within the budget")  # fmt: skip
    print(format_table(results, task.metric))
    if task.metric != "accuracy":
        print("share within 0.04 of the target (Hochreiter & Schmidhuber's criterion):")
        print(format_table(results, "accuracy"))
    print(f"took {seconds:.0f} s")
    table = result_table(results, task.metric)
    title = f"{task.name}: {task.description}, at most {args.steps} steps each"
    print(f"wrote {plot_metric_vs_length(table, args.out, task.metric, task.chance, title)}")
    return 0
