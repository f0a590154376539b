"""The translation side of the rnnlab command, in process through rnnlab.cli.main: train translate
on line-aligned files, translate (beam, scores, attention picture), bleu (equal to sacreBLEU, with
its signature and a breakdown), evaluate on a file pair, and user errors as one line, exit 2."""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

import pytest
import sacrebleu

from rnnlab.cli import main

SRC_WORDS = "ein hund katze rennt springt über das gras".split()
TGT_WORDS = "a dog cat runs jumps over the grass".split()


def run(argv: list) -> tuple[int, str, str]:
    """main(argv) with stdout and stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_mt")
    r = random.Random(0)
    lexicon = dict(zip(SRC_WORDS, TGT_WORDS, strict=True))
    src = [[r.choice(SRC_WORDS) for _ in range(r.randint(2, 5))] for _ in range(240)]
    tgt = [[lexicon[w] for w in s] for s in src]
    paths = {"root": root}
    for name, part in (("train", slice(0, 200)), ("dev", slice(200, 240))):
        paths[f"{name}_src"] = write(root / f"{name}.src", [" ".join(s) for s in src[part]])
        paths[f"{name}_tgt"] = write(root / f"{name}.tgt", [" ".join(t) for t in tgt[part]])
    return paths


@pytest.fixture(scope="module")
def trained(files) -> tuple[Path, str]:
    out = files["root"] / "run"
    code, stdout, stderr = run([
        "train", "translate", "--src-file", files["train_src"], "--tgt-file", files["train_tgt"],
        "--dev-src", files["dev_src"], "--dev-tgt", files["dev_tgt"], "--src", "xx", "--tgt", "yy",
        "--min-freq", "1", "--embed", "16", "--hidden", "16", "--attention", "general",
        "--dropout", "0", "--epochs", "4", "--lr", "0.01", "--beam", "2", "--no-progress",
        "--out", out,
    ])  # fmt: skip
    assert code == 0, stderr
    return out, stdout


def test_train_prints_bleu_and_saves(trained):
    out, stdout = trained
    assert "dev: BLEU" in stdout and "beam 2" in stdout and "signature" not in stdout
    for name in ("config.json", "src_vocab.json", "tgt_vocab.json", "model.safetensors",
                 "metrics.jsonl", "scores.json"):  # fmt: skip
        assert (out / name).is_file(), name


def test_translate_texts_file_scores_and_attention_picture(trained, files):
    out, _ = trained
    png = files["root"] / "att.png"
    code, stdout, stderr = run(["translate", out, "ein hund rennt", "das gras", "--beam", "3",
                                "--scores", "--show-attention", png])  # fmt: skip
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 2 and all(float(line.split()[0]) <= 0 for line in lines)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "attention" in stderr
    texts = write(files["root"] / "texts.txt", ["ein hund", "", "katze springt"])
    code, stdout, _ = run(["translate", out, "--file", texts, "--beam", "1"])
    assert code == 0 and len(stdout.splitlines()) == 2


def test_bleu_equals_sacrebleu_with_signature(files):
    root = files["root"]
    hyps = ["The dog the dog hiding under the bed", "a cat sat on the mat .", ""]
    ref1 = ["The Dog is hiding under the bed", "the cat sat on the mat.", "nothing here"]
    ref2 = ["There is a dog under the bed", "a cat was on the mat", "empty"]
    h, r1, r2 = (
        write(root / "hyp.txt", hyps),
        write(root / "r1.txt", ref1),
        write(root / "r2.txt", ref2),
    )
    code, stdout, _ = run(["bleu", h, r1, r2])
    assert code == 0
    first, signature = stdout.splitlines()[:2]
    assert first == str(sacrebleu.corpus_bleu(hyps, [ref1, ref2]))
    assert signature.startswith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:rnnlab-")
    code, stdout, _ = run(["bleu", h, r1, "-lc", "--smooth", "floor", "--breakdown", "1"])
    expected = sacrebleu.corpus_bleu(hyps, [ref1], lowercase=True, smooth_method="floor")
    assert stdout.splitlines()[0] == str(expected)
    assert "case:lc" in stdout and "smooth:floor[0.10]" in stdout and "p_1 = " in stdout


def test_evaluate_on_a_file_pair(trained, files):
    out, _ = trained
    code, stdout, stderr = run(["evaluate", out, "--data",
                                f"{files['dev_src']},{files['dev_tgt']}"])  # fmt: skip
    assert code == 0, stderr
    assert "greedy: BLEU = " in stdout and "beam 5, alpha 1: BLEU = " in stdout
    assert "40 sentences" in stdout and "nrefs:1|case:lc" in stdout


@pytest.mark.parametrize(
    "argv,match",
    [
        (lambda f, m: ["bleu", f["dev_tgt"], f["train_tgt"]], "align line by line"),
        (lambda f, m: ["bleu", f["root"] / "missing.txt", f["dev_tgt"]], "cannot read"),
        (lambda f, m: ["translate", m], "nothing to translate"),
        (lambda f, m: ["translate", m, "ein", "--beam", "0"], "--beam must be >= 1"),
        (lambda f, m: ["evaluate", m, "--data", "wmt14"], "neither a known parallel corpus"),
        (lambda f, m: ["evaluate", m, "--data", "multi30k"], "languages"),
        (lambda f, m: ["train", "translate", "--src-file", f["train_src"]], "--tgt-file"),
        (lambda f, m: ["translate", f["root"], "x"], "config.json is missing"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(argv, match, files, trained):
    code, stdout, stderr = run(argv(files, trained[0]))
    assert code == 2
    assert match in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_help_of_the_subcommands():
    for argv in (["train", "translate", "--help"], ["translate", "--help"], ["bleu", "--help"]):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0 and "(default: " in out.getvalue()
