"""The selected file: verdict and reasons, the decide bar, findings with context, near-misses."""

from __future__ import annotations

import html

from PySide6.QtCore import QItemSelection, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.context import Snippet, finding_key
from gui.controller import AppController
from gui.icons import icon, verdict_icon
from gui.models.findings_model import FindingRow, FindingsModel, NearMissModel
from gui.models.results_model import ResultRow
from gui.models.sort_proxy import ROW_ROLE, SortFilterProxyModel
from gui.services import ScannedFile
from scanner.detect.redact import mask
from scanner.model import DocOutcome, Finding, Verdict

MIN_JUSTIFICATION = 10  # characters: "ok" is not a justification an auditor can use


class DetailPanel(QWidget):
    """Everything about one result row. Acts on the row's *file* (an archive for a member)."""

    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.row: ResultRow | None = None
        self._revealed_file: ScannedFile | None = None
        self._near: dict[str, list[DocOutcome]] = {}  # display -> outcomes with near-misses
        self._context_note = ""

        self.title = QLabel("Select a file to see what was found")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.verdict_icon = QLabel()
        self.verdict_text = QLabel()
        self.verdict_text.setTextFormat(Qt.TextFormat.PlainText)
        self.reasons = QLabel()
        self.reasons.setTextFormat(Qt.TextFormat.PlainText)
        self.reasons.setWordWrap(True)
        self.reasons.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        # decide bar
        self.release_button = QPushButton(icon("release"), "&Release")
        self.release_button.setToolTip(
            "Write the labelled copy into the destination's release folder (your original stays where it is)"
        )
        self.quarantine_button = QPushButton(icon("quarantine"), "&Quarantine")
        self.quarantine_button.setToolTip("Move the file into quarantine with a record of why")
        self.override_button = QPushButton(icon("override"), "O&verride…")
        self.override_button.setToolTip(
            "Release a blocked file anyway, with a written justification "
            "(only where the policy allows it; recorded in the audit trail)"
        )
        self.release_button.clicked.connect(self._release)
        self.quarantine_button.clicked.connect(self._quarantine)
        self.override_button.clicked.connect(self._override)

        # findings
        self.findings = FindingsModel(self)
        self.findings_proxy = SortFilterProxyModel(self)
        self.findings_proxy.setSourceModel(self.findings)
        self.findings_view = _table(self.findings_proxy, "Findings in the selected file")
        header = self.findings_view.horizontalHeader()
        for col, width in (
            (FindingsModel.FINDING, 170),
            (FindingsModel.CATEGORY, 70),
            (FindingsModel.SEVERITY, 70),
            (FindingsModel.CONFIDENCE, 80),
            (FindingsModel.LOCATION, 160),
            (FindingsModel.VALUE, 130),
        ):
            header.resizeSection(col, width)
        self.findings_view.selectionModel().selectionChanged.connect(self._on_finding_selected)
        self.reveal_button = QPushButton(icon("reveal"), "Re&veal values…")
        self.reveal_button.setToolTip("Show the raw values instead of masked ones (recorded in the audit trail)")
        self.reveal_button.clicked.connect(self._reveal)
        self.context_view = QTextBrowser()
        self.context_view.setAccessibleName("Text around the selected finding")
        self.context_view.setOpenLinks(False)

        # near-misses
        self.near = NearMissModel(self)
        self.near_proxy = SortFilterProxyModel(self)
        self.near_proxy.setSourceModel(self.near)
        self.near_view = _table(self.near_proxy, "Matches that were not reported, and why")
        self.explain_button = QPushButton(icon("explain"), "&Why not flagged?")
        self.explain_button.setToolTip(
            "Scan this file again and list the matches that were not reported, with the reason for each"
        )
        self.explain_button.clicked.connect(self._explain)
        self.near_status = QLabel(
            "Ask why something was not flagged: the file is scanned again keeping every match that fell short."
        )
        self.near_status.setWordWrap(True)

        self._build_layout()
        controller.revealed.connect(self._on_revealed)
        controller.context.context_ready.connect(self._on_context_ready)
        controller.context.context_failed.connect(self._on_context_failed)
        controller.explain.explained.connect(self._on_explained)
        controller.destination_changed.connect(self.refresh)
        controller.action_finished.connect(self.refresh)
        self.show_row(None)

    def _build_layout(self) -> None:
        head = QHBoxLayout()
        head.addWidget(self.verdict_icon)
        head.addWidget(self.verdict_text, 1)
        decide = QHBoxLayout()
        decide.addWidget(self.release_button)
        decide.addWidget(self.quarantine_button)
        decide.addWidget(self.override_button)
        decide.addStretch(1)

        findings_tab = QWidget()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Values are masked; the text around the selected finding is shown below."), 1)
        bar.addWidget(self.reveal_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.findings_view)
        split.addWidget(self.context_view)
        split.setSizes([300, 140])
        fl = QVBoxLayout(findings_tab)
        fl.addLayout(bar)
        fl.addWidget(split, 1)

        near_tab = QWidget()
        nbar = QHBoxLayout()
        nbar.addWidget(self.near_status, 1)
        nbar.addWidget(self.explain_button)
        nl = QVBoxLayout(near_tab)
        nl.addLayout(nbar)
        nl.addWidget(self.near_view, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(findings_tab, "&Findings")
        self.tabs.addTab(near_tab, "&Not flagged")

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(head)
        layout.addWidget(self.reasons)
        layout.addLayout(decide)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

    # ------------------------------------------------------------------ showing a row
    def show_row(self, row: ResultRow | None) -> None:
        if row is None or self.row is None or row.file is not self.row.file:
            self._revealed_file = None  # a reveal covers one file, once
        self.row = row
        self.refresh()
        if row is not None:
            self._load_findings()
        else:
            self.findings.set_findings([])
            self.near.set_near_misses([])

    @Slot()
    def refresh(self, *_args: object) -> None:
        """Re-read the row's current verdict (the destination may have changed)."""
        row = self.row
        if row is None:
            self.title.setText("Select a file to see what was found")
            for w in (self.verdict_icon, self.verdict_text, self.reasons, self.status):
                w.clear()
            for b in (
                self.release_button,
                self.quarantine_button,
                self.override_button,
                self.reveal_button,
                self.explain_button,
            ):
                b.setEnabled(False)
            self.context_view.clear()
            return
        r = row.result
        self.title.setText(row.name)
        self.title.setToolTip(r.path)
        self.verdict_icon.setPixmap(verdict_icon(r.verdict.value, bool(r.outcome.errors)).pixmap(24, 24))
        dest = self.controller.session.destination(r.destination)
        where = f" for {dest.title}" if dest else " (no destination chosen)"
        label = f" — label {r.decision.label}" if r.decision.label else ""
        self.verdict_text.setText(f"{r.verdict.value.upper()}{where}{label}")
        reasons = list(r.decision.reasons) or ["Nothing sensitive was found."]
        if r.outcome.errors:
            reasons.insert(0, f"Not scanned completely: {r.outcome.error}")
        self.reasons.setText("\n".join(f"• {x}" for x in reasons[:12]))
        top = row.file.results[0]
        c = self.controller
        exists = row.file.path.is_file()
        self.release_button.setEnabled(c.can_release(row.file))
        self.override_button.setEnabled(c.can_override(row.file))
        self.quarantine_button.setEnabled(exists and c.audit is not None)
        self.override_button.setVisible(top.verdict is Verdict.BLOCK)
        notes = []
        if row.is_member:
            notes.append(f"Part of {row.file.path.name}: release, quarantine and override act on the archive.")
        if c.destination is None:
            notes.append("Choose a destination to release.")
        elif top.verdict is Verdict.BLOCK and not top.decision.overridable:
            notes.append("The policy does not allow this file to be released anyway.")
        if row.status:
            notes.append(row.status)
        if not exists and not row.status:
            notes.append("The file is no longer where it was scanned.")
        self.status.setText("\n".join(notes))
        has_findings = any(o.findings for o in row.file.outcomes)
        self.reveal_button.setEnabled(has_findings and self._revealed_file is not row.file)
        self.explain_button.setEnabled(exists)

    def _doc_outcomes(self) -> list[DocOutcome]:
        """The outcomes the row covers: a file with its members, or one member."""
        row = self.row
        if row is None:
            return []
        if row.is_member:
            path = row.result.path
            return [o for o in row.file.outcomes if o.path == path or o.path.startswith(path + "!")]
        return list(row.file.outcomes)

    def _load_findings(self) -> None:
        rows = [FindingRow(o.path, f) for o in self._doc_outcomes() for f in o.findings]
        self.findings.set_findings(rows, revealed=self._revealed_file is (self.row.file if self.row else None))
        if rows:
            self.findings_view.selectRow(0)
        else:
            self.context_view.setPlainText("No findings." if self.row else "")
        self._show_near_misses()

    # ------------------------------------------------------------------ context
    @Slot(QItemSelection, QItemSelection)
    def _on_finding_selected(self, *_args: object) -> None:
        self.render_context()

    def current_finding(self) -> FindingRow | None:
        idx = self.findings_view.currentIndex()
        rows = self.findings_view.selectionModel().selectedRows()
        if rows:
            idx = rows[0]
        if not idx.isValid():
            return None
        rec = idx.data(ROW_ROLE)
        return rec if isinstance(rec, FindingRow) else None

    def render_context(self) -> None:
        fr, row = self.current_finding(), self.row
        if fr is None or row is None:
            self.context_view.clear()
            return
        cache = self.controller.context.cached(row.file.display)
        if cache is None:
            self.context_view.setPlainText("Reading the text around the finding…")
            self.controller.context.request(row.file.path, row.file.display, row.file.outcomes)
            return
        snippet = cache.get(finding_key(fr.doc, fr.finding))
        if snippet is None:
            self.context_view.setPlainText(self._context_note or "The text around this finding is not available.")
            return
        self.context_view.setHtml(render_snippet(snippet, fr.finding, self.findings.revealed))

    @Slot(str, object)
    def _on_context_ready(self, display: str, _snippets: object) -> None:
        if self.row is not None and display == self.row.file.display:
            self.render_context()

    @Slot(str, str)
    def _on_context_failed(self, display: str, reason: str) -> None:
        if self.row is not None and display == self.row.file.display:
            self._context_note = f"The text around this finding is not available: {reason}."
            self.render_context()

    # ------------------------------------------------------------------ reveal
    def _reveal(self) -> None:
        row = self.row
        if row is None:
            return
        found = [(o.path, f) for o in row.file.outcomes for f in o.findings]
        answer = QMessageBox.question(
            self,
            "Reveal values",
            f"Show the {len(found)} raw value(s) found in {row.file.path.name}?\n\n"
            "Your user name, the time and each value's pattern and location are recorded in the audit trail "
            "(the values themselves are not).",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.reveal_button.setEnabled(False)
        if not self.controller.reveal(row.file, found, reason="GUI reveal"):
            QMessageBox.warning(
                self,
                "Reveal values",
                "The values stay masked: the reveal could not be recorded "
                f"in the audit trail ({self.controller.audit_error}).",
            )
            self.refresh()

    @Slot(object)
    def _on_revealed(self, scanned: ScannedFile) -> None:
        if self.row is not None and scanned is self.row.file:
            self._revealed_file = scanned
            self.findings.set_revealed(True)
            self.render_context()
            self.refresh()

    # ------------------------------------------------------------------ near-misses
    def _explain(self) -> None:
        row = self.row
        if row is None:
            return
        self.explain_button.setEnabled(False)
        self.near_status.setText("Scanning again, keeping the matches that were not reported…")
        self.tabs.setCurrentIndex(1)
        self.controller.explain.request(row.file.path, row.file.display)

    @Slot(str, object)
    def _on_explained(self, display: str, outcomes: list[DocOutcome]) -> None:
        self._near[display] = outcomes
        if self.row is not None and self.row.file.display == display:
            self.explain_button.setEnabled(True)
            self._show_near_misses()

    def _show_near_misses(self) -> None:
        row = self.row
        outcomes = self._near.get(row.file.display) if row is not None else None
        if outcomes is None:
            self.near.set_near_misses([])
            if row is not None:
                self.near_status.setText(
                    "Ask why something was not flagged: the file is scanned again keeping every match that fell short."
                )
            return
        wanted = {o.path for o in self._doc_outcomes()}
        near = [n for o in outcomes if o.path in wanted for n in o.near_misses]
        self.near.set_near_misses(near)
        self.near_status.setText(
            f"{len(near)} match(es) were not reported."
            if near
            else "No near-misses: no pattern came close anywhere in this file."
        )

    # ------------------------------------------------------------------ decide
    def _release(self) -> None:
        if self.row is not None:
            self.release_button.setEnabled(False)
            self.controller.release(self.row.file)

    def _quarantine(self) -> None:
        row = self.row
        if row is None:
            return
        answer = QMessageBox.question(
            self,
            "Quarantine",
            f"Move {row.file.path.name} into quarantine?\n\n"
            "It is removed from its folder and kept with a record of why.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.quarantine_button.setEnabled(False)
            self.controller.quarantine(row.file)

    def _override(self) -> None:
        row = self.row
        if row is None or not self.controller.can_override(row.file):
            return
        dest = self.controller.session.destination(self.controller.destination)
        text, ok = QInputDialog.getMultiLineText(
            self,
            "Release anyway",
            f"{row.file.path.name} is blocked for {dest.title if dest else 'this destination'}.\n"
            "Why must it be released anyway? Your justification and name are recorded in the audit trail.",
        )
        if not ok:
            return
        if len(text.strip()) < MIN_JUSTIFICATION:
            QMessageBox.warning(
                self,
                "Release anyway",
                f"Please write a justification of at least {MIN_JUSTIFICATION} characters; nothing was released.",
            )
            return
        self.override_button.setEnabled(False)
        self.controller.override(row.file, text.strip())


def render_snippet(s: Snippet, f: Finding, revealed: bool) -> str:
    """HTML for the text around a finding: the match highlighted, every value masked unless revealed.

    Other findings that fall inside the window are masked too: showing the neighbour of a
    masked SSN in clear text would defeat the masking.
    """
    text = s.before + s.match + s.after
    a, b = len(s.before), len(s.before) + len(s.match)
    spans = [(a, b, True)] + [(x, y, False) for x, y in s.others if y <= a or x >= b]
    bg = theme.hex_(theme.match_background())
    fg = "#ffffff" if theme.is_dark() else "#000000"
    out, pos = [], 0
    for start, end, is_match in sorted(spans):
        if start < pos:
            continue  # overlapping spans: the first one wins
        out.append(html.escape(text[pos:start]))
        if is_match:
            shown = s.match if revealed else f.masked
            out.append(f"<span style='background-color:{bg}; color:{fg}; font-weight:bold'>{html.escape(shown)}</span>")
        else:
            out.append(html.escape(text[start:end] if revealed else mask(text[start:end])))
        pos = end
    out.append(html.escape(text[pos:]))
    return (
        f"<pre style='white-space: pre-wrap'>{''.join(out)}</pre>"
        f"<p>{html.escape(f.name)}: {html.escape(f.explanation.summary())}</p>"
    )


def _table(model: SortFilterProxyModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSortingEnabled(True)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # document order until the user sorts
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setDefaultSectionSize(110)
    return view
