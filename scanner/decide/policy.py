"""Turn what a scan found (``DocOutcome``) into a verdict for one destination.

How a policy decides (the same for the built-in one and for ``[policies.<name>]``):

1. Findings of ``ignore_patterns`` (globs over pattern ids) are set aside.
2. ``allow`` rules run first, in file order. When all their conditions hold, the
   findings they matched are *exempt*: later rules do not see them (e.g. "up to 3
   phone numbers are an e-mail signature"). An allow rule never hides a problem that
   is not a finding (unscannable parts, pages without text, partner identifiers).
3. Every ``label``/``block`` rule is evaluated on the remaining findings, together
   with the document-level checks (unscannable, pages without text, identifiers of
   another sponsor). **The most severe verdict wins** (block > label > allow), and
   among labels the highest level (order from ``[labels]``). We chose most-severe-wins
   over first-match because it does not depend on rule order: adding a rule can never
   weaken another one, and a co-occurrence rule placed last still escalates.
4. A ``label`` verdict for a format that cannot carry a label becomes the policy's
   ``unlabelable`` choice (``block`` by default, or ``allow`` unlabelled).
5. The decision can be overridden ("release anyway" with a justification) only if
   every rule/check that produced the winning verdict allows it.

A rule is a list of conditions that must all hold (co-occurrence). A condition selects
findings by pattern id (globs), category, minimum severity and confidence, and
counts them (``count = "unique"`` values by keyed hash, or ``"all"`` occurrences)
against ``min_count``/``max_count``. The built-in policy is written in that same TOML
(``BUILTIN_POLICY_TOML``), so admins can read it, copy it and ``extends`` it.

Partner identifiers: ``PartnerDictionary`` (built from the destinations' identifier
lists) is run by the scan pipeline over every segment and the file name; its hits are
stored in ``DocOutcome.notes["partner_hits"]``. ``decide`` blocks a file that holds
identifiers of a sponsor other than its destination (cross-client leak).
"""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import regex

from scanner.model import FINDINGS_LIMIT_NOTE, Confidence, Decision, DocOutcome, Finding, Location, Severity, Verdict

if TYPE_CHECKING:  # pragma: no cover - typing only
    from scanner.config.settings import Config, IdentifierDef

DEFAULT_LABEL_ORDER = ("Public", "Internal", "Confidential", "Restricted")
# Formats the label writer can mark (fallback when scanner.act.labels cannot tell us).
_LABELABLE_FALLBACK = frozenset({"pdf", "docx", "xlsx", "pptx"})
_VERDICT_RANK = {Verdict.ALLOW: 1, Verdict.LABEL: 2, Verdict.BLOCK: 3}
_UNBOUNDED = 1 << 62  # the count of a pattern past the matcher's limit: unknown, so "any"
MAX_REASONS = 20

