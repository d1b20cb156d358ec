"""Dates and times under a number format: Excel's date serials and the date/time tokens.

An Excel date is a number of days since 1900 (or 1904, a workbook setting); the
fraction is the time of day. A date section is compiled once per format into a ``%``
template (``compile_date``), so a column of distinct timestamps pays for the
analysis once.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scanner.extract.numfmt_tokens import ZERO_DIGIT, Kind, Token

DateParts = tuple[int, int, int, int, int, int, int]  # year, month, day, hour, minute, second, µs
_PART_INDEX = {"year": 0, "month": 1, "day": 2, "hour": 3, "minute": 4, "second": 5, "microsecond": 6}
MAX_SERIAL = 2958465.9999  # 9999-12-31 23:59:59
_ORD_1904 = _dt.date(1904, 1, 1).toordinal()
_ORD_1899_12_30 = _dt.date(1899, 12, 30).toordinal()
_ORD_1899_12_31 = _dt.date(1899, 12, 31).toordinal()
_ORD_1900_02_28 = _dt.date(1900, 2, 28).toordinal()
_LOTUS_LEAP_DAY = 60  # the serial of 29 Feb 1900 (see ``serial_parts``)
_DAY_MS = 86_400_000
_DAY_SECONDS = 86_400
_CACHE_SIZE = 65536  # entries kept before a memo is cleared: bounded memory on a hostile file
_days: dict[int, tuple[int, int, int]] = {}  # ordinal -> (year, month, day): rows share days

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Tokens a date section shows as written.
_SHOWN_AS_WRITTEN = (Kind.LITERAL, Kind.DOT, Kind.COMMA, Kind.PERCENT, Kind.SLASH, Kind.DIGIT)


def serial_parts(v: float, date1904: bool, keep_ms: bool) -> DateParts | None:
    """An Excel date serial as datetime fields; None when Excel would show ####.

    Whole milliseconds of the day (rounded to the second unless ``keep_ms``), added in
    integers to the day's ordinal: the same arithmetic as ``datetime + timedelta``
    without building either, for a column of distinct timestamps.
    """
    if v < 0 or v > MAX_SERIAL:
        return None
    days = int(v)
    ms = round((v - days) * _DAY_MS)
    if not keep_ms:
        ms = round(ms / 1000) * 1000
    if date1904:
        ordinal = _ORD_1904 + days
    elif days > _LOTUS_LEAP_DAY:
        ordinal = _ORD_1899_12_30 + days
    elif days == _LOTUS_LEAP_DAY:  # Lotus 1-2-3's 29 Feb 1900, kept by Excel: no such day exists
        ordinal = _ORD_1900_02_28
    else:
        ordinal = _ORD_1899_12_31 + days
    if ms >= _DAY_MS:  # 23:59:59.9996 rounds up to the next midnight
        ordinal += 1
        ms -= _DAY_MS
    ymd = _days.get(ordinal)
    if ymd is None:
        d = _dt.date.fromordinal(ordinal)  # ValueError past 9999-12-31, as datetime + timedelta
        ymd = (d.year, d.month, d.day)
        if len(_days) >= _CACHE_SIZE:
            _days.clear()
        _days[ordinal] = ymd
    second, milli = divmod(ms, 1000)
    minute, second = divmod(second, 60)
    hour, minute = divmod(minute, 60)
    return ymd + (hour, minute, second, milli * 1000)


_DateReader = Callable[[_dt.datetime, float], Any]


@dataclass(frozen=True, slots=True)
class DatePlan:
    """A date section compiled: ``template % fields(parts)``, or readers where a field needs one."""

    subsecond_places: int  # digits shown after the seconds' point (0: round to the second)
    template: str
    fields: Callable[[DateParts], Any]
    readers: list[_DateReader] | None  # None: every field is a plain number from ``fields``


def format_date(plan: DatePlan, v: float, date1904: bool) -> str | None:
    """The displayed date for serial ``v``; None when Excel would show ####."""
    parts = serial_parts(v, date1904, keep_ms=plan.subsecond_places > 0)
    if parts is None:
        return None
    if plan.readers is None:
        shown: str = plan.template % plan.fields(parts)  # numeric fields only: one C call for all of them
        return shown
    dt = _dt.datetime(*parts)
    return plan.template % tuple([read(dt, v) for read in plan.readers])


