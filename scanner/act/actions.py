"""Release and quarantine: move files without ever losing one, and say where they went.

Every move follows the same journaled protocol (``_Transfer``):

1. ``copying``  — a journal row (in the audit database) records the intent: source,
   its SHA-256, the target name and a private staging folder beside the target
   (``<target folder>/.clearance-<token>.part/``). The content is written there (a
   labelled copy via ``labels.apply_label``, or a plain copy), flushed and fsynced.
2. ``copied``   — the staged file's SHA-256 is journaled.
3. ``placed``   — the staged file is linked to the final name (a hard link never
   replaces an existing file; where links are unsupported, an existence check plus
   ``os.replace``); the staging folder is removed. A quarantine's reason record is
   written beside the file.
4. ``source_removed`` — the source is deleted, but only if it still has the scanned
   SHA-256 (a newer version saved meanwhile is kept).
5. ``done``     — in the same transaction as the audit row saying where the file is.

``recover(journal)`` (run at start by every driver) finishes each interrupted move
whose staged or placed file is complete (SHA-256 verified) and rolls back the others,
so after a crash at any point the file is in exactly one known place, and the audit
trail says which. Name collisions never overwrite: ``report.pdf`` becomes
``report (1).pdf``.

Test hook: when the environment variable ``CLEARANCE_CRASH_AT`` names a step
(``after_copy``, ``after_rename``, ``after_remove`` and their ``*_unjournaled`` variants,
see ``CRASH_POINTS``), the process calls ``os._exit(137)`` right there — what a kill
at that instant leaves behind. Only the kill tests set it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.config.settings import Config
from scanner.decide.policy import Policy, decide, labelable
from scanner.durable import fsync_dir as _fsync_dir
from scanner.model import Decision, FileResult, Verdict
from scanner.record.audit import AuditLog, current_actor, current_host, now_utc, scan_fields, summarise_findings

CRASH_ENV = "CLEARANCE_CRASH_AT"
CRASH_POINTS = (
    "after_copy_unjournaled",
    "after_copy",
    "after_rename_unjournaled",
    "after_rename",
    "after_remove_unjournaled",
    "after_remove",
)
RECORD_SUFFIX = ".clearance.json"
_STAGING_PREFIX = ".clearance-"
_STAGING_SUFFIX = ".part"
_PENDING = ("copying", "copied", "placed", "source_removed")
_MiB = 1 << 20


class ActionError(Exception):
    """An action could not be carried out; ``str(exc)`` is for the user. Nothing was lost."""


class OverrideRefused(ActionError):
    """The decision may not be overridden, or the justification is missing."""


def _crash_point(name: str) -> None:
    """Test hook (see module docstring): simulate a kill at this step."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(137)


# --------------------------------------------------------------------------- file helpers


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_MiB), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        fh.flush()
        os.fsync(fh.fileno())


def _copy_plain(src: Path, dest: Path) -> None:
    with open(src, "rb") as fin, open(dest, "xb") as fout:
        shutil.copyfileobj(fin, fout, _MiB)
        fout.flush()
        os.fsync(fout.fileno())
    with contextlib.suppress(OSError):
        shutil.copystat(src, dest)  # keep the modification time: a released copy is the same document


def collision_free(target: Path) -> Path:
    """``report.pdf`` -> ``report (1).pdf`` -> ``report (2).pdf`` ... (first name not taken)."""
    if not target.exists() and not target.is_symlink():
        return target
    stem, suffix = target.stem, target.suffix
    if target.name.startswith(".") and stem == target.name:  # ".env": no suffix
        suffix = ""
    n = 1
    while True:
        cand = target.with_name(f"{stem} ({n}){suffix}")
        if not cand.exists() and not cand.is_symlink():
            return cand
        n += 1


