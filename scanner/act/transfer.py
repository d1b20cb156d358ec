"""Moving a file without ever losing one: the journaled, durable transfer protocol.

Release, quarantine and restore (``scanner.act.actions``) all move files this way
(``Transfer``); the journal itself is ``scanner.act.journal``:

1. ``copying``  — a journal row (in the audit database) records the intent: source,
   its SHA-256, the target name and a private staging folder beside the target
   (``<target folder>/.clearance-<token>.part/``). The content is written there (a
   labelled copy via ``labelling.apply_label``, or a plain copy), flushed and fsynced.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.act.journal import Journal, JournalEntry
from scanner.durable import fsync_dir, fsync_file
from scanner.limits import MiB
from scanner.record.events import AuditKind

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
_CRASH_EXIT = 137  # what a shell reports for a process killed by SIGKILL (128 + 9)
_STALE_TEMP_S = 300.0  # a temp file this old belongs to no live writer


class ActionError(Exception):
    """An action could not be carried out; ``str(exc)`` is for the user. Nothing was lost."""


def _crash_point(name: str) -> None:
    """Test hook (see module docstring): simulate a kill at this step."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(_CRASH_EXIT)


# --------------------------------------------------------------------------- file helpers


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def copy_plain(src: Path, dest: Path) -> None:
    with open(src, "rb") as fin, open(dest, "xb") as fout:
        shutil.copyfileobj(fin, fout, MiB)
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


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{_STAGING_PREFIX}{secrets.token_hex(4)}.tmp")
    with open(tmp, "x", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


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


class Transfer:
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
            fsync_file(temp)
            fsync_dir(staging)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            self.j.finish(
                entry_id,
                "rolled_back",
                AuditKind(f"{op}_failed"),
                {**audit_fields, "error": describe_error(exc), "where": str(source), "journal": entry_id},
                note=describe_error(exc),
            )
            if isinstance(exc, ActionError | OSError):
                why = describe_error(exc)
                raise ActionError(f"{op} of {source.name} failed, file left at {source}: {why}") from exc
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
            fsync_dir(target.parent)
        _crash_point("after_rename_unjournaled")
        shutil.rmtree(e.staging, ignore_errors=True)
        e = self.j.get(e.id) if target != e.target else e
        if e.record is not None and e.record_path is not None:
            rec = dict(e.record, quarantined_path=str(target), file=target.name)
            write_json_atomic(e.record_path, rec)
        self.j.update(e.id, state="placed")
        _crash_point("after_rename")
        return self.j.get(e.id)

    def _remove_source(self, e: JournalEntry) -> JournalEntry:
        note: str | None = None
        if not e.keep_source and e.source.exists():
            try:
                current = sha256_file(e.source)
            except OSError as exc:
                current, note = None, f"source not removed: cannot read it ({describe_error(exc)})"
            if current is not None and current != e.source_sha256:
                note = "source not removed: it changed after the scan (a newer version was saved)"
            elif current is not None:
                try:
                    e.source.unlink()
                    fsync_dir(e.source.parent)
                except OSError as exc:
                    # Windows: open in another program. The copy is in place and verified, so
                    # the move is done; the audit row and the result say the source remains.
                    note = f"source not removed: {describe_error(exc)} (open in another program?)"
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
        seq = self.j.finish(e.id, "done", AuditKind.ACTION, fields, note=e.note)
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


def describe_error(exc: BaseException) -> str:
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


def sweep_stale_temp_files(folders: Iterable[Path], older_than_s: float = _STALE_TEMP_S) -> list[Path]:
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
    t = Transfer(journal)
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
    journal.finish(e.id, "rolled_back", AuditKind.ACTION_ROLLED_BACK, fields, note=why)
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
    journal.finish(e.id, "rolled_back", AuditKind.ACTION_PROBLEM, fields, note=why)
    return Recovered(e.id, e.op, "needs_attention", e.source, why, e.source, e.target)