def compile_date(toks: list[Token]) -> DatePlan:
    """A date section as a ``%`` template over the date's fields, decided once per format.

    Which 'm' is a minute, whether hours are 12-hour, how many sub-second digits show:
    all follow from the tokens alone, so a column of distinct timestamps pays for them
    once. When every field is a plain number (``yyyy-mm-dd hh:mm``) one ``itemgetter``
    fetches them all from ``serial_parts``; names, 12-hour clocks, elapsed time and
    fractions of seconds need small readers of a datetime instead.
    """
    subsec = 0
    for i, (k, _) in enumerate(toks):
        if k is Kind.DOT and i + 1 < len(toks) and toks[i + 1] == ZERO_DIGIT:
            j = i + 1
            while j < len(toks) and toks[j] == ZERO_DIGIT:
                j += 1
            subsec = j - i - 1
    twelve = any(k is Kind.AMPM for k, _ in toks)
    parts: list[str] = []
    attrs: list[str] = []
    readers: list[_DateReader] = []
    simple = True

    i = 0
    while i < len(toks):
        kind, val = toks[i]
        reader: _DateReader | None = None
        if kind is Kind.DATE:
            field = _date_field(toks, i, val, twelve)
            if field is not None:
                spec, attr = field
                parts.append(spec)
                attrs.append(attr)
                readers.append(_attr_reader(attr))  # used only if another field needs a reader
            else:
                reader = _date_reader(toks, i, val, twelve)
        elif kind is Kind.ELAPSED:
            reader = _elapsed_reader(val)
        elif kind is Kind.AMPM:
            reader = _am_pm if val == "AM/PM" else _a_p
        elif kind is Kind.DOT and subsec and i + 1 < len(toks) and toks[i + 1] == ZERO_DIGIT:
            reader = _subsecond_reader(subsec)
            i += subsec
        elif kind in _SHOWN_AS_WRITTEN:
            parts.append(val.replace("%", "%%"))
        if reader is not None:
            simple = False
            parts.append("%s")
            readers.append(reader)
        i += 1
    fields: Callable[[DateParts], Any] = (
        operator.itemgetter(*[_PART_INDEX[a] for a in attrs]) if attrs else (lambda parts: ())
    )
    if simple and len(attrs) == 1:
        fields = _single(fields)  # itemgetter of one index returns the value, not a tuple
    return DatePlan(subsec, "".join(parts), fields, None if simple else readers)


def _single(get: Callable[[DateParts], Any]) -> Callable[[DateParts], Any]:
    return lambda parts: (get(parts),)


def _attr_reader(attr: str) -> _DateReader:
    return lambda dt, v: getattr(dt, attr)


def _is_minute(toks: list[Token], i: int, n: int) -> bool:
    """'m'/'mm' is minutes right after an hour or right before a second, else the month."""
    return n <= 2 and (_neighbour(toks, i, -1) == "h" or _neighbour(toks, i, 1) == "s")


def _date_field(toks: list[Token], i: int, val: str, twelve: bool) -> tuple[str, str] | None:
    """A numeric date/time token as (``%`` spec, datetime attribute); None for the rest."""
    c, n = val[0], len(val)
    spec = "%02d" if n >= 2 else "%d"
    if c == "y":
        return ("%04d", "year") if n > 2 else None
    if c == "d":
        return (spec, "day") if n <= 2 else None
    if c == "h":
        return None if twelve else (spec, "hour")
    if c == "s":
        return (spec, "second")
    if _is_minute(toks, i, n):
        return (spec, "minute")
    return (spec, "month") if n <= 2 else None


def _am_pm(dt: _dt.datetime, v: float) -> str:
    return "AM" if dt.hour < 12 else "PM"


def _a_p(dt: _dt.datetime, v: float) -> str:
    return "A" if dt.hour < 12 else "P"


def _subsecond_reader(places: int) -> _DateReader:
    return lambda dt, v: f"{dt.microsecond / 1e6:.{places}f}"[1:]


def _elapsed_reader(val: str) -> _DateReader:
    unit, width = val[0], len(val)
    div = 3600 if unit == "h" else (60 if unit == "m" else 1)
    return lambda dt, v: str(round(v * _DAY_SECONDS) // div).rjust(width, "0")


def _date_reader(toks: list[Token], i: int, val: str, twelve: bool) -> _DateReader:
    """What one date/time token shows, as a function of the datetime."""
    c, n = val[0], len(val)
    if c == "y":
        return (lambda dt, v: f"{dt.year % 100:02d}") if n <= 2 else (lambda dt, v: f"{dt.year:04d}")
    if c == "d":
        if n <= 2:
            return (lambda dt, v: str(dt.day)) if n == 1 else (lambda dt, v: f"{dt.day:02d}")
        return (lambda dt, v: _DAYS[dt.weekday()][:3]) if n == 3 else (lambda dt, v: _DAYS[dt.weekday()])
    if c == "h":
        if twelve:
            return (lambda dt, v: f"{dt.hour % 12 or 12:02d}") if n >= 2 else (lambda dt, v: str(dt.hour % 12 or 12))
        return (lambda dt, v: f"{dt.hour:02d}") if n >= 2 else (lambda dt, v: str(dt.hour))
    if c == "s":
        return (lambda dt, v: f"{dt.second:02d}") if n >= 2 else (lambda dt, v: str(dt.second))
    if _is_minute(toks, i, n):
        return (lambda dt, v: f"{dt.minute:02d}") if n == 2 else (lambda dt, v: str(dt.minute))
    if n <= 2:
        return (lambda dt, v: str(dt.month)) if n == 1 else (lambda dt, v: f"{dt.month:02d}")
    if n == 3:
        return lambda dt, v: _MONTHS[dt.month - 1][:3]
    if n == 5:
        return lambda dt, v: _MONTHS[dt.month - 1][0]
    return lambda dt, v: _MONTHS[dt.month - 1]


def _neighbour(toks: list[Token], i: int, step: int) -> str:
    """The letter of the nearest date or elapsed-time token before (step -1) or after (1) ``i``."""
    j = i + step
    while 0 <= j < len(toks):
        kind, val = toks[j]
        if kind is Kind.DATE or kind is Kind.ELAPSED:
            return val[0]
        j += step
    return ""