def _link_no_clobber(src: Path, dest: Path) -> bool:
    """Give ``src`` the name ``dest`` without replacing anything; False if ``dest`` exists."""
    try:
        os.link(src, dest)
        return True
    except FileExistsError:
        return False
    except OSError:
        # No hard links here (FAT, some network shares): check, then rename. Another
        # process could create ``dest`` in between; that window is the price of the FS.
        if dest.exists() or dest.is_symlink():
            return False
        os.replace(src, dest)
        return True


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{_STAGING_PREFIX}{secrets.token_hex(4)}.tmp")
    with open(tmp, "x", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


# --------------------------------------------------------------------------- journal


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    op: str
    state: str
    source: Path
    source_sha256: str
    bytes: int
    target: Path
    temp: Path
    target_sha256: str | None
    keep_source: bool
    record_path: Path | None
    record: dict[str, Any] | None
    audit_fields: dict[str, Any]
    created: str
    updated: str
    note: str | None

    @property
    def staging(self) -> Path:
        return self.temp.parent


_J_COLS = (
    "id, op, state, source, source_sha256, bytes, target, temp, target_sha256, keep_source, record_path, "
    "record_json, audit_json, created, updated, note"
)


def _entry(r: Sequence[Any]) -> JournalEntry:
    return JournalEntry(
        r[0],
        r[1],
        r[2],
        Path(r[3]),
        r[4],
        r[5],
        Path(r[6]),
        Path(r[7]),
        r[8],
        bool(r[9]),
        Path(r[10]) if r[10] else None,
        json.loads(r[11]) if r[11] else None,
        json.loads(r[12]),
        r[13],
        r[14],
        r[15],
    )


class Journal:
    """The move journal: a table in the audit database, so that finishing a move and
    recording it in the audit trail commit in one transaction (never one without the other)."""

    def __init__(self, audit: AuditLog):
        self.audit = audit

    def begin(
        self,
        op: str,
        source: Path,
        source_sha256: str,
        size: int,
        target: Path,
        temp: Path,
        keep_source: bool,
        record_path: Path | None,
        record: dict[str, Any] | None,
        audit_fields: dict[str, Any],
    ) -> int:
        now = now_utc()
        with self.audit.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO journal(op, state, source, source_sha256, bytes, target, temp, keep_source, "
                "record_path, record_json, audit_json, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    op,
                    "copying",
                    str(source),
                    source_sha256,
                    size,
                    str(target),
                    str(temp),
                    int(keep_source),
                    str(record_path) if record_path else None,
                    json.dumps(record) if record is not None else None,
                    json.dumps(audit_fields),
                    now,
                    now,
                ),
            )
            return int(cur.lastrowid or 0)

    def update(self, entry_id: int, **cols: Any) -> None:
        cols["updated"] = now_utc()
        sets = ", ".join(f"{k} = ?" for k in cols)
        vals = [str(v) if isinstance(v, Path) else v for v in cols.values()]
        with self.audit.transaction() as tx:
            tx.execute(f"UPDATE journal SET {sets} WHERE id = ?", (*vals, entry_id))

    def finish(
        self, entry_id: int, state: str, audit_kind: str, audit_fields: dict[str, Any], note: str | None = None
    ) -> int:
        """Close the entry and write its audit row in one transaction; returns the audit seq."""
        with self.audit.transaction() as tx:
            tx.execute(
                "UPDATE journal SET state = ?, note = ?, updated = ? WHERE id = ?", (state, note, now_utc(), entry_id)
            )
            return tx.record(audit_kind, **audit_fields)

    def get(self, entry_id: int) -> JournalEntry:
        with self.audit.transaction() as tx:
            r = tx.execute(f"SELECT {_J_COLS} FROM journal WHERE id = ?", (entry_id,)).fetchone()
        if r is None:
            raise KeyError(entry_id)
        return _entry(r)

    def pending(self) -> list[JournalEntry]:
        with self.audit.transaction() as tx:
            rows = tx.execute(
                f"SELECT {_J_COLS} FROM journal WHERE state IN ({','.join('?' * len(_PENDING))}) ORDER BY id", _PENDING
            ).fetchall()
        return [_entry(r) for r in rows]

    def entries(self) -> list[JournalEntry]:
        with self.audit.transaction() as tx:
            rows = tx.execute(f"SELECT {_J_COLS} FROM journal ORDER BY id").fetchall()
        return [_entry(r) for r in rows]


# --------------------------------------------------------------------------- the transfer