BUILTIN_POLICY_TOML = """
description = "Built-in policy: block PHI and secrets, label formula/IP as Confidential"
block_label = "Restricted"
unscannable = { verdict = "block", allow_override = false }
pages_without_text = { verdict = "label", label = "Confidential" }
unlabelable = { verdict = "block" }
cross_partner = { verdict = "block", allow_override = false }
partner_material = { verdict = "label", label = "Confidential" }

[[rules]]
name = "Secret"
categories = ["secret"]
min_confidence = "medium"
verdict = "block"

[[rules]]
name = "High-severity PHI"
categories = ["phi"]
min_severity = "high"
min_confidence = "medium"
verdict = "block"

[[rules]]
name = "Bulk personal data"
categories = ["phi"]
min_confidence = "medium"
min_count = 10
verdict = "block"

[[rules]]
name = "Patient record (name + date of birth + record number)"
verdict = "block"
all = [
  { patterns = ["*person-name*", "*patient-name*", "*person_name*"], min_confidence = "low" },
  { patterns = ["*date-of-birth*", "*dob*", "*date_of_birth*"], min_confidence = "low" },
  { patterns = ["*mrn*", "*medical-record*", "*medical_record*"], min_confidence = "low" },
]

[[rules]]
name = "Formula or IP"
categories = ["formula", "ip"]
min_confidence = "medium"
verdict = "label"
label = "Confidential"

[[rules]]
name = "Other personal or financial data"
categories = ["phi", "finance"]
min_confidence = "medium"
verdict = "label"
label = "Confidential"

[[rules]]
name = "Confidential formulation (legend + formulation table)"
verdict = "label"
label = "Restricted"
all = [
  { patterns = ["*confidential*", "*legend*"], min_confidence = "low" },
  { patterns = ["*formulation*"], min_confidence = "low" },
]

[[rules]]
name = "Structure with internal compound code"
verdict = "label"
label = "Restricted"
all = [
  { patterns = ["*smiles*", "*inchi*"], min_confidence = "low" },
  { patterns = ["*compound-code*", "*compound_code*"], min_confidence = "low" },
]
"""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a document-level check yields: verdict, label, may a user override it."""

    verdict: Verdict
    label: str | None = None
    allow_override: bool = True


@dataclass(frozen=True, slots=True)
class Condition:
    patterns: tuple[str, ...] = ()  # globs over pattern ids; empty: any
    categories: frozenset[str] = frozenset()
    min_severity: Severity | None = None
    min_confidence: Confidence | None = None
    min_count: int = 1
    max_count: int | None = None
    count: str = "unique"  # "unique": distinct values (keyed hash); "all": occurrences

    def selects(self, f: Finding) -> bool:
        if self.categories and f.category not in self.categories:
            return False
        if self.min_severity is not None and Severity(f.severity).rank < self.min_severity.rank:
            return False
        if self.min_confidence is not None and Confidence(f.confidence).rank < self.min_confidence.rank:
            return False
        return not self.patterns or any(fnmatch.fnmatchcase(f.pattern, g) for g in self.patterns)

    def evaluate(self, findings: Sequence[Finding], limited: Collection[str] = ()) -> list[Finding] | None:
        """The findings this condition selects if its count holds, else None.

        ``limited``: patterns that reached the matcher's per-document limit, whose true
        count is unknown beyond it; a count over them is taken as unbounded, so a "more
        than N" rule still fires and an "at most N" allowance does not (fail closed).
        """
        picked = [f for f in findings if self.selects(f)]
        n = len({f.hash or f.masked for f in picked}) if self.count == "unique" else len(picked)
        if limited and any(f.pattern in limited for f in picked):
            n = max(n, _UNBOUNDED)
        if n < self.min_count or (self.max_count is not None and n > self.max_count):
            return None
        return picked


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    verdict: Verdict
    label: str | None = None
    allow_override: bool = True
    reason: str | None = None

    def evaluate(self, findings: Sequence[Finding], limited: Collection[str] = ()) -> list[Finding] | None:
        matched: dict[int, Finding] = {}
        for cond in self.conditions:
            picked = cond.evaluate(findings, limited)
            if picked is None:
                return None
            matched.update((id(f), f) for f in picked)
        return list(matched.values())


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    description: str = ""
    ignore_patterns: tuple[str, ...] = ()
    block_label: str = "Restricted"
    unscannable: Outcome = Outcome(Verdict.BLOCK, None, False)
    pages_without_text: Outcome = Outcome(Verdict.LABEL, "Confidential", True)
    unlabelable: Outcome = Outcome(Verdict.BLOCK, None, True)
    cross_partner: Outcome = Outcome(Verdict.BLOCK, None, False)
    partner_material: Outcome = Outcome(Verdict.LABEL, "Confidential", True)
    label_order: tuple[str, ...] = DEFAULT_LABEL_ORDER
    labelable_types: frozenset[str] | None = None  # None: ask scanner.act.labels

    def labels_used(self) -> set[str]:
        out = {self.block_label}
        out.update(r.label for r in self.rules if r.label)
        for o in (self.unscannable, self.pages_without_text, self.cross_partner, self.partner_material):
            if o.label:
                out.add(o.label)
        return out


# --------------------------------------------------------------------------- parsing

_POLICY_KEYS = {
    "description",
    "extends",
    "ignore_patterns",
    "block_label",
    "unscannable",
    "pages_without_text",
    "unlabelable",
    "cross_partner",
    "partner_material",
    "allow_override",
    "rules",
}
_RULE_KEYS = {
    "name",
    "verdict",
    "label",
    "allow_override",
    "reason",
    "all",
    "patterns",
    "categories",
    "min_severity",
    "min_confidence",
    "min_count",
    "max_count",
    "count",
}
_COND_KEYS = {"patterns", "categories", "min_severity", "min_confidence", "min_count", "max_count", "count"}
_OUTCOME_KEYS = {"verdict", "label", "allow_override"}
CATEGORIES = ("phi", "formula", "ip", "secret", "finance")
_SPECIAL = ("unscannable", "pages_without_text", "unlabelable", "cross_partner", "partner_material")


def _describe(v: object) -> str:
    return repr(v) if isinstance(v, int | float | str) else f"{type(v).__name__} {v!r}"


def _enum(cls: type[Any], v: object, where: str) -> Any:
    names = [m.value for m in cls]
    if not isinstance(v, str) or v not in names:
        raise ValueError(f"{where}: expected one of {', '.join(names)}, got {_describe(v)}")
    return cls(v)


def _bool(v: object, where: str) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{where}: expected true or false, got {_describe(v)}")
    return v


def _str_list(v: object, where: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ValueError(f"{where}: expected a list of non-empty strings, got {_describe(v)}")
    return v


def _count(v: object, where: str, minimum: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{where}: expected an integer >= {minimum}, got {_describe(v)}")
    return v


def _check_keys(t: Mapping[str, Any], where: str, known: set[str]) -> None:
    for k in t:
        if k not in known:
            raise ValueError(f"{where}.{k}: unknown key (expected one of: {', '.join(sorted(known))})")


def _label(v: object, where: str, labels: Sequence[str]) -> str:
    if not isinstance(v, str) or v not in labels:
        raise ValueError(f"{where}: expected a label name ({', '.join(labels)}), got {_describe(v)}")
    return v


def parse_condition(t: Mapping[str, Any], where: str) -> Condition:
    _check_keys(t, where, _COND_KEYS)
    cats = _str_list(t.get("categories", []), f"{where}.categories")
    for c in cats:
        if c not in CATEGORIES:
            raise ValueError(f"{where}.categories: expected categories from {', '.join(CATEGORIES)}, got {c!r}")
    cond = Condition(
        patterns=tuple(_str_list(t.get("patterns", []), f"{where}.patterns")),
        categories=frozenset(cats),
        min_severity=_enum(Severity, t["min_severity"], f"{where}.min_severity") if "min_severity" in t else None,
        min_confidence=(
            _enum(Confidence, t["min_confidence"], f"{where}.min_confidence") if "min_confidence" in t else None
        ),
        min_count=_count(t.get("min_count", 1), f"{where}.min_count", 1),
        max_count=_count(t["max_count"], f"{where}.max_count", 0) if "max_count" in t else None,
        count=t.get("count", "unique"),
    )
    if cond.count not in ("unique", "all"):
        raise ValueError(f'{where}.count: expected "unique" or "all", got {_describe(cond.count)}')
    if cond.max_count is not None and cond.max_count < cond.min_count:
        raise ValueError(f"{where}.max_count: must be >= min_count ({cond.min_count}), got {cond.max_count}")
    return cond


def parse_rule(t: Mapping[str, Any], where: str, labels: Sequence[str], default_override: bool) -> Rule:
    if not isinstance(t, dict):
        raise ValueError(f"{where}: expected a table ([[...rules]]), got {_describe(t)}")
    _check_keys(t, where, _RULE_KEYS)
    name = t.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}.name: expected a non-empty string, got {_describe(name)}")
    if "verdict" not in t:
        raise ValueError(f"{where}.verdict: missing (expected allow, label or block)")
    verdict = _enum(Verdict, t["verdict"], f"{where}.verdict")
    label = _label(t["label"], f"{where}.label", labels) if "label" in t else None
    if verdict is Verdict.LABEL and label is None:
        raise ValueError(f"{where}.label: missing (a label rule must name the label to write)")
    if verdict is Verdict.ALLOW and label is not None:
        raise ValueError(f"{where}.label: an allow rule writes no label")
    conds: list[Condition] = []
    if any(k in t for k in _COND_KEYS) or "all" not in t:
        conds.append(parse_condition({k: v for k, v in t.items() if k in _COND_KEYS}, where))
    if "all" in t:
        items = t["all"]
        if not isinstance(items, list) or not items:
            raise ValueError(f"{where}.all: expected a non-empty list of condition tables, got {_describe(items)}")
        for i, c in enumerate(items):
            if not isinstance(c, dict):
                raise ValueError(f"{where}.all[{i}]: expected a condition table, got {_describe(c)}")
            conds.append(parse_condition(c, f"{where}.all[{i}]"))
    reason = t.get("reason")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        raise ValueError(f"{where}.reason: expected a non-empty string, got {_describe(reason)}")
    override = _bool(t["allow_override"], f"{where}.allow_override") if "allow_override" in t else default_override
    return Rule(
        name=name, conditions=tuple(conds), verdict=verdict, label=label, allow_override=override, reason=reason
    )


def _outcome(v: object, where: str, labels: Sequence[str], base: Outcome, *, allow_label: bool = True) -> Outcome:
    if isinstance(v, str):
        v = {"verdict": v}
    if not isinstance(v, dict):
        raise ValueError(
            f'{where}: expected "allow", "label", "block" or '
            f"{{ verdict = ..., label = ..., allow_override = ... }}, got {_describe(v)}"
        )
    _check_keys(v, where, _OUTCOME_KEYS)
    verdict = _enum(Verdict, v.get("verdict", base.verdict.value), f"{where}.verdict")
    if verdict is Verdict.LABEL and not allow_label:
        raise ValueError(f"{where}.verdict: expected allow (release unlabelled) or block, got 'label'")
    label = _label(v["label"], f"{where}.label", labels) if "label" in v else None
    if verdict is Verdict.LABEL and label is None:
        label = base.label if base.label in labels else None
        if label is None:
            raise ValueError(f"{where}.label: missing (verdict label needs a label name)")
    override = _bool(v["allow_override"], f"{where}.allow_override") if "allow_override" in v else base.allow_override
    return Outcome(verdict, label if verdict is not Verdict.ALLOW else None, override)


def parse_policy(
    name: str,
    t: Mapping[str, Any],
    labels: Sequence[str] = DEFAULT_LABEL_ORDER,
    base: Policy | None = None,
    where: str | None = None,
) -> Policy:
    """One ``[policies.<name>]`` table. ``base`` is the resolved ``extends`` policy."""
    where = where or f"policies.{name}"
    _check_keys(t, where, _POLICY_KEYS)
    start = base or Policy(name=name, rules=())
    default_override = _bool(t.get("allow_override", True), f"{where}.allow_override")
    raw_rules = t.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ValueError(f"{where}.rules: expected an array of tables ([[{where}.rules]]), got {_describe(raw_rules)}")
    rules = tuple(parse_rule(r, f"{where}.rules[{i}]", labels, default_override) for i, r in enumerate(raw_rules))
    desc = t.get("description", start.description if base else "")
    if not isinstance(desc, str):
        raise ValueError(f"{where}.description: expected a string, got {_describe(desc)}")
    specials: dict[str, Outcome] = {}
    for key in _SPECIAL:
        current: Outcome = getattr(start, key)
        specials[key] = (
            _outcome(t[key], f"{where}.{key}", labels, current, allow_label=key != "unlabelable")
            if key in t
            else current
        )
    block_label = _label(t["block_label"], f"{where}.block_label", labels) if "block_label" in t else start.block_label
    policy = Policy(
        name=name,
        rules=start.rules + rules,
        description=desc,
        ignore_patterns=start.ignore_patterns
        + tuple(_str_list(t.get("ignore_patterns", []), f"{where}.ignore_patterns")),
        block_label=block_label,
        label_order=tuple(labels),
        unscannable=specials["unscannable"],
        pages_without_text=specials["pages_without_text"],
        unlabelable=specials["unlabelable"],
        cross_partner=specials["cross_partner"],
        partner_material=specials["partner_material"],
    )
    missing = sorted(lbl for lbl in policy.labels_used() if lbl not in labels)
    if missing:
        raise ValueError(
            f"{where}: uses label(s) {', '.join(missing)} that [labels] does not define "
            f"(defined: {', '.join(labels)}); set block_label/rule labels to defined ones "
            f'or extends = "none"'
        )
    return policy


def parse_policies(table: Mapping[str, Any], labels: Sequence[str] = DEFAULT_LABEL_ORDER) -> dict[str, Policy]:
    """All ``[policies.*]``, resolving ``extends`` (default "builtin"; "none" starts empty)."""
    out: dict[str, Policy] = {}
    resolving: list[str] = []

    def resolve(name: str) -> Policy:
        if name in out:
            return out[name]
        where = f"policies.{name}"
        if name in resolving:
            raise ValueError(f"{where}.extends: circular ({' -> '.join(resolving + [name])})")
        t = table[name]
        if not isinstance(t, dict):
            raise ValueError(f"{where}: expected a table, got {_describe(t)}")
        ext = t.get("extends", "builtin")
        if not isinstance(ext, str):
            raise ValueError(f'{where}.extends: expected a policy name, "builtin" or "none", got {_describe(ext)}')
        resolving.append(name)
        if ext == "none":
            base = None
        elif ext == "builtin":
            base = _builtin_with_labels(labels, f"{where}.extends")
        elif ext in table:
            base = resolve(ext)
        else:
            raise ValueError(
                f'{where}.extends: no policy named {ext!r} (defined: {", ".join(sorted(table))}; or "builtin", "none")'
            )
        resolving.pop()
        out[name] = parse_policy(name, t, labels, base)
        return out[name]

    for name in table:
        if name in ("builtin", "none"):
            raise ValueError(f"policies.{name}: this name is reserved")
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", name):
            raise ValueError(f"policies.{name}: policy names use letters, digits, '_', '-' and '.' only")
        resolve(name)
    return out


def _builtin_with_labels(labels: Sequence[str], where: str) -> Policy:
    try:
        return parse_policy("builtin", tomllib.loads(BUILTIN_POLICY_TOML), labels, None, where="builtin")
    except ValueError as exc:
        raise ValueError(f"{where}: the built-in policy cannot be used with these labels ({exc})") from None


@functools.cache
def builtin_policy() -> Policy:
    """The default when no configuration names a policy (see ``BUILTIN_POLICY_TOML``)."""
    return parse_policy("builtin", tomllib.loads(BUILTIN_POLICY_TOML), DEFAULT_LABEL_ORDER, where="builtin")


# --------------------------------------------------------------------------- deciding


@dataclass(slots=True)
class _Contribution:
    verdict: Verdict
    label: str | None
    reason: str
    allow_override: bool


def decide(outcome: DocOutcome, policy: Policy | None = None, destination: str | None = None) -> Decision:
    """The verdict for ``outcome`` going to ``destination`` (None: no destination known)."""
    policy = policy or builtin_policy()
    contribs: list[_Contribution] = []
    allow_notes: list[str] = []

    for err in dict.fromkeys(outcome.errors):
        o = policy.unscannable
        contribs.append(_Contribution(o.verdict, o.label, f"unscannable: {err}", o.allow_override))

    pool = [f for f in outcome.findings if not _ignored(f, policy)]
    limited = frozenset(outcome.notes.get(FINDINGS_LIMIT_NOTE) or ())
    for rule in policy.rules:
        if rule.verdict is not Verdict.ALLOW:
            continue
        matched = rule.evaluate(pool, limited)
        if matched:
            exempt = {id(f) for f in matched}
            pool = [f for f in pool if id(f) not in exempt]
            allow_notes.append(f"{rule.name}: {rule.reason or _summarise(matched, limited)} (exempt)")
    for rule in policy.rules:
        if rule.verdict is Verdict.ALLOW:
            continue
        matched = rule.evaluate(pool, limited)
        if matched:
            label = rule.label if rule.verdict is Verdict.LABEL else (rule.label or policy.block_label)
            reason = f"{rule.name}: {rule.reason or _summarise(matched, limited)}"
            contribs.append(_Contribution(rule.verdict, label, reason, rule.allow_override))

    pages = _pages_without_text(outcome.notes.get("pages_without_text"))
    if pages:
        o = policy.pages_without_text
        contribs.append(
            _Contribution(
                o.verdict,
                o.label,
                f"{pages} without a text layer (scanned image?): their content could not be checked",
                o.allow_override,
            )
        )

    contribs.extend(_partner_contributions(outcome.notes.get("partner_hits") or (), policy, destination))
    decision = _combine(contribs, policy, allow_notes)
    return apply_unlabelable(decision, outcome.type, policy)


def _ignored(f: Finding, policy: Policy) -> bool:
    return any(fnmatch.fnmatchcase(f.pattern, g) for g in policy.ignore_patterns)


def _pages_without_text(value: object) -> str | None:
    """The note may be a count, a list of page numbers, or a dict with 'pages'."""
    if isinstance(value, dict):
        value = value.get("pages", value.get("count"))
    if isinstance(value, bool) or not value:
        return None
    if isinstance(value, int):
        return f"{value} page{'s' if value != 1 else ''}"
    if isinstance(value, list | tuple):
        shown = ", ".join(str(p) for p in list(value)[:10]) + (", ..." if len(value) > 10 else "")
        return f"{len(value)} page{'s' if len(value) != 1 else ''} ({shown})"
    return "some pages"


def _summarise(findings: Sequence[Finding], limited: Collection[str] = ()) -> str:
    """'US SSN ×3 (phi, high confidence, first at body (page 2)); ...' — never a raw value.

    A pattern past the matcher's limit shows '×1000+': its true count is higher."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.pattern, []).append(f)
    parts = []
    for fs in groups.values():
        f0 = fs[0]
        conf = max((Confidence(f.confidence) for f in fs), key=lambda c: c.rank).value
        unique = len({f.hash or f.masked for f in fs})
        count = f" ×{unique}" if unique > 1 else ""
        if f0.pattern in limited:
            count = f" ×{unique}+"
        parts.append(
            f"{f0.name}{count} ({f0.category}, {conf} confidence, "
            f"{'first ' if len(fs) > 1 else ''}at {f0.location.describe()})"
        )
    return "; ".join(parts)


