"""The kill drill's driver, run as a subprocess by test_kill_resume.py (test-only).

    python kill_drill.py SPEC.json RESULTS.json

SPEC.json: {"seed": int, "workers": int, "tasks": {NAME: [rnnlab train argv without --out]}}.
For each task, in forked children of this one process (rnnlab is imported and one run trained
here first, on one thread, so every child starts warm, in milliseconds instead of seconds):

    ref         the uninterrupted run, counting its steps and its file replacements
    step        a fresh run that SIGKILLs itself right after the backward pass of a random step
                of its second half (gradients computed, weights not yet updated; the drilled
                runs have two epochs, so a checkpoint is there)
    write       one that SIGKILLs itself just before a random one of the atomic renames
                (os.replace) into its run directory, its temporary file whole or (by a coin
                toss) cut to half its bytes
    checkpoint  the same, among the renames into its checkpoint folder only
    timer       one SIGKILLed from here at a random moment of the run's second half (wall clock)

and after each kill, ``--resume`` to the end. SIGKILL cannot be caught: no handler, ``finally``
or atexit runs, exactly as ``kill -9``. A kill that lands before the run's first checkpoint leaves
nothing to resume: ``--resume`` must then refuse (exit code 2, "refused") and the run is started
afresh (what a user does).
Children use one torch thread (``RNNLAB_DRILL_THREADS=N``: N). RESULTS.json: per task, per
drill, the kill point, the killed child's signal, whether a checkpoint was there, and the resumed
run's exit code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401  (the learning curves: imported once, not per child)
import torch  # noqa: E402

import rnnlab.cli  # noqa: E402
import rnnlab.nn.sgns  # noqa: E402
import rnnlab.tasks.classify  # noqa: E402,F401  (imported before the fork: children start warm)
import rnnlab.tasks.embeddings  # noqa: E402,F401
import rnnlab.tasks.forecast  # noqa: E402,F401
import rnnlab.tasks.language_model  # noqa: E402,F401
import rnnlab.tasks.music  # noqa: E402,F401
import rnnlab.tasks.series  # noqa: E402,F401
import rnnlab.tasks.speech  # noqa: E402,F401
import rnnlab.tasks.tag  # noqa: E402,F401
import rnnlab.tasks.translate  # noqa: E402,F401
import rnnlab.train  # noqa: E402
import rnnlab.train.trainer  # noqa: E402


def _install_hooks(out: Path, kill: tuple[str, int, bool] | None, counts: dict) -> None:
    """Count steps (a backward pass, or a word2vec chunk), renames into ``out`` ("write") and into
    its checkpoint folder ("checkpoint"); SIGKILL this process at the ``kill`` point:
    (kind, n, torn), torn: cut the temporary file to half its bytes first."""
    backward, train_chunk, replace = torch.Tensor.backward, rnnlab.nn.sgns.train_chunk, os.replace
    root = str(out.resolve())
    checkpoints = str((out / "checkpoint").resolve())

    def stepped() -> None:
        counts["step"] += 1
        if kill is not None and kill[0] == "step" and counts["step"] == kill[1]:
            os.kill(os.getpid(), signal.SIGKILL)

    def counted_backward(self, *args, **kwargs):
        backward(self, *args, **kwargs)
        stepped()

    def counted_chunk(*args, **kwargs):
        result = train_chunk(*args, **kwargs)
        stepped()
        return result

    def counted_replace(src, dst, *args, **kwargs):
        target = str(Path(dst).resolve())
        if target.startswith(root):
            for kind in ("write", "checkpoint"):
                if kind == "checkpoint" and not target.startswith(checkpoints):
                    continue
                counts[kind] += 1
                if kill is not None and kill[0] == kind and counts[kind] == kill[1]:
                    if kill[2]:  # a torn temporary file, as a crash before the data reached disk
                        os.truncate(src, os.path.getsize(src) // 2)
                    os.kill(os.getpid(), signal.SIGKILL)
        return replace(src, dst, *args, **kwargs)

    torch.Tensor.backward = counted_backward
    rnnlab.nn.sgns.train_chunk = counted_chunk
    os.replace = counted_replace
    # no learning curves: matplotlib is two thirds of a tiny run's time, and no drill compares
    # the picture (it is drawn after the checkpoint, from the metrics log the drills do compare)
    rnnlab.train.trainer.plot_learning_curve = rnnlab.train.plot_learning_curve = _no_picture


def _no_picture(*args, **kwargs) -> None:
    """Stands in for plot_learning_curve in the children."""


def child(argv: list[str], out: Path, kill=None, log: Path | None = None,
          timer: float | None = None) -> dict:  # fmt: skip
    """Run ``rnnlab <argv> --out out`` in a forked child; its exit code or signal and counts.
    ``timer``: SIGKILL it from here after that many seconds (if it is still running)."""
    counts_file = out.with_name(out.name + f".counts-{os.getpid()}-{random.random():.9f}.json")
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            torch.set_num_threads(int(os.environ.get("RNNLAB_DRILL_THREADS", "1")))
            if log is not None:
                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
            counts = {"step": 0, "write": 0, "checkpoint": 0}
            _install_hooks(out, kill, counts)
            code = rnnlab.cli.main([*argv, "--out", str(out)])
            counts_file.write_text(json.dumps(counts))
        except BaseException as e:  # noqa: BLE001 - reported through the exit code and the log
            print(f"kill_drill child: {type(e).__name__}: {e}", file=sys.stderr)
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code if isinstance(code, int) else 1)
    if timer is not None:
        time.sleep(timer)
        os.kill(pid, signal.SIGKILL)  # a child that has exited is a zombie until reaped: no-op
    _, status = os.waitpid(pid, 0)
    result = {
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if counts_file.is_file():
        result["counts"] = json.loads(counts_file.read_text())
        counts_file.unlink()
    return result


def drill(name: str, argv: list[str], work: Path, seed: int) -> dict:
    """The runs of one task (see the module docstring); the drills' record."""
    rng = random.Random(f"{seed}-{name}")
    log = work / f"{name}.log"
    ref = child(argv, work / name / "ref", log=log)
    report: dict = {"ref": ref}
    if ref["code"] != 0:
        return report
    counts = ref["counts"]
    for kind in ("step", "write", "checkpoint", "timer"):
        out = work / name / kind
        if kind == "timer":  # kill -9 from outside at a moment of the run's second half
            total, torn = ref["seconds"], False
            at = rng.uniform(0.4, 0.9) * total
            for _ in range(4):  # a run quicker than the reference was: again, killed sooner
                killed = child(argv, out, timer=at, log=log)
                if killed["signal"] is not None:
                    break
                at /= 2
            at = round(at, 3)
        else:
            # a step of the second half (the runs have two epochs: after the first checkpoint);
            # any one of the writes (before the first checkpoint too: then nothing to resume)
            total = counts[kind]
            at = rng.randint(total // 2 + 1 if kind == "step" else 1, total)
            torn = kind != "step" and rng.random() < 0.5
            killed = child(argv, out, kill=(kind, at, torn), log=log)
        had_checkpoint = (out / "checkpoint" / "state.json").is_file()
        resumed = child([*argv, "--resume"], out, log=log)
        refused = None
        if not had_checkpoint:  # nothing to resume: a one-line error, then a fresh start
            refused, resumed = resumed, child(argv, out, log=log)
        report[kind] = {"at": at, "of": total, "torn": torn, "killed": killed,
                        "had_checkpoint": had_checkpoint, "refused": refused,
                        "resumed": resumed}  # fmt: skip
    return report


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    work = Path(sys.argv[1]).parent
    # one run in this process first, on one thread (no thread pool to lose in the forks): the
    # children inherit its warm caches (lazy imports, fonts, kernels) and start training at once
    torch.set_num_threads(1)
    name, argv = next(iter(spec["tasks"].items()))
    with open(work / "warm-up.log", "w") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):  # fmt: skip
        rnnlab.cli.main([*argv, "--out", str(work / "warm-up")])
    logging.getLogger().handlers.clear()  # bound to the log closed above: each child makes its own
    running: dict[int, str] = {}
    queue = list(spec["tasks"].items())
    results: dict[str, dict] = {}
    # each task's drills run in a forked worker of their own, `workers` at a time
    while queue or running:
        while queue and len(running) < spec["workers"]:
            name, argv = queue.pop(0)
            pid = os.fork()
            if pid == 0:
                try:
                    report = drill(name, argv, work, spec["seed"])
                    (work / f"{name}.result.json").write_text(json.dumps(report))
                finally:
                    os._exit(0)
            running[pid] = name
        pid, _ = os.wait()
        name = running.pop(pid)
        path = work / f"{name}.result.json"
        results[name] = json.loads(path.read_text()) if path.is_file() else {"ref": None}
    Path(sys.argv[2]).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