Producer = Callable[[Path], dict[str, Any]]  # writes the staged file; returns extra audit fields


@dataclass(frozen=True, slots=True)
class Moved:
    """Where a file ended up. ``source_kept`` explains why the source is still there, if it is."""

    journal_id: int
    target: Path
    target_sha256: str
    record_path: Path | None
    audit_seq: int
    source_kept: str | None = None


class _Transfer:
    """Steps 1–5 of the module docstring, shared by release, quarantine, restore and recover."""

    def __init__(self, journal: Journal):
        self.j = journal

    def run(
        self,
        op: str,
        source: Path,
        source_sha256: str,
        target_folder: Path,
        producer: Producer,
        audit_fields: dict[str, Any],
        *,
        keep_source: bool = False,
        record: dict[str, Any] | None = None,
        target_name: str | None = None,
    ) -> Moved:
        target = collision_free(target_folder / (target_name or source.name))
        staging = target_folder / f"{_STAGING_PREFIX}{secrets.token_hex(6)}{_STAGING_SUFFIX}"
        temp = staging / target.name
        record_path = target.with_name(target.name + RECORD_SUFFIX) if record is not None else None
        size = source.stat().st_size
        entry_id = self.j.begin(
            op, source, source_sha256, size, target, temp, keep_source, record_path, record, audit_fields
        )
        try:
            staging.mkdir()
            extra = producer(temp)
            _fsync_file(temp)
            _fsync_dir(staging)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            self.j.finish(
                entry_id,
                "rolled_back",
                f"{op}_failed",
                {**audit_fields, "error": _words(exc), "where": str(source), "journal": entry_id},
                note=_words(exc),
            )
            if isinstance(exc, ActionError | OSError):
                raise ActionError(f"{op} of {source.name} failed, file left at {source}: {_words(exc)}") from exc
            raise
        _crash_point("after_copy_unjournaled")
        target_sha = sha256_file(temp)
        audit_fields = {**audit_fields, **extra}
        self.j.update(entry_id, state="copied", target_sha256=target_sha, audit_json=json.dumps(audit_fields))
        _crash_point("after_copy")
        try:
            return self.resume(self.j.get(entry_id))
        except _RollBack as rb:
            _roll_back(self.j, self.j.get(entry_id), str(rb))
            raise ActionError(f"{op} of {source.name} failed, file left at {source}: {rb}") from None

    def resume(self, e: JournalEntry) -> Moved:
        """Carry an entry forward from its journaled state (also the recovery path)."""
        if e.state == "copied":
            e = self._place(e)
        if e.state == "placed":
            e = self._remove_source(e)
        if e.state == "source_removed":
            return self._done(e)
        raise ActionError(f"journal entry {e.id} is in state {e.state!r}, which cannot be resumed")

    def _place(self, e: JournalEntry) -> JournalEntry:
        assert e.target_sha256 is not None
        target = e.target
        if not _is_complete(target, e.target_sha256):
            if not _is_complete(e.temp, e.target_sha256):
                raise _RollBack("the staged copy is missing or incomplete")
            while True:
                if _link_no_clobber(e.temp, target):
                    break
                target = collision_free(target)
                # Journal the new name before using it, so a crash after the link finds the file.
                self.j.update(
                    e.id,
                    target=target,
                    record_path=(target.with_name(target.name + RECORD_SUFFIX) if e.record_path else None),
                )
            _fsync_dir(target.parent)
        _crash_point("after_rename_unjournaled")
        shutil.rmtree(e.staging, ignore_errors=True)
        e = self.j.get(e.id) if target != e.target else e
        if e.record is not None and e.record_path is not None:
            rec = dict(e.record, quarantined_path=str(target), file=target.name)
            _write_json_atomic(e.record_path, rec)
        self.j.update(e.id, state="placed")
        _crash_point("after_rename")
        return self.j.get(e.id)

    def _remove_source(self, e: JournalEntry) -> JournalEntry:
        note: str | None = None
        if not e.keep_source and e.source.exists():
            try:
                current = sha256_file(e.source)
            except OSError as exc:
                current, note = None, f"source not removed: cannot read it ({_words(exc)})"
            if current is not None and current != e.source_sha256:
                note = "source not removed: it changed after the scan (a newer version was saved)"
            elif current is not None:
                try:
                    e.source.unlink()
                    _fsync_dir(e.source.parent)
                except OSError as exc:
                    # Windows: open in another program. The copy is in place and verified, so
                    # the move is done; the audit row and the result say the source remains.
                    note = f"source not removed: {_words(exc)} (open in another program?)"
        _crash_point("after_remove_unjournaled")
        self.j.update(e.id, state="source_removed", note=note)
        _crash_point("after_remove")
        return self.j.get(e.id)

    def _done(self, e: JournalEntry, recovered: bool = False) -> Moved:
        fields = dict(e.audit_fields)
        fields.update(
            {
                "op": e.op,
                "from": str(e.source),
                "to": str(e.target),
                "target_sha256": e.target_sha256,
                "source_sha256": e.source_sha256,
                "bytes": e.bytes,
                "journal": e.id,
                "source_kept": e.note or ("kept by request" if e.keep_source else None),
                "record": str(e.record_path) if e.record_path else None,
            }
        )
        if recovered:
            fields["recovered"] = "completed after an interruption"
        seq = self.j.finish(e.id, "done", "action", fields, note=e.note)
        return Moved(
            e.id,
            e.target,
            e.target_sha256 or "",
            e.record_path,
            seq,
            e.note or ("kept by request" if e.keep_source else None),
        )


