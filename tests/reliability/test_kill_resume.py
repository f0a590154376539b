"""kill -9 drills for every ``rnnlab train TASK``: a run killed at a random step, just before a
random one of its file writes or of its checkpoint's (the temporary file whole or torn), or at a
random moment from outside, and then resumed with ``--resume``, ends with the uninterrupted run's
weights, bit for bit, its metrics log and its scores.

The drills run in kill_drill.py, a subprocess that imports rnnlab once and forks every training
run (so the 90 runs start in milliseconds each), two tasks at a time. Runs use one torch thread
and resume bit-exact (the trainer's contract on CPU); with RNNLAB_DRILL_THREADS=2 (and hidden
sizes of 32, word2vec on 2 threads) every drill of every task was bit-exact as well, so the
comparison stays exact. The kill points come from RNNLAB_DRILL_SEED (default: a fresh seed each
session, printed in every failure message).
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from caption_files import write_folder
from embedding_files import planted_corpus
from order_task import order_task
from rnnlab.train.weights import read_tensors
from run_files import current_weights, records
from series_files import waves, write_ts
from speech_files import write_tone_folder

TASKS = ("classify", "lm", "tag", "translate", "speech", "music", "forecast", "series",
         "embeddings", "caption")  # fmt: skip
SEED = int(os.environ.get("RNNLAB_DRILL_SEED", random.SystemRandom().randrange(10**6)))
COMMON = ["--epochs", "2", "--no-progress"]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def task_argv(root: Path) -> dict[str, list[str]]:
    """Tiny data for every task, written under ``root``, and its ``rnnlab train`` argv."""
    r = random.Random(0)
    cls = _write(root / "cls.tsv", [f"{t}\t{y}" for t, y in order_task(120, seed=1)])
    grammar = [["the"], ["cat", "dog"], ["sat", "ran"], ["on", "to"], ["the"], ["mat", "park"]]
    lm = _write(root / "lm.txt", [" ".join(r.choice(s) for s in grammar) for _ in range(80)])
    blocks = []
    for _ in range(60):
        cue, kind = r.choice([("met", "PER"), ("in", "LOC")])
        words = ["we", cue, r.choice(["Anna", "Ravi", "Paris", "Lima"]), "."]
        tags = ["O", "O", f"B-{kind}", "O"]
        blocks.append("".join(f"{w}\t{t}\n" for w, t in zip(words, tags, strict=True)))
    (root / "tag.tsv").write_text("\n".join(blocks), encoding="utf-8")
    lexicon = dict(zip("ein hund katze rennt das".split(), "a dog cat runs the".split(),
                       strict=True))  # fmt: skip
    src = [[r.choice(list(lexicon)) for _ in range(r.randint(2, 4))] for _ in range(60)]
    _write(root / "mt.src", [" ".join(s) for s in src])
    _write(root / "mt.tgt", [" ".join(lexicon[w] for w in s) for s in src])
    write_tone_folder(root / "speech", per=3)
    chords = [[48, 55, 64], [53, 57, 65], [55, 59, 62], [48, 55, 64]]
    piece = [chords[i // 4] + [72 + i % 5] for i in range(16)]
    (root / "music.json").write_text(json.dumps({"train": [piece, piece[::-1], piece[2:]],
                                                 "valid": [piece], "test": [piece]}))  # fmt: skip
    values = [20 + i * 0.2 + 5 * math.sin(i * math.pi / 6) for i in range(60)]
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.3f}" for i, v in enumerate(values)]
    _write(root / "sales.csv", ["month,sales", *rows])
    write_ts(root / "Waves_TRAIN.ts", *waves(40, seed=1, min_len=6, max_len=12))
    planted_corpus(root / "w2v.txt", sentences=300)
    write_folder(root / "shapes", 24, size=16)
    small = ["--hidden", "8", "--lr", "0.01"]
    return {
        "classify": ["train", "classify", "--data", cls, "--embed", "8", "--dropout", "0.2",
                     "--batch-size", "16", *small],
        "lm": ["train", "lm", "--data", lm, "--layers", "1", "--dropout", "0.2", "--batch-size",
               "4", "--bptt", "8", *small],
        "tag": ["train", "tag", "--data", root / "tag.tsv", "--crf", "--char", "--embed", "8",
                "--char-embed", "4", "--char-hidden", "4", "--batch-size", "8", *small],
        "translate": ["train", "translate", "--src-file", root / "mt.src", "--tgt-file",
                      root / "mt.tgt", "--src", "xx", "--tgt", "yy", "--embed", "8",
                      "--attention", "general", "--batch-size", "8", *small],
        "speech": ["train", "speech", "--data", root / "speech", "--features", "logmel",
                   "--test-index", "0-0", "--mels", "8", "--layers", "1", "--batch-size", "8",
                   "--spec-augment",
                   *small],
        "music": ["train", "music", "--data", root / "music.json", "--cell", "gru",
                  "--batch-size", "2", *small],
        "forecast": ["train", "forecast", "--data", root / "sales.csv", "--horizon", "4",
                     "--window", "8", "--batch-size", "8", *small],
        "series": ["train", "series", "--data", root / "Waves_TRAIN.ts", "--layers", "1",
                   "--batch-size", "8", *small],
        "embeddings": ["train", "embeddings", "--data", root / "w2v.txt", "--tokenizer",
                       "whitespace", "--dim", "8", "--min-count", "1", "--engine", "torch",
                       "--threads", "1"],
        "caption": ["train", "caption", "--data", root / "shapes", "--image-size", "16",
                    "--channels", "4,8", "--embed", "8", "--hidden", "8", "--attn-size", "8",
                    "--min-freq", "1", "--batch-size", "4", "--held-out", "0.2", "--beam", "1",
                    "--monitor", "loss", "--lr", "0.01"],
    }  # fmt: skip


@pytest.fixture(scope="module")
def drills(tmp_path_factory) -> tuple[Path, dict]:
    """(the work folder, kill_drill.py's results) of every task's drills."""
    root = tmp_path_factory.mktemp("kill_drills")
    tasks = {k: [str(a) for a in v] + COMMON for k, v in task_argv(root).items()}
    spec = root / "spec.json"
    spec.write_text(json.dumps({"seed": SEED, "workers": 2, "tasks": tasks}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    driver = Path(__file__).with_name("kill_drill.py")
    done = subprocess.run([sys.executable, str(driver), str(spec), str(root / "results.json")],
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return root, json.loads((root / "results.json").read_text())


def _weights_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    """The keys whose tensors differ (or are in one only)."""
    return sorted(k for k in a.keys() | b.keys() if k not in a or k not in b
                  or not torch.equal(a[k], b[k]))  # fmt: skip


def _current(out: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's latest weights (the trainer's layout, or word2vec's own)."""
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    if "files" in state:
        return current_weights(out)
    return read_tensors(out / "checkpoint" / state["model"])


CLOCK = ("time", "seconds", "words_per_second")  # wall-clock fields


def _timeless(x):
    """``x`` (JSON data) without its wall-clock fields."""
    if isinstance(x, dict):
        return {k: _timeless(v) for k, v in x.items() if k not in CLOCK}
    return [_timeless(v) for v in x] if isinstance(x, list) else x


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("kind", ["step", "write", "checkpoint", "timer"])
def test_a_killed_run_resumes_to_the_uninterrupted_weights(drills, task, kind):
    root, results = drills
    report = results[task]
    log = root / f"{task}.log"
    where = f"RNNLAB_DRILL_SEED={SEED}, {task}: {json.dumps(report.get(kind))}"
    assert report["ref"] and report["ref"]["code"] == 0, (
        f"{task}'s uninterrupted run failed: {log.read_text()[-3000:]}"
    )
    drill = report[kind]
    assert drill["killed"]["signal"] == 9, f"the run was not killed ({where})"
    if not drill["had_checkpoint"]:  # killed before the first checkpoint: --resume refuses
        assert drill["refused"]["code"] == 2, f"--resume without a checkpoint ({where})"
    assert drill["resumed"]["code"] == 0, (
        f"the resumed run failed ({where}): " + (log.read_text()[-3000:])
    )
    ref, out = root / task / "ref", root / task / kind
    best, ref_best = (
        read_tensors(out / "model.safetensors"),
        read_tensors(ref / "model.safetensors"),
    )
    assert not _weights_equal(best, ref_best), f"the saved model differs ({where})"
    assert not _weights_equal(_current(out), _current(ref)), f"the last weights differ ({where})"
    assert _timeless(records(out)) == _timeless(records(ref)), f"the metrics differ ({where})"
    if (ref / "scores.json").is_file():
        scores, ref_scores = (json.loads((d / "scores.json").read_text()) for d in (out, ref))
        assert _timeless(scores) == _timeless(ref_scores), f"scores.json differs ({where})"


def test_every_step_drill_resumed_from_a_checkpoint(drills):
    """A step drill that killed before the first checkpoint would test a fresh start only."""
    _, results = drills
    fresh = [task for task, r in results.items() if not r.get("step", {}).get("had_checkpoint")]
    # the checkpoint drills kill while one is written: the previous one (or none) must do
    assert not fresh, f"RNNLAB_DRILL_SEED={SEED}: no checkpoint to resume in {fresh}"


def test_a_fresh_run_over_a_finished_one_leaves_it_nothing_to_resume(tmp_path, capsys,
                                                                     monkeypatch):  # fmt: skip
    """Found by the timer drill: a run started afresh over a finished one and killed before its
    first checkpoint left the finished run's checkpoint, which --resume then paired with the new
    run's best weights. Starting afresh now discards the old checkpoint first."""
    from rnnlab.cli import main
    from rnnlab.models.classifier import TextClassifier

    argv = (
        [str(a) for a in task_argv(tmp_path)["classify"]] + COMMON + ["--out", str(tmp_path / "r")]
    )
    assert main(argv) == 0
    loss, calls = TextClassifier.loss, []

    def crashing(self, batch):  # the second run dies in its third step, before any checkpoint
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit(137)
        return loss(self, batch)

    # monkeypatch, not an assignment: TextClassifier inherits loss, and undoing must leave it
    # inheriting (an assigned-back loss hid later patches of SequenceClassifier.loss)
    monkeypatch.setattr(TextClassifier, "loss", crashing)
    with pytest.raises(SystemExit):
        main(argv)
    monkeypatch.undo()
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 2
    assert "checkpoint to resume" in capsys.readouterr().err
