"""Pattern workbench (admin): browse sets, edit a pattern with live feedback, test on text or files.

Every edit is checked within a moment by the same functions the loader and the CLI
use (``parse_pattern``, ``Matcher.engines``, ``run_examples``), so what the workbench
accepts, ``clearance patterns validate`` accepts. Saving rewrites only what changed in
the TOML file (tomlkit: the admin's comments and order stay) and is audited with the
file's hash. Built-in sets are read-only: "Save as…" writes into an admin folder, where
a pattern with the same id overrides the built-in one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import theme, toml_edit
from gui.controller import AppController
from gui.icons import icon
from gui.services import Reading
from gui.views.drop_zone import local_paths
from scanner.detect import validators
from scanner.detect.compiled import MatchTimeout
from scanner.detect.examples import run_examples
from scanner.detect.match import Matcher
from scanner.detect.patterns import (
    CATEGORIES,
    SEVERITIES,
    Pattern,
    PatternError,
    PatternSet,
    PatternSetError,
    builtin_pattern_dir,
    load_pattern_set,
    parse_pattern,
    parse_set_text,
)
from scanner.model import Location, Segment
from scanner.record.events import AuditKind

TEST_TEXT_LIMIT = 200_000  # characters matched live in the test pane
LIVE_DELAY_MS = 150  # debounce: re-check after the admin pauses typing
WORKBENCH_REGEX_TIMEOUT = 0.25  # a catastrophic regex being typed must not freeze the window
_FLAGS = ("ignorecase", "multiline", "dotall", "verbose")
# What the loader assumes when a key is absent: the form writes a key only if it differs
# from this, or the file already had it (so a save does not litter the file with defaults).
_DEFAULTS: dict[str, Any] = {
    "flags": [],
    "score": 0.5,
    "validator": None,
    "validator_mode": "hard",
    "keywords": [],
    "window": [60, 20],
    "far_window": 300,
    "negative": [],
    "require_context": False,
    "min_score": 0.4,
    "description": "",
}
_ENGINE_WORDS = {
    "vectorscan": "Vectorscan: the text is read once for all patterns (fastest).",
    "vectorscan-prefilter": "Vectorscan prefilter: a superset is found by Vectorscan, then confirmed by regex.",
    "regex": "Regex fallback: Vectorscan cannot compile this pattern, so regex reads every segment (slower).",
}


@dataclass(slots=True)
class SetFile:
    path: Path
    builtin: bool
    text: str
    name: str
    patterns: list[Pattern] = field(default_factory=list)
    errors: list[PatternError] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return toml_edit.sha256_text(self.text)


def read_set_files(builtin_dir: Path, admin_dirs: list[Path]) -> list[SetFile]:
    out: list[SetFile] = []
    for folder, builtin in [(builtin_dir, True)] + [(d, False) for d in admin_dirs]:
        files = sorted(folder.glob("*.toml")) if folder.is_dir() else ([folder] if folder.is_file() else [])
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                out.append(SetFile(f, builtin, "", f.stem, [], [PatternError(str(f), None, None, str(exc))]))
                continue
            pats, errs = parse_set_text(text, str(f))
            try:
                name = str(tomllib.loads(text).get("name", f.stem))
            except tomllib.TOMLDecodeError:
                name = f.stem
            out.append(SetFile(f, builtin, text, name, pats, errs))
    return out


def _mono() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


# One example per line in the form; a line break *inside* an example (a PEM block, a
# FASTA record) is shown as this mark and turned back into "\n" when read.
LINE_BREAK_MARK = "\u23ce"


def _lines(widget: QPlainTextEdit) -> list[str]:
    return [line.replace(LINE_BREAK_MARK, "\n") for line in widget.toPlainText().splitlines() if line.strip()]


def _join_examples(examples: list[str]) -> str:
    return "\n".join(e.replace("\n", LINE_BREAK_MARK) for e in examples)


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def text_for_test_pane(segments: Iterable[tuple[str, Segment]]) -> str:
    """A file's text, each segment under its location, up to about ``TEST_TEXT_LIMIT`` characters.

    Runs in the reader thread: the rest of the file is not read at all.
    """
    parts: list[str] = []
    size = 0
    for _doc, seg in segments:
        if size >= TEST_TEXT_LIMIT:
            break
        label = ", ".join(f"{k} {v}" for k, v in seg.location.to_dict().items())
        parts.append(f"[{label}]\n{seg.text}")
        size += len(parts[-1])
    return "\n\n".join(parts)


class PatternForm(QWidget):
    """The fields of one pattern. ``changed`` fires on any edit; ``values()`` is the form dict."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.id = QLineEdit()
        self.name = QLineEdit()
        self.description = QLineEdit()
        self.category = QComboBox()
        self.category.addItems(list(CATEGORIES))
        self.severity = QComboBox()
        self.severity.addItems(list(SEVERITIES))
        self.regex = QPlainTextEdit()
        self.regex.setFont(_mono())
        self.regex.setTabChangesFocus(True)
        self.regex.setFixedHeight(64)
        self.flags = {f: QCheckBox(f) for f in _FLAGS}
        self.validator = QComboBox()
        self.validator.addItem("(none)", None)
        for name in sorted(validators.REGISTRY):
            self.validator.addItem(name, name)
        self.validator_mode = QComboBox()
        self.validator_mode.addItem("hard: a failed check drops the match", "hard")
        self.validator_mode.addItem("soft: a failed check lowers the score", "soft")
        self.score = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.min_score = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.keywords = QLineEdit()
        self.keywords.setPlaceholderText("comma-separated, e.g. ssn, social security")
        self.window_before = QSpinBox(minimum=0, maximum=1000)
        self.window_after = QSpinBox(minimum=0, maximum=1000)
        self.far_window = QSpinBox(minimum=0, maximum=1000)
        self.negative = QLineEdit()
        self.negative.setPlaceholderText("comma-separated words that lower the score nearby")
        self.require_context = QCheckBox("Report only with a keyword nearby")
        self.must_match = QPlainTextEdit()
        self.must_match.setFont(_mono())
        self.must_match.setTabChangesFocus(True)
        self.must_not_match = QPlainTextEdit()
        self.must_not_match.setFont(_mono())
        self.must_not_match.setTabChangesFocus(True)
        for w in (self.must_match, self.must_not_match):
            w.setFixedHeight(84)
            w.setPlaceholderText(f"one example per line ({LINE_BREAK_MARK} marks a line break inside one)")

        flags_row = QHBoxLayout()
        for cb in self.flags.values():
            flags_row.addWidget(cb)
        flags_row.addStretch(1)
        window_row = QHBoxLayout()
        window_row.addWidget(QLabel("before"))
        window_row.addWidget(self.window_before)
        window_row.addWidget(QLabel("after"))
        window_row.addWidget(self.window_after)
        window_row.addWidget(QLabel("far"))
        window_row.addWidget(self.far_window)
        window_row.addStretch(1)
        score_row = QHBoxLayout()
        score_row.addWidget(self.score)
        score_row.addWidget(QLabel("report from"))
        score_row.addWidget(self.min_score)
        score_row.addStretch(1)
        form = QFormLayout(self)
        for label, widget in (
            ("&Id:", self.id),
            ("&Name:", self.name),
            ("Descr&iption:", self.description),
            ("&Category:", self.category),
            ("Se&verity:", self.severity),
            ("&Regex:", self.regex),
        ):
            form.addRow(label, widget)
        form.addRow("Flags:", flags_row)
        form.addRow("Va&lidator:", self.validator)
        form.addRow("Validator mode:", self.validator_mode)
        score_label = QLabel("Base &score:")
        score_label.setBuddy(self.score)
        form.addRow(score_label, score_row)
        form.addRow("&Keywords:", self.keywords)
        window_label = QLabel("Keyword &window:")
        window_label.setBuddy(self.window_before)
        form.addRow(window_label, window_row)
        form.addRow("Ne&gative words:", self.negative)
        form.addRow("", self.require_context)
        form.addRow("Must &match:", self.must_match)
        form.addRow("Must n&ot match:", self.must_not_match)

        for line in (self.id, self.name, self.description, self.keywords, self.negative):
            line.textChanged.connect(self.changed)
        for text in (self.regex, self.must_match, self.must_not_match):
            text.textChanged.connect(self.changed)
        for combo in (self.category, self.severity, self.validator, self.validator_mode):
            combo.currentIndexChanged.connect(self.changed)
        for number in (self.score, self.min_score):
            number.valueChanged.connect(self.changed)
        for count in (self.window_before, self.window_after, self.far_window):
            count.valueChanged.connect(self.changed)
        for cb in (*self.flags.values(), self.require_context):
            cb.toggled.connect(self.changed)

    def load(self, raw: dict[str, Any]) -> None:
        """Fill the form from a pattern's TOML table (absent keys: the loader's defaults)."""
        blockers = [w.blockSignals(True) for w in self._widgets()]
        try:
            self.id.setText(str(raw.get("id", "")))
            self.name.setText(str(raw.get("name", "")))
            self.description.setText(str(raw.get("description", "")))
            self.category.setCurrentIndex(max(0, self.category.findText(str(raw.get("category", "phi")))))
            self.severity.setCurrentIndex(max(0, self.severity.findText(str(raw.get("severity", "medium")))))
            self.regex.setPlainText(str(raw.get("regex", "")))
            for f, cb in self.flags.items():
                cb.setChecked(f in (raw.get("flags") or []))
            self.validator.setCurrentIndex(max(0, self.validator.findData(raw.get("validator"))))
            self.validator_mode.setCurrentIndex(max(0, self.validator_mode.findData(raw.get("validator_mode", "hard"))))
            self.score.setValue(float(raw.get("score", 0.5)))
            self.min_score.setValue(float(raw.get("min_score", 0.4)))
            self.keywords.setText(", ".join(raw.get("keywords") or []))
            window = raw.get("window") or [60, 20]
            self.window_before.setValue(int(window[0]))
            self.window_after.setValue(int(window[1]))
            self.far_window.setValue(int(raw.get("far_window", 300)))
            self.negative.setText(", ".join(raw.get("negative") or []))
            self.require_context.setChecked(bool(raw.get("require_context", False)))
            ex = raw.get("examples") or {}
            self.must_match.setPlainText(_join_examples(ex.get("must_match") or []))
            self.must_not_match.setPlainText(_join_examples(ex.get("must_not_match") or []))
        finally:
            for w, was in zip(self._widgets(), blockers, strict=True):
                w.blockSignals(was)
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        """Everything the form shows, as the loader's keys."""
        return {
            "id": self.id.text().strip(),
            "name": self.name.text().strip(),
            "description": self.description.text().strip(),
            "category": self.category.currentText(),
            "severity": self.severity.currentText(),
            "regex": self.regex.toPlainText().strip("\n"),
            "flags": [f for f, cb in self.flags.items() if cb.isChecked()],
            "validator": self.validator.currentData(),
            "validator_mode": self.validator_mode.currentData(),
            "score": round(self.score.value(), 2),
            "min_score": round(self.min_score.value(), 2),
            "keywords": _words(self.keywords.text()),
            "window": [self.window_before.value(), self.window_after.value()],
            "far_window": self.far_window.value(),
            "negative": _words(self.negative.text()),
            "require_context": self.require_context.isChecked(),
            "examples": {"must_match": _lines(self.must_match), "must_not_match": _lines(self.must_not_match)},
        }

    def set_read_only(self, ro: bool) -> None:
        for w in (self.id, self.name, self.description, self.keywords, self.negative):
            w.setReadOnly(ro)
        for p in (self.regex, self.must_match, self.must_not_match):
            p.setReadOnly(ro)

    def _widgets(self) -> list[QWidget]:
        return [
            self.id,
            self.name,
            self.description,
            self.category,
            self.severity,
            self.regex,
            *self.flags.values(),
            self.validator,
            self.validator_mode,
            self.score,
            self.min_score,
            self.keywords,
            self.window_before,
            self.window_after,
            self.far_window,
            self.negative,
            self.require_context,
            self.must_match,
            self.must_not_match,
        ]