def _partner_contributions(
    hits: Iterable[Mapping[str, Any] | PartnerHit], policy: Policy, destination: str | None
) -> list[_Contribution]:
    out: list[_Contribution] = []
    seen: set[tuple[str, str]] = set()
    for raw in hits:
        h = raw.to_dict() if isinstance(raw, PartnerHit) else raw
        partner = str(h.get("partner", ""))
        if destination is not None and partner == destination:
            continue  # the sponsor's own identifiers may go to that sponsor
        key = (partner, str(h.get("id_hash", "")))
        if key in seen:
            continue
        seen.add(key)
        title = h.get("partner_title") or partner
        what = f"{h.get('kind') or 'identifier'} {h.get('masked', '')}".strip()
        if destination is None:
            o = policy.partner_material
            reason = f"contains identifiers of sponsor {title} ({what})"
        else:
            o = policy.cross_partner
            reason = f"contains identifiers of sponsor {title} ({what}) — not for destination {destination}"
        out.append(_Contribution(o.verdict, o.label, reason, o.allow_override))
    return out


def _label_rank(label: str | None, policy: Policy) -> int:
    if label is None:
        return -1
    try:
        return policy.label_order.index(label)
    except ValueError:
        return len(policy.label_order)  # unknown label: treat as most sensitive


