"""How evidence moves a candidate's score; ``Confidence.from_score`` turns the score into a level.

A pattern's ``score`` is the base. Pattern authors read these factors in patterns/README.md
("Score") and in the comment at the top of patterns/phi.toml: change them together.
"""

from __future__ import annotations

from scanner.detect.context import KeywordScope
from scanner.detect.patterns import Pattern

# A "soft" validator is a plausibility check, not a checksum, so its answer only nudges the
# score: up a little on a pass, down a little more on a failure (Clearance's own values, as
# documented for pattern authors). A "hard" pass lifts the score to the pattern's
# validated_score; a hard failure drops the candidate (a near-miss) before any scoring.
SOFT_VALIDATOR_PASS_BONUS = 0.1
SOFT_VALIDATOR_FAIL_PENALTY = 0.2

# A keyword next to the value or in its column header: Presidio's LemmaContextAwareEnhancer
# defaults (context_similarity_factor = 0.35, min_score_with_context_similarity = 0.4), so a
# weak pattern with context reaches at least "low" confidence.
NEAR_CONTEXT_BOOST = 0.35
NEAR_CONTEXT_FLOOR = 0.4
# A keyword only in the far window (or a plain-text table's header line) is weaker evidence:
# less than half the near boost (Clearance's own value).
FAR_CONTEXT_BOOST = 0.15
# A negative word ("example", "order") on the value's line or in its column header: almost
# as strong as a near keyword, so the two together leave the base score about where it was
# (Clearance's own value).
NEGATIVE_CONTEXT_PENALTY = 0.3

_MIN_SCORE = 0.0
_MAX_SCORE = 1.0


def after_validator(p: Pattern, score: float, passed: bool) -> float:
    """The score once the pattern's validator has answered yes (``passed``) or, soft, no."""
    if passed:
        return max(score, p.validated_score) if p.validator_mode == "hard" else score + SOFT_VALIDATOR_PASS_BONUS
    return score - SOFT_VALIDATOR_FAIL_PENALTY


def after_keyword(score: float, scope: KeywordScope) -> float:
    if scope in (KeywordScope.NEAR, KeywordScope.HEADER):
        return max(score + NEAR_CONTEXT_BOOST, NEAR_CONTEXT_FLOOR)
    return score + FAR_CONTEXT_BOOST


def after_negative(score: float) -> float:
    return score - NEGATIVE_CONTEXT_PENALTY


def clamp(score: float) -> float:
    return max(_MIN_SCORE, min(_MAX_SCORE, score))