class TestPane(QPlainTextEdit):
    """Paste text or drop a file here; findings are highlighted in place."""

    file_dropped = Signal(Path)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("Paste text here, or drop a file, to see what the pattern finds.")
        self.setAccessibleName("Test text")
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [p for p in local_paths(event.mimeData()) if p.is_file()]
        if paths:
            event.acceptProposedAction()
            self.file_dropped.emit(paths[0])
        else:
            super().dropEvent(event)


class PatternWorkbench(QWidget):
    evaluated = Signal()  # the live check finished (tests wait on it)

    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.sets: list[SetFile] = []
        self.current_set: SetFile | None = None
        self.current_raw: dict[str, Any] | None = None  # the pattern's table as in the file
        self.current_index = -1
        self.is_new = False
        self.current_pattern: Pattern | None = None
        self.example_failures = 0
        self._all_matcher: tuple[object, Matcher | None, str] = (None, None, "")
        self._compiling: object = None
        self._reading: Reading | None = None  # the test file being read

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Pattern sets"])
        self.tree.setAccessibleName("Pattern sets and patterns")
        self.tree.currentItemChanged.connect(self._on_tree_selection)
        self.new_button = QPushButton(icon("new"), "&New pattern")
        self.new_button.setToolTip("Add a pattern to the selected admin set")
        self.new_button.clicked.connect(self.new_pattern)
        self.new_set_button = QPushButton(icon("add-file"), "New s&et…")
        self.new_set_button.setToolTip("Create an admin pattern-set file")
        self.new_set_button.clicked.connect(self.new_set)

        self.form = PatternForm()
        self.form.changed.connect(self._schedule)
        self.set_label = QLabel()
        self.set_label.setWordWrap(True)
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setTextFormat(Qt.TextFormat.PlainText)
        self.errors.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.engine = QLabel()
        self.engine.setWordWrap(True)
        self.examples = QListWidget()
        self.examples.setAccessibleName("Example results")
        self.examples.setWordWrap(True)
        self.save_button = QPushButton(icon("save"), "&Save")
        self.save_as_button = QPushButton(icon("save"), "Save &as…")
        self.revert_button = QPushButton(icon("revert"), "Re&vert")
        self.save_button.clicked.connect(self.save)
        self.save_as_button.clicked.connect(self.save_as)
        self.revert_button.clicked.connect(self.revert)

        self.test = TestPane()
        self.test.textChanged.connect(self._schedule)
        self.test.file_dropped.connect(self.load_test_file)
        self.all_patterns = QCheckBox("Test with &all loaded patterns")
        self.all_patterns.toggled.connect(self._schedule)
        self.test_results = QListWidget()
        self.test_results.setAccessibleName("Test findings")
        self.test_results.setWordWrap(True)
        self.test_status = QLabel()
        self.test_status.setWordWrap(True)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(LIVE_DELAY_MS)
        self._timer.timeout.connect(self.evaluate)
        self._build_layout()
        controller.session_changed.connect(self._on_session_changed)
        self.reload_sets()

    def _build_layout(self) -> None:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.new_set_button)
        ll.addLayout(row)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        feedback = QGroupBox("Checks (live)")
        fl = QVBoxLayout(feedback)
        fl.addWidget(self.errors)
        fl.addWidget(self.engine)
        fl.addWidget(self.examples, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_as_button)
        buttons.addWidget(self.save_button)
        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.addWidget(self.set_label)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(scroll)
        split.addWidget(feedback)
        split.setSizes([480, 220])
        ml.addWidget(split, 1)
        ml.addLayout(buttons)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(QLabel("Test pane"))
        rl.addWidget(self.all_patterns)
        rsplit = QSplitter(Qt.Orientation.Vertical)
        rsplit.addWidget(self.test)
        rsplit.addWidget(self.test_results)
        rsplit.setSizes([380, 220])
        rl.addWidget(rsplit, 1)
        rl.addWidget(self.test_status)

        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left)
        outer.addWidget(middle)
        outer.addWidget(right)
        outer.setSizes([250, 560, 450])
        QVBoxLayout(self).addWidget(outer)

    # ------------------------------------------------------------------ sets
    @Slot(object)
    def _on_session_changed(self, _session: object) -> None:
        self.reload_sets()

    def reload_sets(self, select: tuple[Path, str | None] | None = None) -> None:
        if select is None and self.current_set is not None:
            select = (self.current_set.path, self.form.id.text().strip() or None)
        self.sets = read_set_files(builtin_pattern_dir(), self.controller.session.admin_pattern_dirs())
        self._all_matcher = (None, None, "")
        self.tree.blockSignals(True)
        self.tree.clear()
        target: QTreeWidgetItem | None = None
        for s in self.sets:
            top = QTreeWidgetItem([f"{s.name} ({s.path.name})" + ("" if not s.errors else " — has errors")])
            top.setIcon(0, icon("lock") if s.builtin else icon("patterns"))
            top.setToolTip(0, f"{s.path}\n" + ("built-in: read-only, use Save as…" if s.builtin else "admin set"))
            top.setData(0, Qt.ItemDataRole.UserRole, (s, None))
            for p in s.patterns:
                child = QTreeWidgetItem([f"{p.id} — {p.name}"])
                child.setData(0, Qt.ItemDataRole.UserRole, (s, p.id))
                top.addChild(child)
                if select is not None and select == (s.path, p.id):
                    target = child
            if select is not None and select == (s.path, None):
                target = top
            self.tree.addTopLevelItem(top)
            top.setExpanded(not s.builtin or len(self.sets) == 1)
        self.tree.blockSignals(False)
        if target is not None:
            self.tree.setCurrentItem(target)
        elif self.tree.topLevelItemCount():
            first = self.tree.topLevelItem(0)
            if first is not None:
                self.tree.setCurrentItem(first.child(0) or first)

    def find_set(self, path: Path) -> SetFile | None:
        return next((s for s in self.sets if s.path == path), None)

    def select_pattern(self, path: Path, pattern_id: str) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            children = [top.child(j) for j in range(top.childCount())] if top is not None else []
            for item in filter(None, children):
                s, pid = item.data(0, Qt.ItemDataRole.UserRole)
                if s.path == path and pid == pattern_id:
                    self.tree.setCurrentItem(item)
                    return True
        return False

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_tree_selection(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        if item is None:
            return
        s, pid = item.data(0, Qt.ItemDataRole.UserRole)
        self.current_set = s
        self.is_new = False
        if pid is None:
            self.current_raw, self.current_index = None, -1
            self.form.setEnabled(False)
            self._update_header()
            self._schedule()
            return
        raws = toml_edit.raw_patterns(s.text)
        self.current_index = next((i for i, r in enumerate(raws) if r.get("id") == pid), -1)
        self.current_raw = raws[self.current_index] if self.current_index >= 0 else None
        self.form.setEnabled(True)
        self.form.set_read_only(s.builtin)
        self.form.load(self.current_raw or {})
        self._update_header()

    def _update_header(self) -> None:
        s = self.current_set
        if s is None:
            self.set_label.clear()
            return
        state = (
            "built-in, read-only: Save as… writes your copy into an admin pattern folder" if s.builtin else "admin set"
        )
        self.set_label.setText(f"{s.name}  ·  {s.path}  ·  {state}")
        self.save_button.setEnabled(not s.builtin and self.current_raw is not None or self.is_new)
        self.save_as_button.setEnabled(self.current_raw is not None or self.is_new)
        self.revert_button.setEnabled(self.current_raw is not None or self.is_new)
        self.new_button.setEnabled(not s.builtin)

    def new_pattern(self) -> None:
        s = self.current_set
        if s is None or s.builtin:
            return
        self.is_new = True
        self.current_raw = {
            "id": f"{s.name}-new-pattern",
            "name": "New pattern",
            "category": "ip",
            "severity": "medium",
            "regex": "",
            "examples": {"must_match": [], "must_not_match": []},
        }
        self.current_index = len(toml_edit.raw_patterns(s.text))
        self.form.setEnabled(True)
        self.form.set_read_only(False)
        self.form.load(self.current_raw)
        self._update_header()
        self.form.id.setFocus()

    def new_set(self) -> None:
        folder = self._admin_folder()
        target, _f = QFileDialog.getSaveFileName(
            self, "New pattern set", str(folder / "local.toml"), "Pattern sets (*.toml)"
        )
        if not target:
            return
        path = Path(target).with_suffix(".toml")
        if path.exists():
            QMessageBox.warning(self, "New pattern set", f"{path} already exists.")
            return
        toml_edit.write_atomic(path, toml_edit.new_set_text(path.stem, "Admin patterns"))
        self._after_write(path, None, "", "create")

    # ------------------------------------------------------------------ live checks
    @Slot()
    def _schedule(self) -> None:
        self._timer.start()

    def form_dict(self) -> dict[str, Any]:
        """The form's values, leaving out defaults the file did not spell out."""
        values = self.form.values()
        original = self.current_raw or {}
        out: dict[str, Any] = {}
        for key, value in values.items():
            if key in _DEFAULTS and key not in original and value == _DEFAULTS[key]:
                out[key] = None
            else:
                out[key] = value
        return out

    def candidate_raw(self) -> dict[str, Any]:
        """The pattern table as it would be saved: the file's keys, overlaid with the form's."""
        raw = dict(self.current_raw or {})
        for key, value in self.form_dict().items():
            if value is None:
                raw.pop(key, None)
            else:
                raw[key] = value
        return raw

    @Slot()
    def evaluate(self) -> None:
        """Compile, run the examples and the test pane; show every problem at once."""
        self.current_pattern = None
        self.examples.clear()
        self.example_failures = 0
        if self.current_set is not None and self.current_raw is not None:
            self._check_pattern()
        else:
            self.errors.setText("Select a pattern to edit it.")
            self.engine.clear()
        self._run_test_pane()
        self.evaluated.emit()

    def _check_pattern(self) -> None:
        s = self.current_set
        assert s is not None
        raw = self.candidate_raw()
        pattern, errors = parse_pattern(raw, str(s.path), s.text.splitlines(), max(self.current_index, 0))
        if not self.is_new or raw.get("id") != (self.current_raw or {}).get("id"):
            taken = {p.id for p in s.patterns} - {str((self.current_raw or {}).get("id")) if not self.is_new else ""}
            if raw.get("id") in taken:
                errors.append(PatternError(str(s.path), raw.get("id"), None, "another pattern in this set has this id"))
        if errors:
            self.errors.setText("\n".join(f"✗ {e.message}" for e in errors))
            self.errors.setStyleSheet(f"color: {theme.hex_(theme.danger())}")
            self.engine.clear()
            return
        assert pattern is not None
        self.current_pattern = pattern
        self.errors.setText("✓ The pattern compiles and every field is valid.")
        self.errors.setStyleSheet(f"color: {theme.hex_(theme.ok())}")
        engine = Matcher(PatternSet((pattern,)), b"workbench", WORKBENCH_REGEX_TIMEOUT).engines().get(pattern.id, "")
        self.engine.setText(_ENGINE_WORDS.get(engine, engine))
        report = run_examples(PatternSet((pattern,)))
        for r in report.results:
            text = f"{r.kind.replace('_', ' ')}: {r.text}" + ("" if r.passed else f" — {r.detail}")
            item = QListWidgetItem(icon("allow" if r.passed else "block"), text)
            item.setData(Qt.ItemDataRole.UserRole, r.passed)
            item.setToolTip(r.detail or ("passes" if r.passed else "fails"))
            self.examples.addItem(item)
        self.example_failures = len(report.failures)

    def example_results(self) -> list[tuple[str, bool]]:
        return [
            (self.examples.item(i).text(), bool(self.examples.item(i).data(Qt.ItemDataRole.UserRole)))
            for i in range(self.examples.count())
        ]

    def _matcher_for_test(self) -> Matcher | None:
        if self.all_patterns.isChecked():
            session = self.controller.session
            cached_for, matcher, _err = self._all_matcher
            if cached_for is not session:
                self._compile_all(session)
                return None
            return matcher
        if self.current_pattern is None:
            return None
        return Matcher(PatternSet((self.current_pattern,)), b"workbench", WORKBENCH_REGEX_TIMEOUT)

    def _compile_all(self, session: Any) -> None:
        """Compile every loaded pattern off the GUI thread (seconds for a full catalogue)."""
        if self._compiling is session:
            return
        self._compiling = session
        self._all_matcher = (None, None, "Compiling every loaded pattern…")

        def build() -> tuple[Matcher | None, str]:
            try:
                pset = load_pattern_set([Path(d) for d in session.options.pattern_dirs])
            except PatternSetError as exc:
                return None, str(exc)
            return Matcher(pset, session.hash_key or b"workbench", WORKBENCH_REGEX_TIMEOUT), ""

        def done(result: tuple[Matcher | None, str]) -> None:
            if self._compiling is session:
                self._compiling = None
                self._all_matcher = (session, *result)
                self.evaluate()

        def failed(exc: BaseException) -> None:
            self._compiling = None
            self._all_matcher = (session, None, f"The pattern sets could not be compiled: {exc}")
            self.evaluate()

        self.controller.compute.run(build, done, failed)

    def _run_test_pane(self) -> None:
        self.test_results.clear()
        self.test.setExtraSelections([])
        text = self.test.toPlainText()
        if not text.strip():
            self.test_status.setText("")
            return
        matcher = self._matcher_for_test()
        if matcher is None:
            self.test_status.setText(self._all_matcher[2] or "Fix the pattern to test it.")
            return
        cut = text[:TEST_TEXT_LIMIT]
        try:
            result = matcher.match_text(cut, Location("body", line=1))
        except MatchTimeout as exc:
            self.test_status.setText(f"✗ {exc}")
            return
        selections = []
        for f in result.findings:
            selections.append(self._selection(f.start, f.end, theme.match_background()))
            item = QListWidgetItem(
                icon("block" if f.severity.rank >= 3 else "label"),
                f"{f.name}: {cut[f.start : f.end]!r} at {f.location.describe()} — {f.explanation.summary()}",
            )
            item.setData(Qt.ItemDataRole.UserRole, ("finding", f.pattern, f.start, f.end))
            self.test_results.addItem(item)
        for n in result.near_misses:
            item = QListWidgetItem(
                icon("pending"),
                f"not flagged: {n.explanation.pattern_name} {n.masked} at "
                f"{n.location.describe()} — {n.explanation.summary()}",
            )
            item.setData(Qt.ItemDataRole.UserRole, ("near", n.pattern, None, None))
            self.test_results.addItem(item)
        self.test.setExtraSelections(selections)
        more = f" (first {TEST_TEXT_LIMIT:,} characters)" if len(text) > TEST_TEXT_LIMIT else ""
        self.test_status.setText(f"{len(result.findings)} finding(s), {len(result.near_misses)} near-miss(es){more}.")

    def _selection(self, start: int, end: int, color: QColor) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.test.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = cursor
        fmt = QTextCharFormat()
        fmt.setBackground(color)
        fmt.setFontWeight(QFont.Weight.Bold)
        sel.format = fmt
        return sel

    def test_findings(self) -> list[tuple[str, str]]:
        out = []
        for i in range(self.test_results.count()):
            kind, pid, _s, _e = self.test_results.item(i).data(Qt.ItemDataRole.UserRole)
            out.append((kind, pid))
        return out

    # ------------------------------------------------------------------ test files
    @Slot(Path)
    def load_test_file(self, path: Path) -> None:
        """Read the file's text with the scanner's extractors (off the GUI thread) into the test pane."""
        if self._reading is not None:
            self._reading.cancel()  # replaced by another file
        self.test_status.setText(f"Reading {path.name}…")
        # The test pane shows the file's text in clear: record that like a reveal.
        shown = str(path)
        self.controller.record(lambda a: a.record(AuditKind.WORKBENCH_TEST_FILE, path=shown))
        reading = self.controller.reader.read(
            path,
            str(path),
            self.controller.session.config.limits,
            text_for_test_pane,
            lambda text, problem: self._on_test_file_read(path, reading, text, problem),
        )
        self._reading = reading

    def _on_test_file_read(self, path: Path, reading: Reading, text: str | None, problem: str) -> None:
        if reading is not self._reading:
            return
        self._reading = None
        self.test.setPlainText(text or "")
        if problem:
            self.test_status.setText(f"{path.name}: {problem}")

    # ------------------------------------------------------------------ save
    def _admin_folder(self) -> Path:
        dirs = self.controller.session.admin_pattern_dirs()
        if dirs:
            return dirs[0]
        cfg = self.controller.session.config_path
        return (cfg.parent if cfg is not None else Path.home()) / "patterns-local"

    def _confirm_examples(self) -> bool:
        if self.example_failures == 0:
            return True
        answer = QMessageBox.question(
            self,
            "Examples fail",
            f"{self.example_failures} example(s) of this pattern fail. `clearance patterns test` will report "
            "them.\n\nSave anyway?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def save(self) -> bool:
        """Write the edited pattern into its (admin) set file, keeping comments and order."""
        self.evaluate()
        s = self.current_set
        if s is None or s.builtin or self.current_raw is None:
            return False
        if self.current_pattern is None:
            QMessageBox.warning(self, "Save pattern", "Fix the problems shown under Checks first.")
            return False
        if not self._confirm_examples():
            return False
        form = self.form_dict()
        try:
            current = s.path.read_text(encoding="utf-8")
            if current != s.text:
                QMessageBox.warning(
                    self,
                    "Save pattern",
                    f"{s.path.name} was changed by someone else since it was "
                    "opened. Revert to load their version, then edit again.",
                )
                return False
            old_id = str(self.current_raw.get("id"))
            new_text = (
                toml_edit.add_pattern(s.text, form) if self.is_new else toml_edit.update_pattern(s.text, old_id, form)
            )
        except (OSError, toml_edit.TomlEditError) as exc:
            QMessageBox.warning(self, "Save pattern", str(exc))
            return False
        if not self._write_checked(s.path, new_text):
            return False
        self._after_write(s.path, form["id"], s.sha256, "add" if self.is_new else "edit")
        return True

    def save_as(self) -> bool:
        """Write the pattern into another (admin) set file: new, or replacing the same id there."""
        self.evaluate()
        s = self.current_set
        if s is None or self.current_pattern is None:
            QMessageBox.warning(self, "Save pattern as", "Fix the problems shown under Checks first.")
            return False
        if not self._confirm_examples():
            return False
        default = self._admin_folder() / f"{s.name}-local.toml"
        target, _f = QFileDialog.getSaveFileName(self, "Save pattern as", str(default), "Pattern sets (*.toml)")
        if not target:
            return False
        path = Path(target)
        if path.suffix != ".toml":
            path = path.with_suffix(".toml")
        builtin = builtin_pattern_dir().resolve()
        if path.resolve().parent == builtin:
            QMessageBox.warning(self, "Save pattern as", "The built-in folder is read-only; choose an admin folder.")
            return False
        form = self.form_dict()
        try:
            base = (
                path.read_text(encoding="utf-8")
                if path.exists()
                else toml_edit.new_set_text(
                    path.stem,
                    f"Local patterns (overrides of {s.name})",
                    note=f"A pattern here with the id of a built-in pattern replaces it (from {s.path.name}).",
                )
            )
            new_text = toml_edit.replace_or_add_pattern(base, form)
        except (OSError, toml_edit.TomlEditError) as exc:
            QMessageBox.warning(self, "Save pattern as", str(exc))
            return False
        old_sha = toml_edit.sha256_text(base) if path.exists() else ""
        if not self._write_checked(path, new_text):
            return False
        self._after_write(path, form["id"], old_sha, "save-as")
        self._offer_pattern_dir(path.parent)
        return True

    def _write_checked(self, path: Path, text: str) -> bool:
        """Validate the whole file as the loader will, then write it atomically."""
        _pats, errors = parse_set_text(text, str(path))
        if errors:
            problems = "\n".join(str(e) for e in errors[:10])
            QMessageBox.warning(self, "Not saved", f"The file would not load:\n{problems}")
            return False
        try:
            toml_edit.write_atomic(path, text)
        except OSError as exc:
            QMessageBox.warning(self, "Not saved", f"Could not write {path}: {exc}")
            return False
        return True

    def _after_write(self, path: Path, pattern_id: str | None, old_sha: str, change: str) -> None:
        text = path.read_text(encoding="utf-8")
        pats, _errs = parse_set_text(text, str(path))
        name = next((s.name for s in self.sets if s.path == path), path.stem)
        sha = toml_edit.sha256_text(text)
        self.controller.record(
            lambda a: a.record_if_changed(
                AuditKind.PATTERN_SET_CHANGE,
                str(path),
                sha,
                name=name,
                patterns=len(pats),
                pattern=pattern_id,
                change=change,
                file_sha256_before=old_sha or None,
            )
        )
        self.is_new = False
        self.current_set = None
        self.controller.reload()  # new workers compile the new set
        self.reload_sets(select=(path, pattern_id))

    def _offer_pattern_dir(self, folder: Path) -> None:
        dirs = [d.resolve() for d in self.controller.session.admin_pattern_dirs()]
        if folder.resolve() in dirs:
            return
        answer = QMessageBox.question(
            self,
            "Use this folder?",
            f"{folder} is not one of the pattern folders in the configuration, so scans do not use it yet.\n\n"
            "Add it to [scan] pattern_dirs in clearance.toml?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            error = self.controller.add_pattern_dir(folder)
            if error:
                QMessageBox.warning(self, "Configuration not changed", error)

    def revert(self) -> None:
        s = self.current_set
        if s is None:
            return
        pid = None if self.is_new else (self.current_raw or {}).get("id")
        self.is_new = False
        self.current_set = None
        self.reload_sets(select=(s.path, pid))
