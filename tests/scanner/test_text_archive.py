"""Text/CSV streaming, ZIP recursion and the archive limits (each test fails without its limit)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from scanner.extract.registry import extract_file
from scanner.limits import Limits
from scanner.model import DocProblem, DocStart, Segment
from scanner.pipeline.scan import decide_outcomes
from scanner.pipeline.worker import ScanOptions, analyse_file

SSN_LINE = "Employee SSN: 212-67-4431\n"


def _events(path: Path, limits: Limits | None = None) -> list:
    return list(extract_file(path, limits or Limits()))


def _text(events: list) -> str:
    return "\n".join(e.text for e in events if isinstance(e, Segment))


def _problems(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, DocProblem)]


def test_text_encodings_decode(tmp_path: Path) -> None:
    for enc in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"):
        p = tmp_path / f"{enc}.txt"
        p.write_bytes(f"Patientin Müller, Straße 5 – {SSN_LINE}".encode(enc))
        text = _text(_events(p))
        assert "Müller" in text and "212-67-4431" in text, enc


def test_large_text_is_streamed_in_line_chunks(tmp_path: Path) -> None:
    p = tmp_path / "big.log"
    with p.open("w", encoding="utf-8") as fh:
        for i in range(60_000):
            fh.write(f"{i:08d} INFO batch record step completed ok\n")
        fh.write(SSN_LINE)
    limits = Limits(text_chunk_chars=64 * 1024)
    segs = [e for e in _events(p, limits) if isinstance(e, Segment)]
    assert len(segs) > 10, "a 2.8 MB file must arrive in several chunks, not at once"
    assert all(len(s.text) <= 2 * 64 * 1024 for s in segs)
    assert all(s.text.endswith("\n") for s in segs[:-1]), "chunks are cut at line ends"
    assert segs[-1].location.line == 60_001 or "212-67-4431" in segs[-1].text
    results = decide_outcomes(analyse_file(p, str(p), ScanOptions(limits=limits)))
    f = results[0].outcome.findings
    assert [x.location.line for x in f if x.pattern == "phi-us-ssn"] == [60_001]


def test_csv_header_is_context(tmp_path: Path) -> None:
    p = tmp_path / "roster.csv"
    p.write_text("name;ssn;site\nA. Jones;212-67-4431;Basel\n", encoding="utf-8")
    segs = [e for e in _events(p) if isinstance(e, Segment)]
    assert segs[1].context and "ssn" in segs[1].context
    assert segs[1].location.part == "table" and segs[1].location.line == 2


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_members_are_documents_with_bang_paths(tmp_path: Path) -> None:
    inner = _zip({"deep/c.txt": SSN_LINE.encode()})
    p = tmp_path / "outer.zip"
    p.write_bytes(_zip({"a.txt": b"hello", "b.zip": inner}))
    results = decide_outcomes(analyse_file(p, "outer.zip", ScanOptions()))
    paths = {r.path: r for r in results}
    assert set(paths) == {"outer.zip", "outer.zip!a.txt", "outer.zip!b.zip", "outer.zip!b.zip!deep/c.txt"}
    assert paths["outer.zip!b.zip!deep/c.txt"].verdict.value == "block"
    # the verdict climbs to every container
    assert paths["outer.zip!b.zip"].verdict.value == "block"
    assert paths["outer.zip"].verdict.value == "block"
    assert any("deep/c.txt" in r for r in paths["outer.zip!b.zip"].decision.reasons)
    assert paths["outer.zip!a.txt"].verdict.value == "allow"


def test_limit_depth(tmp_path: Path) -> None:
    data = SSN_LINE.encode()
    name = "core.txt"
    for i in range(8):
        data, name = _zip({name: data}), f"level{i}.zip"
    p = tmp_path / "deep.zip"
    p.write_bytes(data)
    ev = _events(p, Limits(archive_depth=3))
    assert any("nested deeper than 3" in r for r in _problems(ev))
    assert "212-67-4431" not in _text(ev)
    # the same file within a generous limit is read to the core
    assert "212-67-4431" in _text(_events(p, Limits(archive_depth=20)))


def test_limit_member_count(tmp_path: Path) -> None:
    p = tmp_path / "many.zip"
    p.write_bytes(_zip({f"m{i}.txt": b"x" for i in range(30)}))
    assert any("members" in r for r in _problems(_events(p, Limits(archive_members=10))))
    assert not _problems(_events(p, Limits(archive_members=100)))


def test_limit_total_expanded_bytes(tmp_path: Path) -> None:
    p = tmp_path / "fat.zip"
    p.write_bytes(_zip({f"m{i}.txt": os.urandom(300_000).hex().encode() for i in range(4)}))  # 2.4 MB expanded
    assert any("expands to more than" in r for r in _problems(_events(p, Limits(archive_total_bytes=1024 * 1024))))
    assert not _problems(_events(p, Limits(archive_total_bytes=64 * 1024 * 1024)))


def test_limit_member_ratio(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    p.write_bytes(_zip({"aaaa.txt": b"a" * (8 * 1024 * 1024)}))  # ~1000:1
    ev = _events(p, Limits(archive_ratio=100))
    assert any("compression ratio" in r for r in _problems(ev))
    assert not _problems(_events(p, Limits(archive_ratio=100_000)))


def test_limit_member_size(tmp_path: Path) -> None:
    p = tmp_path / "one.zip"
    p.write_bytes(_zip({"big.txt": os.urandom(600_000).hex().encode()}, zipfile.ZIP_STORED))
    assert any("expands beyond" in r for r in _problems(_events(p, Limits(archive_member_bytes=1024 * 1024))))


def _mark_encrypted(data: bytes, name: bytes) -> bytes:
    """Set the 'encrypted' flag of one member in its local header and central directory entry."""
    b = bytearray(data)
    local = b.find(b"PK\x03\x04")
    while local >= 0:
        if b[local + 30 : local + 30 + len(name)] == name:
            b[local + 6] |= 0x1
        local = b.find(b"PK\x03\x04", local + 4)
    central = b.find(b"PK\x01\x02")
    while central >= 0:
        if b[central + 46 : central + 46 + len(name)] == name:
            b[central + 8] |= 0x1
        central = b.find(b"PK\x01\x02", central + 4)
    return bytes(b)


def test_encrypted_member_and_symlink_member(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("secret.txt", b"garbage")
        link = zipfile.ZipInfo("passwd_link")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("ok.txt", SSN_LINE)
    p = tmp_path / "mixed.zip"
    p.write_bytes(_mark_encrypted(buf.getvalue(), b"secret.txt"))
    ev = _events(p)
    assert any("encrypted" in r for r in _problems(ev))
    starts = {e.doc: e.type for e in ev if isinstance(e, DocStart)}
    assert starts["passwd_link"] == "symlink"
    assert "root:" not in _text(ev) and "/etc/passwd" not in _text(ev)
    results = decide_outcomes(analyse_file(p, "mixed.zip", ScanOptions()))
    top = [r for r in results if r.path == "mixed.zip"][0]
    assert top.verdict.value == "block"


def test_traversal_names_are_display_only(tmp_path: Path) -> None:
    p = tmp_path / "up.zip"
    p.write_bytes(
        _zip({"../../escape_probe.txt": SSN_LINE.encode(), "/abs_probe.txt": b"x", "..\\..\\win_probe.txt": b"y"})
    )
    before = set(os.listdir(tmp_path)) | set(os.listdir(tmp_path.parent))
    results = decide_outcomes(analyse_file(p, "up.zip", ScanOptions()))
    after = set(os.listdir(tmp_path)) | set(os.listdir(tmp_path.parent))
    assert before == after
    assert any(r.path.endswith("escape_probe.txt") and r.verdict.value == "block" for r in results)


def test_truncated_zip_is_unscannable(tmp_path: Path) -> None:
    data = _zip({f"m{i}.txt": os.urandom(5000) for i in range(5)})
    p = tmp_path / "cut.zip"
    p.write_bytes(data[: len(data) // 2])
    results = decide_outcomes(analyse_file(p, "cut.zip", ScanOptions()))
    assert results[0].outcome.error and results[0].verdict.value == "block"
