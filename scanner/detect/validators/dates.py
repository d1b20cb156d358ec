"""Dates as people write them, and which of them can be a date of birth."""

from __future__ import annotations

import datetime as _dt

import regex

from scanner.detect.validators.common import digits

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january", "januar", "janvier", "gennaio", "enero"),
            ("feb", "february", "februar", "fevrier", "février", "febbraio", "febrero"),
            ("mar", "march", "marz", "märz", "mars", "marzo"),
            ("apr", "april", "avril", "aprile", "abril"),
            ("may", "mai", "maggio", "mayo"),
            ("jun", "june", "juni", "juin", "giugno", "junio"),
            ("jul", "july", "juli", "juillet", "luglio", "julio"),
            ("aug", "august", "aout", "août", "agosto"),
            ("sep", "sept", "september", "septembre", "settembre", "septiembre"),
            ("oct", "october", "oktober", "octobre", "ottobre", "octubre", "okt"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dezember", "decembre", "décembre", "dicembre", "diciembre", "dez"),
        ),
        start=1,
    )
    for m in names
}
_NUM_DATE = regex.compile(r"^(\d{1,4})[-/. ](\d{1,2}|[A-Za-zéû]{3,9}\.?)[-/. ,]*(\d{2,4})$")
_TEXT_DATE = regex.compile(r"^([A-Za-zéû]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_COMPACT_MON = regex.compile(r"^(\d{1,2})([A-Za-z]{3})(\d{2,4})$")


def _year4(y: int, today: _dt.date) -> int:
    if y >= 100:
        return y
    # Two-digit years (M/D/YY): a birth year cannot be in the future, so pivot on today.
    return 2000 + y if 2000 + y <= today.year else 1900 + y


def parse_dates(value: str, today: _dt.date | None = None) -> list[_dt.date]:
    """Every calendar date the text can mean (ambiguous D/M orders give two)."""
    today = today or _dt.date.today()
    v = value.strip().rstrip(".")
    out: list[_dt.date] = []

    def add(y: int, m: int, d: int) -> None:
        try:
            out.append(_dt.date(_year4(y, today), m, d))
        except ValueError:
            pass

    m = _TEXT_DATE.match(v)
    if m:
        mon = _MONTHS.get(m.group(1).lower())
        if mon:
            add(int(m.group(3)), mon, int(m.group(2)))
        return out
    m = _COMPACT_MON.match(v)
    if m:
        mon = _MONTHS.get(m.group(2).lower())
        if mon:
            add(int(m.group(3)), mon, int(m.group(1)))
        return out
    m = _NUM_DATE.match(v)
    if not m:
        return out
    a, b, c = m.group(1), m.group(2), m.group(3)
    if not b.isdigit():
        mon = _MONTHS.get(b.rstrip(".").lower())
        if mon and len(a) <= 2:
            add(int(c), mon, int(a))
        return out
    if len(a) == 4:  # ISO YYYY-MM-DD
        add(int(a), int(b), int(c))
    else:  # MM/DD/YYYY or DD/MM/YYYY (both kept when both are dates)
        add(int(c), int(a), int(b))
        add(int(c), int(b), int(a))
    return out


def date_of_birth(value: str) -> bool | None:
    # HIPAA Safe Harbor (C): birth dates. The value must be a real calendar date in
    # 1900..today (PATTERN_CATALOGUE.md 4.10). True when every reading is at least ten
    # years old (an adult's birth date, not a document date); None when it is recent
    # (an infant's birth date is possible, but so is a signature or visit date).
    today = _dt.date.today()
    dates = [d for d in parse_dates(value, today) if _dt.date(1900, 1, 1) <= d <= today]
    if not dates:
        return False
    if all((today - d).days >= 3653 for d in dates):
        return True
    return None


def calendar_date(value: str) -> bool:
    """A real calendar date (02/30 is not), any year 1900-2199."""
    return any(1900 <= d.year < 2200 for d in parse_dates(value))


def age_over_89(value: str) -> bool:
    # HIPAA Safe Harbor (C): ages over 89 are identifiers; above 120 is not an age.
    d = digits(value)
    return bool(d) and 90 <= int(d) <= 120
