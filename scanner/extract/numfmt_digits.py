"""Numbers under digit placeholders: fixed point, thousands, scientific notation, fractions.

Each function takes the tokens of one section (``numfmt_tokens``) and a non-negative
number; the sign and the choice of section are ``numfmt``'s.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from scanner.extract.numfmt_tokens import ZERO_DIGIT, Kind, Token

# Enum members bound to module names once: ``Kind.DIGIT`` is a class attribute lookup of
# ~65 ns in Python 3.11, and these functions test tokens for every displayed number.
_DIGIT, _LITERAL, _PERCENT, _COMMA, _DOT, _SLASH, _EXPONENT = (
    Kind.DIGIT,
    Kind.LITERAL,
    Kind.PERCENT,
    Kind.COMMA,
    Kind.DOT,
    Kind.SLASH,
    Kind.EXPONENT,
)
# Tokens a digit-filling function copies as written (a comma or dot here has no number role).
_SHOWN_AS_WRITTEN = (_LITERAL, _PERCENT)
_FRACTION_SHOWN = (_LITERAL, _PERCENT, _COMMA, _DOT)  # after the point, a comma has no role either


def round_half_up(v: float, places: int, raw: str | None = None) -> str:
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


class FixedPlan:
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

    def __init__(self, tokens: list[Token]) -> None:
        kinds = [k for k, _ in tokens]
        dot = kinds.index(_DOT) if _DOT in kinds else len(tokens)
        self.has_dot = dot < len(tokens)
        int_toks, self.frac_toks = tokens[:dot], tokens[dot + 1 :]
        self.int_toks, self.grouping, scale = thousands(int_toks)
        self.mult = 100 ** kinds.count(_PERCENT) / 1000**scale
        self.decimals = sum(1 for k, _ in self.frac_toks if k is _DIGIT)
        holders = [i for i, (k, _) in enumerate(self.int_toks) if k is _DIGIT]
        # "Simple" integer part: literals, then contiguous placeholders with no '?' and every
        # '0' after every '#', then literals ("$#,##0", "00000", "0%"): zero-pad and done.
        self.simple_int = bool(holders) and holders == list(range(holders[0], holders[-1] + 1))
        marks = "".join(self.int_toks[i][1] for i in holders)
        self.simple_int = self.simple_int and "?" not in marks and "#" not in marks.lstrip("#")
        self.zeros = marks.count("0")
        self.prefix = "".join(v for k, v in self.int_toks[: holders[0]]) if holders else ""
        self.suffix = "".join(v for k, v in self.int_toks[holders[-1] + 1 :]) if holders else ""
        self.simple_frac = all(t == ZERO_DIGIT for t in self.frac_toks)
        # ``assemble`` of a whole number is then prefix + zero-padded digits + suffix.
        self.pad_only = self.simple_int and not self.grouping and not self.has_dot

    def format(self, v: float, raw: str | None) -> str:
        v *= self.mult
        text = round_half_up(v, self.decimals, raw if self.mult == 1 else None)
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
            out = fill_integer(self.int_toks, int_digits, self.grouping)
        if self.has_dot:
            out += "." + (frac_digits if self.simple_frac else fill_fraction(self.frac_toks, frac_digits))
        return out


def thousands(toks: list[Token]) -> tuple[list[Token], bool, int]:
    """Commas between digit placeholders group thousands; commas after the last one scale by 1000."""
    digit_pos = [i for i, (k, _) in enumerate(toks) if k is _DIGIT]
    if not digit_pos:
        return [(_LITERAL, ",") if k is _COMMA else (k, v) for k, v in toks], False, 0
    first, last = digit_pos[0], digit_pos[-1]
    grouping, scale = False, 0
    out: list[Token] = []
    for i, (k, v) in enumerate(toks):
        if k is not _COMMA:
            out.append((k, v))
        elif first < i < last:
            grouping = True
        elif i > last and all(toks[j][0] is _COMMA for j in range(last + 1, i)):
            scale += 1
        else:
            out.append((_LITERAL, ","))
    return out, grouping, scale


def fill_integer(toks: list[Token], digits: str, grouping: bool) -> str:
    """Place the integer digits into the placeholders right to left; extra digits go to the first."""
    holders = [i for i, (k, _) in enumerate(toks) if k is _DIGIT]
    if not holders:
        return "".join(v for k, v in toks if k in _SHOWN_AS_WRITTEN) + digits
    if grouping:
        zeros = sum(1 for t in toks if t == ZERO_DIGIT)
        text = digits.rjust(zeros, "0") if zeros else digits
        grouped = f"{int(text):,}" if text else ""
        if text and len(text) > len(str(int(text))):  # keep forced leading zeros
            grouped = text[: len(text) - len(str(int(text)))] + grouped
        lead = "".join(v for k, v in toks[: holders[0]] if k in _SHOWN_AS_WRITTEN)
        tail = "".join(v for k, v in toks[holders[-1] + 1 :] if k in _SHOWN_AS_WRITTEN)
        return lead + grouped + tail
    out: list[str] = []
    k = len(digits)
    for i in range(len(toks) - 1, -1, -1):
        kind, val = toks[i]
        if kind is not _DIGIT:
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


def fill_fraction(toks: list[Token], digits: str) -> str:
    """Place the decimals into the placeholders after the point, left to right."""
    holders = [v for k, v in toks if k is _DIGIT]
    shown = list(digits)
    # Trailing zeros under '#' vanish and under '?' become spaces.
    for j in range(len(shown) - 1, -1, -1):
        if shown[j] != "0" or holders[j] == "0":
            break
        shown[j] = "" if holders[j] == "#" else " "
    out, j = [], 0
    for kind, val in toks:
        if kind is _DIGIT:
            out.append(shown[j] if j < len(shown) else "")
            j += 1
        elif kind in _FRACTION_SHOWN:
            out.append(val)
    return "".join(out)


def format_scientific(tokens: list[Token], v: float) -> str:
    """``0.00E+00`` and engineering ``##0.0E+0``."""
    at = next(i for i, (k, _) in enumerate(tokens) if k is _EXPONENT)
    mant, exp_toks = tokens[:at], tokens[at + 1 :]
    sign_always = tokens[at][1].endswith("+")
    kinds = [k for k, _ in mant]
    dot = kinds.index(_DOT) if _DOT in kinds else len(mant)
    int_places = max(1, sum(1 for k, _ in mant[:dot] if k is _DIGIT))
    decimals = sum(1 for k, _ in mant[dot + 1 :] if k is _DIGIT)
    exp = 0 if v == 0 else int(math.floor(math.log10(abs(v))))
    if int_places > 1:  # engineering style (##0.0E+0): exponent a multiple of the places
        exp -= exp % int_places
    mantissa = v / (10**exp) if v else 0.0
    text = round_half_up(mantissa, decimals)
    if float(text) >= 10**int_places and int_places == 1:
        exp += 1
        text = round_half_up(v / (10**exp), decimals)
    int_digits, _, frac_digits = text.partition(".")
    out = fill_integer(mant[:dot], "" if int_digits == "0" else int_digits, False)
    if dot < len(mant):
        out += "." + fill_fraction(mant[dot + 1 :], frac_digits)
    zeros = sum(1 for t in exp_toks if t == ZERO_DIGIT)
    sign = "-" if exp < 0 else ("+" if sign_always else "")
    rest = "".join(v2 for k, v2 in exp_toks if k is _LITERAL)
    return f"{out}E{sign}{str(abs(exp)).rjust(zeros, '0')}{rest}"


def format_fraction(tokens: list[Token], v: float) -> str:
    """``# ?/?``, ``# ??/??`` and fixed denominators (``# ?/16``)."""
    slash = next(i for i, (k, _) in enumerate(tokens) if k is _SLASH)
    before, after = tokens[:slash], tokens[slash + 1 :]
    num_start = slash
    while num_start > 0 and before[num_start - 1][0] is _DIGIT:
        num_start -= 1
    int_toks = before[:num_start]
    den_digits = [val for k, val in after if k is _DIGIT]
    fixed = "".join(val for k, val in after if k is _LITERAL and val.isdigit())
    has_int = any(k is _DIGIT for k, _ in int_toks)
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
    lead = fill_integer(int_toks, str(whole) if whole else "", False) if has_int else ""
    if num == 0 and has_int:
        return (lead or "0").rstrip()
    return f"{lead}{num}/{den}".strip()
