"""Writing a label into a PDF, and reading one back.

The label goes into the document information dictionary (the same ``MSIP_Label_*`` and
``Clearance_*`` keys as OOXML custom properties) and into the XMP metadata packet (our
``clearance:`` namespace and ``pdfx:`` mirrors of the info keys), as an incremental update
appended to the untouched original bytes: earlier signatures still cover what they signed.
Only when the original's structure is too damaged to append to is the document rewritten
from what pypdf recovers, and that rewrite must still have every page.

pypdf is imported where it is used: loading it costs start-up time that a scan without
labelling should not pay.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from lxml import etree

from scanner.act.label_common import LabelError, Stamp, Written, label_properties, words
from scanner.labels.existing import (
    MSIP_KEY,
    ExistingLabel,
    foreign_label_guids,
    is_replaced_key,
    label_from_properties,
    named,
    own_label,
)
from scanner.labels.scheme import LabelDef, LabelScheme
from scanner.ooxml.xml import PackageError, parse_no_dtd, text_of

_XMP_CLEARANCE_NS = "https://clearance.invalid/ns/label/1.0/"
_XMP_PDFX_NS = "http://ns.adobe.com/pdfx/1.3/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_X_NS = "adobe:ns:meta/"
# The xpacket wrapper lets tools that do not parse PDF find the packet by scanning bytes.
_XPACKET_BEGIN = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_XPACKET_END = b'\n<?xpacket end="w"?>'
# An incremental update is written with a cross-reference stream, a PDF 1.5 feature.
_XREF_STREAM_VERSION = "1.5"


def read_pdf_label(path: Path, scheme: LabelScheme | None) -> ExistingLabel | None:
    """The label a PDF carries (info dictionary first, then XMP); LabelError if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            reader = _pdf_reader(fh, strict=False)
            return _pdf_existing(reader, scheme)
    except LabelError:
        raise
    except Exception as exc:
        raise LabelError(f"damaged PDF: {words(exc)}") from None


def label_pdf(src: Path, out: IO[bytes], label: LabelDef, scheme: LabelScheme, stamp: Stamp) -> Written:
    """Write the labelled PDF to ``out``.

    First choice: an incremental update (the original bytes stay an exact prefix, so
    earlier signatures still cover what they signed). If the file only opens with a
    lenient reader, or the update does not read back, the document is rewritten from
    what pypdf recovers, and that rewrite must still have every page.
    """
    data = src.read_bytes()
    props = label_properties(label, scheme, stamp, label.content_bits)
    pages: int | None = None
    previous: ExistingLabel | None = None
    for how, strict in (("pdf-incremental", True), ("pdf-rewrite", False)):
        notes: list[str] = []
        try:
            reader = _pdf_reader(io.BytesIO(data), strict=strict)
        except LabelError:
            raise
        except Exception as exc:
            if strict:
                continue  # damaged cross-reference data: do not append to a broken base
            raise LabelError(f"damaged PDF: {words(exc)}") from None
        if pages is None:
            pages = len(reader.pages)
            previous = _pdf_existing(reader, scheme, own_only=True)
        try:
            writer = _pdf_writer(reader, incremental=strict)
            _pdf_set_metadata(writer, reader, props, notes, scheme)
            buffer = io.BytesIO()
            writer.write(buffer)
        except Exception as exc:
            if strict:
                continue
            raise LabelError(f"could not write the labelled PDF ({words(exc)})") from None
        labelled = buffer.getvalue()
        if _pdf_reads_back(labelled, pages, label.guid):
            if how == "pdf-rewrite" and b"/Sig" in data:
                notes.append("the PDF was rewritten; any digital signature in it is no longer valid")
            out.write(labelled)
            return Written(previous, how, False, tuple(notes))
    raise LabelError("the labelled PDF did not read back with every page and the label; nothing was written")


def _pdf_reads_back(data: bytes, pages: int | None, guid: str) -> bool:
    """Re-open the labelled bytes the way a lenient viewer would: same page count, our label."""
    from pypdf import PdfReader  # deferred: pypdf is loaded only when a PDF label is read or written

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if len(reader.pages) != pages:
            return False
        found = _pdf_existing(reader, None)
        return found is not None and found.guid == guid
    except Exception:
        return False


