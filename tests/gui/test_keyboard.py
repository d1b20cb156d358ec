"""Keyboard access: tab shortcuts, mnemonics, find, escape to cancel; sensible default size."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


@pytest.fixture
def active(qtbot, window):  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    return window


def test_ctrl_number_switches_views(qtbot, active) -> None:  # type: ignore[no-untyped-def]
    for n, expected in (
        (3, active.PATTERNS),
        (4, active.AUDIT),
        (5, active.SETTINGS),
        (2, active.WATCHER),
        (1, active.SCAN),
    ):
        qtbot.keyClick(active, Qt.Key(Qt.Key.Key_0 + n), Qt.KeyboardModifier.ControlModifier)
        assert active.tabs.currentIndex() == expected


def test_find_focuses_the_filter_and_escape_cancels(qtbot, active, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = active.scan_view
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.filter.hasFocus()
    cancelled = []
    monkeypatch.setattr(active.controller.scan, "cancel", lambda: cancelled.append(True))
    qtbot.keyClick(view.filter, Qt.Key.Key_Escape)
    assert cancelled == [True]


def test_buttons_have_mnemonics_and_views_have_accessible_names(window) -> None:  # type: ignore[no-untyped-def]
    d = window.scan_view.detail
    for button in (
        d.release_button,
        d.quarantine_button,
        d.override_button,
        d.reveal_button,
        d.explain_button,
        window.scan_view.drop_zone.add_files,
        window.scan_view.drop_zone.add_folder,
    ):
        assert "&" in button.text(), button.text()
    for widget in (
        window.scan_view.table,
        window.scan_view.destination,
        d.findings_view,
        d.context_view,
        window.audit_view.table,
        window.watcher_view.events,
        window.pattern_view.test,
    ):
        assert widget.accessibleName()


def test_default_size_fits_a_laptop_screen(window) -> None:  # type: ignore[no-untyped-def]
    assert 1200 <= window.width() <= 1366 and 760 <= window.height() <= 860
    assert window.minimumWidth() <= 1024 and window.minimumHeight() <= 640
    assert not window.windowIcon().isNull()


def test_colours_follow_the_os_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QPalette

    from gui import theme

    old = qapp.palette()
    try:
        for base, dark in (("#1e1e1e", True), ("#ffffff", False)):
            palette = QPalette(old)
            palette.setColor(QPalette.ColorRole.Base, QColor(base))
            qapp.setPalette(palette)
            assert theme.is_dark() is dark
            # the highlight behind a finding contrasts with the text colour of that scheme
            assert (theme.match_background().lightness() < 128) is dark
            assert (theme.danger().lightness() > 128) is dark
    finally:
        qapp.setPalette(old)


def test_every_icon_renders_sharp_at_high_dpi(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSize

    from gui.icons import icon, icon_dir

    names = sorted(p.stem for p in icon_dir().glob("*.svg"))
    assert {"app", "tray", "allow", "label", "block", "error", "release", "quarantine", "override", "reveal"} <= set(
        names
    )
    for name in names:
        pm = icon(name).pixmap(QSize(32, 32), 3.0)  # a 300 % display
        assert not pm.isNull(), name
        assert pm.width() == 96 and pm.height() == 96, (name, pm.size())
        img = pm.toImage()
        assert any(img.pixelColor(x, y).alpha() > 0 for x in range(0, 96, 4) for y in range(0, 96, 4)), name