def _combine(contribs: list[_Contribution], policy: Policy, allow_notes: list[str]) -> Decision:
    if not contribs:
        return Decision(Verdict.ALLOW, None, tuple(allow_notes[:MAX_REASONS]), True)
    top = max(_VERDICT_RANK[c.verdict] for c in contribs)
    winners = [c for c in contribs if _VERDICT_RANK[c.verdict] == top]
    verdict = winners[0].verdict
    label: str | None = None
    if verdict is not Verdict.ALLOW:
        labels = [c.label for c in winners if c.label] or ([policy.block_label] if verdict is Verdict.BLOCK else [])
        label = max(labels, key=lambda lb: _label_rank(lb, policy)) if labels else None
    # Reasons for the winning verdict first; the weaker ones still explain the file.
    # A weaker rule that fired on the very findings already named adds only noise.
    named = " ".join(c.reason for c in winners)
    others = [c for c in contribs if c not in winners and c.reason.partition(": ")[2] not in named]
    reasons = [c.reason for c in winners] + [c.reason for c in others] + allow_notes
    overridable = all(c.allow_override for c in winners)
    return Decision(verdict, label, tuple(dict.fromkeys(reasons))[:MAX_REASONS], overridable)


def labelable(doc_type: str, policy: Policy | None = None) -> bool:
    """Can the label writer mark this format? (asks scanner.act.labels when present)."""
    if policy is not None and policy.labelable_types is not None:
        return doc_type in policy.labelable_types
    try:
        from scanner.act import labels
    except ImportError:
        return doc_type in _LABELABLE_FALLBACK
    fn = getattr(labels, "can_label", None) or getattr(labels, "supports", None)
    if callable(fn):
        return bool(fn(doc_type))
    types = getattr(labels, "LABELABLE_TYPES", None) or getattr(labels, "SUPPORTED_TYPES", None)
    return doc_type in (types if types is not None else _LABELABLE_FALLBACK)