def _pdf_writer(reader: Any, *, incremental: bool) -> Any:
    from pypdf import PdfWriter  # deferred: pypdf is loaded only when a PDF is labelled

    if not incremental:
        return PdfWriter(clone_from=reader)
    writer = PdfWriter(reader, incremental=True)
    # pypdf numbers new objects after the ones it loaded. A cross-reference stream of
    # an earlier update is not one of those, so the new XMP stream could take its
    # number and readers that cached the old stream would see garbage. Reserving every
    # number below the trailer's /Size makes new objects start above all existing ones.
    size = int(reader.trailer.get("/Size", 0))
    objects = getattr(writer, "_objects", None)
    if isinstance(objects, list) and len(objects) < size - 1:
        objects.extend([None] * (size - 1 - len(objects)))
    return writer


def _pdf_set_metadata(
    writer: Any, reader: Any, props: Mapping[str, str], notes: list[str], scheme: LabelScheme
) -> None:
    """Our label in the info dictionary and XMP; other tenants' MSIP keys stay as they were."""
    from pypdf.generic import NameObject, create_string_object  # deferred: as PdfWriter

    xmp = _pdf_xmp_bytes(reader)
    known = {**_xmp_properties(xmp), **_pdf_info_strings(reader.metadata)}
    foreign = foreign_label_guids(known, scheme)

    # pypdf has no public way to delete single info keys; _info is its (shared reader/
    # writer) accessor for the trailer's /Info dictionary, created on first use.
    writer.add_metadata({})
    info = writer._info
    for key in list(info.keys()):
        if is_replaced_key(str(key).lstrip("/"), foreign):
            del info[key]
    for key, value in props.items():
        info[NameObject("/" + key)] = create_string_object(value)
    root = writer.root_object
    packet = _xmp_packet(xmp, props, notes, foreign)
    if "/Metadata" in root:
        del root["/Metadata"]  # a fresh, uncompressed stream: the old one may use any filter
    writer.xmp_metadata = packet
    stream = root["/Metadata"].get_object()
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    # The catalog's /Version says the update needs PDF 1.5 for files whose header is older.
    header = str(getattr(reader, "pdf_header", "%PDF-1.7"))
    version = header.replace("%PDF-", "")[:3]
    current = str(root.get("/Version", "")).lstrip("/")
    if writer.incremental and version < _XREF_STREAM_VERSION and (not current or current < _XREF_STREAM_VERSION):
        root[NameObject("/Version")] = NameObject("/" + _XREF_STREAM_VERSION)


def _pdf_reader(fh: IO[bytes], strict: bool) -> Any:
    from pypdf import PdfReader  # deferred: pypdf is loaded only when a PDF label is read or written

    reader = PdfReader(fh, strict=strict)
    if reader.is_encrypted:
        raise LabelError("encrypted PDF: a label cannot be added without removing its encryption")
    _ = len(reader.pages)  # forces the page tree to be read: a damaged one fails here
    return reader


