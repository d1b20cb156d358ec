"""The ``AppController`` that owns every service of the desktop app.

The controller is the only object that knows the scanner core's services (the worker
pool, the audit trail, the actions, the watcher); windows, the tray and the editors
subscribe to its signals and call its methods, and never talk to each other (vorta's
application-level signal bus, house style H15). It knows no view: ``gui.app`` builds the
windows around it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from gui import toml_edit
from gui.context import ContextService
from gui.services import ExplainService, OpRunner, ScannedFile, ScanService, TextReader
from gui.session import Session, gui_jobs
from gui.watcher import WatcherService
from scanner.act import actions
from scanner.act.journal import Journal
from scanner.act.transfer import recover
from scanner.config.settings import ConfigError, loads_config
from scanner.model import DocOutcome, FileResult, Finding, Verdict
from scanner.partners import PartnerDictionary
from scanner.pipeline.pool import WorkerPool
from scanner.record.audit import AuditLog, current_actor


class AppController(QObject):
    """Owns the session (config), the shared worker pool and the services built on it."""

    session_changed = Signal(object)  # Session: config or pattern sets were reloaded
    destination_changed = Signal(object)  # str | None
    action_finished = Signal(object, str)  # ScannedFile, what happened ("released to …")
    action_failed = Signal(object, str)  # ScannedFile | None, why (words for the user)
    audit_recorded = Signal()  # new audit rows exist (the audit view refreshes)
    audit_failed = Signal(str)
    file_blocked = Signal(str, str)  # path, first reason: tray notification
    revealed = Signal(object)  # ScannedFile whose values may now be shown
    notice = Signal(str)  # a short status-bar message

    def __init__(
        self,
        config_path: Path | str | None = None,
        *,
        pool: WorkerPool | None = None,
        jobs: int | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._session = Session.load(Path(config_path) if config_path is not None else None)
        self._jobs = jobs
        self._pool = pool
        self._owns_pool = pool is None
        self._destination: str | None = None
        self._audit: AuditLog | None = None
        self._audit_error: str | None = None
        self._old_audits: list[AuditLog] = []
        self.ops = OpRunner(self)  # file actions, one at a time
        self.audit_writer = OpRunner(self)  # audit rows, in order, never on the GUI thread
        self.audit_reader = OpRunner(self)  # audit queries for the views
        self.compute = OpRunner(self)  # read-only CPU work for the views (compiling a pattern set)
        self.scan = ScanService(self.pool, lambda: self._session, lambda: self._destination, self)
        self.explain = ExplainService(lambda: self._session, self)
        self.reader = TextReader(self)  # files' text in clear: the context pane, the workbench's test pane
        self.context = ContextService(self.reader, lambda: self._session, self)
        self.watcher = WatcherService(lambda: self._session, self.pool, self)
        # Connected first: a running watcher stops before the views hear of a new session.
        self.session_changed.connect(self.watcher.on_session_changed)
        self.watcher.file_blocked.connect(self.file_blocked)
        self.watcher.files_moved.connect(self.audit_recorded)
        self.scan.file_scanned.connect(self._on_file_scanned)
        self._open_audit()
        self._closed = False

    # ------------------------------------------------------------------ session and pool
    @property
    def session(self) -> Session:
        return self._session

    def pool(self) -> WorkerPool:
        """The one shared pool (started on first use: start-up stays fast)."""
        if self._pool is None:
            self._pool = WorkerPool(self._session.options, jobs=self._jobs or gui_jobs(self._session.config.scan.jobs))
            self._owns_pool = True
        return self._pool

    def reload(self) -> None:
        """Re-read the config and pattern sets (after a save in settings or the workbench).

        Workers compiled the old pattern set, so the pool is replaced: new scans go to a
        new pool at once, and the old one finishes its running files in the background.
        Results already shown are re-decided with the new policy.
        """
        self._session = Session.load(self._session.config_path)
        old: WorkerPool | None = None
        if self._owns_pool and self._pool is not None:
            old, self._pool = self._pool, None
        if self._audit is None or self._audit.path != self._session.config.audit.database:
            if self._audit is not None:
                # Operations in flight may still hold the old log: close it at shutdown.
                self._old_audits.append(self._audit)
            self._open_audit()
        else:
            config = self._session.config
            self.record(lambda a: a.note_config(config))
        if self._destination is not None and self._session.destination(self._destination) is None:
            self._destination = None
            self.destination_changed.emit(None)
        self.session_changed.emit(self._session)  # a running watcher stops, then restarts on the new pool
        if old is not None:
            # After the watcher has let go of it (its stop runs first on the same thread).
            self.watcher.after_stop(old.close)

    # ------------------------------------------------------------------ clearance.toml
    def config_text(self) -> str:
        """The config file's text ("" when it does not exist yet)."""
        path = self._session.config_path
        try:
            return path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""
        except (OSError, UnicodeDecodeError):
            return ""

    def validate_config_text(self, text: str) -> str | None:
        """None if ``text`` is a usable configuration, else the loader's message (names the key)."""
        path = self._session.config_path or Path("clearance.toml")
        try:
            config = loads_config(text, path.resolve().parent, path.name)
            if any(d.identifiers for d in config.destinations.values()):
                # the same identifier listed for two sponsors is an error the scan would hit later
                PartnerDictionary({n: d.identifiers for n, d in config.destinations.items()}, b"check")
        except (ConfigError, ValueError) as exc:
            return str(exc)
        return None

    def save_config_text(self, text: str, expected_old: str | None = None) -> str | None:
        """Validate, write atomically and reload; returns why not, or None. Audited on reload."""
        problem = self.validate_config_text(text)
        if problem:
            return problem
        path = self._session.config_path
        if path is None:
            return "no configuration file location"
        if expected_old is not None and self.config_text() != expected_old:
            return f"{path} was changed by someone else since it was opened; reload it first"
        try:
            toml_edit.write_atomic(path, text)
        except OSError as exc:
            return f"could not write {path}: {exc}"
        self.reload()
        return None

    def add_pattern_dir(self, folder: Path) -> str | None:
        """Add ``folder`` to ``[scan] pattern_dirs`` in clearance.toml (comments kept)."""
        old = self.config_text()
        try:
            doc = toml_edit.parse_document(old or "schema_version = 1\n")
            dirs = list(toml_edit.get_path(doc, ("scan", "pattern_dirs")) or [])
            if str(folder) not in dirs:
                dirs.append(str(folder))
            toml_edit.set_path(doc, ("scan", "pattern_dirs"), dirs)
        except toml_edit.TomlEditError as exc:
            return str(exc)
        return self.save_config_text(toml_edit.dumps(doc), expected_old=old)

    # ------------------------------------------------------------------ destination and policy
    @property
    def destination(self) -> str | None:
        return self._destination

    def set_destination(self, name: str | None) -> None:
        if name == self._destination:
            return
        self._destination = name
        self.destination_changed.emit(name)

    def decide(self, outcomes: list[DocOutcome], destination: str | None) -> list[FileResult]:
        return self._session.decide(outcomes, destination)

    # ------------------------------------------------------------------ audit
    @property
    def audit(self) -> AuditLog | None:
        """The audit trail (None when it could not be opened: see ``audit_error``)."""
        return self._audit

    @property
    def audit_error(self) -> str | None:
        return self._audit_error

    def _open_audit(self) -> None:
        if not self._session.usable:
            self._audit, self._audit_error = None, "configuration not usable"
            return
        try:
            self._audit = AuditLog(self._session.config.audit.database, source="gui")
            self._audit_error = None
        except Exception as exc:
            self._audit, self._audit_error = None, f"audit trail unavailable: {exc}"
            return
        audit, config = self._audit, self._session.config

        def startup() -> Any:
            audit.note_config(config)
            return recover(Journal(audit))  # finish or roll back moves a crash interrupted

        self.audit_writer.run(startup, self._on_recovered, self._on_audit_error)

    def record(self, op: Callable[[AuditLog], Any], on_done: Callable[[Any], None] | None = None) -> bool:
        """Run ``op(audit_log)`` on the audit thread. False (and nothing runs) without an audit trail."""
        audit = self._audit
        if audit is None:
            self.audit_failed.emit(self._audit_error or "audit trail unavailable")
            return False

        def done(result: Any) -> None:
            self.audit_recorded.emit()
            if on_done is not None:
                on_done(result)

        self.audit_writer.run(lambda: op(audit), done, self._on_audit_error)
        return True

    def _on_recovered(self, recovered: list[Any]) -> None:
        self.audit_recorded.emit()
        for r in recovered or ():
            self.notice.emit(f"Recovered an interrupted {r.op} of {Path(r.source).name}: {r.outcome}")

    def _on_audit_error(self, exc: BaseException) -> None:
        self.audit_failed.emit(f"could not write the audit trail: {exc}")

    @Slot(object)
    def _on_file_scanned(self, result: FileResult) -> None:
        destination = self._destination
        self.record(lambda a: a.record_scan(result, source="gui", destination=destination))

    # ------------------------------------------------------------------ reveal (audited)
    def reveal(self, scanned: ScannedFile, findings: Sequence[tuple[str, Finding]], reason: str | None) -> bool:
        """Record one audit row per value, then (and only then) let the views show them."""
        if not findings:
            self.revealed.emit(scanned)
            return True
        # All or nothing, before anything is shown: never show a value that was not recorded.
        return self.record(
            lambda audit: audit.record_reveals(findings, reason, source="gui"), lambda _r: self.revealed.emit(scanned)
        )

    # ------------------------------------------------------------------ actions (audited by the core)
    def can_release(self, scanned: ScannedFile) -> bool:
        r = scanned.results[0]
        return self._destination is not None and r.verdict is not Verdict.BLOCK and scanned.path.is_file()

    def can_override(self, scanned: ScannedFile) -> bool:
        r = scanned.results[0]
        return (
            self._destination is not None
            and r.verdict is Verdict.BLOCK
            and r.decision.overridable
            and scanned.path.is_file()
        )

    def release(self, scanned: ScannedFile) -> None:
        """Write the (labelled) copy into the destination's release folder; the original stays."""
        destination = self._destination
        if destination is None:
            self.action_failed.emit(scanned, "Choose a destination first.")
            return
        config = self._session.config
        self._action(
            scanned,
            lambda audit: actions.release(
                scanned.path, scanned.results[0], destination, config, audit, keep_source=True
            ),
            lambda moved: f"released to {moved.target}",
        )

    def quarantine(self, scanned: ScannedFile) -> None:
        config, destination = self._session.config, self._destination
        self._action(
            scanned,
            lambda audit: actions.quarantine(scanned.path, scanned.results[0], config, audit, destination),
            lambda moved: f"quarantined at {moved.target}",
        )

    def override(self, scanned: ScannedFile, justification: str) -> None:
        destination = self._destination
        if destination is None:
            self.action_failed.emit(scanned, "Choose a destination first.")
            return
        config, who = self._session.config, current_actor()
        self._action(
            scanned,
            lambda audit: actions.override(
                scanned.path, scanned.results[0], destination, who, justification, config, audit, keep_source=True
            ),
            lambda moved: f"released anyway to {moved.target} (override by {who})",
        )

    def _action(self, scanned: ScannedFile, op: Callable[[AuditLog], Any], describe: Callable[[Any], str]) -> None:
        audit = self._audit
        if audit is None:
            self.action_failed.emit(
                scanned, f"Nothing was done: {self._audit_error or 'no audit trail'} (every action must be recorded)."
            )
            return

        def done(moved: Any) -> None:
            self.audit_recorded.emit()
            self.action_finished.emit(scanned, describe(moved))

        def failed(exc: BaseException) -> None:
            self.audit_recorded.emit()  # a failed action is audited too
            self.action_failed.emit(scanned, str(exc))

        self.ops.run(lambda: op(audit), done, failed)

    # ------------------------------------------------------------------ shutdown
    def close(self) -> None:
        """Stop everything this controller started; joins every thread and worker process."""
        if self._closed:
            return
        self._closed = True
        self.watcher.close()
        self.scan.close()
        self.context.close()
        self.reader.close()
        self.explain.close()
        if self._owns_pool and self._pool is not None:
            self._pool.close()
        self._pool = None
        self.ops.close()
        self.audit_writer.close()
        self.audit_reader.close()
        self.compute.close()
        for log in [*self._old_audits, self._audit]:
            if log is not None:
                log.close()
        self._audit = None
        self._old_audits.clear()
