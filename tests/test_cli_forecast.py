"""rnnlab train forecast, rnnlab evaluate and rnnlab forecast through the real entry point, on a
tiny CSV of a seasonal series; bad input is one line and exit code 2."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from rnnlab.cli import main


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli_forecast")
    data = root / "sales.csv"
    values = [20 + i * 0.2 + 5 * math.sin(i * math.pi / 6) for i in range(72)]
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.3f},1" for i, v in enumerate(values)]
    data.write_text("month,sales,other\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code = main(["train", "forecast", "--data", str(data), "--target", "sales", "--horizon", "6",
                 "--window", "12", "--hidden", "8", "--log", "--seasonal-diff", "--epochs", "3",
                 "--no-progress", "--out", str(root / "run")])  # fmt: skip
    assert code == 0
    return root / "run", data


def test_evaluate_prints_the_model_and_seasonal_naive_on_the_same_points(run, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run[0])]) == 0  # no --data: the held-out part it was trained on
    out = capsys.readouterr().out
    assert "sales (sales), horizon 6, season 12 on 6 held-out points" in out
    assert "RMSE" in out and "MASE" in out and "model" in out and "seasonal naive" in out
    assert main(["evaluate", str(run[0]), "--data", str(run[1])]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == out.splitlines()[1:]


def test_forecast_writes_a_csv_with_its_interval_and_a_png(run, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert main(["forecast", str(run[0]), "--steps", "4", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["date"] for r in rows] == ["2005-07", "2005-08", "2005-09", "2005-10"]
    assert all(float(r["lo"]) <= float(r["forecast"]) <= float(r["hi"]) for r in rows)
    assert all(r["truth"] for r in rows)  # from the held-out origin: the truth is known
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    end = tmp_path / "end.csv"
    assert main(["forecast", str(run[0]), "--from-end", "--out", str(end)]) == 0
    rows = list(csv.DictReader(end.open()))
    assert rows[0]["date"] == "2006-01" and not rows[0]["truth"] and len(rows) == 6
    assert "wrote" in capsys.readouterr().out


def test_user_errors_are_one_line(run, tmp_path, capsys):
    gap = tmp_path / "gap.csv"
    gap.write_text("month,sales\n2000-01,1\n2000-02,\n2000-03,2\n", encoding="utf-8")
    for argv, message in (
        (["forecast", str(run[0]), "--steps", "7"], "at most 6 steps"),
        (["train", "forecast", "--data", str(gap), "--out", str(tmp_path / "x")], "line 3"),
        (["train", "forecast", "--data", str(run[1]), "--window", "60", "--out",
          str(tmp_path / "y")], "smaller --window"),
        (["evaluate", str(run[0]), "--data", str(gap)], "line 3"),
        (["train", "forecast", "--data", "nope.csv", "--out", str(tmp_path / "z")], "nope.csv"),
    ):  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("rnnlab: error:") and message in err and len(err.splitlines()) == 1