def _pdf_info_strings(info: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (info or {}).items():
        with contextlib.suppress(Exception):
            value = value.get_object()
        if isinstance(value, str):
            out[str(key).lstrip("/")] = str(value)
    return out


def _xmp_properties(data: bytes | None) -> dict[str, str]:
    """Our and pdfx: (custom info key) properties from an XMP packet, as element or attribute."""
    out: dict[str, str] = {}
    if not data:
        return out
    try:
        root = parse_no_dtd(data, "XMP metadata")
    except PackageError:
        return out
    for desc in root.iter(f"{{{_RDF_NS}}}Description"):
        for key, value in desc.attrib.items():
            _xmp_collect(out, etree.QName(key), str(value))
        for child in desc:
            if isinstance(child.tag, str):
                _xmp_collect(out, etree.QName(child), text_of(child).strip())
    return out


def _xmp_collect(out: dict[str, str], qname: etree.QName, value: str) -> None:
    if qname.namespace == _XMP_CLEARANCE_NS:
        out["Clearance_" + qname.localname] = value
    elif qname.namespace == _XMP_PDFX_NS and MSIP_KEY.match(qname.localname):
        out[qname.localname] = value


def _pdf_existing(reader: Any, scheme: LabelScheme | None, *, own_only: bool = False) -> ExistingLabel | None:
    """The label a PDF carries (our tenant's first when ``scheme`` is given; only ours with ``own_only``)."""
    info = _pdf_info_strings(reader.metadata)
    xmp = _xmp_properties(_pdf_xmp_bytes(reader))
    if scheme is not None:  # our tenant's label first: a file may carry other tenants' too
        for props in (info, xmp):
            mine = own_label(props, (), scheme)
            if mine is not None:
                return mine
        if own_only:
            return None
    found = label_from_properties(info)
    if found is None:
        found = label_from_properties(xmp)
    return named(found, scheme)


def _pdf_xmp_bytes(reader: Any) -> bytes | None:
    try:
        meta = reader.trailer["/Root"].get_object().get("/Metadata")
        return meta.get_object().get_data() if meta is not None else None
    except Exception:  # a broken or unsupported filter on the XMP stream: treat as absent
        return None


def _xmp_packet(
    existing: bytes | None, props: Mapping[str, str], notes: list[str], foreign: frozenset[str] = frozenset()
) -> bytes:
    """The XMP packet with our properties (clearance: and pdfx: mirrors of the info keys) merged in.

    Other XMP content is kept, other tenants' MSIP keys too; ours and our tenant's earlier label are replaced.
    An unreadable packet is replaced only if it has no readable content at all.
    """
    root = None
    if existing and existing.strip(b"\x00 \r\n\t"):
        try:
            root = parse_no_dtd(existing, "XMP metadata")
            if root.find(f".//{{{_RDF_NS}}}RDF") is None and etree.QName(root).localname != "RDF":
                root = None
        except PackageError:
            root = None
        if root is None:
            notes.append("the PDF's XMP metadata was unreadable and has been replaced")
    if root is None:
        root = etree.Element(f"{{{_X_NS}}}xmpmeta", nsmap={"x": _X_NS})
        etree.SubElement(root, f"{{{_RDF_NS}}}RDF", nsmap={"rdf": _RDF_NS})
    rdf = root if etree.QName(root).localname == "RDF" else root.find(f".//{{{_RDF_NS}}}RDF")
    assert rdf is not None
    for desc in list(rdf.iter(f"{{{_RDF_NS}}}Description")):
        for key in list(desc.attrib):
            if _xmp_ours(etree.QName(key), foreign):
                del desc.attrib[key]
        ours = [child for child in desc if isinstance(child.tag, str) and _xmp_ours(etree.QName(child), foreign)]
        for child in ours:
            desc.remove(child)
        parent = desc.getparent()
        if ours and parent is not None and len(desc) == 0 and set(desc.attrib) <= {f"{{{_RDF_NS}}}about"}:
            parent.remove(desc)  # an earlier label's block, now empty
    desc = etree.SubElement(
        rdf, f"{{{_RDF_NS}}}Description", nsmap={"clearance": _XMP_CLEARANCE_NS, "pdfx": _XMP_PDFX_NS}
    )
    desc.set(f"{{{_RDF_NS}}}about", "")
    for key, value in props.items():
        if key.startswith("Clearance_"):
            etree.SubElement(desc, f"{{{_XMP_CLEARANCE_NS}}}{key[len('Clearance_') :]}").text = value
        else:
            etree.SubElement(desc, f"{{{_XMP_PDFX_NS}}}{key}").text = value
    body: bytes = etree.tostring(root, encoding="UTF-8")
    return _XPACKET_BEGIN + body + _XPACKET_END


def _xmp_ours(qname: etree.QName, foreign: frozenset[str]) -> bool:
    ours: bool = qname.namespace == _XMP_CLEARANCE_NS or (
        qname.namespace == _XMP_PDFX_NS
        and qname.localname.lower().startswith("msip_label_")
        and is_replaced_key(qname.localname, foreign)
    )
    return ours
