"""Excel number formats, table-driven: a format code, a value, and what Excel shows.

The expected texts come from Excel's documentation ("Review guidelines for customizing a
number format", "Format a date the way you want"; ECMA-376 Part 1, 18.8.31), not from our
renderer: m/mm month, mmm/mmmm/mmmmm month names (abbreviated, full, first letter), d/dd
day, ddd/dddd day names, yy/yyyy years, h/hh 24-hour unless AM/PM or A/P is present, m
after h or before s is minutes, [h]/[mm]/[ss] elapsed time, .0/.00 fractions of a second.
The issue's bug was an XLSX date formatted ``mmmm dd, yyyy`` shown as ``%B 11, 1962``.

Dates are given as ``datetime`` values and turned into Excel serials here with stdlib
arithmetic (days since 1899-12-30, valid after 28 Feb 1900), independent of the code under
test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from scanner.extract.numfmt import NumberFormat, display
from scanner.extract.registry import extract_file
from scanner.model import Segment

_EPOCH = dt.datetime(1899, 12, 30)
WHEN = dt.datetime(1962, 3, 11, 14, 5, 9)  # a Sunday (stdlib: WHEN.strftime("%A"))
FRACTION = dt.datetime(1962, 3, 11, 14, 5, 9, 250000)


def serial(when: dt.datetime) -> float:
    return (when - _EPOCH) / dt.timedelta(days=1)


def test_reference_date_is_a_sunday() -> None:
    assert WHEN.strftime("%A") == "Sunday"


TABLE: list[tuple[str, float | dt.datetime, str]] = [
    # months
    ("m", WHEN, "3"),
    ("mm", WHEN, "03"),
    ("mmm", WHEN, "Mar"),
    ("mmmm", WHEN, "March"),
    ("mmmmm", WHEN, "M"),
    # days
    ("d", WHEN, "11"),
    ("dd", WHEN, "11"),
    ("ddd", WHEN, "Sun"),
    ("dddd", WHEN, "Sunday"),
    ("d", dt.datetime(1962, 3, 5), "5"),
    ("dd", dt.datetime(1962, 3, 5), "05"),
    # years
    ("yy", WHEN, "62"),
    ("yyyy", WHEN, "1962"),
    # whole dates
    ("mmmm dd, yyyy", WHEN, "March 11, 1962"),
    ("MMMM DD, YYYY", WHEN, "March 11, 1962"),
    ("[$-409]mmmm d, yyyy;@", WHEN, "March 11, 1962"),
    ("dddd, mmmm dd, yyyy", WHEN, "Sunday, March 11, 1962"),
    ("ddd, d mmm yyyy", WHEN, "Sun, 11 Mar 1962"),
    ("d mmmm yyyy", WHEN, "11 March 1962"),
    ("d-mmm-yy", WHEN, "11-Mar-62"),
    ("d-mmm", WHEN, "11-Mar"),
    ("mmm-yy", WHEN, "Mar-62"),
    ("mmmmm-yy", WHEN, "M-62"),
    ("m/d/yyyy", WHEN, "3/11/1962"),
    ("mm/dd/yy", WHEN, "03/11/62"),
    ("dd/mm/yyyy", WHEN, "11/03/1962"),
    ("yyyy-mm-dd", WHEN, "1962-03-11"),
    ('yyyy"年"m"月"d"日"', WHEN, "1962年3月11日"),
    # times of day
    ("h", WHEN, "14"),
    ("h:mm", WHEN, "14:05"),
    ("h:m", WHEN, "14:5"),
    ("h:mm:ss", WHEN, "14:05:09"),
    ("hh:mm:ss", dt.datetime(1962, 3, 11, 7, 5, 9), "07:05:09"),
    ("mm:ss", WHEN, "05:09"),
    ("h:mm AM/PM", WHEN, "2:05 PM"),
    ("hh:mm AM/PM", WHEN, "02:05 PM"),
    ("h:mm:ss A/P", WHEN, "2:05:09 P"),
    ("h AM/PM", 0.0, "12 AM"),
    ("h:mm AM/PM", 0.5, "12:00 PM"),
    ("h:mm AM/PM", 0.25, "6:00 AM"),
    ("m/d/yyyy h:mm", WHEN, "3/11/1962 14:05"),
    ("yyyy-mm-dd hh:mm:ss", WHEN, "1962-03-11 14:05:09"),
    ("m/d/yyyy h:mm AM/PM", WHEN, "3/11/1962 2:05 PM"),
    # fractions of a second
    ("hh:mm:ss.00", FRACTION, "14:05:09.25"),
    ("mm:ss.0", 62.3 / 86400, "01:02.3"),
    # elapsed time
    ("[h]:mm:ss", 1.5, "36:00:00"),
    ("[h]:mm", 2.75, "66:00"),
    ("[mm]:ss", 0.5, "720:00"),
    ("[ss]", 0.01, "864"),
    # numbers, for contrast (documented examples)
    ("000-00-0000", 212674431, "212-67-4431"),
    ('"SSN "000-00-0000', 212674431, "SSN 212-67-4431"),
    ("#,##0.00", 1234.567, "1,234.57"),
    ("0%", 0.5, "50%"),
    ("0.00E+00", 12345, "1.23E+04"),
]


@pytest.mark.parametrize("code,value,shown", TABLE, ids=[f"{c}|{s}" for c, _, s in TABLE])
def test_format_shows_as_excel(code: str, value: float | dt.datetime, shown: str) -> None:
    number = serial(value) if isinstance(value, dt.datetime) else float(value)
    fmt = NumberFormat(code)
    assert fmt.format(number) == shown
    if fmt.is_date:
        # What the XLSX reader matches for a cell stored as that number: the same text (a
        # number format that hides stored digits adds them after a tab: test_extract_xlsx).
        assert display(repr(number), NumberFormat(code), False) == shown


def test_month_name_date_in_a_workbook(tmp_path: Path) -> None:
    """The issue's cell: a date under ``mmmm dd, yyyy`` reads as Excel shows it."""
    wb = Workbook()
    ws = wb.active
    ws["A1"] = dt.date(1962, 3, 11)
    ws["A1"].number_format = "mmmm dd, yyyy"
    ws["A2"] = WHEN
    ws["A2"].number_format = "dddd, mmmm d, yyyy h:mm AM/PM"
    path = tmp_path / "dates.xlsx"
    wb.save(path)
    cells = {e.location.cell: e.text for e in extract_file(path) if isinstance(e, Segment) and e.location.cell}
    assert cells == {"A1": "March 11, 1962", "A2": "Sunday, March 11, 1962 2:05 PM"}
    assert not any("%" in text for text in cells.values())
