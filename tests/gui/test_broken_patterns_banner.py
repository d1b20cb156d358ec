"""Issue 16: a pattern set that does not load stops scanning loudly, naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

BROKEN_SET = """\
schema_version = 1
name = "local"

[[patterns]]
id = "local-broken"
name = "Broken"
category = "ip"
severity = "high"
regex = "(unclosed"
"""


def test_a_broken_admin_pattern_set_shows_a_blocking_banner_and_scans_nothing(  # type: ignore[no-untyped-def]
    qtbot, workspace, shared_pool
) -> None:
    from gui.controller import AppController
    from gui.views.main_window import MainWindow

    admin_set = workspace.admin_patterns / "local.toml"
    working = admin_set.read_text(encoding="utf-8")
    admin_set.write_text(BROKEN_SET, encoding="utf-8")
    controller = AppController(workspace.config, pool=shared_pool)
    try:
        window = MainWindow(controller)
        qtbot.addWidget(window)
        window.show()
        assert not controller.session.usable
        assert window.banner.isVisible()
        text = window.banner.text()
        assert "local.toml:9 [local-broken]: regex does not compile" in text  # file, line, pattern, why
        assert window.banner.accessibleName() == "Scanning stopped"
        sample = Path(workspace.root) / "note.txt"
        sample.write_text("Employee SSN: 212-67-4431\n", encoding="utf-8")
        assert controller.scan.scan([sample]) is False, "no scan may run on a partial pattern set"
        # Fixed on disk and reloaded: the banner goes away and scanning is back.
        admin_set.write_text(working, encoding="utf-8")
        controller.reload()
        assert controller.session.usable, controller.session.error
        qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=5000)
    finally:
        controller.close()
