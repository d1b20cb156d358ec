"""Excel (XLSX/XLSM/XLTX) text: every non-empty cell as the user sees it, hidden sheets,
cell comments, print headers/footers, defined names, text boxes, properties, embeddings.

Worksheets and the shared-string table are streamed, so a million-row sheet costs
constant memory and the sheet's declared dimension (which a hostile file sets to
A1:XFD1048576) is never trusted or used. The shared strings are read with iterparse and
cleared item by item. A worksheet's rows are read by ``sheet_xml.SheetRows``: rows in
the plain shape Excel, LibreOffice and openpyxl write are taken with compiled patterns
straight from the inflated text, and everything else in the part (rows with rich text,
comments or unusual attributes, the elements around ``<sheetData>`` such as the
header/footer) goes to an incremental lxml parser with the same safe settings, so a
malformed part still fails as damaged. A part that is not plain UTF-8 in the sheet's
default namespace is read whole with iterparse, which is also the reference the fast
path is tested against (``FAST_SHEETS = False``); both feed one cell loop.

A cell's text is its *displayed* value: a number stored as 123456789 with the format
``000-00-0000`` is the SSN "123-45-6789" on screen and must be matched as such. When
the format hides digits the stored value has (``;;;``, ``"XXX-XX-"0000``, rounding), the
stored value follows the displayed one after a tab, because it leaves with the file.
"""

from __future__ import annotations

import datetime as _dt
import math
import operator
import re
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.ooxml import (
    Names,
    Package,
    column_letters,
    drawing_paragraphs,
    expect_root,
    extract_package,
    iterparse,
    local_name,
    release,
    unescape_xstring,
)
from scanner.extract.sheet_xml import Cell, SheetRows, SheetXMLError
from scanner.model import Event, Location, Segment

# Worksheets are read by ``SheetRows`` (patterns for the usual rows, lxml for the rest);
# False reads every row with lxml's iterparse, the reference the tests compare it with.
FAST_SHEETS = True


def extract_xlsx(src: Source, ctx: Context) -> Iterator[Event]:
    return extract_package(
        src,
        ctx,
        "XLSX",
        "xl/workbook.xml",
        "xl/embeddings/",
        lambda pkg, c, main: _Workbook(pkg, c, main).events(),
        "unsupported format: Excel binary workbook (.xlsb)",
    )


# --- number formats ------------------------------------------------------------------

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
_COND = re.compile(r"^\[(<=|>=|<>|<|>|=)\s*(-?[0-9.]+(?:[eE][-+]?\d+)?)\]$")
_ELAPSED = re.compile(r"^\[(h+|m+|s+)\]$", re.IGNORECASE)
_MAX_SERIAL = 2958465.9999  # 9999-12-31 23:59:59


# Single-character format tokens and their kinds.
_PUNCT_TOKENS = {".": "dot", ",": "comma", "%": "pct", "/": "slash", "@": "at"}


