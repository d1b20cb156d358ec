"""`clearance gui PATH...` starts the app and scans the paths; the screenshot script works."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"


def test_clearance_gui_scans_the_bundled_samples_at_start(qapp, workspace) -> None:  # type: ignore[no-untyped-def]
    from gui.views.main_window import MainWindow
    from scanner.cli.main import main as cli_main

    samples = sorted(p.name for p in SAMPLES.iterdir() if p.is_file())
    seen: dict[str, object] = {}

    def ours() -> MainWindow | None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible() and w.controller.session.config_path == workspace.config:
                return w
        return None

    def check() -> None:
        if "rows" in seen:
            return
        w = ours()
        if w is None or w.controller.scan.busy or w.scan_view.model.rowCount() < len(samples):
            return
        model = w.scan_view.model
        seen["rows"] = {model.row(i).name: model.row(i).result.verdict.value for i in range(model.rowCount())}
        seen["title"] = w.windowTitle()
        QApplication.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(50)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(120_000)
    try:
        code = cli_main(["gui", "--config", str(workspace.config), str(SAMPLES)])
    finally:
        poll.stop()
        give_up.stop()
    assert code == 0
    rows = seen.get("rows")
    assert isinstance(rows, dict), "the app did not show the scanned samples"
    assert sorted(rows) == samples
    assert rows["hr_roster_Q3.xlsx"] == "block" and rows["formulation_sheet_CX-4471.docx"] == "label"
    assert seen["title"] == "Clearance"


def test_screenshot_script_saves_every_main_view(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    saved = mod.capture(tmp_path / "shots", SAMPLES)
    assert [p.name for p in saved] == [f"{v}.png" for v in mod.VIEWS]
    from PySide6.QtGui import QImage

    for p in saved:
        img = QImage(str(p))
        assert not img.isNull() and img.width() >= 900 and img.height() >= 600
