"""What every validator shares: the signature, compiled-once patterns, digit and checksum helpers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import regex

Validator = Callable[[str], bool | None]

_NON_ALNUM = regex.compile(r"[^0-9A-Za-z]")
_COMPILED: dict[str, regex.Pattern[str]] = {}


def _r(pattern: str) -> regex.Pattern[str]:
    """A compiled pattern, compiled once: validators run for every candidate."""
    rx = _COMPILED.get(pattern)
    if rx is None:
        rx = _COMPILED[pattern] = regex.compile(pattern)
    return rx


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def compact(value: str) -> str:
    out: str = _NON_ALNUM.sub("", value)
    return out


def shannon_entropy(value: str) -> float:
    """Bits per character over the value's own character frequencies (as gitleaks computes it)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def luhn(value: str) -> bool:
    from stdnum import luhn as _luhn

    d = digits(value)
    return len(d) >= 2 and bool(_luhn.is_valid(d))
