"""Sensitivity labels: written into real DOCX/XLSX/PPTX/PDF files, re-read by their own libraries.

Fixtures are built in code into ``tmp_path``; the corpus tests read the shared corpus
(read-only) and write labelled copies only to ``tmp_path``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import stat
import sys
import uuid
import warnings
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from scanner.act.label_common import LabelError, LabelUnsupported
from scanner.act.labelling import apply_label, read_label
from scanner.cli.label import register
from scanner.labels.existing import ExistingLabel
from scanner.labels.scheme import DEFAULT_NAMESPACE, LabelDef, LabelScheme, load_scheme
from scanner.limits import Limits

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
SCHEME = LabelScheme.default()
CONFIDENTIAL = SCHEME.get("Confidential")
RESTRICTED = SCHEME.get("Restricted")
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
# Parts that labelling may change (only when needed); everything else must be identical.
PROPERTY_PARTS = {"docProps/custom.xml", "[Content_Types].xml", "_rels/.rels"}
LABELINFO = "docMetadata/LabelInfo.xml"


@pytest.fixture(autouse=True)
def _own_config_and_data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``clearance label`` reads the default config and writes the default audit trail: keep both here."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


# --------------------------------------------------------------------------- fixtures


def make_docx(path: Path, *, header: bool = True) -> Path:
    import docx

    doc = docx.Document()
    doc.core_properties.title = "Batch record LOT-2291"
    doc.core_properties.author = "QA"
    doc.add_heading("Batch manufacturing record", 1)
    doc.add_paragraph("Product: Compound AX-17, 50 mg tablets.")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Step"
    table.cell(0, 1).text = "Granulation"
    if header:
        doc.sections[0].header.paragraphs[0].text = "Acme Pharma Contract Manufacturing"
    doc.save(path)
    return path


def _png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def make_xlsx(path: Path, *, chart: bool = True, image: bool = True, custom: dict[str, str] | None = None) -> Path:
    import openpyxl
    from openpyxl.chart import BarChart, Reference
    from openpyxl.drawing.image import Image as XLImage
    from openpyxl.packaging.custom import StringProperty

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Yield"
    ws.append(["Batch", "Yield %"])
    for i in range(1, 8):
        ws.append([f"LOT-{i:03d}", 90 + i])
    if chart:
        bar = BarChart()
        bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=8), titles_from_data=True)
        ws.add_chart(bar, "D2")
    if image:
        ws.add_image(XLImage(io.BytesIO(_png_bytes())), "D20")
    for name, value in (custom or {}).items():
        wb.custom_doc_props.append(StringProperty(name=name, value=value))
    wb.save(path)
    return path


def make_xlsm(path: Path) -> Path:
    """A macro-enabled workbook: an xlsx turned into an xlsm with a VBA project part."""
    plain = make_xlsx(path.with_suffix(".tmp.xlsx"), chart=False, image=False)
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 40  # OLE magic + payload
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                data = data.replace(
                    b"<Default ",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ',
                    1,
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVBA" Type="http://schemas.'
                    b'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                    b"</Relationships>",
                )
            zout.writestr(info, data)
        stored = zipfile.ZipInfo("xl/vbaProject.bin", date_time=(2024, 5, 6, 7, 8, 10))
        stored.compress_type = zipfile.ZIP_STORED
        zout.writestr(stored, vba)
    plain.unlink()
    return path


def make_pptx(path: Path, *, strict: bool = False) -> Path:
    """A minimal but well-formed PresentationML package (python-pptx is not a dependency)."""
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    rels = (
        "http://purl.oclc.org/ooxml/officeDocument/relationships/"
        if strict
        else "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'presentationml.presentation.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rels}officeDocument" Target="ppt/presentation.xml"/>'
            "</Relationships>"
        ),
        "ppt/presentation.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:presentation xmlns:p="{p}">'
            '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def make_pdf(path: Path, pages: int = 3) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for i in range(pages):
        c.drawString(72, 720, f"Certificate of analysis, page {i + 1}")
        c.drawString(72, 700, f"Batch LOT-{i + 1:04d} assay 99.{i}%")
        c.showPage()
    c.save()
    return path


# --------------------------------------------------------------------------- helpers


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def custom_props(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("docProps/custom.xml"))
    return {p.get("name"): "".join(p.itertext()) for p in root}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_others_identical(before: Path, after: Path, allowed: set[str] = PROPERTY_PARTS) -> list[str]:
    """Every member not in ``allowed`` is decompressed-byte-identical, in the same order; returns changed names."""
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        old = a.infolist()
        new = {i.filename: i for i in b.infolist()}
        assert [i.filename for i in b.infolist()][: len(old)] == [i.filename for i in old], "member order changed"
        changed = []
        for info in old:
            twin = new[info.filename]
            assert (twin.date_time, twin.external_attr, twin.compress_type, twin.comment) == (
                info.date_time,
                info.external_attr,
                info.compress_type,
                info.comment,
            ), info.filename
            if a.read(info) != b.read(twin):
                assert info.filename in allowed, f"{info.filename} changed"
                changed.append(info.filename)
        assert b.comment == a.comment
    return changed


def assert_msip_well_formed(props: dict[str, str], label: LabelDef, scheme: LabelScheme = SCHEME) -> None:
    prefix = f"MSIP_Label_{label.guid}_"
    assert GUID_RE.match(label.guid)
    assert props[prefix + "Enabled"] == "true"
    assert ISO_RE.match(props[prefix + "SetDate"])
    datetime.strptime(props[prefix + "SetDate"], "%Y-%m-%dT%H:%M:%SZ")
    assert props[prefix + "Method"] in ("Standard", "Privileged")
    assert props[prefix + "Name"] == label.name
    assert props[prefix + "SiteId"] == scheme.site_id and GUID_RE.match(scheme.site_id)
    assert uuid.UUID(props[prefix + "ActionId"]).version == 4
    assert props[prefix + "ContentBits"].isdigit()
    assert props["Clearance_Label"] == label.name
    assert props["Clearance_LabelledAt"] == props[prefix + "SetDate"]
    assert props["Clearance_Version"]
    # Exactly one label's MSIP keys.
    guids = {m.group(1) for k in props if (m := re.match(r"MSIP_Label_([0-9a-f-]{36})_", k))}
    assert guids == {label.guid}


def pdf_page_texts(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def no_temp_files(folder: Path) -> bool:
    return not any(p.name.startswith(".clearance-") for p in folder.iterdir())


# --------------------------------------------------------------------------- scheme


def test_default_scheme_is_ordered_and_documented() -> None:
    assert SCHEME.names == ("Public", "Internal", "Confidential", "Restricted")
    assert SCHEME.method == "Standard"
    # The documented derivation of the built-in GUIDs.
    assert DEFAULT_NAMESPACE == uuid.uuid5(uuid.NAMESPACE_URL, "https://clearance.invalid/labels/")
    assert SCHEME.site_id == str(uuid.uuid5(DEFAULT_NAMESPACE, "site"))
    for level in SCHEME.levels:
        assert level.guid == str(uuid.uuid5(DEFAULT_NAMESPACE, level.name))
    assert [SCHEME.rank(n) for n in SCHEME.names] == [0, 1, 2, 3]
    assert SCHEME.get("confidential") is CONFIDENTIAL
    assert SCHEME.find(guid="{" + RESTRICTED.guid.upper() + "}") is RESTRICTED
    with pytest.raises(KeyError, match="choose from: Public, Internal, Confidential, Restricted"):
        SCHEME.get("Secret")


def test_scheme_from_mapping_round_trips_and_normalises() -> None:
    table = {
        "site_id": "{0A1B2C3D-0000-4000-8000-00000000AAAA}",
        "method": "Privileged",
        "levels": [
            {"name": "General", "guid": "11111111-1111-4111-8111-111111111111"},
            {
                "name": "Highly Confidential",
                "guid": "{22222222-2222-4222-8222-222222222222}",
                "content_bits": 3,
                "visible_marking": "HIGHLY CONFIDENTIAL",
            },
        ],
    }
    scheme = LabelScheme.from_mapping(table)
    assert scheme.site_id == "0a1b2c3d-0000-4000-8000-00000000aaaa"
    assert scheme.names == ("General", "Highly Confidential")
    assert scheme.levels[1].guid == "22222222-2222-4222-8222-222222222222"
    assert scheme.levels[1].content_bits == 3
    assert LabelScheme.from_mapping(scheme.to_mapping()) == scheme
    # Omitted keys keep the defaults.
    assert LabelScheme.from_mapping({}) == SCHEME
    assert LabelScheme.from_mapping({"site_id": table["site_id"]}).levels == SCHEME.levels


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"colour": "red"}, r"^labels\.colour: unknown key"),
        ({"site_id": "not-a-guid"}, r"^labels\.site_id: not a GUID"),
        ({"method": "Manual"}, r"^labels\.method: expected one of Standard, Privileged"),
        ({"levels": []}, r"^labels\.levels: expected a non-empty list"),
        ({"levels": [{"name": "A"}]}, r"^labels\.levels\[0\]\.guid: missing"),
        ({"levels": [{"name": "A", "guid": "xyz"}]}, r"^labels\.levels\[0\]\.guid: not a GUID"),
        (
            {"levels": [{"name": "A", "guid": "11111111-1111-4111-8111-111111111111", "tint": 1}]},
            r"^labels\.levels\[0\]\.tint: unknown key",
        ),
        (
            {
                "levels": [
                    {"name": "A", "guid": "11111111-1111-4111-8111-111111111111"},
                    {"name": "a", "guid": "21111111-1111-4111-8111-111111111111"},
                ]
            },
            r"^labels\.levels\[1\]\.name: duplicate of labels\.levels\[0\]",
        ),
        (
            {
                "levels": [
                    {"name": "A", "guid": "11111111-1111-4111-8111-111111111111"},
                    {"name": "B", "guid": "{11111111-1111-4111-8111-111111111111}"},
                ]
            },
            r"^labels\.levels\[1\]\.guid: duplicate",
        ),
        (
            {"levels": [{"name": "A", "guid": "11111111-1111-4111-8111-111111111111", "content_bits": 99}]},
            r"^labels\.levels\[0\]\.content_bits: expected an integer 0\.\.15",
        ),
        (
            {"levels": [{"name": "A\x07", "guid": "11111111-1111-4111-8111-111111111111"}]},
            r"^labels\.levels\[0\]\.name: contains control",
        ),
        (
            {"levels": [{"name": "A", "guid": "11111111-1111-4111-8111-111111111111", "visible_marking": 5}]},
            r"^labels\.levels\[0\]\.visible_marking: expected a string",
        ),
        ({"levels": "Public"}, r"^labels\.levels: expected a non-empty list"),
    ],
)
def test_scheme_errors_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelScheme.from_mapping(table)


def test_load_scheme_reads_the_labels_table(tmp_path: Path) -> None:
    cfg = tmp_path / "clearance.toml"
    cfg.write_text(
        '[limits]\ntimeout_s = 30\n\n[labels]\nsite_id = "0a1b2c3d-0000-4000-8000-00000000aaaa"\n'
        '[[labels.levels]]\nname = "Open"\nguid = "11111111-1111-4111-8111-111111111111"\n',
        "utf-8",
    )
    scheme = load_scheme(cfg)
    assert scheme.names == ("Open",)
    assert load_scheme(None) == SCHEME
    (tmp_path / "none.toml").write_text("[limits]\n", "utf-8")
    assert load_scheme(tmp_path / "none.toml") == SCHEME
    (tmp_path / "bad.toml").write_text('[labels]\nmethod = "Often"\n', "utf-8")
    with pytest.raises(ValueError, match=r"bad\.toml: labels\.method"):
        load_scheme(tmp_path / "bad.toml")
    (tmp_path / "broken.toml").write_text("[labels\n", "utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_scheme(tmp_path / "broken.toml")


# --------------------------------------------------------------------------- OOXML


def test_docx_label_written_in_msip_layout_and_nothing_else_changes(tmp_path: Path) -> None:
    import docx

    src = make_docx(tmp_path / "record.docx")
    before = sha(src)
    dest = tmp_path / "out" / "record.docx"
    dest.parent.mkdir()
    result = apply_label(src, dest, CONFIDENTIAL, SCHEME)

    assert sha(src) == before, "source must never be modified"
    assert result.kind == "docx" and result.how == "custom-properties" and result.previous is None
    assert result.sha256 == sha(dest)
    props = custom_props(dest)
    assert_msip_well_formed(props, CONFIDENTIAL)
    assert props[f"MSIP_Label_{CONFIDENTIAL.guid}_ContentBits"] == "0"
    assert props[f"MSIP_Label_{CONFIDENTIAL.guid}_ActionId"] == result.action_id

    with zipfile.ZipFile(dest) as zf:
        root = etree.fromstring(zf.read("docProps/custom.xml"))
        ctypes = zf.read("[Content_Types].xml")
        rels = zf.read("_rels/.rels")
    assert root.tag == f"{{{CUSTOM_NS}}}Properties"
    pids = [int(p.get("pid")) for p in root]
    assert pids == list(range(2, 2 + len(pids)))
    for prop in root:
        assert prop.get("fmtid") == FMTID
        assert len(prop) == 1 and prop[0].tag == f"{{{VT_NS}}}lpwstr"
    assert b'PartName="/docProps/custom.xml"' in ctypes
    assert b"application/vnd.openxmlformats-officedocument.custom-properties+xml" in ctypes
    assert b"relationships/custom-properties" in rels and b'Target="docProps/custom.xml"' in rels

    changed = assert_others_identical(src, dest)
    assert set(changed) == {"[Content_Types].xml", "_rels/.rels"}  # custom.xml is new
    reopened = docx.Document(str(dest))
    assert reopened.core_properties.title == "Batch record LOT-2291"
    assert reopened.paragraphs[1].text == "Product: Compound AX-17, 50 mg tablets."
    found = read_label(dest)
    assert found == ExistingLabel(
        "Confidential", CONFIDENTIAL.guid, "clearance", result.set_date, "Standard", SCHEME.site_id
    )
    assert found.to_dict()["source"] == "clearance"
    assert no_temp_files(dest.parent)


def test_xlsx_with_chart_image_and_custom_properties(tmp_path: Path) -> None:
    import openpyxl

    src = make_xlsx(tmp_path / "yield.xlsx", custom={"Project": "Atlas", "Owner": "QA"})
    names = set(members(src))
    assert any(n.startswith("xl/charts/chart") for n in names) and any(n.startswith("xl/media/") for n in names)
    dest = tmp_path / "yield-labelled.xlsx"
    apply_label(src, dest, RESTRICTED, SCHEME)

    # custom.xml existed already; the LabelInfo part is new (with its relationship and content type).
    changed = assert_others_identical(src, dest)
    assert set(changed) == PROPERTY_PARTS
    assert LABELINFO in members(dest) and LABELINFO not in members(src)
    props = custom_props(dest)
    assert_msip_well_formed(props, RESTRICTED)
    assert props["Project"] == "Atlas" and props["Owner"] == "QA"

    wb = openpyxl.load_workbook(dest)
    read = {p.name: p.value for p in wb.custom_doc_props.props}
    assert read["Project"] == "Atlas"
    assert read[f"MSIP_Label_{RESTRICTED.guid}_Name"] == "Restricted"
    assert read[f"MSIP_Label_{RESTRICTED.guid}_Enabled"] == "true"
    assert wb["Yield"]["B8"].value == 97
    assert len(wb["Yield"]._charts) == 1 and len(wb["Yield"]._images) == 1
    wb.close()
    assert read_label(dest).name == "Restricted"


def test_macro_enabled_package_keeps_vba_project(tmp_path: Path) -> None:
    import openpyxl

    src = make_xlsm(tmp_path / "calc.xlsm")
    dest = tmp_path / "calc-labelled.xlsm"
    result = apply_label(src, dest, CONFIDENTIAL, SCHEME)
    assert result.kind == "xlsx"
    assert_others_identical(src, dest)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dest) as b:
        assert b.read("xl/vbaProject.bin") == a.read("xl/vbaProject.bin")
        assert b.getinfo("xl/vbaProject.bin").compress_type == zipfile.ZIP_STORED
        assert b"macroEnabled.main+xml" in b.read("[Content_Types].xml")
        assert b'Extension="bin"' in b.read("[Content_Types].xml")
    wb = openpyxl.load_workbook(dest, keep_vba=True)
    assert wb.vba_archive is not None and "xl/vbaProject.bin" in wb.vba_archive.namelist()
    wb.vba_archive.close()  # openpyxl keeps the VBA parts in an in-memory zip it never closes
    wb.close()
    assert read_label(dest).guid == CONFIDENTIAL.guid


def test_pptx_package_is_labelled(tmp_path: Path) -> None:
    src = make_pptx(tmp_path / "deck.pptx")
    dest = tmp_path / "deck-labelled.pptx"
    result = apply_label(src, dest, CONFIDENTIAL, SCHEME, visible_marking=True)
    assert result.kind == "pptx"
    assert not result.marking_applied and any("only written into Word" in n for n in result.notes)
    assert_others_identical(src, dest)
    assert_msip_well_formed(custom_props(dest), CONFIDENTIAL)
    assert read_label(dest).name == "Confidential"


def test_strict_ooxml_package_gets_strict_names(tmp_path: Path) -> None:
    src = make_pptx(tmp_path / "strict.pptx", strict=True)
    dest = tmp_path / "strict-labelled.pptx"
    apply_label(src, dest, CONFIDENTIAL, SCHEME)
    with zipfile.ZipFile(dest) as zf:
        rels = zf.read("_rels/.rels")
        root = etree.fromstring(zf.read("docProps/custom.xml"))
    assert b"http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties" in rels
    assert root.tag == "{http://purl.oclc.org/ooxml/officeDocument/customProperties}Properties"
    assert root[0][0].tag == "{http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes}lpwstr"
    assert read_label(dest).name == "Confidential"


def test_relabelling_replaces_the_previous_label(tmp_path: Path) -> None:
    src = make_xlsx(tmp_path / "a.xlsx", custom={"Project": "Atlas"})
    first = tmp_path / "b.xlsx"
    second = tmp_path / "c.xlsx"
    apply_label(src, first, CONFIDENTIAL, SCHEME)
    result = apply_label(first, second, RESTRICTED, SCHEME)
    assert result.previous is not None and result.previous.name == "Confidential"
    props = custom_props(second)
    assert_msip_well_formed(props, RESTRICTED)
    assert not any(CONFIDENTIAL.guid in k for k in props)
    assert props["Project"] == "Atlas"
    assert set(assert_others_identical(first, second, {"docProps/custom.xml", LABELINFO})) == {
        "docProps/custom.xml",
        LABELINFO,
    }
    assert read_label(second).name == "Restricted"


def _with_custom_xml(
    src: Path,
    dest: Path,
    custom_xml: bytes,
    extra: dict[str, bytes] | None = None,
    rels_extra: bytes = b"",
    ct_extra: bytes = b"",
) -> Path:
    """Copy an openpyxl workbook (which has a custom.xml part) replacing that part's content."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/custom.xml":
                data = custom_xml
            elif info.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", rels_extra + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", ct_extra + b"</Types>")
            zout.writestr(info, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dest


def _office_custom_xml(guid: str, name: str, *, enabled: str = "true", extra: str = "") -> bytes:
    keys = {
        "Enabled": enabled,
        "SetDate": "2024-02-01T09:10:11Z",
        "Method": "Privileged",
        "Name": name,
        "SiteId": "0a1b2c3d-0000-4000-8000-00000000aaaa",
        "ActionId": str(uuid.uuid4()),
        "ContentBits": "0",
    }
    props = "".join(
        f'<property fmtid="{FMTID}" pid="{i}" name="MSIP_Label_{guid}_{k}"><vt:lpwstr>{v}</vt:lpwstr></property>'
        for i, (k, v) in enumerate(keys.items(), start=3)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="{CUSTOM_NS}" '
        f'xmlns:vt="{VT_NS}"><property fmtid="{FMTID}" pid="2" name="Department"><vt:lpwstr>QA</vt:lpwstr>'
        f"</property>{props}{extra}</Properties>"
    ).encode()


def test_office_label_of_another_tenant_is_recognised_and_kept(tmp_path: Path) -> None:
    foreign = "9a8b7c6d-1111-4222-8333-444455556666"
    disabled = "0f0f0f0f-1111-4222-8333-444455556666"
    base = make_xlsx(tmp_path / "base.xlsx", chart=False, image=False, custom={"Department": "x"})
    extra = "".join(
        f'<property fmtid="{FMTID}" pid="{20 + i}" name="MSIP_Label_{disabled}_{k}"><vt:lpwstr>{v}'
        f"</vt:lpwstr></property>"
        for i, (k, v) in enumerate({"Enabled": "false", "Name": "Old"}.items())
    )
    src = _with_custom_xml(
        base, tmp_path / "office.xlsx", _office_custom_xml(foreign, "Highly Confidential", extra=extra)
    )
    found = read_label(src)
    assert found == ExistingLabel(
        "Highly Confidential",
        foreign,
        "msip",
        "2024-02-01T09:10:11Z",
        "Privileged",
        "0a1b2c3d-0000-4000-8000-00000000aaaa",
    )
    dest = tmp_path / "relabelled.xlsx"
    result = apply_label(src, dest, CONFIDENTIAL, SCHEME)
    assert result.previous is None, "another tenant's label is not replaced, so not the previous label"
    props = custom_props(dest)
    ours = {k: v for k, v in props.items() if foreign not in k and disabled not in k}
    assert_msip_well_formed(ours, CONFIDENTIAL)
    assert props["Department"] == "QA"
    # Another tenant's label (another SiteId, or none) is that organisation's: kept as it was.
    assert props[f"MSIP_Label_{foreign}_Name"] == "Highly Confidential"
    assert props[f"MSIP_Label_{foreign}_SiteId"] == "0a1b2c3d-0000-4000-8000-00000000aaaa"
    assert props[f"MSIP_Label_{disabled}_Enabled"] == "false"
    assert read_label(dest, SCHEME).guid == CONFIDENTIAL.guid


def test_stale_clearance_keys_lose_to_a_newer_office_label(tmp_path: Path) -> None:
    foreign = "9a8b7c6d-1111-4222-8333-444455556666"
    stale = (
        f'<property fmtid="{FMTID}" pid="30" name="Clearance_Label"><vt:lpwstr>Public</vt:lpwstr></property>'
        f'<property fmtid="{FMTID}" pid="31" name="Clearance_LabelGuid"><vt:lpwstr>{SCHEME.get("Public").guid}'
        f"</vt:lpwstr></property>"
    )
    base = make_xlsx(tmp_path / "base.xlsx", chart=False, image=False, custom={"x": "y"})
    src = _with_custom_xml(base, tmp_path / "mixed.xlsx", _office_custom_xml(foreign, "Secret", extra=stale))
    found = read_label(src)
    assert found is not None and found.source == "msip" and found.name == "Secret" and found.guid == foreign


def test_newer_office_labelinfo_part_is_read_and_rewritten(tmp_path: Path) -> None:
    labelinfo = (
        f'<?xml version="1.0" encoding="utf-8" standalone="yes"?><clbl:labelList xmlns:clbl="http://'
        f'schemas.microsoft.com/office/2020/mipLabelMetadata"><clbl:label id="{{{RESTRICTED.guid.upper()}}}"'
        f' enabled="1" method="Privileged" siteId="{{{SCHEME.site_id}}}" contentBits="0" removed="0" />'
        f"</clbl:labelList>"
    ).encode()
    base = make_xlsx(tmp_path / "base.xlsx", chart=False, image=False, custom={"Department": "QA"})
    src = _with_custom_xml(
        base,
        tmp_path / "modern.xlsx",
        _office_custom_xml("11111111-2222-4333-8444-555555555555", "x", enabled="false"),
        extra={"docMetadata/LabelInfo.xml": labelinfo},
        rels_extra=b'<Relationship Id="rIdLbl" Type="http://schemas.microsoft.com/office/2020/02/relationships/'
        b'classificationlabels" Target="docMetadata/LabelInfo.xml"/>',
        ct_extra=b'<Override PartName="/docMetadata/LabelInfo.xml" '
        b'ContentType="application/vnd.ms-office.classificationlabels+xml"/>',
    )
    found = read_label(src)
    assert found is not None and found.guid == RESTRICTED.guid and found.source == "msip"
    assert found.name is None and read_label(src, SCHEME).name == "Restricted"

    dest = tmp_path / "modern-labelled.xlsx"
    apply_label(src, dest, CONFIDENTIAL, SCHEME, justification="re-reviewed: no batch records")
    changed = assert_others_identical(src, dest, PROPERTY_PARTS | {"docMetadata/LabelInfo.xml"})
    assert set(changed) == {"docProps/custom.xml", "docMetadata/LabelInfo.xml"}
    with zipfile.ZipFile(dest) as zf:
        node = etree.fromstring(zf.read("docMetadata/LabelInfo.xml"))[0]
    assert node.get("id") == "{" + CONFIDENTIAL.guid + "}" and node.get("enabled") == "1"
    assert node.get("siteId") == "{" + SCHEME.site_id + "}"
    assert read_label(dest) == ExistingLabel(
        "Confidential",
        CONFIDENTIAL.guid,
        "clearance",
        custom_props(dest)["Clearance_LabelledAt"],
        "Standard",
        SCHEME.site_id,
    )


def test_fixed_time_and_action_id_are_reproducible(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    when = datetime(2026, 11, 28, 1, 23, 45, tzinfo=UTC)
    action = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    scan_hash = sha(src)
    r1 = apply_label(src, tmp_path / "b.docx", CONFIDENTIAL, SCHEME, now=when, action_id=action, scan_sha256=scan_hash)
    r2 = apply_label(src, tmp_path / "c.docx", CONFIDENTIAL, SCHEME, now=when, action_id=action, scan_sha256=scan_hash)
    assert r1.set_date == "2026-11-28T01:23:45Z" and r1.action_id == action
    props = custom_props(tmp_path / "b.docx")
    assert props[f"MSIP_Label_{CONFIDENTIAL.guid}_SetDate"] == "2026-11-28T01:23:45Z"
    assert props["Clearance_ScanSha256"] == scan_hash
    assert members(tmp_path / "b.docx")["docProps/custom.xml"] == members(tmp_path / "c.docx")["docProps/custom.xml"]
    assert r1.to_dict()["label"] == "Confidential" and r2.to_dict()["previous"] is None


def test_label_must_belong_to_the_scheme(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    stranger = LabelDef("Other", "12345678-1234-4234-8234-123456789012")
    with pytest.raises(ValueError, match="not in the label scheme"):
        apply_label(src, tmp_path / "b.docx", stranger, SCHEME)


# --------------------------------------------------------------------------- visible marking


def test_docx_marking_added_to_existing_header_then_refreshed_then_removed(tmp_path: Path) -> None:
    import docx

    src = make_docx(tmp_path / "a.docx")
    marked = tmp_path / "b.docx"
    result = apply_label(src, marked, CONFIDENTIAL, SCHEME, visible_marking=True)
    assert result.marking_applied
    assert custom_props(marked)[f"MSIP_Label_{CONFIDENTIAL.guid}_ContentBits"] == "1"
    changed = assert_others_identical(src, marked, PROPERTY_PARTS | {"word/header1.xml"})
    assert "word/header1.xml" in changed
    header = docx.Document(str(marked)).sections[0].header
    assert [p.text for p in header.paragraphs] == ["CONFIDENTIAL", "Acme Pharma Contract Manufacturing"]

    remarked = tmp_path / "c.docx"
    apply_label(marked, remarked, RESTRICTED, SCHEME, visible_marking=True)
    header = docx.Document(str(remarked)).sections[0].header
    assert [p.text for p in header.paragraphs] == ["RESTRICTED", "Acme Pharma Contract Manufacturing"]

    # A later label without marking must not leave a stale, different marking behind.
    unmarked = tmp_path / "d.docx"
    result = apply_label(remarked, unmarked, SCHEME.get("Public"), SCHEME, justification="published")
    assert not result.marking_applied
    header = docx.Document(str(unmarked)).sections[0].header
    assert [p.text for p in header.paragraphs] == ["Acme Pharma Contract Manufacturing"]
    assert custom_props(unmarked)[f"MSIP_Label_{SCHEME.get('Public').guid}_ContentBits"] == "0"


def test_docx_marking_creates_a_header_when_there_is_none(tmp_path: Path) -> None:
    import docx

    src = make_docx(tmp_path / "a.docx", header=False)
    assert not any("header" in n for n in members(src))
    dest = tmp_path / "b.docx"
    assert apply_label(src, dest, CONFIDENTIAL, SCHEME, visible_marking=True).marking_applied
    changed = assert_others_identical(src, dest, PROPERTY_PARTS | {"word/document.xml", "word/_rels/document.xml.rels"})
    assert set(changed) == {"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels"}
    reopened = docx.Document(str(dest))
    assert reopened.sections[0].header.paragraphs[0].text == "CONFIDENTIAL"
    assert [p.text for p in reopened.paragraphs] == [p.text for p in docx.Document(str(src)).paragraphs]


def test_marking_flag_without_marking_text_changes_no_content(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    dest = tmp_path / "b.docx"
    result = apply_label(src, dest, SCHEME.get("Public"), SCHEME, visible_marking=True)
    assert not result.marking_applied and any("no visible marking text" in n for n in result.notes)
    assert_others_identical(src, dest)


# --------------------------------------------------------------------------- PDF


def test_pdf_incremental_update_keeps_pages_and_carries_label(tmp_path: Path) -> None:
    from pypdf import PdfReader

    src = make_pdf(tmp_path / "coa.pdf")
    dest = tmp_path / "coa-labelled.pdf"
    result = apply_label(src, dest, CONFIDENTIAL, SCHEME)
    assert result.how == "pdf-incremental"
    assert dest.read_bytes().startswith(src.read_bytes()), "original bytes must stay an exact prefix"
    assert pdf_page_texts(dest) == pdf_page_texts(src)
    assert len(pdf_page_texts(dest)) == 3 and "LOT-0002" in pdf_page_texts(dest)[1]

    reader = PdfReader(dest)
    info = {k.lstrip("/"): str(v) for k, v in reader.metadata.items()}
    assert_msip_well_formed(info, CONFIDENTIAL)
    assert info["Producer"].startswith("ReportLab")  # existing entries kept
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert xmp.custom_properties[f"MSIP_Label_{CONFIDENTIAL.guid}_Name"] == "Confidential"
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<clearance:Label>Confidential</clearance:Label>" in raw
    assert read_label(dest) == ExistingLabel(
        "Confidential", CONFIDENTIAL.guid, "clearance", result.set_date, "Standard", SCHEME.site_id
    )


def test_pdf_relabel_and_existing_xmp_kept(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    base = make_pdf(tmp_path / "base.pdf", pages=2)
    writer = PdfWriter(clone_from=base)
    writer.xmp_metadata = (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Stability '
        b'study</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    meta = writer.root_object["/Metadata"].get_object()
    meta[NameObject("/Type")] = NameObject("/Metadata")
    meta[NameObject("/Subtype")] = NameObject("/XML")
    src = tmp_path / "xmp.pdf"
    with open(src, "wb") as fh:
        writer.write(fh)

    first = tmp_path / "first.pdf"
    second = tmp_path / "second.pdf"
    apply_label(src, first, CONFIDENTIAL, SCHEME)
    result = apply_label(first, second, RESTRICTED, SCHEME)
    assert result.previous is not None and result.previous.name == "Confidential"
    reader = PdfReader(second)
    assert reader.xmp_metadata.dc_title == {"x-default": "Stability study"}
    info = {k.lstrip("/"): str(v) for k, v in reader.metadata.items()}
    assert_msip_well_formed(info, RESTRICTED)
    custom = reader.xmp_metadata.custom_properties
    assert not any(CONFIDENTIAL.guid in k for k in custom)
    assert custom[f"MSIP_Label_{RESTRICTED.guid}_Name"] == "Restricted"
    assert read_label(second).name == "Restricted"
    assert pdf_page_texts(second) == pdf_page_texts(src)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=make_pdf(tmp_path / "plain.pdf", pages=1))
    writer.encrypt("secret", algorithm="AES-128")
    src = tmp_path / "locked.pdf"
    with open(src, "wb") as fh:
        writer.write(fh)
    dest = tmp_path / "out.pdf"
    with pytest.raises(LabelError, match="encrypted PDF"):
        apply_label(src, dest, CONFIDENTIAL, SCHEME)
    assert not dest.exists() and no_temp_files(tmp_path)


# --------------------------------------------------------------------------- refusals and safety


def test_text_file_cannot_carry_a_label(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("batch LOT-1 released\n", "utf-8")
    with pytest.raises(LabelUnsupported, match="^cannot carry a label: text file$"):
        apply_label(src, tmp_path / "out.txt", CONFIDENTIAL, SCHEME)
    assert issubclass(LabelUnsupported, LabelError)
    assert not (tmp_path / "out.txt").exists() and no_temp_files(tmp_path)
    assert read_label(src) is None


def _rewrite_zip(src: Path, dest: Path, edit) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data)
    return dest


def test_damaged_packages_raise_label_error_and_leave_dest_alone(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx")
    dest = tmp_path / "dest.docx"
    dest.write_bytes(b"previous content")

    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    dtd = _rewrite_zip(
        good,
        tmp_path / "dtd.docx",
        lambda n, d: (
            b'<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaa">]>' + d.split(b"?>", 1)[1]
            if n == "[Content_Types].xml"
            else d
        ),
    )
    no_rels = _rewrite_zip(good, tmp_path / "norels.docx", lambda n, d: None if n == "_rels/.rels" else d)

    bad_crc = tmp_path / "badcrc.docx"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("word/styles.xml")
        zf.fp.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(zf.fp.read(2), "little"), int.from_bytes(zf.fp.read(2), "little")
        start = info.header_offset + 30 + name_len + extra_len
    data[start + 10] ^= 0xFF
    bad_crc.write_bytes(bytes(data))

    for broken, words in (
        (truncated, "damaged"),
        (dtd, "DTD"),
        (no_rels, "relationships"),
        (bad_crc, "damaged package member 'word/styles.xml'"),
    ):
        with pytest.raises(LabelError, match=re.escape(words)):
            apply_label(broken, dest, CONFIDENTIAL, SCHEME)
        assert dest.read_bytes() == b"previous content"
    assert no_temp_files(tmp_path)


def test_duplicate_part_names_are_refused(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx")
    dup = tmp_path / "dup.docx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dup, "w") as zout, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we write on purpose
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("Word/Document.xml", b"<w:document/>")
    with pytest.raises(LabelError, match="two parts named"):
        apply_label(dup, tmp_path / "out.docx", CONFIDENTIAL, SCHEME)


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    good = make_xlsx(tmp_path / "good.xlsx", chart=False, image=False)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/media/blank.bin", bytes(8 * 1024 * 1024))
    with pytest.raises(LabelError, match="possible zip bomb"):
        apply_label(bomb, tmp_path / "out.xlsx", CONFIDENTIAL, SCHEME)
    with pytest.raises(LabelError, match="expands to more than"):
        apply_label(
            bomb,
            tmp_path / "out.xlsx",
            CONFIDENTIAL,
            SCHEME,
            limits=Limits(archive_total_bytes=1024 * 1024, archive_ratio=1e9),
        )
    assert no_temp_files(tmp_path)


def test_label_in_place_is_atomic_and_keeps_permissions(tmp_path: Path) -> None:
    src = make_docx(tmp_path / "a.docx")
    original = members(src)
    if os.name == "posix":
        os.chmod(src, 0o640)
    result = apply_label(src, src, CONFIDENTIAL, SCHEME)
    assert result.dest == src and read_label(src).name == "Confidential"
    labelled = members(src)
    assert all(labelled[n] == original[n] for n in original if n not in PROPERTY_PARTS)
    if os.name == "posix":
        assert stat.S_IMODE(src.stat().st_mode) == 0o640
    assert no_temp_files(tmp_path)


# --------------------------------------------------------------------------- CLI


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="clearance")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["label", *argv])
    return int(args.func(args))


def test_cli_labels_in_place_and_to_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = make_docx(tmp_path / "a.docx")
    out = tmp_path / "b.docx"
    assert cli(str(src), "--label", "confidential", "--output", str(out)) == 0
    assert "labelled" in capsys.readouterr().out
    assert read_label(out).name == "Confidential" and read_label(src) is None

    assert cli(str(src), "--label", "Internal", "--output", str(out)) == 2
    assert "already exists (use --force" in capsys.readouterr().err
    assert read_label(out).name == "Confidential"
    assert cli(str(src), "--label", "Internal", "--output", str(out), "--force", "--marking") == 0
    assert read_label(out).name == "Internal"

    assert cli(str(src), "--label", "Restricted") == 0
    assert read_label(src).name == "Restricted"
    assert no_temp_files(tmp_path)


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = make_docx(tmp_path / "a.docx")
    assert cli(str(src), "--label", "Secret") == 2
    err = capsys.readouterr().err
    assert "unknown label 'Secret'" in err and "Public, Internal, Confidential, Restricted" in err

    txt = tmp_path / "a.txt"
    txt.write_text("hello\n", "utf-8")
    assert cli(str(txt), "--label", "Public") == 1
    err = [line for line in capsys.readouterr().err.splitlines() if ": warning: " not in line]
    assert len(err) == 1 and "cannot carry a label: text file" in err[0]

    assert cli(str(tmp_path / "missing.docx"), "--label", "Public") == 2
    assert "no such file" in capsys.readouterr().err

    broken = tmp_path / "broken.docx"
    broken.write_bytes(src.read_bytes()[:500])
    assert cli(str(broken), "--label", "Public") == 1
    assert "cannot label" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exc:
        cli(str(src))  # --label is required
    assert exc.value.code == 2


def test_cli_uses_labels_from_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "clearance.toml"
    cfg.write_text(
        '[labels]\nsite_id = "0a1b2c3d-0000-4000-8000-00000000aaaa"\nmethod = "Privileged"\n'
        '[[labels.levels]]\nname = "General"\nguid = "11111111-1111-4111-8111-111111111111"\n'
        '[[labels.levels]]\nname = "Secret"\nguid = "22222222-2222-4222-8222-222222222222"\n',
        "utf-8",
    )
    src = make_xlsx(tmp_path / "a.xlsx", chart=False, image=False)
    out = tmp_path / "b.xlsx"
    assert cli(str(src), "--label", "Secret", "--config", str(cfg), "--output", str(out)) == 0
    props = custom_props(out)
    assert props["MSIP_Label_22222222-2222-4222-8222-222222222222_SiteId"] == "0a1b2c3d-0000-4000-8000-00000000aaaa"
    assert props["MSIP_Label_22222222-2222-4222-8222-222222222222_Method"] == "Privileged"
    assert cli(str(src), "--label", "Confidential", "--config", str(cfg), "--output", str(tmp_path / "c.xlsx")) == 2
    assert "choose from: General, Secret" in capsys.readouterr().err
    cfg.write_text("[labels]\nsite_id = 7\n", "utf-8")
    assert cli(str(src), "--label", "Public", "--config", str(cfg), "--output", str(tmp_path / "c.xlsx")) == 2
    assert "labels.site_id" in capsys.readouterr().err


# --------------------------------------------------------------------------- corpus


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    files = [p for p in sorted((CORPUS / "dev").iterdir()) if p.suffix.lower() in (".docx", ".xlsx")]
    for folder in ("docx", "xlsx"):
        files += sorted((CORPUS / "realworld" / folder).iterdir())
    files += [p for p in sorted((CORPUS / "realworld" / "other").iterdir()) if p.suffix.lower() in (".pptx", ".pptm")]
    return files


def _opens(path: Path) -> bool:
    """Whether the format's own library reads the file (the labelled copy must then too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            suffix = path.suffix.lower()
            if suffix in (".docx", ".docm", ".dotx", ".dotm"):
                import docx

                docx.Document(str(path))
            elif suffix in (".xlsx", ".xlsm", ".xltx", ".xltm"):
                import openpyxl

                openpyxl.load_workbook(path, read_only=True).close()
            else:
                return False
            return True
        except Exception:
            return False


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
@pytest.mark.corpus
def test_corpus_packages_keep_every_other_member(tmp_path: Path) -> None:
    counts: Counter[str] = Counter()
    features: Counter[str] = Counter()
    for src in _corpus_files():
        dest = tmp_path / ("labelled" + src.suffix)
        try:
            apply_label(src, dest, CONFIDENTIAL, SCHEME)
        except LabelUnsupported:
            counts["unsupported"] += 1
            continue
        except LabelError:
            counts["refused (LabelError)"] += 1
            continue
        counts["labelled"] += 1
        custom = result_custom_part(dest)
        changed = assert_others_identical(src, dest, PROPERTY_PARTS | {custom, "docMetadata/LabelInfo.xml"})
        with zipfile.ZipFile(src) as zf:
            assert custom in changed or custom not in zf.namelist()
        assert read_label(dest).guid == CONFIDENTIAL.guid, src.name
        names = set(members(dest))
        features["charts"] += any("/charts/" in n for n in names)
        features["images"] += any("/media/" in n for n in names)
        features["macros"] += any(n.lower().endswith("vbaproject.bin") for n in names)
        if src.parent.name != "dev" and _opens(src):
            counts["re-opened by python-docx/openpyxl"] += 1
            assert _opens(dest), f"{src.name}: labelled copy no longer opens"
        dest.unlink()
    print(f"\ncorpus labelling: {dict(counts)}; labelled packages with {dict(features)}", file=sys.stderr)
    assert counts["labelled"] >= 200
    assert features["charts"] and features["images"] and features["macros"]


def result_custom_part(dest: Path) -> str:
    """The custom-properties part the package's relationships name (not always docProps/custom.xml)."""
    with zipfile.ZipFile(dest) as zf:
        rels = etree.fromstring(zf.read("_rels/.rels"))
    for rel in rels:
        if rel.get("Type", "").endswith(("/custom-properties", "/customProperties")):
            return rel.get("Target").lstrip("/")
    raise AssertionError("no custom-properties relationship")


@pytest.mark.corpus
def test_corpus_dev_documents_all_label(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    dev = [p for p in sorted((CORPUS / "dev").iterdir()) if p.suffix.lower() in (".docx", ".xlsx")]
    for src in dev:
        dest = tmp_path / src.name
        apply_label(src, dest, RESTRICTED, SCHEME, visible_marking=True)
        assert read_label(dest).name == "Restricted"
        assert _opens(dest) or not _opens(src)
        dest.unlink()
    assert len(dev) >= 10


@pytest.mark.corpus
def test_corpus_dev_pdfs_keep_every_page(tmp_path: Path) -> None:
    """The dev PDFs (written by the team, not hostile) label incrementally with page text unchanged."""
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    pdfs = sorted((CORPUS / "dev").glob("*.pdf"))
    hows: Counter[str] = Counter()
    for src in pdfs:
        dest = tmp_path / src.name
        result = apply_label(src, dest, CONFIDENTIAL, SCHEME)
        hows[result.how] += 1
        assert pdf_page_texts(dest) == pdf_page_texts(src), src.name
        assert read_label(dest).guid == CONFIDENTIAL.guid
        dest.unlink()
    print(f"\ndev PDFs labelled: {dict(hows)}", file=sys.stderr)
    assert len(pdfs) >= 10 and hows["pdf-incremental"] == len(pdfs)
