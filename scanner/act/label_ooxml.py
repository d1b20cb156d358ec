"""Writing a label into a DOCX/XLSX/PPTX (and their macro/template variants), and reading one back.

The label goes into both layouts Office reads: custom document properties in the
package's custom-properties part (``docProps/custom.xml``) and the Sensitivity Label
Information part (``docMetadata/LabelInfo.xml``, MS-OI29500 3.4.1.5, schema MS-OFFCRYPTO
2.6.4), which Office since 2022 reads first (MS-OFFCRYPTO 2.6.3). The LabelInfo part is
created when absent, with its package relationship and a content-type Override. Only those
parts, and the ``[Content_Types].xml`` / ``_rels/.rels`` entries they need, change
(``scanner.ooxml.edit`` copies every other member as it was).

Labels of other tenants (another SiteId) are another organisation's property, for a CDMO the
sponsor's: their MSIP keys and their LabelInfo ``label`` elements are kept as they were; only
our tenant's label (one per tenant) is replaced. The optional visible marking of a Word
document is the one case where content parts (its headers) change; see ``_docx_marking``.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from lxml import etree

from scanner.act.label_common import LabelError, Stamp, Written, label_properties, words
from scanner.labels.existing import (
    LABELINFO_NS,
    LABELINFO_REL,
    ExistingLabel,
    effective_label,
    foreign_label_guids,
    is_own_entry,
    is_replaced_key,
    label_info_entries,
    named,
    own_label,
)
from scanner.labels.scheme import CONTENT_HEADER, LabelDef, LabelScheme
from scanner.limits import Limits
from scanner.ooxml.edit import CONTENT_TYPES, PackageEdit
from scanner.ooxml.package import STRICT_RELS, TRANSITIONAL_RELS
from scanner.ooxml.xml import parse_no_dtd, text_of, to_xml

_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_NS = {
    False: "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    True: "http://purl.oclc.org/ooxml/officeDocument/customProperties",
}
_VT_NS = {
    False: "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    True: "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
}
_LABELINFO_PART = "docMetadata/LabelInfo.xml"
_LABELINFO_CT = "application/xml"  # MS-OI29500 3.4.1.5
# MS-OI29500 3.4.1.5 asks writers of this part for one byte form, so two writers making the
# same change produce the same bytes: this declaration, no whitespace between elements,
# attributes in the schema's order in double quotes, an empty element closed with " />".
_LABELINFO_DECL = b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\r\n'
_LABELINFO_ATTRS = ("id", "enabled", "method", "siteId", "contentBits", "removed")  # MS-OFFCRYPTO 2.6.5.4
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the format id Office gives user-defined properties
_FIRST_PID = 2  # property ids 0 and 1 are reserved (dictionary, code page)
_HEADER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_MARK_BOOKMARK = "_ClearanceMarking"
# A bookmark id far from Word's own (which count up from 0), one per header part.
_MARK_BOOKMARK_ID = 2_000_000_000
_MARK_COLOUR = "C00000"  # Office's standard "Dark Red": a marking should stand out


def label_ooxml(
    src: Path,
    out: IO[bytes],
    kind: str,
    label: LabelDef,
    scheme: LabelScheme,
    stamp: Stamp,
    visible_marking: bool,
    limits: Limits,
) -> Written:
    """Write the labelled package to ``out``; raises LabelError or PackageError in words."""
    notes: list[str] = []
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise LabelError(f"damaged {kind.upper()}: not a readable zip package ({exc})") from None
    with zf:
        pkg = PackageEdit(zf, kind.upper(), limits)
        if pkg.read(CONTENT_TYPES) is None:
            raise LabelError(f"damaged {kind.upper()}: no [Content_Types].xml")
        root_rels = pkg.relationships("")
        if not root_rels:
            raise LabelError(f"damaged {kind.upper()}: no package relationships (_rels/.rels)")
        pkg.strict = any(r.type.startswith(STRICT_RELS) for r in root_rels)
        previous = existing_label(pkg, scheme, own_only=True)
        if any(i.filename.lower().startswith("_xmlsignatures/") for i in pkg.infos):
            notes.append("the document's digital signature will no longer be valid after labelling")

        content_bits = label.content_bits
        marking_applied = False
        if kind == "docx":
            marking_applied = _docx_marking(pkg, label, visible_marking, notes)
            if marking_applied:
                content_bits |= CONTENT_HEADER
        elif visible_marking and label.visible_marking:
            notes.append(f"visible marking is only written into Word documents, not {kind.upper()}")

        props = label_properties(label, scheme, stamp, content_bits)
        custom_name, related = _custom_part_name(pkg)
        custom = pkg.read(custom_name)
        foreign = foreign_label_guids(_custom_properties(custom), scheme)
        pkg.put(custom_name, _merge_custom_properties(custom, props, pkg.strict, foreign))
        pkg.ensure_content_type(custom_name, _CUSTOM_CT)
        if not related:
            pkg.add_relationship("", pkg.rel_type("custom-properties"), custom_name)
        info_parts = [r.target for r in root_rels if r.type == LABELINFO_REL and pkg.read(r.target) is not None]
        if not info_parts:
            if pkg.taken(_LABELINFO_PART):
                raise LabelError(f"damaged {kind.upper()}: {_LABELINFO_PART} exists but is not related")
            pkg.add_relationship("", LABELINFO_REL, _LABELINFO_PART)
            info_parts = [_LABELINFO_PART]
        for part in info_parts:
            pkg.put(part, labelinfo_xml(label, scheme, content_bits, pkg.read(part)))
            _ensure_override(pkg, part, _LABELINFO_CT)
        pkg.write(out)
    return Written(previous, "custom-properties", marking_applied, tuple(notes))


def read_ooxml_label(path: Path, kind: str, scheme: LabelScheme | None) -> ExistingLabel | None:
    """The label a package carries now (see ``existing_label``)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return existing_label(PackageEdit(zf, kind.upper(), Limits()), scheme)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise LabelError(f"damaged {kind.upper()}: {words(exc)}") from None


