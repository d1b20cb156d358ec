"""Release, quarantine, restore and override: what may move where, and in what form.

Each action re-checks what it is about to do (the file still has the scanned SHA-256, the
destination exists, the decision allows it, the label can be written), then hands the
move to ``scanner.act.transfer``, which makes it crash-safe and audited. A blocked file is
released only through ``override``: when its decision allows that, with a written
justification, recorded in the audit trail before the release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scanner.act.journal import Journal
from scanner.act.label_common import LabelError, LabelUnsupported
from scanner.act.labelling import apply_label, current_level, read_label
from scanner.act.transfer import (
    RECORD_SUFFIX,
    ActionError,
    Moved,
    Producer,
    Transfer,
    copy_plain,
    describe_error,
    sha256_file,
)
from scanner.config.settings import Config
from scanner.decide.policy import decide, labelable
from scanner.decide.rules import Policy
from scanner.labels.scheme import LabelScheme
from scanner.model import Decision, FileResult, Verdict
from scanner.record.audit import AuditLog, current_actor, current_host, now_utc
from scanner.record.events import AuditKind, scan_fields, summarise_findings

_REASONS_SHOWN = 3  # of a decision's reasons, in a one-line error message
_REASONS_AUDITED = 10  # of a decision's reasons, in an action's audit row
_RECORD_SCHEMA_VERSION = 1  # of the quarantine reason record beside a held file


class OverrideRefused(ActionError):
    """The decision may not be overridden, or the justification is missing."""


def _action_fields(result: FileResult, destination: str | None, decision: Decision) -> dict[str, Any]:
    o = result.outcome
    return {
        "path": o.path,
        "sha256": o.sha256,
        "destination": destination,
        "verdict": decision.verdict.value,
        "label": decision.label,
        "reasons": list(decision.reasons)[:_REASONS_AUDITED],
        "type": o.type,
    }


def _check_unchanged(path: Path, result: FileResult) -> str:
    try:
        sha = sha256_file(path)
    except FileNotFoundError:
        raise ActionError(f"{path} no longer exists") from None
    except OSError as exc:
        raise ActionError(f"cannot read {path}: {describe_error(exc)}") from None
    if result.outcome.sha256 and sha != result.outcome.sha256:
        raise ActionError(f"{path.name} changed after it was scanned; scan it again before releasing")
    return sha


def _destination_folder(config: Config, destination: str) -> Path:
    d = config.destinations.get(destination)
    if d is None:
        raise ActionError(
            f"unknown destination {destination!r} (configured: {', '.join(sorted(config.destinations)) or 'none'})"
        )
    if not d.folder.is_dir():
        # Not created on purpose: a missing release folder is often an unmounted share,
        # and creating it would divert files to the local disk.
        raise ActionError(f"release folder of {destination} does not exist: {d.folder}")
    return d.folder


def _producer(
    path: Path, result: FileResult, label: str | None, config: Config, policy: Policy, allow_unlabelled: bool
) -> Producer:
    def produce(temp: Path) -> dict[str, Any]:
        if label is None:
            copy_plain(path, temp)
            return {"labelled": None}
        scheme = config.label_scheme() or LabelScheme.default()
        try:
            label_def = scheme.get(label)
        except KeyError as exc:
            raise ActionError(str(exc).strip("'\"")) from None
        kept_note: dict[str, Any] = {}
        try:
            current = current_level(read_label(path, scheme), scheme)
        except LabelError:
            current = None  # apply_label meets the same damage below and says so
        if current is not None and scheme.rank(current) > scheme.rank(label_def):
            # A release never lowers a label by itself: a downgrade is a person's decision, with a
            # justification (clearance label --justification). The file keeps its higher label.
            kept_note = {"label_note": f"kept the file's label {current.name} (policy asked for {label_def.name})"}
            label_def = current
        try:
            res = apply_label(
                path, temp, label_def, scheme, scan_sha256=result.outcome.sha256 or None, limits=config.limits
            )
        except LabelUnsupported as exc:
            if not allow_unlabelled:
                raise ActionError(f"{exc}; policy {policy.name} blocks unlabelled release") from None
            temp.unlink(missing_ok=True)
            copy_plain(path, temp)
            return {"labelled": None, "label_note": f"{exc}: released unlabelled (policy {policy.name})"}
        except LabelError as exc:
            raise ActionError(f"cannot write label {label}: {exc}") from None
        return {
            "labelled": res.label,
            "label_guid": res.guid,
            "label_notes": list(res.notes),
            "previous_label": res.previous.name if res.previous else None,
            **kept_note,
        }

    return produce


def release(
    path: Path | str,
    result: FileResult,
    destination: str,
    config: Config,
    audit: AuditLog,
    *,
    keep_source: bool = False,
    decision: Decision | None = None,
    _override_seq: int | None = None,
) -> Moved:
    """Write ``path`` (labelled if its decision says so) into the destination's release folder.

    The decision is re-taken for ``destination`` unless given. A blocked file is never
    released here (see ``override``). The source is removed once the copy is in place,
    unless ``keep_source`` (GUI "release a copy").
    """
    path = Path(path)
    policy = config.policy_for(destination)
    decision = decision or decide(result.outcome, policy, destination)
    if decision.verdict is Verdict.BLOCK and _override_seq is None:
        raise ActionError(f"{path.name} is blocked for {destination}: " + "; ".join(decision.reasons[:_REASONS_SHOWN]))
    folder = _destination_folder(config, destination)
    sha = _check_unchanged(path, result)
    label = decision.label if decision.verdict is not Verdict.ALLOW else None
    allow_unlabelled = policy.unlabelable.verdict is Verdict.ALLOW or _override_seq is not None
    if label is not None and not labelable(result.outcome.type, policy):
        if not allow_unlabelled:
            raise ActionError(f"{path.name} needs label {label}, but {result.outcome.type} files cannot carry one")
        label = None
    fields = _action_fields(result, destination, decision)
    if _override_seq is not None:
        fields["override"] = _override_seq
    return Transfer(Journal(audit)).run(
        "release",
        path,
        sha,
        folder,
        _producer(path, result, label, config, policy, allow_unlabelled),
        fields,
        keep_source=keep_source,
    )


def quarantine(
    path: Path | str, result: FileResult, config: Config, audit: AuditLog, destination: str | None = None
) -> Moved:
    """Move ``path`` into the quarantine folder with a reason record beside it."""
    path = Path(path)
    folder = config.quarantine.folder
    folder.mkdir(parents=True, exist_ok=True)
    try:
        sha = sha256_file(path)
    except OSError as exc:
        raise ActionError(f"cannot read {path}: {describe_error(exc)}") from None
    decision = result.decision
    dest = destination if destination is not None else result.destination
    record = {
        "schema_version": _RECORD_SCHEMA_VERSION,
        "clearance": "quarantine record",
        "original_path": str(path.resolve()),
        "time": now_utc(),
        "actor": current_actor(),
        "host": current_host(),
        "destination": dest,
        "verdict": decision.verdict.value,
        "label": decision.label,
        "reasons": list(decision.reasons),
        "overridable": decision.overridable,
        "sha256": sha,
        "scanned_sha256": result.outcome.sha256,
        "bytes": result.outcome.bytes,
        "type": result.outcome.type,
        "error": result.outcome.error,
        "findings": summarise_findings(result.outcome.findings),
        "partner_hits": scan_fields(result).get("partner_hits", []),
    }
    fields = _action_fields(result, dest, decision)

    def produce(temp: Path) -> dict[str, Any]:
        copy_plain(path, temp)
        return {}

    return Transfer(Journal(audit)).run("quarantine", path, sha, folder, produce, fields, record=record)


def restore(record_path: Path | str, config: Config, audit: AuditLog, to: Path | None = None) -> Moved:
    """Undo a quarantine: move the file back to its original folder (or ``to``), collision-safe."""
    record_path = Path(record_path)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        original = Path(record["original_path"])
        held = record_path.with_name(record_path.name[: -len(RECORD_SUFFIX)])
    except (OSError, ValueError, KeyError) as exc:
        raise ActionError(f"{record_path} is not a readable quarantine record: {describe_error(exc)}") from None
    folder = Path(to) if to is not None else original.parent
    if not folder.is_dir():
        raise ActionError(f"cannot restore into {folder}: folder does not exist")
    sha = sha256_file(held)

    def produce(temp: Path) -> dict[str, Any]:
        copy_plain(held, temp)
        return {}

    moved = Transfer(Journal(audit)).run(
        "restore",
        held,
        sha,
        folder,
        produce,
        {"path": str(held), "sha256": sha, "quarantine_record": str(record_path)},
        target_name=original.name,
    )
    record_path.unlink(missing_ok=True)
    return moved


def override(
    path: Path | str,
    result: FileResult,
    destination: str,
    who: str | None,
    justification: str,
    config: Config,
    audit: AuditLog,
    *,
    keep_source: bool = False,
) -> Moved:
    """Release a blocked file anyway: only if overridable, with a written justification; audited."""
    path = Path(path)
    decision = decide(result.outcome, config.policy_for(destination), destination)
    if decision.verdict is not Verdict.BLOCK:
        raise OverrideRefused(
            f"{path.name} is not blocked for {destination} ({decision.verdict.value}); release it normally"
        )
    if not decision.overridable:
        shown = "; ".join(decision.reasons[:_REASONS_SHOWN])
        raise OverrideRefused(f"{path.name} may not be released anyway: {shown}")
    text = (justification or "").strip()
    if not text:
        raise OverrideRefused("a written justification is required to release a blocked file")
    who = (who or "").strip() or current_actor()
    seq = audit.record(
        AuditKind.OVERRIDE,
        path=result.outcome.path,
        sha256=result.outcome.sha256,
        destination=destination,
        verdict=decision.verdict.value,
        label=decision.label,
        who=who,
        justification=text,
        reasons=list(decision.reasons),
    )
    return release(
        path, result, destination, config, audit, keep_source=keep_source, decision=decision, _override_seq=seq
    )
