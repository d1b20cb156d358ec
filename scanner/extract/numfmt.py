"""Excel number formats: the text a spreadsheet cell shows for the number it stores.

``NumberFormat(code).format(value)`` is Excel's displayed text for a number under a
format code; ``display(stored, fmt, date1904)`` is what the XLSX reader matches for a
cell: the displayed text, plus the stored value after a tab when the format hides
digits the stored value has (``;;;``, ``"XXX-XX-"0000``, rounding), because the stored
value leaves with the file. A number stored as 123456789 under ``000-00-0000`` is the
SSN "123-45-6789" on screen and must be matched as such.

The code is read by ``numfmt_tokens``; numbers are rendered by ``numfmt_digits`` and
dates by ``numfmt_dates``.
"""

from __future__ import annotations

import math
import re

from scanner.extract.numfmt_dates import DatePlan, compile_date, format_date
from scanner.extract.numfmt_digits import FixedPlan, format_fraction, format_scientific
from scanner.extract.numfmt_tokens import Condition, Kind, Token, split_sections, tokenise

# ECMA-376 Part 1, 18.8.30: built-in number formats (ids absent from styles.xml), as Excel
# shows them in an en-US locale. The CJK date ids (27-36, 50-58) become ISO dates.
BUILTIN_FORMATS: dict[int, str] = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);\\("$"#,##0\\)',
    6: '"$"#,##0_);[Red]\\("$"#,##0\\)',
    7: '"$"#,##0.00_);\\("$"#,##0.00\\)',
    8: '"$"#,##0.00_);[Red]\\("$"#,##0.00\\)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "m/d/yyyy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yyyy h:mm",
    37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)",
    41: '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)',
    42: '_("$"* #,##0_);_("$"* \\(#,##0\\);_("$"* "-"_);_(@_)',
    43: '_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)',
    44: '_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mm:ss.0",
    48: "##0.0E+0",
    49: "@",
}
for _id in (*range(27, 32), 34, 35, 36, *range(50, 59)):
    BUILTIN_FORMATS[_id] = "yyyy-mm-dd"
for _id in (32, 33):
    BUILTIN_FORMATS[_id] = "h:mm:ss"

# Sections 1-3 show positive, negative and zero numbers; a 4th (text) never shows one.
_NUMERIC_SECTIONS = 3
# Stored texts remembered per format before the memo is cleared: columns repeat values,
# and the bound keeps a hostile sheet of distinct values from growing it without end.
_CACHE_SIZE = 65536
_GENERAL_DIGITS = 11  # significant digits General shows of a decimal in a normal-width cell
_MAX_EXACT_INTEGER_DIGITS = 15  # a float holds every integer up to this many digits exactly


class Section:
    """One ';'-separated section of a format code, tokenised."""

    __slots__ = ("tokens", "cond", "is_date", "has_text", "has_digits", "has_general", "plan", "date_plan")

    def __init__(self, code: str) -> None:
        self.tokens: list[Token]
        self.cond: Condition | None
        self.tokens, self.cond = tokenise(code)
        kinds = {k for k, _ in self.tokens}
        self.is_date = bool(kinds & {Kind.DATE, Kind.ELAPSED, Kind.AMPM})
        self.has_text = Kind.AT in kinds
        self.has_digits = Kind.DIGIT in kinds
        self.has_general = Kind.GENERAL in kinds
        self.plan: FixedPlan | None = None
        self.date_plan: DatePlan | None = None  # built on first use
        if self.has_digits and not self.is_date and not kinds & {Kind.EXPONENT, Kind.SLASH}:
            self.plan = FixedPlan([t for t in self.tokens if t[0] is not Kind.AT])


class NumberFormat:
    """A compiled number format code; ``format(value)`` gives Excel's displayed text."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.sections = [Section(s) for s in split_sections(code)] or [Section("General")]
        numeric = self.sections[:_NUMERIC_SECTIONS]
        self.numeric = numeric  # sections that can show a number (the 4th is for text)
        self.conditional = any(s.cond for s in numeric)
        self.is_date = any(s.is_date for s in numeric)
        self.is_general = len(self.sections) == 1 and self.sections[0].tokens == [(Kind.GENERAL, "")]
        self.cache: dict[str, str] = {}  # stored text -> displayed text: columns repeat values
        # A positive whole number needs no float or rounding under a plain section without
        # decimals or scaling ("00000" zip codes and IDs, "000-00-0000"): see ``_display_uncached``.
        first = numeric[0].plan if numeric and not self.conditional else None
        self.int_plan = first if first is not None and first.mult == 1 and first.decimals == 0 else None
        # A positive number under a date format shows through its first section alone (a
        # column of distinct timestamps: see ``_display_uncached``).
        self.first_date = numeric[0] if not self.conditional and numeric[0].is_date else None

    def format(self, value: float, date1904: bool = False, raw: str | None = None) -> str:
        """The displayed text of ``value``; ``raw``, the stored text, settles exact decimal ties."""
        section, v, sign = self._pick(value)
        if section.is_date:
            # Excel shows ##### for a negative date; "" makes the caller keep the stored value.
            return (
                ""
                if value < 0 and not any(k is _ELAPSED for k, _ in section.tokens)
                else (format_date(section.date_plan or _date_plan(section), v, date1904) or "")
            )
        if not section.has_digits:
            # "General", "@" (a number in a text-formatted cell) or literals only ("-" for zero).
            shown = general(abs(v)) if section.has_general or section.has_text else ""
            body = _render_literals(section, shown)
        else:
            body = _format_number(section, abs(v), raw.lstrip("-") if raw else None)
        return (sign + body).strip()

    def _pick(self, value: float) -> tuple[Section, float, str]:
        """(the section that shows ``value``, the number it shows, the sign to put before it)."""
        numeric = self.numeric
        if value > 0 and not self.conditional:
            return numeric[0], value, ""  # the usual case, decided without a scan
        if self.conditional:
            for s in numeric[:2]:
                if s.cond and s.cond.holds(value):
                    return s, abs(value), ""  # a conditional section shows no sign of its own
            rest = [s for s in numeric if not s.cond] or numeric[-1:]
            return rest[0], abs(value), ""
        if value < 0 and len(numeric) >= 2:
            return numeric[1], -value, ""
        if value == 0 and len(numeric) >= 3:
            return numeric[2], 0.0, ""
        return numeric[0], abs(value), "-" if value < 0 else ""


def general(v: float) -> str:
    """Excel's General format for a number (up to 15 significant digits, E notation beyond)."""
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    a = abs(v)
    if a >= 1e15 or a < 1e-9:
        mant, exp = f"{v:.5E}".split("E")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}E{exp[0]}{abs(int(exp)):02d}"
    digits = 10 - int(math.floor(math.log10(a)))
    text = f"{round(v, max(digits, 0)):.{max(digits, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Enum members and groups bound once: ``Kind.AT`` is a class attribute lookup of ~65 ns in