def existing_label(pkg: PackageEdit, scheme: LabelScheme | None, *, own_only: bool = False) -> ExistingLabel | None:
    """The label a package carries now: newer Office's LabelInfo part first, then custom properties.

    With a scheme, our tenant's label comes first (a file may carry other tenants' too):
    it is the one a new label of ours replaces, and so, with ``own_only``, the ``previous``
    label: another tenant's label is kept, so it was not "the label before".
    """
    custom_name, _related = _custom_part_name(pkg)
    props = _custom_properties(pkg.read(custom_name))
    entries = list(_label_info(pkg))
    if scheme is not None:
        mine = own_label(props, entries, scheme)
        if mine is not None or own_only:
            return mine
    return named(effective_label(props, entries), scheme)


def _label_info(pkg: PackageEdit) -> Iterator[dict[str, str]]:
    """LabelInfo entries, part by part: parsed only as far as ``effective_label`` reads."""
    for rel in pkg.relationships(""):
        data = pkg.read(rel.target) if rel.type == LABELINFO_REL else None
        if data is not None:
            yield from label_info_entries(parse_no_dtd(data, "label information part"))


def _custom_part_name(pkg: PackageEdit) -> tuple[str, bool]:
    """The custom-properties part (existing relationship target, or the usual name) and whether it is related."""
    targets = pkg.targets("", "custom-properties")
    if targets:
        return targets[0], True
    return "docProps/custom.xml", False


def _custom_properties(data: bytes | None) -> dict[str, str]:
    """name -> text value of every property in a custom-properties part."""
    if data is None:
        return {}
    root = parse_no_dtd(data, "custom properties part")
    out = {}
    for prop in root:
        if not isinstance(prop.tag, str) or etree.QName(prop).localname != "property":
            continue
        name = prop.get("name")
        if name:
            out[name] = text_of(prop).strip()
    return out


