"""Every embedded example of every built-in pattern, as its own test.

House style H6: a ``must_match`` example must yield at least one finding of *that*
pattern id through the real matcher (Vectorscan prefilter, regex confirmation,
validator, context, threshold); a ``must_not_match`` example must yield none.
Ids read like ``phi-us-ssn::must_match[2]``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.detect.examples import match_example
from scanner.detect.match import Matcher
from scanner.detect.patterns import PatternSet, builtin_pattern_dir, load_pattern_set, parse_set_text

BUILTIN = builtin_pattern_dir()


def _cases() -> list[pytest.param]:
    cases = []
    for path in sorted(BUILTIN.glob("*.toml")):
        patterns, errors = parse_set_text(path.read_text(encoding="utf-8"), str(path))
        assert not errors, errors
        for p in patterns:
            for kind, texts in (("must_match", p.must_match), ("must_not_match", p.must_not_match)):
                for i, text in enumerate(texts):
                    cases.append(pytest.param(path.stem, p.id, kind, text, id=f"{p.id}::{kind}[{i}]"))
    return cases


_matchers: dict[str, Matcher] = {}


def _matcher_for(pattern_id: str) -> Matcher:
    """One pattern per matcher, as `clearance patterns test` runs them: no other pattern interferes."""
    m = _matchers.get(pattern_id)
    if m is None:
        p = _PSET.by_id(pattern_id)
        assert p is not None
        m = _matchers[pattern_id] = Matcher(PatternSet((p,)), hash_key=b"examples")
    return m


_PSET = load_pattern_set()


@pytest.mark.parametrize(("set_name", "pattern_id", "kind", "text"), _cases())
def test_example(set_name: str, pattern_id: str, kind: str, text: str) -> None:
    result = match_example(_matcher_for(pattern_id), text)
    mine = [f for f in result.findings if f.pattern == pattern_id]
    if kind == "must_match":
        near = [n.explanation.summary() for n in result.near_misses if n.pattern == pattern_id]
        assert mine, f"{set_name}:{pattern_id} did not match {text!r}; near-misses: {near}"
        assert all(f.value.strip() for f in mine)
    else:
        assert not mine, (
            f"{set_name}:{pattern_id} matched {text!r}: {[(f.value, f.explanation.summary()) for f in mine]}"
        )


def test_every_builtin_pattern_has_examples_of_both_kinds() -> None:
    for p in _PSET.patterns:
        assert p.must_match and p.must_not_match, p.id


def test_builtin_ids_are_prefixed_kebab_case_and_unique() -> None:
    import re

    seen: set[str] = set()
    for p in _PSET.patterns:
        assert re.fullmatch(r"(phi|formula|ip|secret|finance)-[a-z0-9]+(?:-[a-z0-9]+)*", p.id), p.id
        assert p.id.split("-", 1)[0] == p.category, f"{p.id}: prefix does not name category {p.category}"
        assert p.id not in seen
        seen.add(p.id)


def test_whole_catalogue_examples_also_pass_together() -> None:
    """With every pattern loaded at once, each must_match still yields its own pattern.

    (Overlap resolution may hand a value to a stronger pattern: only examples where the
    pattern loses to no other pattern are required here, and no example may crash.)
    """
    m = Matcher(_PSET, hash_key=b"examples")
    lost = []
    for p in _PSET.patterns:
        for text in p.must_match:
            result = match_example(m, text)
            if not any(f.pattern == p.id for f in result.findings):
                others = sorted({f.pattern for f in result.findings})
                if not others:
                    lost.append((p.id, text))
    assert not lost, lost


def test_builtin_dir_holds_the_sets_the_product_ships() -> None:
    names = {p.stem for p in Path(BUILTIN).glob("*.toml")}
    assert {"phi", "formula", "ip", "secrets", "finance"} <= names
