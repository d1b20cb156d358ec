"""GUI test fixtures: a real config in tmp_path, a real worker pool, the real controller.

Nothing is faked below the Qt dialogs: files are written to ``tmp_path``, scanned by the
worker processes, decided by the policy, acted on by ``scanner.act.actions`` and recorded in
a real audit database. Worker start-up compiles the whole pattern set (a few seconds),
so one pool is shared by the session; every config written here yields the same scan
options (same hash key, limits, partner identifiers), which is what makes sharing valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest.importorskip("pytestqt")

from scanner.pipeline.pool import WorkerPool

# Partner identifiers every test config declares (they are part of the workers' options).
CONFIG_TEMPLATE = """\
# Clearance test configuration
schema_version = 1

[scan]
pattern_dirs = [{pattern_dirs}]
jobs = 2

[audit]
database = "data/audit.sqlite"   # relative to this file
hash_key_file = "{hash_key}"

[quarantine]
folder = "Quarantine"

# Partners
[destinations.acme]
folder = "Released/Acme"         # release folder of Acme
display_name = "Acme Pharma"
identifiers = ["PRJ-4711"]

[destinations.borealis]
folder = "Released/Borealis"
display_name = "Borealis Biologics"
identifiers = [{{ value = "BRL-0815", kind = "project code" }}]
"""

ADMIN_SET = """\
# Local patterns for the GUI tests.
# Keep this comment: the workbench must not drop it.
schema_version = 1
name = "local"
description = "Admin patterns"

[[patterns]]
id = "ip-lab-notebook"
name = "Lab notebook reference"
category = "ip"
severity = "medium"
# Notebook ids look like LNB-2024-0042 (year, then a 4-digit page)
regex = '''\\bLNB-\\d{4}-\\d{4}\\b'''
score = 0.7   # strong shape on its own

[patterns.examples]
must_match = ["see LNB-2024-0042 for details"]
must_not_match = ["LNB-24-42"]
"""


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: Path
    files: Path  # where tests write the documents they scan
    acme: Path
    borealis: Path
    quarantine: Path
    admin_patterns: Path


@pytest.fixture(scope="session")
def hash_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scanner.config.settings import load_or_create_key

    path = tmp_path_factory.mktemp("key") / "hash.key"
    load_or_create_key(path)
    return path


def write_workspace(root: Path, hash_key_file: Path) -> Workspace:
    files, acme, borealis = root / "files", root / "Released" / "Acme", root / "Released" / "Borealis"
    admin = root / "patterns-local"
    for d in (files, acme, borealis, admin):
        d.mkdir(parents=True, exist_ok=True)
    (admin / "local.toml").write_text(ADMIN_SET, encoding="utf-8")
    config = root / "clearance.toml"
    config.write_text(
        CONFIG_TEMPLATE.format(pattern_dirs=f'"{admin.as_posix()}"', hash_key=hash_key_file.as_posix()),
        encoding="utf-8",
    )
    return Workspace(root, config, files, acme, borealis, root / "Quarantine", admin)


@pytest.fixture(scope="session")
def shared_pool(tmp_path_factory: pytest.TempPathFactory, hash_key_file: Path) -> Iterator[WorkerPool]:
    """Workers started with the options every test workspace produces."""
    from gui.session import Session, gui_jobs

    ws = write_workspace(tmp_path_factory.mktemp("pool-config"), hash_key_file)
    session = Session.load(ws.config)
    assert session.usable, session.error
    pool = WorkerPool(session.options, jobs=gui_jobs(None))
    yield pool
    pool.close()


def _spawned_children() -> list[object]:
    """Worker processes (multiprocessing spawn children) of this process."""
    import psutil

    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any("spawn_main" in part for part in child.cmdline()):
                out.append(child)
        except psutil.Error:
            continue
    return out


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every thread and worker process a test starts is gone when its controller is closed.

    The session's shared pool is the one exception: its threads exist before the test
    (the pool starts them when it is made) and it keeps at most ``jobs`` workers.
    """
    import threading

    pool = request.getfixturevalue("shared_pool") if "controller" in request.fixturenames else None
    before = {t.ident for t in threading.enumerate()}
    workers_before = len(_spawned_children())
    yield
    import time

    deadline = time.monotonic() + 10
    while True:
        extra = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        workers = _spawned_children()
        allowed = max(workers_before, pool.jobs if pool is not None else 0)
        if (not extra and len(workers) <= allowed) or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # a thread that was told to stop may need a moment to finish
    assert not extra, f"threads left running: {extra}"
    assert len(workers) <= allowed, f"{len(workers)} worker processes left running (expected at most {allowed})"


@pytest.fixture
def workspace(tmp_path: Path, hash_key_file: Path) -> Workspace:
    return write_workspace(tmp_path, hash_key_file)


@pytest.fixture
def controller(qtbot, workspace: Workspace, shared_pool: WorkerPool):  # type: ignore[no-untyped-def]
    from gui.controller import AppController

    c = AppController(workspace.config, pool=shared_pool)
    assert c.session.usable, c.session.error
    yield c
    c.close()


@pytest.fixture
def window(qtbot, controller):  # type: ignore[no-untyped-def]
    from gui.views.main_window import MainWindow

    w = MainWindow(controller)
    qtbot.addWidget(w)
    w.show()
    return w


def _drop_files(target, paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """Deliver a real drop of local files onto ``target`` (what a file manager sends)."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(target.width() / 2, target.height() / 2)
    enter = QDragEnterEvent(
        pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    target.dragEnterEvent(enter)
    assert enter.isAccepted(), "the drop target refused the drag"
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    target.dropEvent(drop)
    assert drop.isAccepted(), "the drop target refused the drop"


@pytest.fixture
def drop_files():  # type: ignore[no-untyped-def]
    """``drop_files(widget, [paths])``: a real drop event carrying local file URLs."""
    return _drop_files


@pytest.fixture
def scan_and_wait(qtbot):  # type: ignore[no-untyped-def]
    """``scan_and_wait(window, [paths])``: drop on the drop zone, wait for the batch, return its summary."""

    def run(window, paths: list[Path], timeout: int = 60_000):  # type: ignore[no-untyped-def]
        with qtbot.waitSignal(window.controller.scan.scan_finished, timeout=timeout) as blocker:
            _drop_files(window.scan_view.drop_zone, paths)
        return blocker.args[0]

    return run