# Python 3.11, and these are tested for every number a section without a plan shows.
_AT, _PERCENT, _EXPONENT, _ELAPSED = Kind.AT, Kind.PERCENT, Kind.EXPONENT, Kind.ELAPSED
_STANDS_FOR_NUMBER = (Kind.GENERAL, Kind.AT)
_SHOWN_AS_WRITTEN = (Kind.LITERAL, Kind.PERCENT)


def _render_literals(section: Section, general_text: str) -> str:
    return "".join(
        general_text if k in _STANDS_FOR_NUMBER else (v if k in _SHOWN_AS_WRITTEN else "") for k, v in section.tokens
    )


def _format_number(section: Section, v: float, raw: str | None = None) -> str:
    plan = section.plan
    if plan is None:
        tokens = [t for t in section.tokens if t[0] is not _AT]
        kinds = [k for k, _ in tokens]
        v *= 100 ** kinds.count(_PERCENT)
        if _EXPONENT in kinds:
            return format_scientific(tokens, v)
        return format_fraction(tokens, v)
    return plan.format(v, raw)


def _date_plan(section: Section) -> DatePlan:
    """The section's date plan, compiled on first use (most formats are never dates)."""
    plan = section.date_plan = compile_date(section.tokens)
    return plan


# --- a cell's stored text, displayed -----------------------------------------------------

_NON_DIGIT = re.compile(r"\D+")
# A stored decimal that General shows exactly as written: canonical (no exponent, no
# leading or trailing zeros) and within General's 11 significant digits.
_PLAIN_DECIMAL = re.compile(r"-?(?:[1-9][0-9]*|0)\.[0-9]*[1-9]")


def display(raw: str, fmt: NumberFormat, date1904: bool) -> str:
    """What Excel shows for a stored number (memoised per format: columns repeat values)."""
    cache = fmt.cache
    shown = cache.get(raw)
    if shown is None:
        shown = _display_uncached(raw, fmt, date1904)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[raw] = shown
    return shown


def display_general(raw: str, fmt: NumberFormat, date1904: bool) -> str:
    """``display`` for a General cell, skipping the formatter for a plain short decimal (most of them)."""
    if _PLAIN_DECIMAL.fullmatch(raw) and len(raw.lstrip("-0.").replace(".", "")) <= _GENERAL_DIGITS:
        cache = fmt.cache
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[raw] = raw  # columns repeat values: the next one is a dictionary hit
        return raw
    return display(raw, fmt, date1904)


def _display_uncached(raw: str, fmt: NumberFormat, date1904: bool) -> str:
    """The displayed text, plus the stored value after a tab when the display hides its digits."""
    plan = fmt.int_plan
    if plan is not None and raw.isdigit() and len(raw) <= _MAX_EXACT_INTEGER_DIGITS:
        digits = raw.lstrip("0")
        if digits:
            if plan.pad_only:  # "00000": the digits zero-padded, between literals
                return (plan.prefix + digits.rjust(plan.zeros, "0") + plan.suffix).strip()
            shown = plan.assemble(digits, "").strip()
            if digits in shown:
                return shown  # every stored digit is on screen (else the full path decides)
    try:
        number = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(number):
        return raw
    first_date = fmt.first_date
    if first_date is not None and number > 0:
        # What ``fmt.format`` does for this case, minus the section choice and sign.
        try:
            return format_date(first_date.date_plan or _date_plan(first_date), number, date1904) or raw
        except Exception:
            return raw
    try:
        shown = fmt.format(number, date1904, raw)
    except Exception:
        return raw
    if fmt.is_date or fmt.is_general:
        # General only rounds past 15 significant digits; it never hides what a user typed.
        return shown or raw
    if shown == raw or (raw in shown and raw.strip("-0.")):
        return shown  # zero-padded or decimal-padded: every stored digit is on screen
    stored_digits = _NON_DIGIT.sub("", raw.split("E")[0].split("e")[0]).lstrip("0")
    if stored_digits and stored_digits in _NON_DIGIT.sub("", shown):
        return shown
    return f"{shown}\t{raw}" if shown else raw
