"""A policy in TOML (``[policies.<name>]`` in clearance.toml, and the built-in one) read into ``Policy``.

The shape is declared once (``POLICY``, with ``scanner.schema``): the same tree checks a table and
is published in the JSON Schema of clearance.toml. What a schema cannot say is checked here: label
names (they come from ``[labels]``), ``extends`` chains, and which verdicts need which labels.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from scanner.decide.rules import DEFAULT_LABEL_ORDER, Condition, CountMode, Outcome, Policy, Rule
from scanner.detect.patterns import CATEGORIES
from scanner.model import Confidence, Severity, Verdict
from scanner.schema import INVALID, Bool, Field, Int, Kind, ListOf, MapOf, Str, Table, require

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # policy and destination names: safe in paths and logs
RESERVED_NAMES = ("builtin", "none")
SPECIAL_CHECKS = ("unscannable", "pages_without_text", "unlabelable", "cross_partner", "partner_material")

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


def _label_kind(labels: tuple[str, ...] | None) -> Str:
    """A label name; with ``labels`` (from ``[labels]``) only those, without (the published schema) any."""
    if labels is None:
        return Str(nonempty=True, expected="a label name")
    return Str(choices=labels, expected=f"a label name ({', '.join(labels)})")


CONDITION_FIELDS = (
    Field("patterns", ListOf(item=Str(nonempty=True)), default=(), doc="Globs over pattern ids; empty: any."),
    Field(
        "categories",
        ListOf(
            item=Str(
                nonempty=True,
                choices=CATEGORIES,
                out_of_range="{field}: expected categories from {choices}, got {value!r}",
            )
        ),
        default=(),
        doc="Finding categories; empty: any.",
    ),
    Field("min_severity", Str(choices=tuple(Severity))),
    Field("min_confidence", Str(choices=tuple(Confidence))),
    Field("min_count", Int(minimum=1), default=1, doc="At least this many (see count)."),
    Field("max_count", Int(minimum=0), doc="At most this many (see count)."),
    Field(
        "count",
        Str(choices=tuple(CountMode), expected='"unique" or "all"'),
        default=CountMode.UNIQUE.value,
        doc="unique: distinct values (by keyed hash); all: every occurrence.",
    ),
)
_CONDITION_KEYS = frozenset(f.name for f in CONDITION_FIELDS)


@functools.cache
def policy_schema(labels: tuple[str, ...] | None) -> Table:
    """One ``[policies.<name>]`` table; ``labels``: the level names it may use (None: any)."""
    label = _label_kind(labels)
    condition = Table(fields=CONDITION_FIELDS, expected="a condition table")
    rule = Table(
        expected="a table ([[...rules]])",
        fields=(
            Field("name", Str(nonempty=True), required=True, missing=INVALID, doc="Shown in reasons."),
            Field(
                "verdict",
                Str(choices=tuple(Verdict)),
                required=True,
                missing="{path}: missing (expected allow, label or block)",
            ),
            Field("label", label, doc="The label a label rule writes (a block rule: if released anyway)."),
            Field("allow_override", Bool(), doc="May a user release anyway? Default: the policy's allow_override."),
            Field("reason", Str(nonempty=True), doc="Shown instead of the list of findings."),
            Field(
                "all",
                ListOf(item=condition, min_items=1, expected="a non-empty list of condition tables"),
                doc="Conditions that must all hold (co-occurrence).",
            ),
            *CONDITION_FIELDS,
        ),
    )
    outcome = Table(
        shorthand="verdict",
        expected='"allow", "label", "block" or { verdict = ..., label = ..., allow_override = ... }',
        fields=(
            Field("verdict", Str(choices=tuple(Verdict))),
            Field("label", label),
            Field("allow_override", Bool()),
        ),
    )
    return Table(
        fields=(
            Field("description", Str(expected="a string")),
            Field(
                "extends",
                Str(expected='a policy name, "builtin" or "none"'),
                default="builtin",
                doc='The policy this one adds to: another policy\'s name, "builtin" or "none".',
            ),
            Field("allow_override", Bool(), default=True, doc="Default for the rules' allow_override."),
            Field("ignore_patterns", ListOf(item=Str(nonempty=True)), default=(), doc="Globs over pattern ids."),
            Field("block_label", label, doc="The label a blocked file gets if released anyway."),
            Field("unscannable", outcome, doc="A file (or part) that could not be read completely."),
            Field("pages_without_text", outcome, doc="Scanned pages: their content is unchecked."),
            Field("unlabelable", outcome, doc="A label verdict for a format that cannot carry a label."),
            Field("cross_partner", outcome, doc="Another sponsor's identifiers."),
            Field("partner_material", outcome, doc="Sponsor identifiers, no destination known."),
            Field(
                "rules",
                ListOf(item=rule, invalid="{path}: expected an array of tables ([[{path}]]), got {got}"),
                default=(),
            ),
        ),
    )


def policies_schema(labels: tuple[str, ...] | None) -> Kind:
    return MapOf(
        value=policy_schema(labels),
        key_pattern=NAME_PATTERN,
        key_invalid="{path}: policy names use letters, digits, '_', '-' and '.' only",
    )


def _condition(values: Mapping[str, Any], where: str) -> Condition:
    cond = Condition(
        patterns=tuple(values["patterns"]),
        categories=frozenset(values["categories"]),
        min_severity=Severity(values["min_severity"]) if "min_severity" in values else None,
        min_confidence=Confidence(values["min_confidence"]) if "min_confidence" in values else None,
        min_count=values["min_count"],
        max_count=values.get("max_count"),
        count=CountMode(values["count"]),
    )
    if cond.max_count is not None and cond.max_count < cond.min_count:
        raise ValueError(f"{where}.max_count: must be >= min_count ({cond.min_count}), got {cond.max_count}")
    return cond


def _rule(raw: Mapping[str, Any], values: Mapping[str, Any], where: str, default_override: bool) -> Rule:
    verdict = Verdict(values["verdict"])
    label = values.get("label")
    if verdict is Verdict.LABEL and label is None:
        raise ValueError(f"{where}.label: missing (a label rule must name the label to write)")
    if verdict is Verdict.ALLOW and label is not None:
        raise ValueError(f"{where}.label: an allow rule writes no label")
    conds: list[Condition] = []
    if any(k in raw for k in _CONDITION_KEYS) or "all" not in raw:
        conds.append(_condition(values, where))
    conds += [_condition(c, f"{where}.all[{i}]") for i, c in enumerate(values.get("all", ()))]
    return Rule(
        name=values["name"],
        conditions=tuple(conds),
        verdict=verdict,
        label=label,
        allow_override=values.get("allow_override", default_override),
        reason=values.get("reason"),
    )


def _outcome(values: Mapping[str, Any], where: str, labels: Sequence[str], base: Outcome, key: str) -> Outcome:
    verdict = Verdict(values.get("verdict", base.verdict))
    if verdict is Verdict.LABEL and key == "unlabelable":
        raise ValueError(f"{where}.verdict: expected allow (release unlabelled) or block, got 'label'")
    label = values.get("label")
    if verdict is Verdict.LABEL and label is None:
        label = base.label if base.label in labels else None
        if label is None:
            raise ValueError(f"{where}.label: missing (verdict label needs a label name)")
    override = values.get("allow_override", base.allow_override)
    return Outcome(verdict, label if verdict is not Verdict.ALLOW else None, override)


def _policy(
    name: str, raw: Mapping[str, Any], values: Mapping[str, Any], labels: Sequence[str], base: Policy | None, where: str
) -> Policy:
    start = base or Policy(name=name, rules=())
    raw_rules = raw.get("rules", [])
    rules = tuple(
        _rule(r, v, f"{where}.rules[{i}]", values["allow_override"])
        for i, (r, v) in enumerate(zip(raw_rules, values["rules"], strict=True))
    )
    specials = {
        key: _outcome(values[key], f"{where}.{key}", labels, getattr(start, key), key)
        if key in values
        else getattr(start, key)
        for key in SPECIAL_CHECKS
    }
    policy = Policy(
        name=name,
        rules=start.rules + rules,
        description=values.get("description", start.description if base else ""),
        ignore_patterns=start.ignore_patterns + tuple(values["ignore_patterns"]),
        block_label=values.get("block_label", start.block_label),
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


def parse_policy(
    name: str,
    t: Mapping[str, Any],
    labels: Sequence[str] = DEFAULT_LABEL_ORDER,
    base: Policy | None = None,
    where: str | None = None,
) -> Policy:
    """One ``[policies.<name>]`` table. ``base`` is the resolved ``extends`` policy."""
    where = where or f"policies.{name}"
    values = require(policy_schema(tuple(labels)), t, where)
    return _policy(name, t, values, labels, base, where)


def parse_policies(table: Mapping[str, Any], labels: Sequence[str] = DEFAULT_LABEL_ORDER) -> dict[str, Policy]:
    """All ``[policies.*]``, resolving ``extends`` (default "builtin"; "none" starts empty)."""
    checked: dict[str, Any] = require(policies_schema(tuple(labels)), table, "policies")
    out: dict[str, Policy] = {}
    resolving: list[str] = []

    def resolve(name: str) -> Policy:
        if name in out:
            return out[name]
        where = f"policies.{name}"
        if name in resolving:
            raise ValueError(f"{where}.extends: circular ({' -> '.join(resolving + [name])})")
        ext = checked[name]["extends"]
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
        out[name] = _policy(name, table[name], checked[name], labels, base, where)
        return out[name]

    for name in table:
        if name in RESERVED_NAMES:
            raise ValueError(f"policies.{name}: this name is reserved")
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
