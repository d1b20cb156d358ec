"""Label interop (issue 16, items 4-6): the configured scheme, other tenants' labels, LabelInfo, the audit.

Every test drives ``clearance label`` as a user would (its parser, a real clearance.toml,
real Office packages, the real SQLite audit trail) and reads the result back with lxml
and zipfile, not with the writer's own reader.
"""

from __future__ import annotations

import argparse
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from scanner.cli.label import register
from scanner.labels.scheme import DEFAULT_SITE_ID, LabelScheme, placeholder_warnings
from scanner.record.audit import AuditLog
from scanner.record.events import AuditKind

CLBL = "http://schemas.microsoft.com/office/2020/mipLabelMetadata"
LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

# The documented form of the Sensitivity Label Information part (MS-OFFCRYPTO 2.6.4 / 2.6.5.4,
# MS-OI29500 3.4.1.5), as the specification shows it, placeholders and all.
SPEC_EXAMPLE = (
    '<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
    '<clbl:label id="{GUID}" enabled="1" method="Standard" siteId="{GUID}" removed="0" />'
    "</clbl:labelList>"
)
SPEC_GUID = re.compile(r"^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$")  # ST_ClassificationGuid

# Our tenant (configured) and the sponsor's (another organisation, another SiteId).
OUR_SITE = "5e7a1c2b-3d4e-4f50-8a6b-7c8d9e0f1a2b"
PUBLIC = "aaaa0001-0000-4000-8000-000000000001"
CONFIDENTIAL = "aaaa0003-0000-4000-8000-000000000003"
RESTRICTED = "aaaa0004-0000-4000-8000-000000000004"
SPONSOR_SITE = "0a1b2c3d-0000-4000-8000-00000000aaaa"
SPONSOR_LABEL = "9a8b7c6d-1111-4222-8333-444455556666"


@pytest.fixture(autouse=True)
def _own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="clearance")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["label", *argv])
    return int(args.func(args))


def write_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "clearance.toml"
    levels = "".join(
        f'[[labels.levels]]\nname = "{name}"\nguid = "{guid}"\n'
        for name, guid in (("Public", PUBLIC), ("Confidential", CONFIDENTIAL), ("Restricted", RESTRICTED))
    )
    cfg.write_text(f'[audit]\ndatabase = "audit.sqlite"\n[labels]\nsite_id = "{OUR_SITE}"\n{levels}', "utf-8")
    return cfg


def label_rows(db: Path) -> list[dict[str, object]]:
    with AuditLog(db, read_only=True) as log:
        rows = log.query(kind=AuditKind.LABEL_CHANGE)
    return [{"label": r.label, "path": r.path, "actor": r.actor, **r.data} for r in rows]


def make_xlsx(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "Batch LOT-0001"
    wb.save(path)
    return path


def with_sponsor_label(src: Path, dest: Path) -> Path:
    """``src`` as the sponsor sent it: their label in custom properties and in LabelInfo.xml."""
    keys = {
        "Enabled": "true",
        "SetDate": "2024-02-01T09:10:11Z",
        "Method": "Privileged",
        "Name": "Sponsor Confidential",
        "SiteId": SPONSOR_SITE,
        "ActionId": str(uuid.uuid4()),
        "ContentBits": "0",
    }
    props = "".join(
        f'<property fmtid="{FMTID}" pid="{i}" name="MSIP_Label_{SPONSOR_LABEL}_{k}"><vt:lpwstr>{v}</vt:lpwstr>'
        "</property>"
        for i, (k, v) in enumerate(keys.items(), start=2)
    )
    custom = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Properties xmlns="{CUSTOM_NS}" xmlns:vt="{VT_NS}">{props}</Properties>'
    ).encode()
    info = SPEC_EXAMPLE.replace('id="{GUID}"', f'id="{{{SPONSOR_LABEL}}}"')
    info = info.replace('siteId="{GUID}"', f'siteId="{{{SPONSOR_SITE}}}"').replace("Standard", "Privileged")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "_rels/.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdC" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/custom-properties" Target="docProps/custom.xml"/>'
                    b'<Relationship Id="rIdL" Type="' + LABELINFO_REL.encode() + b'" '
                    b'Target="docMetadata/LabelInfo.xml"/></Relationships>',
                )
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.custom-properties+xml"/>'
                    b'<Override PartName="/docMetadata/LabelInfo.xml" ContentType="application/xml"/></Types>',
                )
            zout.writestr(item, data)
        zout.writestr("docProps/custom.xml", custom)
        zout.writestr("docMetadata/LabelInfo.xml", info.encode())
    return dest


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def custom_props(path: Path) -> dict[str, str]:
    root = etree.fromstring(members(path)["docProps/custom.xml"])
    return {p.get("name"): "".join(p.itertext()) for p in root}


