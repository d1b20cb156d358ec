"""What a finding may carry instead of its raw value: a masked form for people, a keyed hash for counting.

Raw matched text lives only in ``Finding.value`` in memory (see ``scanner.model``); everything
that is printed, logged or stored uses ``mask`` and ``keyed_hash``.
"""

from __future__ import annotations

import hmac

import regex

from scanner.detect import validators

# Longer values (keys, sequences) are shown by their two ends only: 12 characters of shape
# at the head (every letter or digit masked) and the masked last 16 behind an ellipsis.
_LONG_VALUE = 64
_LONG_HEAD = 12
_LONG_TAIL = 16
# A masked value wider than this is cut the same way, so one line of a report stays one line.
_SHOWN_WIDTH = 40

_ALNUM = regex.compile(r"[^\W_]")
_CTRL_WS = str.maketrans("\r\n\t", "   ")


def _kept_alnum(alnum: int) -> int:
    """How many trailing letters/digits stay readable: enough to tell two values apart, never
    enough to rebuild one: the last four of an SSN or a card, as receipts and statements show them."""
    if alnum >= 8:
        return 4
    if alnum >= 6:
        return 2
    if alnum >= 4:
        return 1
    return 0


def mask(value: str) -> str:
    """Keep separators and the last few alphanumerics: '123-45-6789' -> '***-**-6789'."""
    if len(value) > _LONG_VALUE:
        head = _ALNUM.sub("*", value[:_LONG_HEAD]).translate(_CTRL_WS)
        return f"{head}…{mask(value[-_LONG_TAIL:])} ({len(value)} chars)"
    alnum = sum(map(str.isalnum, value))
    hide = alnum - _kept_alnum(alnum)
    out = value
    if hide > 0:
        chars = list(value)
        for i, ch in enumerate(chars):
            if ch.isalnum():
                chars[i] = "*"
                hide -= 1
                if not hide:
                    break
        out = "".join(chars)
    out = out.translate(_CTRL_WS)
    if len(out) > _SHOWN_WIDTH:
        out = f"{out[:_LONG_HEAD]}…{out[-_LONG_TAIL:]} ({len(value)} chars)"
    return out


def value_key(value: str) -> str:
    """Normalised form for hashing and allow-lists: case and separators do not count."""
    return validators.compact(value).casefold() or value.strip().casefold()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the normalised value, first 128 bits in hex."""
    return hmac.digest(key, value_key(value).encode("utf-8"), "sha256").hex()[:32]
