"""Text normalisation before matching.

Word and PDF exports write identifiers with typographic characters that a regex for
``\\d{3}-\\d{2}-\\d{4}`` does not see: non-breaking hyphens in CAS numbers, NBSP in
IBANs, full-width digits from CJK fonts, soft hyphens and zero-width joiners, digits
spaced out by PDF text extraction. Map them to plain ASCII before matching.

Most mappings keep the length, so offsets still point into the original segment;
removing zero-width characters and collapsing spaced digits does not, and offsets
then refer to the normalised text (the one the matcher and the explanation show).
"""

from __future__ import annotations

import regex

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_ZERO_WIDTH = "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe"

_TABLE: dict[int, int | str | None] = {}
_TABLE.update({ord(c): "-" for c in _DASHES})
_TABLE.update({ord(c): " " for c in _SPACES})
_TABLE.update({ord(c): None for c in _ZERO_WIDTH})
# Full-width ASCII block (digits, letters, punctuation) -> ASCII.
_TABLE.update({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if cp != 0xFF0D})
_TABLE.update({ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'})
_TABLE.update({ord("\ufb01"): "fi", ord("\ufb02"): "fl", ord("\ufb00"): "ff", ord("\ufb03"): "ffi",
               ord("\ufb04"): "ffl"})
_TRANSLATE = str.maketrans(_TABLE)

# "1 2 3 - 4 5 - 6 7 8 9": PDF text extraction of letter-spaced digits. Only runs of at
# least six *single* digits separated by single spaces (optionally "- " between groups)
# are collapsed, so ordinary numbers in prose survive. Each step of the pattern is
# deterministic (space, optional dash, digit), so it runs in linear time on hostile
# input such as "1 1 1 1 ..." megabytes long.
_SPACED_DIGITS = regex.compile(r"(?<![\w])\d(?: (?:[-/.] )?\d){5,}(?![\w])")


def _collapse(m: regex.Match[str]) -> str:
    return m.group(0).replace(" ", "")


def normalize(text: str) -> str:
    if text.isascii():
        out = text
    else:
        out = text.translate(_TRANSLATE)
    if " " in out:
        out = _SPACED_DIGITS.sub(_collapse, out)
    return out