def _merge_custom_properties(
    data: bytes | None, props: Mapping[str, str], strict: bool, foreign: frozenset[str] = frozenset()
) -> bytes:
    """Keep every other property (other tenants' labels among them); replace ours; renumber pids from 2."""
    if data is None:
        ns, vt = _CUSTOM_NS[strict], _VT_NS[strict]
        root = etree.Element(f"{{{ns}}}Properties", nsmap={None: ns, "vt": vt})
    else:
        root = parse_no_dtd(data, "custom properties part")
        ns = etree.QName(root).namespace or _CUSTOM_NS[False]
        if etree.QName(root).localname != "Properties":
            raise LabelError("damaged custom properties part: unexpected root element")
        vt = _VT_NS[ns == _CUSTOM_NS[True]]
        for prop in list(root):
            if isinstance(prop.tag, str) and is_replaced_key(prop.get("name", ""), foreign):
                root.remove(prop)
    for name, value in props.items():
        prop = etree.SubElement(root, f"{{{ns}}}property")
        prop.set("fmtid", _FMTID)
        prop.set("pid", "0")  # numbered below; attribute order as Office writes it
        prop.set("name", name)
        text = etree.SubElement(prop, f"{{{vt}}}lpwstr", nsmap={"vt": vt} if vt not in root.nsmap.values() else None)
        text.text = value
    pid = _FIRST_PID
    for prop in root:
        if isinstance(prop.tag, str) and etree.QName(prop).localname == "property":
            prop.set("pid", str(pid))
            pid += 1
    return to_xml(root)


def labelinfo_xml(label: LabelDef, scheme: LabelScheme, content_bits: int, existing: bytes | None = None) -> bytes:
    """The LabelInfo part with our label first and every other tenant's ``label`` element kept.

    Our tenant's earlier entries (enabled or removed) are replaced: one label per tenant.
    ``contentBits`` is optional in the schema and written only when not 0, so a plain label
    is exactly the documented form. An ``extLst`` of the old part is kept, last.
    """
    ours = {
        "id": f"{{{label.guid}}}",
        "enabled": "1",
        "method": scheme.method,
        "siteId": f"{{{scheme.site_id}}}",
        "removed": "0",
    }
    if content_bits:
        ours["contentBits"] = str(content_bits)
    entries: list[dict[str, str]] = [ours]
    tail: list[bytes] = []
    if existing is not None:
        root = parse_no_dtd(existing, "label information part")
        if root.tag != f"{{{LABELINFO_NS}}}labelList":
            raise LabelError("damaged label information part: its root is not clbl:labelList")
        for node in root:
            if not isinstance(node.tag, str):
                continue
            if node.tag == f"{{{LABELINFO_NS}}}label":
                entry = {str(k): str(v) for k, v in node.attrib.items()}
                if not is_own_entry(entry, scheme):
                    entries.append(entry)
            else:
                tail.append(etree.tostring(node, encoding="UTF-8", with_tail=False))
    body = b"".join(_labelinfo_element(entry) for entry in entries) + b"".join(tail)
    head = f'<clbl:labelList xmlns:clbl="{LABELINFO_NS}">'.encode()
    return _LABELINFO_DECL + head + body + b"</clbl:labelList>"


def _labelinfo_element(entry: Mapping[str, str]) -> bytes:
    """One ``clbl:label`` in the spec's byte form: schema attributes in order, then any others."""
    order = [k for k in _LABELINFO_ATTRS if k in entry] + sorted(k for k in entry if k not in _LABELINFO_ATTRS)
    attrs = "".join(f' {k}="{_xml_attr(entry[k])}"' for k in order if not k.startswith("{"))
    return f"<clbl:label{attrs} />".encode()