class _RollBack(Exception):
    pass


def _is_complete(path: Path, sha: str) -> bool:
    try:
        return path.is_file() and sha256_file(path) == sha
    except OSError:
        return False


def _words(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------- recovery


@dataclass(frozen=True, slots=True)
class Recovered:
    journal_id: int
    op: str
    outcome: str  # "completed" | "rolled_back" | "needs_attention"
    where: Path  # where the file is now
    message: str
    source: Path  # where the interrupted move started
    target: Path  # where it was going


def sweep_stale_temp_files(folders: Iterable[Path], older_than_s: float = 300.0) -> list[Path]:
    """Remove our own temp files (``.clearance-*.tmp``) that a crash left in ``folders``.

    They are reason records that were being written when the process died; the file they
    describe is already placed (the journal says where). Only files older than
    ``older_than_s`` go, so a record another process is writing right now is left alone.
    """
    removed: list[Path] = []
    cutoff = time.time() - older_than_s
    for folder in folders:
        try:
            candidates = list(Path(folder).glob(f"{_STAGING_PREFIX}*.tmp"))
        except OSError:
            continue
        for p in candidates:
            try:
                if p.is_file() and p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed.append(p)
            except OSError:
                continue
    return removed


def recover(journal: Journal) -> list[Recovered]:
    """Finish or roll back every interrupted move (call once at start, before new actions)."""
    out: list[Recovered] = []
    t = _Transfer(journal)
    for e in journal.pending():
        try:
            if e.state == "copying":
                raise _RollBack("interrupted while copying")
            if e.state == "copied" and not (
                _is_complete(e.temp, e.target_sha256 or "") or _is_complete(e.target, e.target_sha256 or "")
            ):
                raise _RollBack("the staged copy is incomplete")
            if e.state == "placed" and not _is_complete(e.target, e.target_sha256 or ""):
                out.append(
                    _attention(journal, e, f"the placed file {e.target} is missing or changed; the source was kept")
                )
                continue
            if e.state == "copied":
                e = t._place(e)
            if e.state == "placed":
                e = t._remove_source(e)
            moved = t._done(e, recovered=True)
            out.append(
                Recovered(
                    e.id,
                    e.op,
                    "completed",
                    moved.target,
                    f"{e.op} completed after an interruption: file is at {moved.target}",
                    e.source,
                    moved.target,
                )
            )
        except _RollBack as rb:
            out.append(_roll_back(journal, e, str(rb)))
    return out


def _roll_back(journal: Journal, e: JournalEntry, why: str) -> Recovered:
    shutil.rmtree(e.staging, ignore_errors=True)
    where = e.source if e.source.exists() else e.target
    fields = dict(e.audit_fields)
    fields.update(
        {
            "op": e.op,
            "from": str(e.source),
            "to": None,
            "intended": str(e.target),
            "where": str(where),
            "journal": e.id,
            "recovered": f"rolled back after an interruption ({why})",
        }
    )
    journal.finish(e.id, "rolled_back", "action_rolled_back", fields, note=why)
    return Recovered(
        e.id, e.op, "rolled_back", where, f"{e.op} rolled back ({why}): file remains at {where}", e.source, e.target
    )


def _attention(journal: Journal, e: JournalEntry, why: str) -> Recovered:
    fields = dict(e.audit_fields)
    fields.update(
        {
            "op": e.op,
            "from": str(e.source),
            "intended": str(e.target),
            "journal": e.id,
            "problem": why,
            "where": str(e.source),
        }
    )
    journal.finish(e.id, "rolled_back", "action_problem", fields, note=why)
    return Recovered(e.id, e.op, "needs_attention", e.source, why, e.source, e.target)


# --------------------------------------------------------------------------- actions


def _action_fields(result: FileResult, destination: str | None, decision: Decision) -> dict[str, Any]:
    o = result.outcome
    return {
        "path": o.path,
        "sha256": o.sha256,
        "destination": destination,
        "verdict": decision.verdict.value,
        "label": decision.label,
        "reasons": list(decision.reasons)[:10],
        "type": o.type,
    }


def _check_unchanged(path: Path, result: FileResult) -> str:
    try:
        sha = sha256_file(path)
    except FileNotFoundError:
        raise ActionError(f"{path} no longer exists") from None
    except OSError as exc:
        raise ActionError(f"cannot read {path}: {_words(exc)}") from None
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
            _copy_plain(path, temp)
            return {"labelled": None}
        from scanner.act import labels

        scheme = config.label_scheme() or labels.LabelScheme.default()
        try:
            label_def = scheme.get(label)
        except KeyError as exc:
            raise ActionError(str(exc).strip("'\"")) from None
        try:
            res = labels.apply_label(
                path, temp, label_def, scheme, scan_sha256=result.outcome.sha256 or None, limits=config.limits
            )
        except labels.LabelUnsupported as exc:
            if not allow_unlabelled:
                raise ActionError(f"{exc}; policy {policy.name} blocks unlabelled release") from None
            temp.unlink(missing_ok=True)
            _copy_plain(path, temp)
            return {"labelled": None, "label_note": f"{exc}: released unlabelled (policy {policy.name})"}
        except labels.LabelError as exc:
            raise ActionError(f"cannot write label {label}: {exc}") from None
        return {
            "labelled": res.label,
            "label_guid": res.guid,
            "label_notes": list(res.notes),
            "previous_label": res.previous.name if res.previous else None,
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
        raise ActionError(f"{path.name} is blocked for {destination}: " + "; ".join(decision.reasons[:3]))
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
    return _Transfer(Journal(audit)).run(
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
        raise ActionError(f"cannot read {path}: {_words(exc)}") from None
    decision = result.decision
    dest = destination if destination is not None else result.destination
    record = {
        "schema_version": 1,
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
        "partner_hits": scan_fields(result)["partner_hits"],
    }
    fields = _action_fields(result, dest, decision)

    def produce(temp: Path) -> dict[str, Any]:
        _copy_plain(path, temp)
        return {}

    return _Transfer(Journal(audit)).run("quarantine", path, sha, folder, produce, fields, record=record)


def restore(record_path: Path | str, config: Config, audit: AuditLog, to: Path | None = None) -> Moved:
    """Undo a quarantine: move the file back to its original folder (or ``to``), collision-safe."""
    record_path = Path(record_path)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        original = Path(record["original_path"])
        held = record_path.with_name(record_path.name[: -len(RECORD_SUFFIX)])
    except (OSError, ValueError, KeyError) as exc:
        raise ActionError(f"{record_path} is not a readable quarantine record: {_words(exc)}") from None
    folder = Path(to) if to is not None else original.parent
    if not folder.is_dir():
        raise ActionError(f"cannot restore into {folder}: folder does not exist")
    sha = sha256_file(held)

    def produce(temp: Path) -> dict[str, Any]:
        _copy_plain(held, temp)
        return {}

    moved = _Transfer(Journal(audit)).run(
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
        raise OverrideRefused(f"{path.name} may not be released anyway: " + "; ".join(decision.reasons[:3]))
    text = (justification or "").strip()
    if not text:
        raise OverrideRefused("a written justification is required to release a blocked file")
    who = (who or "").strip() or current_actor()
    seq = audit.record(
        "override",
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


# --------------------------------------------------------------------------- plan / apply


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # "release" | "quarantine" | "none"
    path: Path
    result: FileResult
    destination: str | None
    decision: Decision
    target_folder: Path | None
    why: str

    def describe(self) -> str:
        if self.kind == "release":
            how = f"with label {self.decision.label}" if self.decision.verdict is Verdict.LABEL else "unlabelled"
            return f"release {self.path.name} to {self.destination} ({self.target_folder}) {how}"
        if self.kind == "quarantine":
            return f"quarantine {self.path.name} in {self.target_folder}: {self.why}"
        return f"leave {self.path.name}: {self.why}"


def plan(results: Iterable[FileResult], policy: Policy | None, destination: str | None, config: Config) -> list[Action]:
    """What ``apply`` would do (a dry run for the GUI): re-decides each file for ``destination``.

    Archive members are not acted on (their archive is); a file that no longer exists is left.
    """
    policy = policy or config.policy_for(destination)
    out: list[Action] = []
    for r in results:
        path = Path(r.outcome.path)
        decision = decide(r.outcome, policy, destination)
        if not path.is_file():
            out.append(
                Action("none", path, r, destination, decision, None, "not a file on disk (archive member or moved)")
            )
        elif decision.verdict is Verdict.BLOCK:
            out.append(
                Action(
                    "quarantine",
                    path,
                    r,
                    destination,
                    decision,
                    config.quarantine.folder,
                    "; ".join(decision.reasons[:3]),
                )
            )
        elif destination is None:
            out.append(Action("none", path, r, destination, decision, None, "no destination chosen"))
        elif destination not in config.destinations:
            out.append(Action("none", path, r, destination, decision, None, f"unknown destination {destination}"))
        else:
            out.append(
                Action(
                    "release",
                    path,
                    r,
                    destination,
                    decision,
                    config.destinations[destination].folder,
                    "; ".join(decision.reasons[:3]) or "nothing sensitive found",
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class ChangeItem:
    action: Action
    ok: bool
    where: Path | None
    message: str


@dataclass(slots=True)
class ChangeReport:
    items: list[ChangeItem] = field(default_factory=list)

    @property
    def released(self) -> list[ChangeItem]:
        return [i for i in self.items if i.ok and i.action.kind == "release"]

    @property
    def quarantined(self) -> list[ChangeItem]:
        return [i for i in self.items if i.ok and i.action.kind == "quarantine"]

    @property
    def failed(self) -> list[ChangeItem]:
        return [i for i in self.items if not i.ok]


def apply(actions: Iterable[Action], config: Config, audit: AuditLog, *, keep_source: bool = False) -> ChangeReport:
    """Carry out a plan; one failure does not stop the others (each is reported)."""
    report = ChangeReport()
    for a in actions:
        try:
            if a.kind == "release":
                assert a.destination is not None
                moved = release(
                    a.path, a.result, a.destination, config, audit, keep_source=keep_source, decision=a.decision
                )
                msg = f"released to {moved.target}" + (f" ({moved.source_kept})" if moved.source_kept else "")
                report.items.append(ChangeItem(a, True, moved.target, msg))
            elif a.kind == "quarantine":
                moved = quarantine(
                    a.path, FileResult(a.result.outcome, a.decision, a.destination), config, audit, a.destination
                )
                report.items.append(ChangeItem(a, True, moved.target, f"quarantined at {moved.target}"))
            else:
                report.items.append(ChangeItem(a, True, a.path if a.path.exists() else None, a.why))
        except ActionError as exc:
            report.items.append(ChangeItem(a, False, a.path if a.path.exists() else None, str(exc)))
    return report
