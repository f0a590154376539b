"""rnnlab serve: saved runs behind a JSON API and a page to use them (rnnlab.serve)."""

from __future__ import annotations

import argparse

from rnnlab.cli.common import UsageError, positive_int


def add_serve(sub) -> None:
    """``rnnlab serve RUN [RUN ...] --host 127.0.0.1 --port 8000``."""
    p = sub.add_parser(
        "serve",
        help="serve saved runs: a JSON API (POST /api/models/NAME/predict) and a page at /",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Serve saved runs over HTTP: GET / is a page to use them, GET /api/models "
        "lists them by their folder's name, POST /api/models/NAME/predict predicts (its JSON "
        "body follows the run's kind; /docs shows each). Needs the serve extra: "
        'pip install -e ".[serve]".',
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="directories written by rnnlab train")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (0.0.0.0: every interface; the API has no "
                        "authentication)")  # fmt: skip
    p.add_argument("--port", type=int, default=8000, help="the TCP port")
    g = p.add_argument_group("limits of one request")
    g.add_argument("--max-text", type=positive_int, default=2000,
                   help="characters of a text or prompt")  # fmt: skip
    g.add_argument("--max-tokens", type=positive_int, default=500,
                   help="tokens a language model samples or a translator writes")  # fmt: skip
    g.add_argument("--max-body", type=positive_int, default=2_000_000,
                   help="bytes of a request body (a JSON body or an uploaded WAV)")  # fmt: skip
    g.add_argument("--timeout", type=float, default=20.0,
                   help="seconds a prediction may take, waiting included (then 503)")  # fmt: skip
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    """Load the runs, then serve them with uvicorn until Ctrl-C."""
    try:
        import uvicorn

        from rnnlab.serve import Limits, create_app
    except ImportError as e:
        raise UsageError(f"rnnlab serve needs the serve extra ({e.name} is missing): "
                         'pip install -e ".[serve]"') from e  # fmt: skip
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {args.port}")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    limits = Limits(max_body_bytes=args.max_body, max_text_chars=args.max_text,
                    max_tokens=args.max_tokens, timeout_s=args.timeout)  # fmt: skip
    try:
        app = create_app(args.runs, limits)
    except ValueError as e:  # two runs of one name, a name that is no URL segment
        raise UsageError(str(e)) from e
    for info in app.state.served.values():
        print(f"{info.name}: {info.info().kind} ({info.task})")
    print(f"serving {len(app.state.served)} runs at http://{args.host}:{args.port}/ "
          "(API docs at /docs; Ctrl-C stops)", flush=True)  # fmt: skip
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
