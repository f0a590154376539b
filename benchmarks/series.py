"""Numeric sequences (issue 18): both halves of the benchmark, one after the other, in one run.

    RNNLAB_DATA=../shared/data python benchmarks/series.py            # forecasting, then classes
    RNNLAB_DATA=../shared/data python benchmarks/series.py classify   # one half only

The halves are their own scripts, each with its options and its docstring saying what it
measures: ``series_forecast.py`` (ours against seasonal naive, ETS and SARIMA on airline
passengers, sunspots and Melbourne temperatures) and ``series_classify.py`` (ours against 1-NN
DTW and a logistic regression on summary statistics on BasicMotions and JapaneseVowels). Each
runs with its defaults here, in its own process, so that neither measures the other; their
peers need ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HALVES = {"forecast": "series_forecast.py", "classify": "series_classify.py"}


def main() -> int:
    """Run the halves named on the command line (default: both); the worst exit code."""
    names = sys.argv[1:] or list(HALVES)
    bad = [n for n in names if n not in HALVES]
    if bad:
        sys.exit(f"unknown half {bad[0]!r}: choose from {', '.join(HALVES)}")
    here, worst = Path(__file__).resolve().parent, 0
    for name in names:
        t0 = time.time()
        print(f"## {name} ({HALVES[name]})", flush=True)
        code = subprocess.call([sys.executable, str(here / HALVES[name])])
        print(f"# {name}: exit code {code}, {time.time() - t0:.0f} s\n", flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
