"""rnnlab.data.timeseries: the strict CSV reader (every bad input names its line or cause),
frequency inference and default seasons, registered names vs files, dates after a series."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.timeseries import (
    future_dates,
    load_time_series,
    read_series_csv,
    time_series_names,
)
from rnnlab.errors import InputError


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MONTHLY = '"Month","Passengers","Other"\r\n' + "\r\n".join(
    f'"1949-{m:02d}",{100 + m},{m % 3}' for m in range(1, 13)
)  # CRLF, quoted, no newline at the end: as the mirror's files are written


def test_reads_a_monthly_csv_with_its_frequency_season_and_target(tmp_path):
    s = read_series_csv(write(tmp_path, MONTHLY))
    assert (s.name, s.target, s.frequency, s.season, len(s)) == ("s", "Passengers", "monthly",
                                                                 12, 12)  # fmt: skip
    assert s.values.dtype == torch.float64 and s.values[:2].tolist() == [101.0, 102.0]
    assert s.dates[0] == "1949-01"
    other = read_series_csv(write(tmp_path, MONTHLY), target="Other")
    assert other.target == "Other" and other.values[:3].tolist() == [1.0, 2.0, 0.0]


@pytest.mark.parametrize(("dates", "frequency", "season"), [
    (["2020-01-01", "2020-01-02", "2020-01-03"], "daily", 365),
    (["2020-01-06", "2020-01-13", "2020-01-20"], "weekly", 52),
    (["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00"], "hourly", 24),
    (["2020-01", "2020-04", "2020-07"], "quarterly", 4),
    (["1990", "1991", "1992"], "yearly", 1),
    (["2020/01/31", "2020/02/29", "2020/03/31"], "every 29 days, irregular", None),
])  # fmt: skip
def test_frequency_inference(tmp_path, dates, frequency, season):
    text = "when,x\n" + "".join(f"{d},{i * 1.5 + 1}\n" for i, d in enumerate(dates))
    if season is None:  # month ends are not a whole number of any step
        with pytest.raises(DataFormatError, match="line 4: .* evenly spaced"):
            read_series_csv(write(tmp_path, text))
        return
    s = read_series_csv(write(tmp_path, text))
    assert (s.frequency, s.season) == (frequency, season)


BAD = [
    ("date,x\n2020-01,1\n2020-02,\n2020-03,3\n", r"line 3 \(2020-02\): the x value is missing"),
    ("date,x\n2020-01,1\n2020-02,nan\n2020-03,3\n", r"line 3 .* missing \('nan'\): a gap"),
    ("date,x\n2020-01,1\n2020-03,3\n2020-04,2\n", r"line 3: 1 date\(s\) missing between 2020-01 "
                                                  r"and 2020-03 .*first: 2020-02-01"),
    ("date,x\n2020-01,1\n2020-02,abc\n", r"line 3 \(2020-02\): 'abc' in column 'x' is not a num"),
    ("date,x\n2020-01,1\n2020-02,inf\n", r"line 3 .* not a finite number"),
    ("date,x\n2020-01,1\nyesterday,2\n", r"line 3: 'yesterday' in column 'date' is not a date"),
    ("date,x\n2020-02,1\n2020-01,2\n", r"line 3: the date 2020-01 comes before"),
    ("date,x\n2020-01,1\n2020-01,2\n", r"line 3: the date 2020-01 repeats"),
    ("date,x\n2020-01,1\n2020-02,2,9\n", r"line 3: 3 cells, the header has 2"),
    ("date,x\n2020-01,4\n2020-02,4\n2020-03,4\n", r"constant \(every value is 4\)"),
    ("date,x\n", r"has no rows"),
    ("", r"has nothing"),
    ("date\n2020-01\n", r"has one column"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD)
def test_every_bad_input_is_one_clear_error(tmp_path, text, message):
    with pytest.raises(DataFormatError, match=message) as e:
        read_series_csv(write(tmp_path, text))
    assert "s.csv" in str(e.value) and "\n" not in str(e.value)


def test_a_column_that_is_not_there_names_the_columns(tmp_path):
    with pytest.raises(InputError, match="no column 'Nope' .*Month, Passengers, Other"):
        read_series_csv(write(tmp_path, MONTHLY), target="Nope")


def test_dates_a_series_leaves_out_on_purpose_are_not_a_gap(tmp_path):
    text = "d,t\n1984-12-29,1\n1984-12-30,2\n1985-01-01,3\n1985-01-02,4\n"
    with pytest.raises(DataFormatError, match="missing between 1984-12-30 and 1985-01-01"):
        read_series_csv(write(tmp_path, text))
    assert len(read_series_csv(write(tmp_path, text), skip_dates=("1984-12-31",))) == 4


def test_a_path_is_a_file_and_anything_else_a_registered_name(tmp_path, monkeypatch):
    assert time_series_names() == [
        "airline-passengers",
        "daily-min-temperatures",
        "monthly-sunspots",
    ]
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "Month,Passengers\n2000-01,1\n2000-02,2\n", "airline-passengers.csv")
    assert len(load_time_series("airline-passengers.csv")) == 2  # the user's file wins
    with pytest.raises(MissingDataError, match="neither a CSV file nor a registered time series"):
        load_time_series("no-such-series")


def test_future_dates_continue_the_series_as_it_writes_dates():
    assert future_dates(["1960-11", "1960-12"], 2) == ["1961-01", "1961-02"]
    assert future_dates(["1990-12-30", "1990-12-31"], 1) == ["1991-01-01"]
    assert future_dates(["2020-01-01 00:00", "2020-01-01 01:00"], 1) == ["2020-01-01 02:00:00"]


@pytest.mark.data
@pytest.mark.parametrize(("name", "n", "frequency", "season", "first", "last"), [
    ("airline-passengers", 144, "monthly", 12, 112.0, 432.0),
    ("daily-min-temperatures.csv", 3650, "daily", 365, 20.7, 13.0),
    ("monthly-sunspots", 2820, "monthly", 12, 58.0, 33.4),
])  # fmt: skip
def test_the_mirror_series(data_root, name, n, frequency, season, first, last):
    s = load_time_series(name)
    assert (len(s), s.frequency, s.season) == (n, frequency, season)
    assert (float(s.values[0]), float(s.values[-1])) == (first, last)
