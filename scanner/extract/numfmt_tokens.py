"""An Excel number-format code cut into sections and tokens (ECMA-376 Part 1, 18.8.31).

``numfmt`` decides what a section shows; ``numfmt_digits`` and ``numfmt_dates`` render
its numbers and dates. This module only reads the code: quoted and escaped literals,
digit placeholders, date and time letters, brackets (colours, conditions, currency,
elapsed time).
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass


class Kind(enum.Enum):
    """What one token of a format section stands for."""

    LITERAL = enum.auto()  # text shown as written ("$", quoted text, an escaped character)
    GENERAL = enum.auto()  # the word General: the number in General format
    AMPM = enum.auto()  # AM/PM or A/P: a 12-hour clock
    DATE = enum.auto()  # a run of one date/time letter, lower-cased: "yyyy", "mm", "d", "hh", "ss"
    ELAPSED = enum.auto()  # [h], [mm], [ss]: elapsed time, not a time of day
    DIGIT = enum.auto()  # a digit placeholder: 0 (always shown), # (if significant), ? (space if not)
    DOT = enum.auto()  # the decimal point
    COMMA = enum.auto()  # thousands separator, or a scale by 1000 after the last digit
    PERCENT = enum.auto()  # shown as written, and multiplies the number by 100
    SLASH = enum.auto()  # a fraction's bar
    AT = enum.auto()  # @: the cell's text
    EXPONENT = enum.auto()  # E+ / E-: scientific notation (the value is "E+" or "E-")


Token = tuple[Kind, str]  # (kind, the text it stands for)
ZERO_DIGIT: Token = (Kind.DIGIT, "0")

# Single-character tokens. '%', ',' and '.' keep their text: a literal where they have no role.
_PUNCT_TOKENS = {".": Kind.DOT, ",": Kind.COMMA, "%": Kind.PERCENT, "/": Kind.SLASH, "@": Kind.AT}
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "<>": operator.ne,
}
_COND = re.compile(r"^\[(<=|>=|<>|<|>|=)\s*(-?[0-9.]+(?:[eE][-+]?\d+)?)\]$")
_ELAPSED = re.compile(r"^\[(h+|m+|s+)\]$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Condition:
    """A section's ``[<100]``-style condition: the section shows the values it holds for."""

    compare: Callable[[float, float], bool]
    reference: float

    def holds(self, value: float) -> bool:
        return self.compare(value, self.reference)


def split_sections(code: str) -> list[str]:
    """The ';'-separated sections of a format code (a ';' inside quotes or escaped is text)."""
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


def tokenise(code: str) -> tuple[list[Token], Condition | None]:
    """One section's tokens, and its condition if it has one."""
    out: list[Token] = []
    cond: Condition | None = None
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        low = ch.lower()
        if ch == '"':
            end = code.find('"', i + 1)
            end = n if end < 0 else end
            out.append((Kind.LITERAL, code[i + 1 : end]))
            i = end + 1
        elif ch == "\\":
            out.append((Kind.LITERAL, code[i + 1 : i + 2]))
            i += 2
        elif ch == "_":
            out.append((Kind.LITERAL, " "))  # "leave the width of the next char": a space is enough
            i += 2
        elif ch == "*":
            i += 2  # fill character: layout only
        elif ch == "[":
            end = code.find("]", i)
            end = n - 1 if end < 0 else end
            cond = _bracket(code[i : end + 1], out) or cond
            i = end + 1
        elif code[i : i + 7].lower() == "general":
            out.append((Kind.GENERAL, ""))
            i += 7
        elif code[i : i + 5].upper() == "AM/PM":
            out.append((Kind.AMPM, "AM/PM"))
            i += 5
        elif code[i : i + 3].upper() == "A/P":
            out.append((Kind.AMPM, "A/P"))
            i += 3
        elif low in "ymdhse":
            j = i
            while j < n and code[j].lower() == low:
                j += 1
            out.append((Kind.DATE, code[i:j].lower() if low != "e" else "yyyy"))
            i = j
        elif low in "gb" and (not out or out[-1][0] in (Kind.DATE, Kind.LITERAL)):
            i += 1  # era / Buddhist-year markers: ignored
        elif ch in "0#?":
            out.append((Kind.DIGIT, ch))
            i += 1
        elif ch in _PUNCT_TOKENS:
            out.append((_PUNCT_TOKENS[ch], ch))
            i += 1
        else:
            out.append((Kind.LITERAL, ch))
            i += 1
    return _fix_exponent(out), cond


def _fix_exponent(tokens: list[Token]) -> list[Token]:
    """'E+'/'E-' after digit placeholders is scientific notation, not a year token."""
    out: list[Token] = []
    saw_digit = False
    i = 0
    while i < len(tokens):
        kind, val = tokens[i]
        if kind is Kind.DIGIT:
            saw_digit = True
        if (
            kind is Kind.DATE
            and val == "yyyy"
            and saw_digit
            and i + 1 < len(tokens)
            and tokens[i + 1][0] is Kind.LITERAL
            and tokens[i + 1][1] in "+-"
            and tokens[i + 1][1]
        ):
            out.append((Kind.EXPONENT, "E" + tokens[i + 1][1]))
            i += 2
            continue
        out.append((kind, val))
        i += 1
    return out


def _bracket(text: str, out: list[Token]) -> Condition | None:
    """A [...] part: elapsed time and currency become tokens; a condition is returned."""
    inner = text[1:-1]
    if _ELAPSED.match(text):
        out.append((Kind.ELAPSED, inner.lower()))
    elif inner.startswith("$"):
        symbol = inner[1:].split("-", 1)[0]
        if symbol:
            out.append((Kind.LITERAL, symbol))
    else:
        m = _COND.match(text)
        if m:
            return Condition(_COMPARISONS[m.group(1)], float(m.group(2)))
        # otherwise a colour ([Red], [Color 10]): layout only
    return None