class _Section:
    """One ';'-separated section of a format code, tokenised."""

    __slots__ = ("tokens", "cond", "is_date", "has_text", "has_digits", "has_general", "plan", "date_plan")

    def __init__(self, code: str) -> None:
        self.cond: tuple[str, float] | None = None
        self.tokens = self._tokenise(code)
        kinds = {k for k, _ in self.tokens}
        self.is_date = bool(kinds & {"date", "elapsed", "ampm"})
        self.has_text = "at" in kinds
        self.has_digits = "dig" in kinds
        self.has_general = "general" in kinds
        self.plan: _FixedPlan | None = None
        self.date_plan: _DatePlan | None = None  # built on first use
        if self.has_digits and not self.is_date and not kinds & {"exp", "slash"}:
            self.plan = _FixedPlan([t for t in self.tokens if t[0] != "at"])

    def _tokenise(self, code: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        i, n = 0, len(code)
        while i < n:
            ch = code[i]
            low = ch.lower()
            if ch == '"':
                end = code.find('"', i + 1)
                end = n if end < 0 else end
                out.append(("lit", code[i + 1 : end]))
                i = end + 1
            elif ch == "\\":
                out.append(("lit", code[i + 1 : i + 2]))
                i += 2
            elif ch == "_":
                out.append(("lit", " "))  # "leave the width of the next char": a space is enough
                i += 2
            elif ch == "*":
                i += 2  # fill character: layout only
            elif ch == "[":
                end = code.find("]", i)
                end = n - 1 if end < 0 else end
                self._bracket(code[i : end + 1], out)
                i = end + 1
            elif code[i : i + 7].lower() == "general":
                out.append(("general", ""))
                i += 7
            elif code[i : i + 5].upper() == "AM/PM":
                out.append(("ampm", "AM/PM"))
                i += 5
            elif code[i : i + 3].upper() == "A/P":
                out.append(("ampm", "A/P"))
                i += 3
            elif low in "ymdhse":
                j = i
                while j < n and code[j].lower() == low:
                    j += 1
                out.append(("date", code[i:j].lower() if low != "e" else "yyyy"))
                i = j
            elif low in "gb" and (not out or out[-1][0] in ("date", "lit")):
                i += 1  # era / Buddhist-year markers: ignored
            elif ch in "0#?":
                out.append(("dig", ch))
                i += 1
            elif ch in _PUNCT_TOKENS:
                out.append((_PUNCT_TOKENS[ch], ch))
                i += 1
            else:
                out.append(("lit", ch))
                i += 1
        return self._fix_exponent(out)

    @staticmethod
    def _fix_exponent(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """'E+'/'E-' after digit placeholders is scientific notation, not a year token."""
        out: list[tuple[str, str]] = []
        saw_digit = False
        i = 0
        while i < len(tokens):
            kind, val = tokens[i]
            if kind == "dig":
                saw_digit = True
            if (
                kind == "date"
                and val == "yyyy"
                and saw_digit
                and i + 1 < len(tokens)
                and tokens[i + 1][0] == "lit"
                and tokens[i + 1][1] in "+-"
                and tokens[i + 1][1]
            ):
                out.append(("exp", "E" + tokens[i + 1][1]))
                i += 2
                continue
            out.append((kind, val))
            i += 1
        return out

    def _bracket(self, text: str, out: list[tuple[str, str]]) -> None:
        inner = text[1:-1]
        if _ELAPSED.match(text):
            out.append(("elapsed", inner.lower()))
        elif inner.startswith("$"):
            symbol = inner[1:].split("-", 1)[0]
            if symbol:
                out.append(("lit", symbol))
        else:
            m = _COND.match(text)
            if m:
                self.cond = (m.group(1), float(m.group(2)))
            # otherwise a colour ([Red], [Color 10]): layout only


def _cond_true(cond: tuple[str, float], v: float) -> bool:
    op, ref = cond
    return {"<": v < ref, "<=": v <= ref, ">": v > ref, ">=": v >= ref, "=": v == ref, "<>": v != ref}[op]


class NumberFormat:
    """A compiled number format code; ``format(value)`` gives Excel's displayed text."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.sections = [_Section(s) for s in _split_sections(code)] or [_Section("General")]
        numeric = self.sections[:3]
        self.numeric = numeric  # sections that can show a number (the 4th is for text)
        self.conditional = any(s.cond for s in numeric)
        self.is_date = any(s.is_date for s in numeric)
        self.is_general = len(self.sections) == 1 and self.sections[0].tokens == [("general", "")]
        self.cache: dict[str, str] = {}  # stored text -> displayed text: columns repeat values
        # A positive whole number needs no float or rounding under a plain section without
        # decimals or scaling ("00000" zip codes and IDs, "000-00-0000"): see ``_display_uncached``.
        first = numeric[0].plan if numeric and not self.conditional else None
        self.int_plan = first if first is not None and first.mult == 1 and first.decimals == 0 else None
        # A positive number under a date format shows through its first section alone (a
        # column of distinct timestamps: see ``_display_uncached``).
        self.first_date = numeric[0] if not self.conditional and numeric[0].is_date else None

    def format(self, value: float, date1904: bool = False, raw: str | None = None) -> str:
        section, v, sign = self._pick(value)
        if section.is_date:
            # Excel shows ##### for a negative date; "" makes the caller keep the stored value.
            return (
                ""
                if value < 0 and not any(k == "elapsed" for k, _ in section.tokens)
                else (_format_date(section, v, date1904) or "")
            )
        if not section.has_digits:
            # "General", "@" (a number in a text-formatted cell) or literals only ("-" for zero).
            shown = general(abs(v)) if section.has_general or section.has_text else ""
            body = _render_literals(section, shown)
        else:
            body = _format_number(section, abs(v), raw.lstrip("-") if raw else None)
        return (sign + body).strip()

    def _pick(self, value: float) -> tuple[_Section, float, str]:
        numeric = self.numeric
        if value > 0 and not self.conditional:
            return numeric[0], value, ""  # the usual case, decided without a scan
        if self.conditional:
            for s in numeric[:2]:
                if s.cond and _cond_true(s.cond, value):
                    return s, abs(value), ""  # a conditional section shows no sign of its own
            rest = [s for s in numeric if not s.cond] or numeric[-1:]
            return rest[0], abs(value), ""
        if value < 0 and len(numeric) >= 2:
            return numeric[1], -value, ""
        if value == 0 and len(numeric) >= 3:
            return numeric[2], 0.0, ""
        return numeric[0], abs(value), "-" if value < 0 else ""


def _split_sections(code: str) -> list[str]:
    out, buf, i = [], [], 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            end = len(code) if end < 0 else end
            buf.append(code[i : end + 1])
            i = end + 1
            continue
        if ch == "\\":
            buf.append(code[i : i + 2])
            i += 2
            continue
        if ch == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


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


def _render_literals(section: _Section, general_text: str) -> str:
    return "".join(
        general_text if k in ("general", "at") else (v if k in ("lit", "pct") else "") for k, v in section.tokens
    )


def _round(v: float, places: int, raw: str | None = None) -> str:
    """Round half away from zero on the decimal value (as Excel does), fixed-point text.

    Binary floats make ``f"{2.0005:.3f}"`` give 2.000 where Excel shows 2.001; only exact
    decimal ties differ, so the slow exact path runs only when the stored text is one.
    """
    if raw is not None and "E" not in raw and "e" not in raw:
        _, _, frac = raw.partition(".")
        if len(frac) != places + 1 or not frac.endswith("5"):
            return f"{v:.{places}f}"
    try:
        d = Decimal(repr(v)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return f"{v:.{places}f}"
    return f"{d:f}"


class _FixedPlan:
    """A plain numeric section (no exponent, no fraction) analysed once, formatted many times."""

    __slots__ = (
        "mult",
        "int_toks",
        "frac_toks",
        "grouping",
        "decimals",
        "has_dot",
        "simple_int",
        "prefix",
        "suffix",
        "zeros",
        "simple_frac",
        "pad_only",
    )

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        kinds = [k for k, _ in tokens]
        dot = kinds.index("dot") if "dot" in kinds else len(tokens)
        self.has_dot = dot < len(tokens)
        int_toks, self.frac_toks = tokens[:dot], tokens[dot + 1 :]
        self.int_toks, self.grouping, scale = _thousands(int_toks)
        self.mult = 100 ** kinds.count("pct") / 1000**scale
        self.decimals = sum(1 for k, _ in self.frac_toks if k == "dig")
        holders = [i for i, (k, _) in enumerate(self.int_toks) if k == "dig"]
        # "Simple" integer part: literals, then contiguous placeholders with no '?' and every
        # '0' after every '#', then literals ("$#,##0", "00000", "0%"): zero-pad and done.
        self.simple_int = bool(holders) and holders == list(range(holders[0], holders[-1] + 1))
        marks = "".join(self.int_toks[i][1] for i in holders)
        self.simple_int = self.simple_int and "?" not in marks and "#" not in marks.lstrip("#")
        self.zeros = marks.count("0")
        self.prefix = "".join(v for k, v in self.int_toks[: holders[0]]) if holders else ""
        self.suffix = "".join(v for k, v in self.int_toks[holders[-1] + 1 :]) if holders else ""
        self.simple_frac = all(t == ("dig", "0") for t in self.frac_toks)
        # ``assemble`` of a whole number is then prefix + zero-padded digits + suffix.
        self.pad_only = self.simple_int and not self.grouping and not self.has_dot

    def format(self, v: float, raw: str | None) -> str:
        v *= self.mult
        text = _round(v, self.decimals, raw if self.mult == 1 else None)
        int_digits, _, frac_digits = text.partition(".")
        return self.assemble("" if int_digits == "0" else int_digits, frac_digits)

    def assemble(self, int_digits: str, frac_digits: str) -> str:
        """The section's text for rounded digits ('' for a zero integer part)."""
        if self.simple_int:
            if self.grouping:
                body = f"{int(int_digits):,}" if int_digits else ""
                if len(body) < self.zeros:  # "0,000" style forced zeros: rare, pad plainly
                    body = int_digits.rjust(self.zeros, "0")
            else:
                body = int_digits.rjust(self.zeros, "0") if self.zeros else int_digits
            out = self.prefix + body + self.suffix
        else:
            out = _fill_integer(self.int_toks, int_digits, self.grouping)
        if self.has_dot:
            out += "." + (frac_digits if self.simple_frac else _fill_fraction(self.frac_toks, frac_digits))
        return out


def _format_number(section: _Section, v: float, raw: str | None = None) -> str:
    plan = section.plan
    if plan is None:
        tokens = [t for t in section.tokens if t[0] != "at"]
        kinds = [k for k, _ in tokens]
        v *= 100 ** kinds.count("pct")
        if "exp" in kinds:
            return _format_scientific(tokens, v)
        return _format_fraction(tokens, v)
    return plan.format(v, raw)


def _thousands(toks: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], bool, int]:
    """Commas between digit placeholders group thousands; commas after the last one scale by 1000."""
    digit_pos = [i for i, (k, _) in enumerate(toks) if k == "dig"]
    if not digit_pos:
        return [("lit", ",") if k == "comma" else (k, v) for k, v in toks], False, 0
    first, last = digit_pos[0], digit_pos[-1]
    grouping, scale, out = False, 0, []
    for i, (k, v) in enumerate(toks):
        if k != "comma":
            out.append((k, v))
        elif first < i < last:
            grouping = True
        elif i > last and all(toks[j][0] == "comma" for j in range(last + 1, i)):
            scale += 1
        else:
            out.append(("lit", ","))
    return out, grouping, scale


def _fill_integer(toks: list[tuple[str, str]], digits: str, grouping: bool) -> str:
    """Place the integer digits into the placeholders right to left; extra digits go to the first."""
    holders = [i for i, (k, _) in enumerate(toks) if k == "dig"]
    if not holders:
        return "".join(v for k, v in toks if k in ("lit", "pct")) + digits
    if grouping:
        zeros = sum(1 for k, v in toks if k == "dig" and v == "0")
        text = digits.rjust(zeros, "0") if zeros else digits
        grouped = f"{int(text):,}" if text else ""
        if text and len(text) > len(str(int(text))):  # keep forced leading zeros
            grouped = text[: len(text) - len(str(int(text)))] + grouped
        lead = "".join(v for k, v in toks[: holders[0]] if k in ("lit", "pct"))
        tail = "".join(v for k, v in toks[holders[-1] + 1 :] if k in ("lit", "pct"))
        return lead + grouped + tail
    out: list[str] = []
    k = len(digits)
    for i in range(len(toks) - 1, -1, -1):
        kind, val = toks[i]
        if kind != "dig":
            out.append(val)
            continue
        if i == holders[0]:
            chunk = digits[:k]
            k = 0
        elif k > 0:
            chunk = digits[k - 1]
            k -= 1
        else:
            chunk = ""
        if not chunk:
            chunk = "0" if val == "0" else (" " if val == "?" else "")
        out.append(chunk)
    return "".join(reversed(out))


def _fill_fraction(toks: list[tuple[str, str]], digits: str) -> str:
    holders = [v for k, v in toks if k == "dig"]
    shown = list(digits)
    # Trailing zeros under '#' vanish and under '?' become spaces.
    for j in range(len(shown) - 1, -1, -1):
        if shown[j] != "0" or holders[j] == "0":
            break
        shown[j] = "" if holders[j] == "#" else " "
    out, j = [], 0
    for kind, val in toks:
        if kind == "dig":
            out.append(shown[j] if j < len(shown) else "")
            j += 1
        elif kind in ("lit", "pct", "comma", "dot"):
            out.append(val)
    return "".join(out)


def _format_scientific(tokens: list[tuple[str, str]], v: float) -> str:
    at = next(i for i, (k, _) in enumerate(tokens) if k == "exp")
    mant, exp_toks = tokens[:at], tokens[at + 1 :]
    sign_always = tokens[at][1].endswith("+")
    kinds = [k for k, _ in mant]
    dot = kinds.index("dot") if "dot" in kinds else len(mant)
    int_places = max(1, sum(1 for k, _ in mant[:dot] if k == "dig"))
    decimals = sum(1 for k, _ in mant[dot + 1 :] if k == "dig")
    exp = 0 if v == 0 else int(math.floor(math.log10(abs(v))))
    if int_places > 1:  # engineering style (##0.0E+0): exponent a multiple of the places
        exp -= exp % int_places
    mantissa = v / (10**exp) if v else 0.0
    text = _round(mantissa, decimals)
    if float(text) >= 10**int_places and int_places == 1:
        exp += 1
        text = _round(v / (10**exp), decimals)
    int_digits, _, frac_digits = text.partition(".")
    out = _fill_integer(mant[:dot], "" if int_digits == "0" else int_digits, False)
    if dot < len(mant):
        out += "." + _fill_fraction(mant[dot + 1 :], frac_digits)
    zeros = sum(1 for k, v2 in exp_toks if k == "dig" and v2 == "0")
    sign = "-" if exp < 0 else ("+" if sign_always else "")
    rest = "".join(v2 for k, v2 in exp_toks if k == "lit")
    return f"{out}E{sign}{str(abs(exp)).rjust(zeros, '0')}{rest}"


def _format_fraction(tokens: list[tuple[str, str]], v: float) -> str:
    slash = next(i for i, (k, _) in enumerate(tokens) if k == "slash")
    before, after = tokens[:slash], tokens[slash + 1 :]
    num_start = slash
    while num_start > 0 and before[num_start - 1][0] == "dig":
        num_start -= 1
    int_toks = before[:num_start]
    den_digits = [val for k, val in after if k == "dig"]
    fixed = "".join(val for k, val in after if k == "lit" and val.isdigit())
    has_int = any(k == "dig" for k, _ in int_toks)
    whole = int(v) if has_int else 0
    frac = Fraction(v - whole).limit_denominator(int(fixed) if fixed else 10 ** max(1, len(den_digits)) - 1)
    if fixed:
        frac = Fraction(round((v - whole) * int(fixed)), int(fixed))
    if frac >= 1:
        whole += int(frac)
        frac -= int(frac)
    num, den = frac.numerator, frac.denominator
    if fixed:
        den = int(fixed)
        num = round((v - whole) * den)
    lead = _fill_integer(int_toks, str(whole) if whole else "", False) if has_int else ""
    if num == 0 and has_int:
        return (lead or "0").rstrip()
    return f"{lead}{num}/{den}".strip()


DateParts = tuple[int, int, int, int, int, int, int]  # year, month, day, hour, minute, second, µs
_PART_INDEX = {"year": 0, "month": 1, "day": 2, "hour": 3, "minute": 4, "second": 5, "microsecond": 6}
_ORD_1904 = _dt.date(1904, 1, 1).toordinal()
_ORD_1899_12_30 = _dt.date(1899, 12, 30).toordinal()
_ORD_1899_12_31 = _dt.date(1899, 12, 31).toordinal()
_ORD_1900_02_28 = _dt.date(1900, 2, 28).toordinal()
_DAY_MS = 86_400_000
_days: dict[int, tuple[int, int, int]] = {}  # ordinal -> (year, month, day): rows share days


def serial_parts(v: float, date1904: bool, keep_ms: bool) -> DateParts | None:
    """An Excel date serial as datetime fields; None when Excel would show ####.

    Whole milliseconds of the day (rounded to the second unless ``keep_ms``), added in
    integers to the day's ordinal: the same arithmetic as ``datetime + timedelta``
    without building either, for a column of distinct timestamps.
    """
    if v < 0 or v > _MAX_SERIAL:
        return None
    days = int(v)
    ms = round((v - days) * 86_400_000)
    if not keep_ms:
        ms = round(ms / 1000) * 1000
    if date1904:
        ordinal = _ORD_1904 + days
    elif days >= 61:
        ordinal = _ORD_1899_12_30 + days
    elif days == 60:  # Lotus 1-2-3's 29 Feb 1900, kept by Excel: no such day exists
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
        if len(_days) >= 65536:
            _days.clear()
        _days[ordinal] = ymd
    second, milli = divmod(ms, 1000)
    minute, second = divmod(second, 60)
    hour, minute = divmod(minute, 60)
    return ymd + (hour, minute, second, milli * 1000)


def serial_to_datetime(v: float, date1904: bool, keep_ms: bool) -> _dt.datetime | None:
    """An Excel date serial as a datetime; None when Excel would show ####."""
    parts = serial_parts(v, date1904, keep_ms)
    return None if parts is None else _dt.datetime(*parts)


def _format_date(section: _Section, v: float, date1904: bool) -> str | None:
    plan = section.date_plan
    if plan is None:
        plan = section.date_plan = _compile_date(section.tokens)
    subsec, template, fields, readers = plan
    parts = serial_parts(v, date1904, keep_ms=subsec > 0)
    if parts is None:
        return None
    if readers is None:
        return template % fields(parts)  # numeric fields only: one C call for all of them
    dt = _dt.datetime(*parts)
    return template % tuple([read(dt, v) for read in readers])


_DateReader = Callable[[_dt.datetime, float], Any]
_DatePlan = tuple[int, str, Callable[[DateParts], Any], list[_DateReader] | None]


def _compile_date(toks: list[tuple[str, str]]) -> _DatePlan:
    """A date section as a ``%`` template over the date's fields, decided once per format.

    Which 'm' is a minute, whether hours are 12-hour, how many sub-second digits show:
    all follow from the tokens alone, so a column of distinct timestamps pays for them
    once. When every field is a plain number (``yyyy-mm-dd hh:mm``) one ``itemgetter``
    fetches them all from ``serial_parts``; names, 12-hour clocks, elapsed time and
    fractions of seconds need small readers of a datetime instead.
    """
    subsec = 0
    for i, (k, _) in enumerate(toks):
        if k == "dot" and i + 1 < len(toks) and toks[i + 1] == ("dig", "0"):
            j = i + 1
            while j < len(toks) and toks[j] == ("dig", "0"):
                j += 1
            subsec = j - i - 1
    twelve = any(k == "ampm" for k, _ in toks)
    parts: list[str] = []
    attrs: list[str] = []
    readers: list[_DateReader] = []
    simple = True

    i = 0
    while i < len(toks):
        kind, val = toks[i]
        reader: _DateReader | None = None
        if kind == "date":
            field = _date_field(toks, i, val, twelve)
            if field is not None:
                spec, attr = field
                parts.append(spec)
                attrs.append(attr)
                readers.append(_attr_reader(attr))  # used only if another field needs a reader
            else:
                reader = _date_reader(toks, i, val, twelve)
        elif kind == "elapsed":
            reader = _elapsed_reader(val)
        elif kind == "ampm":
            reader = _am_pm if val == "AM/PM" else _a_p
        elif kind == "dot" and subsec and i + 1 < len(toks) and toks[i + 1] == ("dig", "0"):
            reader = _subsecond_reader(subsec)
            i += subsec
        elif kind in ("lit", "dot", "comma", "pct", "slash", "dig"):
            parts.append(val.replace("%", "%%"))
        if reader is not None:
            simple = False
            parts.append("%s")
            readers.append(reader)
        i += 1
    fields = operator.itemgetter(*[_PART_INDEX[a] for a in attrs]) if attrs else (lambda parts: ())
    if simple and len(attrs) == 1:
        fields = _single(fields)  # itemgetter of one index returns the value, not a tuple
    return subsec, "".join(parts), fields, (None if simple else readers)


def _single(get: Callable[[DateParts], Any]) -> Callable[[DateParts], Any]:
    return lambda parts: (get(parts),)


def _attr_reader(attr: str) -> _DateReader:
    return lambda dt, v: getattr(dt, attr)


def _is_minute(toks: list[tuple[str, str]], i: int, n: int) -> bool:
    """'m'/'mm' is minutes right after an hour or right before a second, else the month."""
    return n <= 2 and (_neighbour(toks, i, -1) == "h" or _neighbour(toks, i, 1) == "s")


def _date_field(toks: list[tuple[str, str]], i: int, val: str, twelve: bool) -> tuple[str, str] | None:
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


def _subsecond_reader(places: int) -> Callable[[_dt.datetime, float], str]:
    return lambda dt, v: f"{dt.microsecond / 1e6:.{places}f}"[1:]


def _elapsed_reader(val: str) -> Callable[[_dt.datetime, float], str]:
    unit, width = val[0], len(val)
    div = 3600 if unit == "h" else (60 if unit == "m" else 1)
    return lambda dt, v: str(round(v * 86400) // div).rjust(width, "0")


def _date_reader(toks: list[tuple[str, str]], i: int, val: str, twelve: bool) -> Callable[[_dt.datetime, float], str]:
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


def _neighbour(toks: list[tuple[str, str]], i: int, step: int) -> str:
    j = i + step
    while 0 <= j < len(toks):
        kind, val = toks[j]
        if kind == "date":
            return val[0]
        if kind == "elapsed":
            return val[0]
        j += step
    return ""


# --- workbook ---------------------------------------------------------------------------

_DIGITS = "0123456789"
_UNKNOWN_TYPE = "?"  # an explicit t="" in a cell tuple, where '' means "no t="
_NON_DIGIT = re.compile(r"\D+")
_HF_CODES = re.compile(r'&&|&"[^"]*"|&K[0-9A-Fa-f]{6}|&K\d\d[+-]\d{3}|&\d+|&[LCR]|&[A-Za-z]')


def _strip_header_codes(text: str) -> str:
    """'&L&"Arial,Bold"SSN&C&P of &N' -> 'SSN   of': Excel's header/footer field codes removed."""

    def repl(m: re.Match[str]) -> str:
        code = m.group(0)
        if code == "&&":
            return "&"
        return " " if code in ("&L", "&C", "&R") else ""

    return re.sub(r"[ \t]{2,}", " ", _HF_CODES.sub(repl, text)).strip()


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


class _Workbook:
    def __init__(self, pkg: Package, ctx: Context, main: str) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main
        self.date1904 = False
        self.formats: dict[str, NumberFormat] = {}  # cell style index (as written) -> format
        self.strings: list[str] = []
        self.general = NumberFormat("General")

    def events(self) -> Iterator[Event]:
        pkg = self.pkg
        wb = pkg.xml(self.main)
        expect_root(wb, "workbook", self.main, "XLSX")
        self.names = names = Names.for_root(wb.tag, "x")
        x = names.uris["x"]
        pr = wb.find(f"{{{x}}}workbookPr")
        if pr is not None and (pr.get("date1904") or "").lower() in ("1", "true"):
            self.date1904 = True
        rels = pkg.rel_map(self.main)
        self._load_styles([r.target for r in rels.values() if r.kind == "styles" and pkg.has(r.target)])
        self._load_strings([r.target for r in rels.values() if r.kind == "sharedstrings" and pkg.has(r.target)])

        sheet_names: list[str] = []
        for sheet in wb.iter(f"{{{x}}}sheet"):
            name = sheet.get("name") or "?"
            sheet_names.append(name)
            state = (sheet.get("state") or "visible").lower()
            part = "hidden_sheet" if state in ("hidden", "veryhidden") else "sheet"
            rel = rels.get(names.rid(sheet) or "")
            if rel is None or rel.external:
                continue
            if not pkg.has(rel.target):
                raise Unscannable(f"damaged or truncated XLSX (the part of sheet {name!r} is missing)")
            if rel.kind in ("worksheet", "xlmacrosheet", "xlintlmacrosheet", "dialogsheet"):
                yield from self._sheet(rel.target, name, part)
            yield from self._sheet_extras(rel.target, name, part)
        yield from self._defined_names(wb, sheet_names)

    # -- styles and strings -------------------------------------------------------------
    def _load_styles(self, parts: list[str]) -> None:
        if not parts:
            return
        root = self.pkg.xml(parts[0])
        x = self.names.uris["x"]
        custom: dict[int, str] = {}
        for fmt in root.iter(f"{{{x}}}numFmt"):
            try:
                custom[int(fmt.get("numFmtId") or "")] = fmt.get("formatCode") or "General"
            except ValueError:
                continue
        xfs = root.find(f"{{{x}}}cellXfs")
        if xfs is None:
            return
        compiled: dict[int, NumberFormat] = {}
        for index, xf in enumerate(xfs.iterfind(f"{{{x}}}xf")):
            try:
                fmt_id = int(xf.get("numFmtId") or 0)
            except ValueError:
                fmt_id = 0
            if fmt_id == 0:
                continue
            fmt = compiled.get(fmt_id)
            if fmt is None:
                code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "General")
                fmt = compiled[fmt_id] = NumberFormat(code)
            if not fmt.is_general:
                self.formats[str(index)] = fmt

    def _load_strings(self, parts: list[str]) -> None:
        """The shared-string table as a plain list, streamed (2 million entries is ~150 MB of str)."""
        if not parts:
            return
        part = parts[0]
        x = self.names.uris["x"]
        si_tag, t_tag, r_tag = f"{{{x}}}si", f"{{{x}}}t", f"{{{x}}}r"
        strings = self.strings
        append = strings.append
        with self.pkg.stream(part) as stream:
            # <sstItem> is the Office 2007 beta name of <si>; such files still circulate.
            for _, si in iterparse(stream, part, "XLSX", (si_tag, f"{{{x}}}sstItem")):
                if len(si) == 1 and si[0].tag == t_tag:
                    text = si[0].text or ""
                else:
                    text = _rich_text(si, t_tag, r_tag)
                append(unescape_xstring(text) if "_x" in text else text)
                release(si)

    # -- cells ----------------------------------------------------------------------------
    def _sheet(self, part: str, sheet: str, loc_part: str) -> Iterator[Event]:
        """Every non-empty cell of one worksheet, in document order, with its header context.

        Rows come from ``SheetRows`` (the plain shape as ``(r, cells)`` tuples read by
        compiled patterns, anything else as lxml elements), or all from lxml's iterparse
        when the part is not plain UTF-8 in the sheet's namespace or ``FAST_SHEETS`` is
        off (the reference the fast path is tested against). One loop decides every cell.

        The loop runs once per cell (millions of times in a big export), so it is written
        for speed: one generator frame, names bound to locals, the plain number, shared
        string and one-run inline string decoded inline and every other cell in
        ``_cell_text``, records built with ``tuple.__new__`` (no Python ``__new__``
        frame), the displayed value of a number memoised per format. '' stands for
        "absent" in a cell tuple.
        """
        x = self.names.uris["x"]
        tags = (f"{{{x}}}row", f"{{{x}}}headerFooter")
        hf_tag = tags[1]
        with self.pkg.stream(part) as stream:
            if not FAST_SHEETS:
                items = iterparse_elements(stream, part, tags)
            else:
                rows = SheetRows(stream, part, "XLSX", x, tags, lambda err: self._damage_in_place(part, err))
                items = rows.items() if rows.fast else iterparse_elements(rows.replay(), part, tags)
            ctx = self.ctx
            strings, formats, date1904 = self.strings, self.formats, self.date1904
            general_fmt = self.general
            general_cache = general_fmt.cache
            cell_text, element_cells = self._cell_text, self._element_cells
            budget, max_cells = ctx.budget, ctx.limits.max_cells
            doc = ctx.doc
            new, seg_cls, loc_cls = tuple.__new__, Segment, Location
            digits = _DIGITS
            header: dict[str, str] = {}
            header_final = False
            rows_seen = 0
            row_no = 0
            for item in items:
                if isinstance(item, tuple):
                    r, cells = item
                elif item.tag == hf_tag:
                    yield from self._header_footer(item, sheet)
                    continue
                else:
                    r, cells = item.get("r"), element_cells(item)
                    release(item)
                row_no = int(r) if r and r.isdigit() else row_no + 1
                row_str = str(row_no)
                # Until the header row is settled, a row's cells wait in ``pending``; after
                # that (nearly always) each cell is emitted as soon as it is read.
                pending: list[tuple[str, str, bool]] | None = None if header_final else []
                label_ref: str | None = None
                row_label: str | None = None
                count = 0
                prev_ref = ""
                for ref, s, t, formula, value, inline in cells:
                    ref = ref or _next_ref(prev_ref, row_str)
                    prev_ref = ref
                    if value:
                        if not t or t == "n":
                            is_text = False
                            fmt = formats.get(s)  # None for General and for no style
                            if fmt is not None:
                                text = fmt.cache.get(value) or _display(value, fmt, date1904)
                            elif value.isdigit() and len(value) <= 15:
                                text = value  # an integer in General shows as stored
                            else:
                                text = general_cache.get(value) or _display_general(value, general_fmt, date1904)
                        elif t == "s":
                            try:
                                text = strings[int(value)]
                            except (IndexError, ValueError):
                                raise Unscannable(
                                    f"damaged XLSX (cell {sheet}!{ref} refers to a missing shared string)"
                                ) from None
                            is_text = True
                        else:
                            text, is_text = cell_text(t, s, value, formula, inline, sheet, ref)
                    elif t == "inlineStr":
                        text = unescape_xstring(inline) if "_x" in inline else inline
                        is_text = True
                    elif formula:
                        text, is_text = cell_text(t or None, s, value, formula, inline, sheet, ref)
                    else:
                        continue  # no value: an empty or styled-only cell
                    if not text:
                        continue
                    count += 1
                    if label_ref is None:
                        # A row's first text cell labels the others ("SSN" | 123-45-6789).
                        label_ref = ref
                        if is_text:
                            row_label = text.strip()[:200] or None
                    if pending is not None:
                        pending.append((ref, text, is_text))
                        continue
                    context = header.get(ref.rstrip(digits)) if header else None
                    if row_label is not None and ref is not label_ref:
                        context = f"{context} | {row_label}" if context else row_label
                    yield new(
                        seg_cls,
                        (text, new(loc_cls, (loc_part, None, sheet, ref, None, None, None)), doc, context, None),
                    )
                if not count:
                    continue
                budget.cells += count
                if budget.cells > max_cells:
                    raise Unscannable(f"workbook has more than {max_cells:,} non-empty cells (limit)")
                rows_seen += 1
                if pending is None:
                    continue
                is_header = False
                # The column headers: the first row with two or more text cells (within the
                # first 20 rows); until one is seen, the first non-empty row.
                text_cells = [(ref, text) for ref, text, is_text in pending if is_text]
                if not header or (len(text_cells) >= 2 and rows_seen <= 20):
                    header = {ref.rstrip(digits): text.strip()[:200] for ref, text in text_cells}
                    header_final = len(text_cells) >= 2
                    is_header = True
                for ref, text, _ in pending:
                    context = None if is_header else header.get(ref.rstrip(digits))
                    if row_label is not None and ref != label_ref:
                        context = f"{context} | {row_label}" if context else row_label
                    yield new(
                        seg_cls,
                        (text, new(loc_cls, (loc_part, None, sheet, ref, None, None, None)), doc, context, None),
                    )

    def _damage_in_place(self, part: str, err: SheetXMLError) -> Unscannable:
        """Malformed XML as the reference reader reports it, line and column in the part itself.

        ``SheetRows`` sends lxml the part without the rows it read itself, so lxml counts
        lines and columns in a shorter text. Only a damaged part pays for reading it again
        with iterparse up to the damage; those bytes are not charged to the budget twice.
        """
        x = self.names.uris["x"]
        budget = self.ctx.budget
        spent = budget.expanded_bytes
        try:
            with self.pkg.stream(part) as stream:
                for _, el in iterparse(stream, part, "XLSX", (f"{{{x}}}row",)):
                    release(el)
        except Unscannable as found:
            return found if "XML error" in str(found) else err
        finally:
            budget.expanded_bytes = spent
        return err  # lxml reads the whole part fine: keep what SheetRows saw (never expected)

    def _element_cells(self, row: Any) -> list[Cell]:
        """A row lxml built, as the tuples ``SheetRows`` gives for the rows it reads itself.

        Every child counts: one that is not a <c> (extLst, a comment)
        still moves the column of a following cell without r=. Since '' stands for
        "absent", an explicit t="" (no known type: the stored text shows) becomes
        ``_UNKNOWN_TYPE``.
        """
        out: list[Cell] = []
        for c in row:
            t = c.get("t")
            value, formula, inline = self._cell_parts(c) if len(c) else (None, None, None)
            out.append(
                (
                    c.get("r") or "",
                    c.get("s") or "",
                    _UNKNOWN_TYPE if t == "" else t or "",
                    formula or "",
                    value or "",
                    inline or "",
                )
            )
        return out

    def _cell_parts(self, c: Any) -> tuple[str | None, str | None, str | None]:
        """A cell element's (value, formula, inline string) texts; None for a missing child."""
        x = self.names.uris["x"]
        v_tag, is_tag, f_tag = f"{{{x}}}v", f"{{{x}}}is", f"{{{x}}}f"
        value = formula = inline = None
        for child in c:
            ctag = child.tag
            if ctag == v_tag:
                value = child.text
            elif ctag == is_tag:
                inline = child
            elif ctag == f_tag:
                formula = child.text
        if inline is None:
            return value, formula, None
        t_tag = f"{{{x}}}t"
        first = inline[0] if len(inline) == 1 else None
        if first is not None and first.tag == t_tag:  # the usual <is><t>..</t></is>
            return value, formula, first.text or ""
        return value, formula, _rich_text(inline, t_tag, f"{{{x}}}r")

    def _cell_text(
        self,
        t: str | None,
        style: str | None,
        value: str | None,
        formula: str | None,
        inline: str | None,
        sheet: str,
        ref: str,
    ) -> tuple[str, bool]:
        """(displayed text, is it text) of a cell's parts; None or '' for a missing part.

        Inline strings, formula-and-value cells, uncalculated formulas, booleans, errors,
        ISO dates and ``t="str"`` formula results. An empty text means nothing to scan.
        """
        if t == "inlineStr":
            if not inline:
                return "", False
            return (unescape_xstring(inline) if "_x" in inline else inline), True
        if t == "s":
            if not value:
                return "", False
            try:
                return self.strings[int(value)], True
            except (IndexError, ValueError):
                raise Unscannable(f"damaged XLSX (cell {sheet}!{ref} refers to a missing shared string)") from None
        if not value:
            # A formula never calculated: its literals are all there is.
            return ("=" + formula if formula else ""), False
        if t is None or t == "n":
            fmt = self.formats.get(style) if style else None
            if fmt is not None:
                return _display(value, fmt, self.date1904), False
            if value.isdigit() and len(value) <= 15:
                return value, False
            return _display_general(value, self.general, self.date1904), False
        if t == "str":
            return (unescape_xstring(value) if "_x" in value else value), True
        if t == "b":
            return ("TRUE" if value.strip() in ("1", "true") else "FALSE"), False
        return value, False  # "e" (error) and "d" (ISO 8601 date): the stored text is what shows

    def _header_footer(self, el: Any, sheet: str) -> Iterator[Event]:
        for child in el:
            name = local_name(child.tag)
            text = _strip_header_codes(child.text or "")
            if text:
                part = "footer" if "Footer" in name else "header"
                yield self.ctx.segment(text, Location(part, sheet=sheet, name=name))

    # -- comments, drawings, names ----------------------------------------------------------
    def _sheet_extras(self, part: str, sheet: str, loc_part: str) -> Iterator[Event]:
        pkg, ctx = self.pkg, self.ctx
        x = self.names.uris["x"]
        t_tag, r_tag = f"{{{x}}}t", f"{{{x}}}r"
        for target in pkg.related(part, "comments"):
            root = pkg.xml(target)
            for comment in root.iter(f"{{{x}}}comment"):
                text_el = comment.find(f"{{{x}}}text")
                text = _rich_text(text_el, t_tag, r_tag).strip() if text_el is not None else ""
                if text:
                    yield ctx.segment(
                        unescape_xstring(text), Location("cell_comment", sheet=sheet, cell=comment.get("ref"))
                    )
        for target in pkg.related(part, "threadedcomment", "threadedcomments"):
            root = pkg.xml(target)
            for comment in root.iter():
                if local_name(comment.tag) != "threadedComment":
                    continue
                text = "".join(t.text or "" for t in comment if local_name(t.tag) == "text").strip()
                if text:
                    yield ctx.segment(text, Location("cell_comment", sheet=sheet, cell=comment.get("ref")))
        for drawing in pkg.related(part, "drawing"):
            texts = drawing_paragraphs(pkg.xml(drawing), self.names)
            if texts:
                yield ctx.segment("\n".join(texts), Location("textbox", sheet=sheet, name=drawing))
            for chart in pkg.related(drawing, "chart", "chartex", "diagramdata"):
                texts = drawing_paragraphs(pkg.xml(chart), self.names)
                if texts:
                    yield ctx.segment("\n".join(texts), Location("textbox", sheet=sheet, name=chart))

    def _defined_names(self, wb: Any, sheet_names: list[str]) -> Iterator[Event]:
        x = self.names.uris["x"]
        for dn in wb.iter(f"{{{x}}}definedName"):
            text = (dn.text or "").strip()
            if not text:
                continue
            sheet = None
            local = dn.get("localSheetId")
            if local is not None and local.isdigit() and int(local) < len(sheet_names):
                sheet = sheet_names[int(local)]
            name = dn.get("name") or "?"
            yield self.ctx.segment(text, Location("defined_name", sheet=sheet, name=name), context=name)


def iterparse_elements(stream: Any, part: str, tags: tuple[str, ...]) -> Iterator[Any]:
    """A sheet's rows and header/footer as lxml builds them (iterparse, safe settings)."""
    for _, el in iterparse(stream, part, "XLSX", tags):
        yield el


def _rich_text(el: Any, t_tag: str, r_tag: str) -> str:
    """Text of a string item: its own <t> and the <t> of its runs; phonetic runs (rPh) left out."""
    bits: list[str] = []
    for child in el:
        tag = child.tag
        if tag == t_tag:
            bits.append(child.text or "")
        elif tag == r_tag:
            for t in child.iter(t_tag):
                bits.append(t.text or "")
    return "".join(bits)


def _next_ref(prev: str, row: str) -> str:
    """The cell after ``prev`` in this row (cells may omit their r= attribute)."""
    if not prev:
        return "A" + row
    return column_letters(column_index(prev.rstrip(_DIGITS)) + 1) + row


def _display(raw: str, fmt: NumberFormat, date1904: bool) -> str:
    """What Excel shows for a stored number (memoised per format: columns repeat values)."""
    cache = fmt.cache
    shown = cache.get(raw)
    if shown is None:
        shown = _display_uncached(raw, fmt, date1904)
        if len(cache) >= 65536:
            cache.clear()
        cache[raw] = shown
    return shown


# A stored decimal that General shows exactly as written: canonical (no exponent, no
# leading or trailing zeros) and within General's 11 significant digits.
_PLAIN_DECIMAL = re.compile(r"-?(?:[1-9][0-9]*|0)\.[0-9]*[1-9]")


def _display_general(raw: str, fmt: NumberFormat, date1904: bool) -> str:
    """``_display`` for a General cell, skipping the formatter for a plain short decimal (most of them)."""
    if _PLAIN_DECIMAL.fullmatch(raw) and len(raw.lstrip("-0.").replace(".", "")) <= 11:
        cache = fmt.cache
        if len(cache) >= 65536:
            cache.clear()
        cache[raw] = raw  # columns repeat values: the next one is a dictionary hit
        return raw
    return _display(raw, fmt, date1904)


def _display_uncached(raw: str, fmt: NumberFormat, date1904: bool) -> str:
    """The displayed text, plus the stored value after a tab when the display hides its digits."""
    plan = fmt.int_plan
    if plan is not None and raw.isdigit() and len(raw) <= 15:
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
    if fmt.first_date is not None and number > 0:
        # What ``fmt.format`` does for this case, minus the section choice and sign.
        try:
            return _format_date(fmt.first_date, number, date1904) or raw
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
