"""What every format's label writer shares: the errors, the stamp, and the keys a label writes.

A label is written as the Microsoft Information Protection key layout
(``MSIP_Label_<guid>_Enabled`` ... ``_ContentBits``), which Office and Purview read, plus
our own ``Clearance_*`` keys. OOXML keeps them as custom document properties, PDF in its
document information dictionary and XMP packet; the keys and values are the same.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from scanner.labels.existing import ExistingLabel
from scanner.labels.scheme import LabelDef, LabelScheme

_WORDS_CHARS = 160  # of an exception's message in a user-facing reason


class LabelError(Exception):
    """The file could not be labelled (damaged, encrypted, too large...). ``str()`` is for users."""


class LabelUnsupported(LabelError):
    """The file's format cannot carry a label; the policy decides whether it may leave unlabelled."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What identifies one labelling: when, the MSIP action id, and the scanned file's SHA-256."""

    set_date: str
    action_id: str
    scan_sha256: str | None


@dataclass(frozen=True, slots=True)
class Written:
    """What a format's writer did: the label the file had, how it wrote, and remarks for the user."""

    previous: ExistingLabel | None
    how: str  # "custom-properties" | "pdf-incremental" | "pdf-rewrite"
    marking_applied: bool = False
    notes: tuple[str, ...] = ()


def product_version() -> str:
    for dist in ("clearance", "clearance-scanner"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
    return "dev"


def iso_utc(now: datetime | None) -> str:
    """ISO-8601 UTC with a Z, seconds precision (the form Office writes). Naive = UTC."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def label_properties(label: LabelDef, scheme: LabelScheme, stamp: Stamp, content_bits: int) -> dict[str, str]:
    """Every key we write, in the order written. Values are strings (MSIP writes lpwstr)."""
    prefix = f"MSIP_Label_{label.guid}_"
    props = {
        prefix + "Enabled": "true",
        prefix + "SetDate": stamp.set_date,
        prefix + "Method": scheme.method,
        prefix + "Name": label.name,
        prefix + "SiteId": scheme.site_id,
        prefix + "ActionId": stamp.action_id,
        prefix + "ContentBits": str(content_bits),
        "Clearance_Label": label.name,
        "Clearance_LabelGuid": label.guid,
        "Clearance_LabelledAt": stamp.set_date,
        "Clearance_Version": product_version(),
    }
    if stamp.scan_sha256:
        props["Clearance_ScanSha256"] = stamp.scan_sha256
    return props


def words(exc: BaseException) -> str:
    """An exception as a short reason: its type and the first line of its message."""
    msg = str(exc).strip().splitlines()[0][:_WORDS_CHARS] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + msg if msg else ''}"
