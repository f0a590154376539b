"""rnnlab export: a saved classifier, tagger or language model as an ONNX file."""

from __future__ import annotations

import argparse
import logging
import warnings

from rnnlab.cli.common import UsageError, load_model


def add_export(sub) -> None:
    """``rnnlab export RUN --format onnx --out model.onnx``."""
    p = sub.add_parser(
        "export",
        help="write a trained classifier, tagger (emissions) or language model (one step) as ONNX",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("model_dir", help="a directory written by rnnlab train classify, tag or lm")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="the file format")
    p.add_argument("--out", default="model.onnx", help="the file to write")
    p.add_argument("--opset", type=int, default=18, help="the ONNX opset version")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    """Export, then print the graph's inputs and outputs with their shapes."""
    try:
        from rnnlab.export import export_onnx, onnx_graph
    except ModuleNotFoundError as e:  # pragma: no cover - torch always has torch.onnx
        raise UsageError(f"rnnlab export needs {e.name}: pip install 'rnnlab[export]'") from e
    model = load_model(args.model_dir)
    onnx_graph(model)  # ExportError (one line) for a kind that cannot be exported, before all
    try:
        import onnxscript  # noqa: F401  (torch.onnx.export's exporter)
    except ModuleNotFoundError as e:
        raise UsageError(f"rnnlab export needs {e.name}: pip install 'rnnlab[export]'") from e
    # the exporter reports its progress on stdout and warns about what it skips: quiet it
    quiet = ("torch.onnx", "torch.export", "onnxscript", "torch._dynamo", "torch.fx")
    levels = {name: logging.getLogger(name).level for name in quiet}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = export_onnx(model, args.out, opset=args.opset)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    print(f"wrote {args.out} ({model.task}, ONNX opset {args.opset})")
    for name, example in zip(graph.input_names, graph.inputs, strict=True):
        axes = graph.dynamic.get(name, {})
        shape = ", ".join(axes.get(i, str(n)) for i, n in enumerate(example.shape))
        print(f"  input  {name} ({shape}) {str(example.dtype).removeprefix('torch.')}")
    print(f"  output {', '.join(graph.output_names)}")
    return 0
