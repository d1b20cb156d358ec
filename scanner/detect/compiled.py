"""A pattern made ready to match: every regex it needs compiled once per matcher.

Also the error any regex call on it can raise: every call runs with a timeout, and a
timeout means the text was not fully checked (never "clean").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex

from scanner.detect import validators
from scanner.detect.engine import Engine
from scanner.detect.patterns import Pattern
from scanner.detect.redact import value_key

# Confirmation window before a hit for a pattern with no bounded width (a repeat without a
# maximum); a longer match touching the window's end is re-tried with room (match.py).
_DEFAULT_UNBOUNDED_WIDTH = 512
MARGIN = 64  # chars after a hit so lookaheads and \b see real text


class MatchTimeout(Exception):
    """A regex hit its timeout: the text could not be fully checked (never 'clean')."""

    def __init__(self, pattern_id: str):
        super().__init__(f"pattern {pattern_id} timed out (regex safety limit); text not fully checked")
        self.pattern_id = pattern_id


def longest_first(word: str) -> tuple[int, str]:
    """Sort key for an alternation: a regex alternation takes the first that fits, so the
    longest goes first; ties alphabetically, so the same words give the same expression in
    every process (a set's order changes with each process's string hashing)."""
    return -len(word), word


def word_alternation(words: Sequence[str]) -> regex.Pattern[str] | None:
    """Whole words only, case-insensitive; a space in a word also matches '_', '-' or none."""
    if not words:
        return None
    alts = "|".join(regex.escape(w).replace(r"\ ", r"[\s_-]*") for w in sorted(set(words), key=longest_first))
    # Never inside an address or file name: "example" in "jane@example.com" is not
    # negative context, "lot" in "pilot" is not a keyword.
    return regex.compile(rf"(?<![\w@./\\])(?:{alts})(?![\w@]|\.\w)", regex.IGNORECASE)


@dataclass(slots=True)
class CompiledPattern:
    index: int  # its expression id in the Vectorscan database
    pattern: Pattern
    rx: regex.Pattern[str]
    keywords: regex.Pattern[str] | None
    negative: regex.Pattern[str] | None
    allow: frozenset[str]  # value_key of each allow-listed value
    allow_rx: tuple[regex.Pattern[str], ...]
    validator: validators.Validator | None
    width: int  # chars before a hit end the confirmation window reaches
    engine: Engine = Engine.REGEX
    after: int = MARGIN  # chars after a hit end the confirmation window reaches
    col_rx: regex.Pattern[str] | None = None  # value shape for a gated table column
    col_keywords: regex.Pattern[str] | None = None  # header words that open the column
    col_ws_rx: regex.Pattern[str] | None = None  # the value shape between spaces (text tables)
    keywords_rev: regex.Pattern[str] | None = None  # keywords searched backwards: the nearest first

    @classmethod
    def build(cls, index: int, p: Pattern) -> CompiledPattern:
        width = p.width()
        keywords = word_alternation(p.keywords)
        col = p.column_regex
        return cls(
            index=index,
            pattern=p,
            rx=p.compile(),
            keywords=keywords,
            keywords_rev=regex.compile(keywords.pattern, keywords.flags | regex.REVERSE) if keywords else None,
            negative=word_alternation(p.negative),
            allow=frozenset(value_key(v) for v in p.allow),
            allow_rx=tuple(regex.compile(r) for r in p.allow_regex),
            validator=validators.REGISTRY[p.validator] if p.validator else None,
            width=width if width is not None else _DEFAULT_UNBOUNDED_WIDTH,
            col_rx=regex.compile(col, p.regex_flags) if col else None,
            col_keywords=(word_alternation(p.column_keywords) or keywords) if col else None,
            col_ws_rx=regex.compile(rf"(?<!\S)(?:{col})(?![^\s,;])", p.regex_flags) if col else None,
        )