def labelinfo_entries(path: Path) -> list[dict[str, str]]:
    root = etree.fromstring(members(path)["docMetadata/LabelInfo.xml"])
    assert root.tag == f"{{{CLBL}}}labelList"
    return [dict(node.attrib) for node in root]


def structure(xml: bytes | str) -> tuple[object, ...]:
    """Element tags, namespace prefixes and attribute names in order: the shape, not the values."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return (root.tag, root.prefix, tuple((c.tag, c.prefix, tuple(c.attrib.keys())) for c in root))


# --------------------------------------------------------------------------- the must-show


def test_sponsor_label_survives_label_and_relabel_in_both_places_and_both_changes_are_audited(
    tmp_path: Path,
) -> None:
    cfg = write_config(tmp_path)
    src = with_sponsor_label(make_xlsx(tmp_path / "plain.xlsx"), tmp_path / "from-sponsor.xlsx")
    sponsor_props = {k: v for k, v in custom_props(src).items() if SPONSOR_LABEL in k}
    sponsor_entry = labelinfo_entries(src)[0]

    assert cli(str(src), "--label", "Confidential", "--config", str(cfg)) == 0
    assert cli(str(src), "--label", "Restricted", "--config", str(cfg)) == 0

    props = custom_props(src)
    assert {k: v for k, v in props.items() if SPONSOR_LABEL in k} == sponsor_props
    # Configured GUID and tenant, never the placeholders.
    assert props[f"MSIP_Label_{RESTRICTED}_SiteId"] == OUR_SITE
    assert props[f"MSIP_Label_{RESTRICTED}_Enabled"] == "true"
    assert not any(CONFIDENTIAL in k for k in props), "our earlier label is replaced, not stacked"
    assert DEFAULT_SITE_ID not in members(src)["docProps/custom.xml"].decode()

    entries = labelinfo_entries(src)
    assert sponsor_entry in entries
    ours = [e for e in entries if e["siteId"] == f"{{{OUR_SITE}}}"]
    assert ours == [
        {"id": f"{{{RESTRICTED}}}", "enabled": "1", "method": "Standard", "siteId": f"{{{OUR_SITE}}}", "removed": "0"}
    ]
    assert len(entries) == 2

    rows = label_rows(tmp_path / "audit.sqlite")
    assert [(r["previous_label"], r["label"]) for r in rows] == [(None, "Confidential"), ("Confidential", "Restricted")]
    for row in rows:
        assert row["actor"] and row["site_id"] == OUR_SITE and row["path"] == str(src.resolve())
        assert row["downgrade"] is False


def test_created_labelinfo_is_the_documented_form(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    src = make_xlsx(tmp_path / "a.xlsx")
    assert "docMetadata/LabelInfo.xml" not in members(src)
    out = tmp_path / "b.xlsx"
    assert cli(str(src), "--label", "Confidential", "--config", str(cfg), "--output", str(out)) == 0

    parts = members(out)
    data = parts["docMetadata/LabelInfo.xml"]
    # Same shape as the specification's example: root, prefix, one label, attributes in order.
    assert structure(data) == structure(SPEC_EXAMPLE)
    for entry in labelinfo_entries(out):
        assert SPEC_GUID.match(entry["id"]) and SPEC_GUID.match(entry["siteId"])
    # Byte-exact: the documented form with our ids, after the XML declaration.
    decl = b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\r\n'
    expected = SPEC_EXAMPLE.replace('id="{GUID}"', f'id="{{{CONFIDENTIAL}}}"')
    expected = expected.replace('siteId="{GUID}"', f'siteId="{{{OUR_SITE}}}"')
    assert data == decl + expected.encode()
    # Found from the package root, with its content type.
    rels = etree.fromstring(parts["_rels/.rels"])
    assert [r.get("Target") for r in rels if r.get("Type") == LABELINFO_REL] == ["docMetadata/LabelInfo.xml"]
    types = etree.fromstring(parts["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{{{CT_NS}}}Override")}
    assert overrides["/docMetadata/LabelInfo.xml"] == "application/xml"


def test_downgrade_needs_a_justification_and_is_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    src = make_xlsx(tmp_path / "a.xlsx")
    assert cli(str(src), "--label", "Restricted", "--config", str(cfg)) == 0
    before = src.read_bytes()
    capsys.readouterr()

    assert cli(str(src), "--label", "Public", "--config", str(cfg)) == 1
    err = capsys.readouterr().err
    assert "downgrade from Restricted to Public needs a justification" in err
    assert src.read_bytes() == before, "a refused downgrade writes nothing"
    assert len(label_rows(tmp_path / "audit.sqlite")) == 1

    assert cli(str(src), "--label", "Public", "--config", str(cfg), "--justification", "published in the CoA") == 0
    assert custom_props(src)[f"MSIP_Label_{PUBLIC}_Enabled"] == "true"
    last = label_rows(tmp_path / "audit.sqlite")[-1]
    assert (last["previous_label"], last["label"]) == ("Restricted", "Public")
    assert last["downgrade"] is True and last["justification"] == "published in the CoA"


def test_apply_label_refuses_a_downgrade_without_justification(tmp_path: Path) -> None:
    from scanner.act.label_common import LabelError
    from scanner.act.labelling import apply_label

    scheme = LabelScheme.default()
    src = make_xlsx(tmp_path / "a.xlsx")
    apply_label(src, src, scheme.get("Confidential"), scheme)
    with pytest.raises(LabelError, match="needs a justification"):
        apply_label(src, src, scheme.get("Internal"), scheme, justification="   ")
    upgraded = apply_label(src, src, scheme.get("Restricted"), scheme)
    assert not upgraded.downgrade and upgraded.justification is None


def test_placeholder_ids_warn_on_every_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warnings = placeholder_warnings(LabelScheme.default())
    assert len(warnings) == 5 and DEFAULT_SITE_ID in warnings[0]
    src = make_xlsx(tmp_path / "a.xlsx")
    for name in ("Internal", "Restricted"):
        assert cli(str(src), "--label", name) == 0  # default config location: none there, built-ins
        err = capsys.readouterr().err
        assert err.count("clearance label: warning: ") == 5 and DEFAULT_SITE_ID in err
    cfg = write_config(tmp_path)
    assert placeholder_warnings(LabelScheme.from_mapping({"site_id": OUR_SITE})) == warnings[1:]
    assert cli(str(src), "--label", "Restricted", "--config", str(cfg), "--output", str(tmp_path / "b.xlsx")) == 0
    assert "warning" not in capsys.readouterr().err


def test_default_config_location_is_read(tmp_path: Path) -> None:
    from scanner.config.settings import default_config_path

    default = default_config_path()
    default.parent.mkdir(parents=True)
    default.write_text(write_config(tmp_path).read_text("utf-8"), "utf-8")
    src = make_xlsx(tmp_path / "a.xlsx")
    assert cli(str(src), "--label", "Confidential") == 0
    assert custom_props(src)[f"MSIP_Label_{CONFIDENTIAL}_SiteId"] == OUR_SITE
    assert label_rows(default.parent / "audit.sqlite")[0]["label"] == "Confidential"