def apply_unlabelable(decision: Decision, doc_type: str, policy: Policy | None = None) -> Decision:
    """A ``label`` verdict for a format that cannot carry a label becomes the policy's
    ``unlabelable`` choice. Public so that a caller that changes a verdict after
    ``decide`` (a container inheriting a member's label) can apply it again."""
    policy = policy or builtin_policy()
    if decision.verdict is not Verdict.LABEL or labelable(doc_type, policy):
        return decision
    o = policy.unlabelable
    if o.verdict is Verdict.ALLOW:
        note = f"needs label {decision.label}, but {doc_type} files cannot carry a label: released unlabelled (policy)"
        return Decision(Verdict.ALLOW, None, (note,) + decision.reasons, decision.overridable)
    note = f"needs label {decision.label}, but {doc_type} files cannot carry a label: blocked (policy)"
    return Decision(
        Verdict.BLOCK,
        decision.label,
        ((note,) + decision.reasons)[:MAX_REASONS],
        decision.overridable and o.allow_override,
    )


# --------------------------------------------------------------------------- partners


@dataclass(frozen=True, slots=True)
class PartnerHit:
    partner: str
    kind: str
    masked: str
    id_hash: str
    location: Location | None = None
    doc: str = ""
    partner_title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "partner": self.partner,
            "kind": self.kind,
            "masked": self.masked,
            "id_hash": self.id_hash,
        }
        if self.partner_title and self.partner_title != self.partner:
            out["partner_title"] = self.partner_title
        if self.location is not None:
            out["location"] = self.location.to_dict()
        if self.doc:
            out["doc"] = self.doc
        return out


