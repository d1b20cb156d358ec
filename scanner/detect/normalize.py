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

import unicodedata
from typing import Any

import hyperscan as hs
import regex

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_ZERO_WIDTH = "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe"
# Invisible formatting a sender can slip between digits so "212-67-4431" no longer reads as
# one token: bidi marks, embeddings, overrides and isolates, invisible operators (U+2061-2064),
# the Arabic letter mark, the Mongolian vowel separator and the combining grapheme joiner.
_INVISIBLE = (
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u061c\u180e\u034f"
)

_TABLE: dict[int, int | str | None] = {}
_TABLE.update({ord(c): "-" for c in _DASHES})
_TABLE.update({ord(c): " " for c in _SPACES})
_TABLE.update({ord(c): None for c in _ZERO_WIDTH + _INVISIBLE})
# Variation selectors and Unicode tag characters render as nothing.
_TABLE.update({cp: None for cp in (*range(0xFE00, 0xFE10), *range(0xE0000, 0xE0080))})
# Full-width ASCII block (digits, letters, punctuation) -> ASCII.
_TABLE.update({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if cp != 0xFF0D})
_TABLE.update({ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'})
_TABLE.update(
    {ord("\ufb01"): "fi", ord("\ufb02"): "fl", ord("\ufb00"): "ff", ord("\ufb03"): "ffi", ord("\ufb04"): "ffl"}
)
_TRANSLATE = str.maketrans(_TABLE)

# "1 2 3 - 4 5 - 6 7 8 9": PDF text extraction of letter-spaced digits. Only runs of at
# least six *single* digits separated by single spaces (optionally "- " between groups)
# are collapsed, so ordinary numbers in prose survive. Each step of the pattern is
# deterministic (space, optional dash, digit), so it runs in linear time on hostile
# input such as "1 1 1 1 ..." megabytes long.
_SPACED_DIGITS = regex.compile(r"(?<![\w])\d(?: (?:[-/.] )?\d){5,}(?![\w])")


# "287- 65- 4329" or "287 -65 -4329": a PDF form's comb fields, one box per digit group, come
# out of text extraction with a space beside each separator. Groups of two or more digits joined
# by - / . with a space on either side are closed up; a lone "3 - 4" in prose is left alone.
# Possessive quantifiers and no trailing assertion keep it linear on hostile chains
# ("11-11-11-..." megabytes long): a chain is consumed once, never re-split.
_COMB_SEPARATED = regex.compile(r"(?<![\w])\d{2,}+(?: ?[-/.] ?\d{2,}+)++")
_SEPARATOR_SPACES = regex.compile(r" ?([-/.]) ?")


def _close_up(m: regex.Match[str]) -> str:
    chain: str = m.group(0)
    if " " not in chain:
        return chain
    closed: str = _SEPARATOR_SPACES.sub(r"\1", chain)
    return closed


def _collapse(m: regex.Match[str]) -> str:
    collapsed: str = m.group(0).replace(" ", "")
    return collapsed


# Any other Unicode decimal digit (Arabic-Indic, Devanagari, ...) and any other Unicode
# space: the multi-pattern engine reads \d and \s with their ASCII meaning.
_OTHER_DIGIT = regex.compile(r"(?![0-9])\d")
_OTHER_SPACE = regex.compile(r"[\u2028\u2029\x85]|(?![ \t\n\r\f\v])\s")


def _fold_digit(m: regex.Match[str]) -> str:
    return str(unicodedata.digit(m.group(0), 0))


def _fold_space(m: regex.Match[str]) -> str:
    return "\n" if m.group(0) in "\u2028\u2029\x85" else " "


_PRECHECK: Any = None  # Vectorscan database: does the text hold spaced-out digits at all?
_PRECHECK_TRIED = False


def _precheck_db() -> Any:
    """Compiled once per process. Scanning for spaced digits with Vectorscan (GB/s) and
    running the ``regex`` substitution only where they occur keeps normalisation off the
    matcher's critical path: most text has none."""
    global _PRECHECK, _PRECHECK_TRIED
    if not _PRECHECK_TRIED:
        _PRECHECK_TRIED = True
        try:
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            db.compile(expressions=[SPACED_DIGITS_EXPR.encode()], ids=[0], elements=1, flags=[hs.HS_FLAG_SINGLEMATCH])
            _PRECHECK = db
        except Exception:
            _PRECHECK = None
    return _PRECHECK


def _has_spaced_digits(text: str) -> bool:
    db = _precheck_db()
    if db is None:
        return True
    found: list[bool] = []

    def on_match(*_args: object) -> bool:
        found.append(True)
        return True  # stop at the first hit

    try:
        db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match)
    except Exception:
        pass
    return bool(found)


# The Vectorscan expression the matcher adds to its own database, so that one scan also
# says whether letter-spaced digits are present (then it collapses them and scans again).
SPACED_DIGITS_EXPR = (
    r"\d (?:[-/.] )?\d (?:[-/.] )?\d (?:[-/.] )?\d (?:[-/.] )?\d (?:[-/.] )?\d"
    r"|\d\d [-/.] ?\d\d|\d\d[-/.] \d\d"
)


# These patterns are linear by construction; the timeout is the rule (every regex call
# has one) and a backstop. A TimeoutError makes the document unscannable, never clean.
_TIMEOUT = 10.0


def collapse_spaced_digits(text: str) -> str:
    """'2 1 2 - 6 7 - 4 4 3 1' and '212- 67- 4431' -> '212-67-4431' (runs of six or more single
    digits; groups of two or more with a space beside a separator)."""
    if " " not in text:
        return text
    out: str = _SPACED_DIGITS.sub(_collapse, text, timeout=_TIMEOUT)
    closed: str = _COMB_SEPARATED.sub(_close_up, out, timeout=_TIMEOUT)
    return closed


def normalize(text: str, collapse_digits: bool = True) -> str:
    """Typographic characters to ASCII; with ``collapse_digits``, spaced-out digits joined."""
    if text.isascii():
        out = text
    else:
        out = text.translate(_TRANSLATE)
        if not out.isascii():
            out = _OTHER_DIGIT.sub(_fold_digit, out, timeout=_TIMEOUT)
            out = _OTHER_SPACE.sub(_fold_space, out, timeout=_TIMEOUT)
    if collapse_digits and " " in out and _has_spaced_digits(out):
        out = collapse_spaced_digits(out)
    return out
