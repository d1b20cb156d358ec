#!/usr/bin/env python3
"""Save a screenshot of each main view of the desktop app, for the README.

    python scripts/screenshots.py                 # -> docs/screenshots/*.png
    python scripts/screenshots.py --out /tmp/shots

Runs offscreen (no display needed): a demo workspace is built in a temporary folder
(two partners, a watched folder, an admin pattern set), the bundled samples in
``resources/samples`` are scanned for real, and each view is grabbed with
``QWidget.grab()``. Nothing outside the temporary folder and the output folder is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DEMO_CONFIG = """\
# Demo configuration for the README screenshots
schema_version = 1

[audit]
database = "data/audit.sqlite"
hash_key_file = "data/hash.key"

[quarantine]
folder = "Quarantine"

[scan]
pattern_dirs = ["patterns-local"]

[destinations.acme]
folder = "Released/Acme"
display_name = "Acme Pharma"
identifiers = ["PRJ-4711", { value = "CX-4471", kind = "compound code" }]

[destinations.borealis]
folder = "Released/Borealis"
display_name = "Borealis Biologics"
identifiers = [{ value = "BRL-0815", kind = "project code" }]

[watch]
stable_seconds = 0.5
poll_interval = 0.2

[[watch.folders]]
path = "Outgoing/Acme"
destination = "acme"
"""

DEMO_PATTERNS = """\
# Site patterns (demo)
schema_version = 1
name = "site"
description = "Patterns specific to this site"

[[patterns]]
id = "ip-lab-notebook"
name = "Lab notebook reference"
category = "ip"
severity = "medium"
regex = '''\\bLNB-\\d{4}-\\d{4}\\b'''
score = 0.7
keywords = ["notebook"]

[patterns.examples]
must_match = ["see notebook LNB-2024-0042"]
must_not_match = ["LNB-24-42"]
"""

VIEWS = ("scan", "watcher", "patterns", "audit", "settings")


def _wait(app: object, done: Callable[[], bool], timeout: float = 120.0) -> None:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def build_workspace(root: Path) -> Path:
    for d in ("Released/Acme", "Released/Borealis", "Outgoing/Acme", "patterns-local"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "patterns-local" / "site.toml").write_text(DEMO_PATTERNS, encoding="utf-8")
    config = root / "clearance.toml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    return config


def capture(out: Path, samples: Path = ROOT / "resources" / "samples") -> list[Path]:
    """Scan the samples in a demo workspace and save one PNG per main view; returns the paths."""
    from PySide6.QtWidgets import QApplication

    from gui.controller import AppController
    from gui.views.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="clearance-shots-") as tmp:
        config = build_workspace(Path(tmp))
        controller = AppController(config)
        window = MainWindow(controller)
        window.show()
        try:

            def shot(name: str) -> None:
                QApplication.processEvents()
                path = out / f"{name}.png"
                if not window.grab().save(str(path)):
                    raise OSError(f"could not write {path}")
                saved.append(path)

            # Scan: the samples, for Acme, with the blocked HR roster selected
            finished: list[object] = []
            controller.scan.scan_finished.connect(finished.append)
            controller.scan.scan([samples])
            _wait(app, lambda: bool(finished))
            view = window.scan_view
            view.destination.setCurrentIndex(view.destination.findData("acme"))
            rows = view.model.rows()
            blocked = next(
                (r for r in rows if r.result.verdict.value == "block" and r.result.outcome.findings), rows[0]
            )
            view.select_path(blocked.result.path)
            _wait(app, lambda: "Reading" not in view.detail.context_view.toPlainText(), timeout=60)
            shot("scan")

            # Watcher: running in the app, two files dropped into the watched folder
            outgoing = Path(tmp) / "Outgoing" / "Acme"
            window.select_tab(window.WATCHER)
            controller.watcher.start()
            _wait(app, lambda: controller.watcher.running, timeout=60)
            (outgoing / "meeting-notes.txt").write_text("Agenda for the PRJ-4711 steering meeting.\n", encoding="utf-8")
            (outgoing / "payroll.txt").write_text("Payroll correction, employee SSN 212-67-4431\n", encoding="utf-8")
            _wait(app, lambda: sum(e.kind in ("released", "quarantined") for e in controller.watcher.events()) >= 2)
            shot("watcher")
            controller.watcher.stop()
            _wait(app, lambda: controller.watcher.state == "stopped", timeout=60)

            # Patterns: the site pattern in the form, a test text highlighted
            window.select_tab(window.PATTERNS)
            bench = window.pattern_view
            bench.select_pattern(Path(tmp) / "patterns-local" / "site.toml", "ip-lab-notebook")
            bench.test.setPlainText(
                "Results are in notebook LNB-2024-0042 (pages 12-14).\n"
                "The old reference LNB-24-42 is not a notebook id."
            )
            bench.evaluate()
            shot("patterns")

            # Audit: everything the scans, the watcher and the reveal-free session recorded
            window.select_tab(window.AUDIT)
            queried: list[int] = []
            window.audit_view.queried.connect(queried.append)
            window.audit_view.refresh()
            _wait(app, lambda: bool(queried))
            shot("audit")

            window.select_tab(window.SETTINGS)
            shot("settings")
        finally:
            window.close()
            controller.close()
            window.deleteLater()
            QApplication.processEvents()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--samples", type=Path, default=ROOT / "resources" / "samples")
    args = parser.parse_args(argv)
    for path in capture(args.out, args.samples):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