# Separators a person or a PDF export may put inside an identifier: "PRJ-4711",
# "PRJ 4711", "PRJ_4711", "PRJ4711". Bounded, so the literal pattern stays linear.
_SEP = r"[\s_\-./]{0,3}"
_SEP_CHARS = frozenset(" \t\r\n_-./")


@dataclass(slots=True)
class _Entry:
    partner: str
    title: str
    kind: str


@dataclass(slots=True)
class _TrieNode:
    children: dict[str, _TrieNode] = field(default_factory=dict)
    end: bool = False


class PartnerDictionary:
    """Finds the destinations' (sponsors') identifiers in text.

    Literals are compiled into one trie-shaped alternation with the standard ``re``
    module: measured 0.09 s per MiB of text with 3,000 identifiers, against 5–6 s for a
    flat alternation or ``regex`` named lists (1.1 s for the same trie in ``regex``).
    The trie holds only escaped literals and bounded separator classes, so it cannot
    backtrack catastrophically and needs no timeout. Admin-written regex identifiers
    are compiled separately with ``regex`` and always run with a timeout; a timeout
    raises ``Unscannable`` (fail closed), never "no hits".

    Matching is case-insensitive, on whole words (a literal that ends in a separator,
    such as a batch prefix ``AC24-``, matches as a prefix), and tolerant of the
    separators between letters and digits (``PRJ-4711`` = ``prj 4711`` = ``PRJ4711``).
    """

    def __init__(
        self,
        identifiers: Mapping[str, Sequence[IdentifierDef]],
        hash_key: bytes,
        titles: Mapping[str, str] | None = None,
        regex_timeout: float = 2.0,
    ):
        from scanner.detect.match import value_key

        self._hash_key = hash_key
        self._timeout = regex_timeout
        self._by_key: dict[str, _Entry] = {}
        self._rx_entries: list[_Entry] = []
        rx_parts: list[str] = []
        words, others = _TrieNode(), _TrieNode()
        titles = titles or {}
        for partner, defs in identifiers.items():
            title = titles.get(partner, partner)
            for d in defs:
                entry = _Entry(partner, title, d.kind)
                if d.regex:
                    rx_parts.append(f"(?P<r{len(self._rx_entries)}>{d.value})")
                    self._rx_entries.append(entry)
                    continue
                key = value_key(d.value)
                other = self._by_key.get(key)
                if other is not None and other.partner != partner:
                    raise ValueError(
                        f"destinations.{partner}.identifiers: {d.value!r} is also an identifier of "
                        f"destination {other.partner!r}; an identifier must belong to one sponsor"
                    )
                self._by_key[key] = entry
                _trie_add(words if d.value[0].isalnum() else others, d.value)
        lit = []
        if words.children:
            lit.append(r"(?<!\w)" + _trie_regex(words))
        if others.children:
            lit.append(_trie_regex(others))
        self._literal = re.compile("|".join(lit), re.IGNORECASE) if lit else None
        self._regex = (
            regex.compile(r"(?<!\w)(?:" + "|".join(rx_parts) + r")(?!\w)", regex.IGNORECASE | regex.V0)
            if rx_parts
            else None
        )

    @classmethod
    def from_config(cls, config: Config) -> PartnerDictionary:
        idents = {name: d.identifiers for name, d in config.destinations.items() if d.identifiers}
        titles = {name: d.title for name, d in config.destinations.items()}
        from scanner.config.settings import ConfigError

        try:
            return cls(idents, config.hash_key() if idents else b"", titles, config.limits.regex_timeout_s)
        except ValueError as exc:
            raise ConfigError(f"{config.path or 'configuration'}: {exc}") from None

    def __bool__(self) -> bool:
        return self._literal is not None or self._regex is not None

    @property
    def partners(self) -> set[str]:
        return {e.partner for e in self._by_key.values()} | {e.partner for e in self._rx_entries}

    def find(self, text: str, location: Location | None = None, doc: str = "") -> list[PartnerHit]:
        """Every identifier occurrence in ``text`` (normalise text first: see normalize.py)."""
        from scanner.detect.match import keyed_hash, mask, value_key
        from scanner.detect.normalize import normalize

        text = normalize(text)
        hits: list[PartnerHit] = []
        if self._literal is not None:
            for m in self._literal.finditer(text):
                e = self._by_key.get(value_key(m.group(0)))
                if e is not None:
                    hits.append(
                        PartnerHit(
                            e.partner,
                            e.kind,
                            mask(m.group(0)),
                            keyed_hash(self._hash_key, m.group(0)),
                            location,
                            doc,
                            e.title,
                        )
                    )
        if self._regex is not None:
            try:
                for m in self._regex.finditer(text, timeout=self._timeout):
                    e = self._rx_entries[_which_group(m)]
                    hits.append(
                        PartnerHit(
                            e.partner,
                            e.kind,
                            mask(m.group(0)),
                            keyed_hash(self._hash_key, m.group(0)),
                            location,
                            doc,
                            e.title,
                        )
                    )
            except TimeoutError:
                from scanner.extract.base import Unscannable

                raise Unscannable(f"sponsor identifier check timed out after {self._timeout:g} s") from None
        return hits

    def scan_into(
        self, notes: dict[str, Any], text: str, location: Location | None = None, doc: str = "", cap: int = 200
    ) -> int:
        """Find and merge hits into ``notes["partner_hits"]`` (one entry per identifier value).

        Repeats of the same value are counted, not listed; at most ``cap`` distinct
        values are kept (enough to decide and to explain). Returns the new hits' count.
        """
        hits = self.find(text, location, doc)
        if hits:
            merge_partner_hits(notes, hits, cap)
        return len(hits)


