"""The label a file already carries: ours (``Clearance_*`` keys) or Office's (MSIP keys, LabelInfo).

One rule decides "which label is on this file", for the scan's ``existing_label`` note and
for the label writer's ``previous`` alike: newer Office's LabelInfo part first, then the
flat properties (custom document properties, PDF info), where Office's enabled MSIP label
wins and our own keys name it when the GUIDs agree (or stand alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from scanner.labels.scheme import LabelScheme, normalise_guid

# The newer Office label part (``docMetadata/LabelInfo.xml``): its package relationship and namespace.
LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
LABELINFO_NS = "http://schemas.microsoft.com/office/2020/mipLabelMetadata"

MSIP_KEY = re.compile(r"^MSIP_Label_([0-9A-Fa-f-]{36})_([A-Za-z_]+)$")
_TRUE = ("1", "true")


@dataclass(frozen=True, slots=True)
class ExistingLabel:
    """A label found in a file: ours (``source="clearance"``) or Office's (``"msip"``)."""

    name: str | None
    guid: str | None
    source: str  # "clearance" | "msip"
    set_date: str | None = None
    method: str | None = None
    site_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "guid": self.guid,
            "source": self.source,
            "set_date": self.set_date,
            "method": self.method,
            "site_id": self.site_id,
        }


def is_label_key(name: str) -> bool:
    """Keys a new label replaces: every MSIP label (one label per file) and our own."""
    lowered = name.lower()
    return lowered.startswith("msip_label_") or lowered.startswith("clearance_")


def foreign_label_guids(props: Mapping[str, str], scheme: LabelScheme) -> frozenset[str]:
    """GUIDs of MSIP labels in ``props`` that belong to another tenant, so a new label keeps them.

    A label is ours when its GUID is one of the scheme's levels or its SiteId is the
    scheme's tenant. Anything else (another SiteId, or none at all) is another
    organisation's property: labels of different tenants coexist on one file.
    """
    sites: dict[str, str] = {}
    for key, value in props.items():
        m = MSIP_KEY.match(key)
        if m:
            guid = m.group(1).lower()
            sites.setdefault(guid, "")
            if m.group(2).lower() == "siteid":
                sites[guid] = normalise_guid(value) or ""
    return frozenset(guid for guid, site in sites.items() if scheme.find(guid=guid) is None and site != scheme.site_id)


def is_replaced_key(name: str, foreign: frozenset[str]) -> bool:
    """Keys a new label of ours replaces: our own and our tenant's MSIP keys, never another tenant's."""
    m = MSIP_KEY.match(name)
    if m:
        return m.group(1).lower() not in foreign
    return is_label_key(name)


def is_own_entry(entry: Mapping[str, str], scheme: LabelScheme) -> bool:
    """Whether a LabelInfo ``label`` entry is of our tenant (its site, or one of our GUIDs)."""
    site = normalise_guid(entry.get("siteId", "") or "")
    guid = normalise_guid(entry.get("id", "") or "")
    return site == scheme.site_id or (guid is not None and scheme.find(guid=guid) is not None)


def own_label(
    props: Mapping[str, str], label_info: Iterable[Mapping[str, str]], scheme: LabelScheme
) -> ExistingLabel | None:
    """The label of our tenant on a file (what a new label of ours replaces), ignoring other tenants'."""
    foreign = foreign_label_guids(props, scheme)
    mine = {k: v for k, v in props.items() if not (MSIP_KEY.match(k) and not is_replaced_key(k, foreign))}
    return named(effective_label(mine, [e for e in label_info if is_own_entry(e, scheme)]), scheme)


def label_from_properties(props: Mapping[str, str]) -> ExistingLabel | None:
    """Pick the effective label from a flat name->value mapping (custom props, PDF info).

    Office's enabled MSIP label wins; ours names it when it agrees (same GUID). If Office
    relabelled the file after us, our stale ``Clearance_*`` keys are ignored.
    """
    msip: dict[str, dict[str, str]] = {}
    for key, value in props.items():
        m = MSIP_KEY.match(key)
        if m:
            msip.setdefault(m.group(1).lower(), {})[m.group(2).lower()] = value
    enabled = [(g, v) for g, v in msip.items() if v.get("enabled", "").strip().lower() == "true"]
    enabled.sort(key=lambda gv: gv[1].get("setdate", ""), reverse=True)  # the newest, if several
    ours_name = props.get("Clearance_Label")
    ours_guid = normalise_guid(props.get("Clearance_LabelGuid", "") or "")
    if enabled:
        guid, values = enabled[0]
        source = "clearance" if ours_guid == guid else "msip"
        return ExistingLabel(
            values.get("name") or (ours_name if source == "clearance" else None),
            guid,
            source,
            values.get("setdate"),
            values.get("method"),
            normalise_guid(values.get("siteid", "")),
        )
    if ours_name:
        return ExistingLabel(ours_name, ours_guid, "clearance", props.get("Clearance_LabelledAt"))
    return None


def label_info_entries(root: etree._Element) -> list[dict[str, str]]:
    """The attributes of every ``label`` element of a LabelInfo part, in document order."""
    return [
        {str(k): v for k, v in node.attrib.items() if isinstance(v, str)}
        for node in root.iter(f"{{{LABELINFO_NS}}}label")
    ]


def effective_label(props: Mapping[str, str], label_info: Iterable[Mapping[str, str]] = ()) -> ExistingLabel | None:
    """The label in force: the first enabled, not removed LabelInfo entry, else the properties' label.

    LabelInfo carries no name or date: they come from the properties when those name the
    same GUID (Office writes both; LabelInfo wins because newer Office reads it first).
    """
    from_props = label_from_properties(props)
    for entry in label_info:
        if entry.get("enabled", "0") not in _TRUE or entry.get("removed", "0") in _TRUE:
            continue
        guid = normalise_guid(entry.get("id", ""))
        found = ExistingLabel(None, guid, "msip", None, entry.get("method"), normalise_guid(entry.get("siteId", "")))
        if from_props is not None and from_props.guid == guid:
            found = ExistingLabel(
                from_props.name, guid, from_props.source, from_props.set_date, found.method, found.site_id
            )
        return found
    return from_props


def named(found: ExistingLabel | None, scheme: LabelScheme | None) -> ExistingLabel | None:
    """Fill in a missing name from the scheme (LabelInfo carries only the GUID)."""
    if found is None or found.name or scheme is None or not found.guid:
        return found
    level = scheme.find(guid=found.guid)
    if level is None:
        return found
    return ExistingLabel(level.name, found.guid, found.source, found.set_date, found.method, found.site_id)
