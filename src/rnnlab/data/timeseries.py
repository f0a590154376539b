"""Time series from CSV files: a date/time column and one or more numeric value columns.

A :class:`TimeSeries` is one value column read in date order, with the frequency its dates follow
(monthly, daily, hourly ...) and a default seasonal period for that frequency
(:data:`SEASONS`). The reader is strict, because a forecaster that silently skips a row learns
the wrong season: every problem is a :class:`DataFormatError` naming the file, the line and the
cause, and saying how to fix it:

- a gap: an empty (or ``nan``) value cell, or a date missing from a regular series;
- a cell that is not a number, a date that cannot be read, dates out of order or repeated;
- a row with another number of cells than the header, a file with no rows;
- a constant series (nothing to learn or to scale).

Registered series (``$RNNLAB_DATA/time_series/jbrownlee/``, else downloaded from
jbrownlee/Datasets at a fixed commit and checked by sha256):

    airline-passengers       monthly 1949-01..1960-12, 144 values (thousands of passengers)
    daily-min-temperatures   daily 1981-01-01..1990-12-31, 3,650 values (deg C, Melbourne);
                             the file has 365 days a year: 31 December of the leap years 1984
                             and 1988 is left out (as the source has it), so its season is
                             exactly 365 values
    monthly-sunspots         monthly 1749-01..1983-12, 2,820 values (mean sunspot number)

>>> from rnnlab.data.timeseries import load_time_series
>>> s = load_time_series("airline-passengers")  # doctest: +SKIP
>>> s.frequency, s.season, len(s)  # doctest: +SKIP
('monthly', 12, 144)
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import DataFormatError, MissingDataError
from rnnlab.data.registry import Registry
from rnnlab.errors import InputError

__all__ = [
    "SEASONS",
    "SeriesSpec",
    "TimeSeries",
    "future_dates",
    "infer_frequency",
    "load_time_series",
    "read_series_csv",
    "register_time_series",
    "time_series_names",
]

# frequency -> default seasonal period: the cycle that dominates such series (a year of months,
# quarters or weeks; a year of days, for weather- and climate-like daily series; a day of hours)
SEASONS = {"yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 365,
           "hourly": 24, "minutely": 60, "secondly": 60}  # fmt: skip
_FIXED = {dt.timedelta(days=7): "weekly", dt.timedelta(days=1): "daily",
          dt.timedelta(hours=1): "hourly", dt.timedelta(minutes=1): "minutely",
          dt.timedelta(seconds=1): "secondly"}  # fmt: skip
_CALENDAR = {1: "monthly", 3: "quarterly", 12: "yearly"}  # months per step
_MISSING = {"", "nan", "na", "n/a", "null", "none", "?"}


@dataclass
class TimeSeries:
    """One value column of a CSV in date order.

    ``values`` is (T,) float64; ``dates[i]`` is the date of ``values[i]`` as the file writes it;
    ``frequency`` names the step between dates (``"monthly"``, ``"daily"``, ... or ``"every
    N seconds"``); ``season`` is the default seasonal period of that frequency."""

    name: str
    target: str
    dates: list[str]
    values: torch.Tensor
    frequency: str
    season: int
    times: list[dt.datetime] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SeriesSpec:
    """A registered series: its file, the folder it lives in, and dates the source leaves out
    on purpose (not an error: the series is regular without them)."""

    name: str
    subdir: str
    file: RemoteFile
    skip_dates: tuple[str, ...] = ()
    description: str = ""


_SERIES: Registry[SeriesSpec] = Registry("time series", "time series")
register_time_series = _SERIES.register  # (spec, replace=False) -> spec
time_series_names = _SERIES.names  # () -> the registered series, sorted


def parse_time(text: str) -> dt.datetime | None:
    """A date or date-time as a CSV writes it (``1949-01``, ``1981-01-01``, ``1981/01/01``,
    ``2020-01-01 13:00[:00]``, ``2020-01-01T13:00``, ``1949``), or None if it is none of those."""
    s = text.strip().replace("/", "-")
    if len(s) == 4 and s.isdigit():
        s += "-01-01"
    elif len(s) in (6, 7) and s[4:5] == "-" and s[5:].isdigit():  # YYYY-MM or YYYY-M
        s = f"{s[:4]}-{int(s[5:]):02d}-01"
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        return None


def _months(a: dt.datetime, b: dt.datetime) -> int | None:
    """Whole months from a to b if b is a whole number of months after a on the same day and
    time, else None."""
    if (a.day, a.time()) != (b.day, b.time()):
        return None
    return (b.year - a.year) * 12 + b.month - a.month


def infer_frequency(times: list[dt.datetime]) -> tuple[str, int | dt.timedelta]:
    """The step the dates follow: ``(name, step)`` with step a number of months (monthly,
    quarterly, yearly) or a timedelta (weekly, daily, hourly, ... or ``"every N seconds"``).
    The smallest step between neighbours is the series' step (a gap is a multiple of it);
    :func:`read_series_csv` then checks every other step against it."""
    if len(times) < 2:
        return "unknown", dt.timedelta(0)
    months = [_months(a, b) for a, b in zip(times, times[1:], strict=False)]
    if all(m is not None and m > 0 for m in months):
        step = min(months)
        return _CALENDAR.get(step, f"every {step} months"), step
    step = min(b - a for a, b in zip(times, times[1:], strict=False))
    return _FIXED.get(step, f"every {step.total_seconds():g} seconds"), step


def _advance(t: dt.datetime, step: int | dt.timedelta, k: int = 1) -> dt.datetime:
    """t moved k steps of ``step`` (months or a timedelta)."""
    if isinstance(step, dt.timedelta):
        return t + k * step
    m = t.month - 1 + k * step
    return t.replace(year=t.year + m // 12, month=m % 12 + 1)


def future_dates(dates: list[str], n: int) -> list[str]:
    """The n dates after ``dates`` (a regular series' dates as a CSV writes them), one step of
    the series' frequency apart, written as the last one is (``1960-12`` -> ``1961-01``)."""
    times = [parse_time(d) for d in dates]
    if len(times) < 2 or any(t is None for t in times):
        raise InputError("dates after a series need at least two readable dates")
    _, step = infer_frequency(times)
    last = dates[-1].strip()
    fmt = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}.get(len(last))
    if fmt and "/" in last:
        fmt = fmt.replace("-", "/")
    out = [_advance(times[-1], step, k) for k in range(1, n + 1)]
    return [t.strftime(fmt) if fmt else t.isoformat(" ") for t in out]


def read_series_csv(path: str | os.PathLike, target: str | None = None,
                    date_column: str | None = None, skip_dates: tuple[str, ...] = (),
                    name: str | None = None) -> TimeSeries:  # fmt: skip
    """Read one value column of a CSV with a header row.

    Args:
        path: the CSV file (UTF-8, a BOM allowed; any line endings; quoted cells allowed).
        target: the value column; default the first column after the date column.
        date_column: the date/time column; default the first column.
        skip_dates: dates (as :func:`parse_time` reads them) the series leaves out on purpose.
        name: the series' name (default the file's name without ``.csv``).

    Raises:
        MissingDataError: the file does not exist.
        InputError: ``target`` or ``date_column`` is not a column of the header.
        DataFormatError: see the module (each names the line and the cause).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no CSV file at {path}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = [(i, r) for i, r in enumerate(csv.reader(f), 1) if any(c.strip() for c in r)]
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from e
    except csv.Error as e:
        raise DataFormatError(f"{path} is not a readable CSV: {e}") from e
    if len(rows) < 2:
        raise DataFormatError(f"{path} has {'no rows' if rows else 'nothing'}: expected a "
                              "header (a date column, then value columns) and one row per "
                              "date")  # fmt: skip
    header = [h.strip() for h in rows[0][1]]
    if len(header) < 2:
        raise DataFormatError(f"{path}: the header {header} has one column: expected a date "
                              "column and at least one value column")  # fmt: skip
    d = _column(path, header, date_column, 0, "date_column")
    v = _column(path, header, target, 1 if d == 0 else 0, "target")
    if v == d:
        raise InputError(f"{path}: the target and the date column are both {header[d]!r}")
    skip = set()
    for s in skip_dates:
        if (t := parse_time(s)) is None:
            raise ValueError(f"skip_dates: {s!r} is not a date")
        skip.add(t)
    dates, times, values = [], [], []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise DataFormatError(f"{path}, line {line}: {len(row)} cells, the header has "
                                  f"{len(header)} ({', '.join(header)})")  # fmt: skip
        cell, when = row[v].strip(), row[d].strip()
        t = parse_time(when)
        if t is None:
            raise DataFormatError(f"{path}, line {line}: {when!r} in column {header[d]!r} is not "
                                  "a date (expected e.g. 1949-01, 1981-01-31, 2020-01-31 "
                                  "13:00)")  # fmt: skip
        if cell.lower() in _MISSING:
            raise DataFormatError(f"{path}, line {line} ({when}): the {header[v]} value is missing "
                                  f"({cell!r}): a gap in the series; fill it in (e.g. "
                                  "interpolate) and run again")  # fmt: skip
        try:
            x = float(cell)
        except ValueError:
            raise DataFormatError(f"{path}, line {line} ({when}): {cell!r} in column {header[v]!r} "
                                  "is not a number") from None  # fmt: skip
        if not math.isfinite(x):
            raise DataFormatError(f"{path}, line {line} ({when}): {cell!r} in column "
                                  f"{header[v]!r} is not a finite number")  # fmt: skip
        if times and t <= times[-1]:
            what = "repeats" if t == times[-1] else "comes before"
            raise DataFormatError(f"{path}, line {line}: the date {when} {what} the line "
                                  f"above's ({dates[-1]}); sort the rows by date, one per "
                                  "date")  # fmt: skip
        dates.append(when)
        times.append(t)
        values.append(x)
    frequency, step = infer_frequency(times)
    _check_regular(path, rows, times, dates, step, frequency, skip)
    if min(values) == max(values):
        raise DataFormatError(f"{path}: the {header[v]} series is constant (every value is "
                              f"{values[0]:g}): there is nothing to forecast or to "
                              "scale")  # fmt: skip
    return TimeSeries(name or path.name.removesuffix(".csv"), header[v], dates,
                  torch.tensor(values, dtype=torch.float64), frequency,
                  SEASONS.get(frequency, 1), times)  # fmt: skip


def _column(path: Path, header: list[str], wanted: str | None, default: int, what: str) -> int:
    if wanted is None:
        return default
    if wanted not in header:
        raise InputError(f"{path} has no column {wanted!r} (its columns: {', '.join(header)}); "
                         f"give one of those as {what}")  # fmt: skip
    return header.index(wanted)


def _check_regular(path, rows, times, dates, step, frequency, skip) -> None:
    """A DataFormatError at the first step between neighbours that is not ``step``: a missing
    date (a whole number of steps, none of the left-out ones ``skip``) or an irregular one."""
    for i in range(1, len(times)):
        expected = _advance(times[i - 1], step)
        if times[i] == expected:
            continue
        missing, t = [], expected
        while t < times[i] and len(missing) < 10_000:
            missing.append(t)
            t = _advance(t, step)
        if t == times[i] and all(m in skip for m in missing):
            continue
        line = rows[i + 1][0]
        if t == times[i]:
            gone = [m for m in missing if m not in skip]
            raise DataFormatError(f"{path}, line {line}: {len(gone)} date(s) missing between "
                                  f"{dates[i - 1]} and {dates[i]} in a {frequency} series (first: "
                                  f"{gone[0].isoformat(' ')}): a gap; add the missing rows "
                                  "(e.g. interpolated)")  # fmt: skip
        raise DataFormatError(f"{path}, line {line}: from {dates[i - 1]} to {dates[i]} is not a "
                              f"whole number of steps of the series' {frequency} frequency; "
                              "the dates must be evenly spaced")  # fmt: skip


def load_time_series(name_or_path: str | os.PathLike, target: str | None = None,
                date_column: str | None = None, progress: bool = True) -> TimeSeries:  # fmt: skip
    """A registered series by name (``"airline-passengers"``, with or without ``.csv``) or a
    user's CSV: a path that exists is read as a file, anything else as a registered name.

    Raises:
        MissingDataError: neither an existing file nor a registered name.
        ChecksumError: as :func:`fetch`; DataFormatError, InputError: as :func:`read_series_csv`.
    """
    key = os.fspath(name_or_path)
    if Path(key).is_file():
        return read_series_csv(key, target, date_column)
    name = key.removesuffix(".csv")
    if name not in _SERIES:
        raise MissingDataError(f"{key!r} is neither a CSV file nor a registered time series "
                               f"({', '.join(time_series_names())})")  # fmt: skip
    spec = _SERIES.get(name)
    path = fetch(spec.file, spec.subdir, progress=progress)
    return read_series_csv(path, target, date_column, spec.skip_dates, name=spec.name)


_JBROWNLEE = ("https://raw.githubusercontent.com/jbrownlee/Datasets/"
              "d20fcb6402ae34e653d4513b00f39257bb37ed7f/")  # fmt: skip
for _name, _sha, _size, _skip, _what in (
    ("airline-passengers", "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
     2180, (), "monthly international airline passengers (thousands), 1949-1960"),
    ("daily-min-temperatures", "8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da",
     67921, ("1984-12-31", "1988-12-31"), "daily minimum temperature in Melbourne, 1981-1990"),
    ("monthly-sunspots", "c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3",
     45039, (), "monthly mean sunspot number (Zurich), 1749-1983"),
):  # fmt: skip
    register_time_series(SeriesSpec(
        _name, "time_series/jbrownlee",
        RemoteFile(f"{_name}.csv", (f"{_JBROWNLEE}{_name}.csv",), _sha, _size), _skip, _what,
    ))  # fmt: skip