def merge_partner_hits(notes: dict[str, Any], hits: Iterable[PartnerHit], cap: int = 200) -> None:
    current: list[dict[str, Any]] = notes.setdefault("partner_hits", [])
    index = {(h["partner"], h["id_hash"]): h for h in current}
    for hit in hits:
        key = (hit.partner, hit.id_hash)
        if key in index:
            index[key]["count"] = index[key].get("count", 1) + 1
        elif len(current) < cap:
            d = hit.to_dict()
            d["count"] = 1
            current.append(d)
            index[key] = d


def _which_group(m: regex.Match[str]) -> int:
    for name, value in m.groupdict().items():
        if value is not None and name.startswith("r") and name[1:].isdigit():
            return int(name[1:])
    raise AssertionError("partner regex matched without an entry group")  # pragma: no cover


def _tokens(literal: str) -> list[str]:
    """Characters, with every separator run — and every letter/digit switch — as "SEP"."""
    out: list[str] = []
    for ch in literal.strip().casefold():
        if ch in _SEP_CHARS:
            if out and out[-1] != "SEP":
                out.append("SEP")
            continue
        if out and out[-1] != "SEP" and out[-1].isalpha() != ch.isalpha() and ch.isalnum() and out[-1].isalnum():
            out.append("SEP")
        out.append(ch)
    return out


def _trie_add(root: _TrieNode, literal: str) -> None:
    node = root
    for tok in _tokens(literal):
        node = node.children.setdefault(tok, _TrieNode())
    node.end = True


def _trie_regex(node: _TrieNode, last: str = "") -> str:
    """Nested alternation; a word-final literal needs a right word boundary, a prefix does not."""
    alts = [
        (_SEP if tok == "SEP" else re.escape(tok)) + _trie_regex(child, tok)
        for tok, child in sorted(node.children.items())
    ]
    end = ""
    if node.end:
        end = r"(?!\w)" if last != "SEP" else ""
    if not alts:
        return end
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    if node.end:
        return f"(?:{body}|{end})" if end else f"(?:{body})?"
    return body
