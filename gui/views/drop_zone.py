"""The drop target of the scan window: files and folders from the desktop or a file manager."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.icons import icon


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders in a drag (remote URLs and plain text are ignored)."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class DropZone(QFrame):
    """A framed area that accepts dropped files/folders and offers "Add files…"/"Add folder…"."""

    paths_dropped = Signal(list)  # list[Path]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setAccessibleName("Drop zone: drop files or folders here to scan them")
        self.label = QLabel("Drop files or folders here to scan them — nothing leaves your computer.")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.add_files = QPushButton(icon("add-file"), "Add &files…")
        self.add_folder = QPushButton(icon("add-folder"), "Add fol&der…")
        self.add_files.clicked.connect(self._choose_files)
        self.add_folder.clicked.connect(self._choose_folder)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_files)
        buttons.addWidget(self.add_folder)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        self._set_hover(False)

    def _set_hover(self, on: bool) -> None:
        self.setProperty("dropHover", on)
        self.setLineWidth(2 if on else 1)
        self.label.setText(
            "Release to scan" if on else "Drop files or folders here to scan them — nothing leaves your computer."
        )

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
            self._set_hover(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: object) -> None:
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hover(False)
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.paths_dropped.emit(paths)

    # ------------------------------------------------------------------ pickers
    def _choose_files(self) -> None:
        files, _filter = QFileDialog.getOpenFileNames(self, "Add files to scan")
        if files:
            self.paths_dropped.emit([Path(f) for f in files])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to scan")
        if folder:
            self.paths_dropped.emit([Path(folder)])