def _xml_attr(value: str) -> str:
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        value = value.replace(raw, escaped)
    for raw, escaped in (("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        value = value.replace(raw, escaped)
    return value


def _ensure_override(pkg: PackageEdit, part: str, content_type: str) -> None:
    """An Override for ``part`` even where a Default already covers its extension.

    An existing Override is left as it is: Office itself has been seen to declare this part
    with its own content type, and a reader goes by the relationship, not the type.
    """
    data = pkg.read(CONTENT_TYPES)
    if data is None:
        raise LabelError("damaged package: no [Content_Types].xml")
    root = parse_no_dtd(data, CONTENT_TYPES)
    ns = etree.QName(root).namespace
    name = "/" + part
    for override in root.iter(f"{{{ns}}}Override"):
        if override.get("PartName", "").lower() == name.lower():
            return
    override = etree.SubElement(root, f"{{{ns}}}Override")
    override.set("PartName", name)
    override.set("ContentType", content_type)
    pkg.put(CONTENT_TYPES, to_xml(root))


# --------------------------------------------------------------------------- DOCX visible marking


def _docx_marking(pkg: PackageEdit, label: LabelDef, wanted: bool, notes: list[str]) -> bool:
    """Write (or refresh, or remove) the visible marking paragraph in a Word document's headers.

    This is the one case where content parts change: the header parts (a new first
    paragraph, found again later by a hidden bookmark named ``_ClearanceMarking``), and,
    when the document has no header at all, a new header part plus its relationship,
    its content type and a header reference in each section of ``document.xml``.
    A marking left by an earlier label is always refreshed or removed, even without
    ``wanted``, so a document never shows a stale, lower label. Returns whether the
    document now carries our marking.
    """
    text = label.visible_marking if wanted else None
    main = next(iter(pkg.targets("", "officeDocument")), None)
    if main is None or pkg.read(main) is None:
        if wanted:
            notes.append("no main document part found; visible marking not written")
        return False
    headers = [h for h in pkg.targets(main, "header") if pkg.read(h) is not None]
    stale = [h for h in headers if _MARK_BOOKMARK.encode() in (pkg.read(h) or b"")]
    if wanted and text is None:
        notes.append(f"label {label.name!r} has no visible marking text")
    if text is None and not stale:
        return False
    if text is not None and not headers:
        _add_marking_header(pkg, main, text)
        return True
    # Existing headers: refresh ours where present; add ours to every header when wanted.
    for part in headers:
        data = pkg.read(part)
        assert data is not None
        root = parse_no_dtd(data, "header part")
        had = _remove_marking(root)
        if text is not None:
            root.insert(0, _marking_paragraph(etree.QName(root).namespace or "", text, headers.index(part)))
        if had or text is not None:
            pkg.put(part, to_xml(root))
    return text is not None


def _remove_marking(root: etree._Element) -> bool:
    ns = etree.QName(root).namespace
    found = False
    for p in list(root.iter(f"{{{ns}}}p")):
        parent = p.getparent()
        if parent is not None and any(
            b.get(f"{{{ns}}}name") == _MARK_BOOKMARK for b in p.iter(f"{{{ns}}}bookmarkStart")
        ):
            parent.remove(p)
            found = True
    return found


def _marking_paragraph(w: str, text: str, index: int) -> etree._Element:
    def q(tag: str) -> str:
        return f"{{{w}}}{tag}"

    bookmark_id = str(_MARK_BOOKMARK_ID + index)
    p = etree.Element(q("p"))
    ppr = etree.SubElement(p, q("pPr"))
    etree.SubElement(ppr, q("jc")).set(q("val"), "center")
    start = etree.SubElement(p, q("bookmarkStart"))
    start.set(q("id"), bookmark_id)
    start.set(q("name"), _MARK_BOOKMARK)
    run = etree.SubElement(p, q("r"))
    rpr = etree.SubElement(run, q("rPr"))
    etree.SubElement(rpr, q("b"))
    etree.SubElement(rpr, q("color")).set(q("val"), _MARK_COLOUR)
    t = etree.SubElement(run, q("t"))
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    t.text = text
    etree.SubElement(p, q("bookmarkEnd")).set(q("id"), bookmark_id)
    return p


def _add_marking_header(pkg: PackageEdit, main: str, text: str) -> None:
    doc_root = parse_no_dtd(pkg.read(main) or b"", "main document part")
    w = etree.QName(doc_root).namespace or ""
    rel_ns = (STRICT_RELS if pkg.strict else TRANSITIONAL_RELS).rstrip("/")  # the r: namespace of r:id
    folder = posixpath.dirname(main)
    n = 1
    while pkg.taken(posixpath.join(folder, f"header{n}.xml")):
        n += 1
    part = posixpath.join(folder, f"header{n}.xml")
    hdr = etree.Element(f"{{{w}}}hdr", nsmap={"w": w, "r": rel_ns})
    hdr.append(_marking_paragraph(w, text, 0))
    pkg.put(part, to_xml(hdr))
    pkg.ensure_content_type(part, _HEADER_CT)
    rel_id = pkg.add_relationship(main, pkg.rel_type("header"), part)
    body = doc_root.find(f"{{{w}}}body")
    if body is None:
        raise LabelError("damaged Word document: no body")
    sections = list(body.iter(f"{{{w}}}sectPr"))
    if not sections:
        sections = [etree.SubElement(body, f"{{{w}}}sectPr")]
    for sect in sections:
        ref = etree.Element(f"{{{w}}}headerReference")
        ref.set(f"{{{w}}}type", "default")
        ref.set(f"{{{rel_ns}}}id", rel_id)
        sect.insert(0, ref)  # header references come first in a section's properties
    pkg.put(main, to_xml(doc_root))
