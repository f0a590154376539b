"""Spoken digits (FSDD): accuracy, digit error rate and wall time, ours beside the peer.

Runs (``--runs``, comma-separated; each trains on ``$RNNLAB_DATA/speech/fsdd``):

- ``official``: one digit per recording, FSDD's official split (recordings 0-4 of every speaker
  are the test set, so the test speakers are also training speakers).
- ``loso``: leave one speaker out, for each of the 6 speakers: train on the other 5, test on
  every recording of the one left out (what a new user's voice meets).
- ``ctc``: strings of 1-7 digits joined with short silences and light noise, a BiLSTM trained
  with CTC; digit error rate and whole-string accuracy on 500 strings made from the TEST
  recordings only, greedy and prefix-beam decoding.

With ``--peers``, also runs ../shared/peers/speech_mfcc_svm.py (MFCC statistics + scikit-learn
SVM: official split and leave-one-speaker-out) on the same machine and prints its figures.

    RNNLAB_DATA=../shared/data python benchmarks/speech.py --runs official,loso,ctc --peers
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from machine import cpu_name
from rnnlab.data.speech import load_speech_folder, speech_folder
from rnnlab.models.speech import SpeechConfig
from rnnlab.tasks.speech import (
    SpeechJob,
    evaluate_strings,
    speech_splits,
    string_seed,
    train_speech,
)
from rnnlab.train import TrainConfig

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"
AUGMENT = {"freq_masks": 2, "freq_width": 8, "time_masks": 2, "time_width": 10, "time_ratio": 0.2}
# chosen on the dev tenth of the official training split
CLASSIFY = SpeechConfig(num_outputs=2, hidden_size=128, num_layers=2, dropout=0.3,
                        pooling="concat", spec_augment=AUGMENT)  # fmt: skip
CTC = SpeechConfig(num_outputs=2, objective="ctc", hidden_size=128, num_layers=2, dropout=0.2,
                   stack=2, spec_augment=AUGMENT)  # fmt: skip


def train(job: SpeechJob) -> tuple[dict, float, int]:
    """Train ``job``; return its scores, wall time and number of epochs."""
    t0 = time.time()
    result = train_speech(job)
    return result.scores, time.time() - t0, len(result.history)


def classify_job(out: str, minutes: float, epochs: int = 30, **kw) -> SpeechJob:
    cfg = TrainConfig(epochs=epochs, lr=2e-3, anneal_to=0.05, patience=None, monitor="accuracy",
                      mode="max", clip_norm=5.0, progress=False, max_minutes=minutes)  # fmt: skip
    return SpeechJob(data="fsdd", out=out, model=CLASSIFY, train=cfg, batch_size=32, **kw)


def run_official(tmp: str, minutes: float) -> None:
    # the official split's test speakers are training speakers: longer training pays there
    scores, wall, epochs = train(classify_job(f"{tmp}/official", max(minutes, 14), epochs=80))
    print(f"| official split | ours: 20 MFCCs -> BiLSTM 2x128 -> softmax | "
          f"{scores['test']['accuracy']:.4f} | dev {scores['dev']['accuracy']:.4f}, {epochs} "
          f"epochs | {wall:.0f} |", flush=True)  # fmt: skip


def run_loso(tmp: str, minutes: float) -> None:
    speakers = sorted({u.speaker for u in load_speech_folder(speech_folder("fsdd"))})
    accs = {}
    for s in speakers:
        job = classify_job(f"{tmp}/loso-{s}", minutes, test_speakers=(s,))
        scores, wall, epochs = train(job)
        accs[s] = scores["test"]["accuracy"]
        print(f"| leave out {s} | ours | {accs[s]:.4f} | dev {scores['dev']['accuracy']:.4f}, "
              f"{epochs} epochs | {wall:.0f} |", flush=True)  # fmt: skip
    mean = sum(accs.values()) / len(accs)
    print(f"| leave-one-speaker-out mean | ours | {mean:.4f} | | |", flush=True)


def run_ctc(tmp: str, minutes: float) -> None:
    cfg = TrainConfig(epochs=40, lr=2e-3, anneal_to=0.05, patience=None, monitor="error_rate",
                      mode="min", clip_norm=5.0, progress=False, max_minutes=minutes)  # fmt: skip
    job = SpeechJob(data="fsdd", out=f"{tmp}/ctc", objective="ctc", model=CTC, train=cfg,
                    batch_size=32, train_strings=4000, eval_strings=500)  # fmt: skip
    t0 = time.time()
    result = train_speech(job)
    wall = time.time() - t0
    test = speech_splits(job)["test"]
    for beam in (1, 8):
        s = evaluate_strings(result.model, test, job, 500, string_seed(0, "test"), beam=beam)
        how = "greedy" if beam == 1 else f"prefix beam {beam}"
        print(f"| digit strings 1-7, test recordings, {how} | ours: 20 MFCCs -> BiLSTM 2x128 -> "
              f"CTC | DER {s['digit_error_rate']:.4f}, string acc {s['accuracy']:.4f} | "
              f"{len(result.history)} epochs | {wall:.0f} |", flush=True)  # fmt: skip


def run_peer() -> None:
    path = PEERS / "speech_mfcc_svm.py"
    if not path.exists():
        print(f"# peer {path} not found", file=sys.stderr)
        return
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          env={**os.environ})  # fmt: skip
    if proc.returncode != 0:
        print(f"# peer failed: {proc.stderr[-500:]}", file=sys.stderr)
        return
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    wall = time.time() - t0
    print(f"| official split | peer speech_mfcc_svm.py | {res['official_split_accuracy']:.4f} | "
          f"| {wall:.0f} |")  # fmt: skip
    for s, acc in res["leave_one_speaker_out"].items():
        print(f"| leave out {s} | peer | {acc:.4f} | | |")
    print(f"| leave-one-speaker-out mean | peer | {res['loso_mean']:.4f} | | |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", default="official,loso,ctc", help="(default: %(default)s)")
    ap.add_argument("--peers", action="store_true", help="also run the peer script")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=12.0,
                    help="training budget of each model (default: %(default)s)")  # fmt: skip
    ap.add_argument("--keep", metavar="DIR", help="save the trained runs under DIR")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"# {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.threads} threads, {args.minutes:g} training minutes per model")  # fmt: skip
    print("| data | model | test | notes | wall (s) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        os.makedirs(tmp, exist_ok=True)
        runs = {"official": run_official, "loso": run_loso, "ctc": run_ctc}
        for name in args.runs.split(","):
            if name not in runs:
                sys.exit(f"unknown run {name!r} (known: {', '.join(runs)})")
            runs[name](tmp, args.minutes)
    if args.peers:
        run_peer()


if __name__ == "__main__":
    main()
