"""Item models: Qt's invariants (qtmodeltester), streaming inserts, re-deciding, sort keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.models.audit_model import AuditModel
from gui.models.events_model import WatchEventsModel
from gui.models.findings_model import FindingRow, FindingsModel, NearMissModel
from gui.models.results_model import ResultsModel
from gui.models.sort_proxy import SORT_ROLE, SortFilterProxyModel
from gui.services import ScannedFile
from scanner.pipeline.scan import decide_outcomes
from scanner.pipeline.worker import ScanOptions, analyse_file
from scanner.record.events import AuditKind
from scanner.watch.status import WatchEvent

pytestmark = pytest.mark.gui


def scanned(path: Path, keep_near_misses: bool = False, destination: str | None = None) -> ScannedFile:
    """A real scan of ``path`` in this process (trusted test input), as the scan service delivers it."""
    outcomes = analyse_file(path, str(path), ScanOptions(keep_near_misses=keep_near_misses))
    return ScannedFile(path, str(path), outcomes, decide_outcomes(outcomes, None, destination), destination)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    import zipfile

    out = {
        "ssn": tmp_path / "ssn.txt",
        "clean": tmp_path / "clean.txt",
        "zip": tmp_path / "bundle.zip",
        "many": tmp_path / "many.txt",
    }
    out["ssn"].write_text("SSN: 212-67-4431\n", encoding="utf-8")
    out["clean"].write_text("Nothing to see here.\n", encoding="utf-8")
    out["many"].write_text("\n".join(f"SSN: 212-67-{4431 + i}" for i in range(10)), encoding="utf-8")
    with zipfile.ZipFile(out["zip"], "w") as z:
        z.writestr("a/ssn.txt", "SSN: 212-67-4431\n")
        z.writestr("b/clean.txt", "fine\n")
    return out


def test_results_model_invariants_while_streaming(qtmodeltester, files) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel()
    qtmodeltester.check(model, force_py=True)
    for name in ("ssn", "clean", "zip", "many"):
        model.add_file(scanned(files[name]))  # rowsInserted checked by the tester
    assert model.rowCount() == 6  # the archive and its two members
    qtmodeltester.check(model, force_py=True)
    proxy = SortFilterProxyModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)

    # numbers sort as numbers (UserRole), not as text
    proxy.sort(ResultsModel.PHI, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, ResultsModel.FILE).data() == "many.txt"
    assert proxy.index(0, ResultsModel.PHI).data(SORT_ROLE) == 10
    # verdict sorts by severity
    proxy.sort(ResultsModel.VERDICT, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, ResultsModel.VERDICT).data() == "allow"


def test_redecide_changes_verdicts_in_place(qtmodeltester, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "plain.txt"
    doc.write_text("Internal compound code ACM-2291 and CAS 7647-14-5\n", encoding="utf-8")
    model = ResultsModel()
    model.add_file(scanned(doc))
    changed = []
    model.dataChanged.connect(lambda a, b, roles: changed.append((a.row(), b.row())))
    qtmodeltester.check(model, force_py=True)
    calls = []

    def decide(outcomes, destination):  # type: ignore[no-untyped-def]
        calls.append(destination)
        return decide_outcomes(outcomes, None, destination)

    model.redecide(decide, "acme")
    assert calls == ["acme"] and changed == [(0, 0)]
    assert model.row(0).result.destination == "acme"
    qtmodeltester.check(model, force_py=True)


def test_findings_and_near_miss_models(qtmodeltester, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = scanned(files["many"])
    model = FindingsModel()
    model.set_findings([FindingRow(o.path, f) for o in s.outcomes for f in o.findings])
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 10
    assert all("212-67" not in model.index(r, model.VALUE).data() for r in range(10))
    model.set_revealed(True)
    assert model.index(0, model.VALUE).data().startswith("212-67-")
    qtmodeltester.check(model, force_py=True)

    almost = tmp_path / "almost.txt"
    almost.write_text("SSN: 000-12-3456\n", encoding="utf-8")
    near = NearMissModel()
    near.set_near_misses([n for o in scanned(almost, keep_near_misses=True).outcomes for n in o.near_misses])
    qtmodeltester.check(near, force_py=True)
    assert near.rowCount() >= 1


def test_audit_and_events_models(qtmodeltester, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from scanner.record.audit import AuditLog

    with AuditLog(tmp_path / "audit.sqlite", source="gui") as log:
        log.record(AuditKind.SCAN, path="a.txt", verdict="block", findings=[{"pattern": "phi-us-ssn", "count": 2}])
        log.record(AuditKind.OVERRIDE, path="a.txt", verdict="block", who="jd", justification="contract 17")
        log.record(AuditKind.ACTION, path="b.txt", op="release", to="/out/b.txt")
        rows = log.query(newest_first=True)
    model = AuditModel()
    model.set_rows(rows)
    qtmodeltester.check(model, force_py=True)
    details = [model.index(r, AuditModel.DETAIL).data() for r in range(3)]
    assert details == ["release to /out/b.txt", "by jd: contract 17", "phi-us-ssn×2"]

    events = WatchEventsModel()
    now = datetime.now(UTC).isoformat()
    events.set_events(
        [
            WatchEvent(now, "released", "/in/a.txt", "acme", "allow", "released to /out/a.txt"),
            WatchEvent(now, "quarantined", "/in/b.txt", "acme", "block", "SSN"),
        ]
    )
    qtmodeltester.check(events, force_py=True)
    assert events.index(0, WatchEventsModel.FILE).data() == "b.txt"  # newest first
    assert events.index(0, WatchEventsModel.FILE).data(Qt.ItemDataRole.ToolTipRole) == "/in/b.txt"
    events.set_titles({"acme": "Acme Pharma"})
    assert events.index(0, WatchEventsModel.DESTINATION).data() == "Acme Pharma"


def test_models_never_raise_into_qt_for_bad_indexes(files) -> None:  # type: ignore[no-untyped-def]
    model = ResultsModel()
    model.add_file(scanned(files["ssn"]))
    assert model.data(model.index(5, 0)) is None
    assert model.headerData(99, Qt.Orientation.Horizontal) is None
    assert model.rowCount(model.index(0, 0)) == 0
