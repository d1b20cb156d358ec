"""The ``<name>.clearance.txt`` receipt the person who dropped a file finds where the file was.

It says whether the file was released and to whom, or held in quarantine and why (the policy's
reasons, which carry masked values only), or not sent yet and why. Beside the file rather than
in a ``_receipts`` sub-folder because that is where the person looks when the file vanishes; a
receipt of the same name is replaced when the same name is dropped again.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from scanner.config.settings import Config
from scanner.model import Verdict
from scanner.watch.logs import log_event, words

RECEIPT_SUFFIX = ".clearance.txt"
RECEIPT_TMP_PREFIX = ".clearance-receipt-"
# A temp receipt older than this was left half-written by a run that was killed.
_STALE_TMP_AGE_S = 60.0
_REASONS_SHOWN = 20


class Outcome(enum.StrEnum):
    """What became of a dropped file, as its receipt, the journal and the counters name it."""

    RELEASED = "released"
    QUARANTINED = "quarantined"
    WAITING = "waiting"  # not sent yet, still in the folder: tried again
    FAILED = "failed"  # not sent, still in the folder: left until it changes


def destination_title(config: Config, destination: str) -> str:
    """The destination as people call it (its configured title)."""
    d = config.destinations.get(destination)
    return d.title if d is not None else destination


def receipt_text(
    name: str,
    outcome: Outcome,
    destination: str,
    *,
    verdict: Verdict | None = None,
    label: str | None = None,
    reasons: Iterable[str] = (),
    reference: int | None = None,
    sha256: str | None = None,
    released_as: str | None = None,
    note: str | None = None,
) -> str:
    """The note the person who dropped the file reads. Reasons carry masked values only."""
    reasons = [r for r in reasons if r]
    lines = [f"Clearance — {name}", f"Time: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", ""]
    if outcome is Outcome.RELEASED:
        how = f" with the sensitivity label {label}" if verdict is Verdict.LABEL and label else ""
        lines.append(f"RELEASED to {destination}{how}.")
        if released_as and released_as != name:
            lines.append(f"(A file of the same name was already there; it was sent as {released_as}.)")
    elif outcome is Outcome.QUARANTINED:
        lines += [
            f"NOT SENT to {destination}: the file was moved to quarantine.",
            "If you believe this is wrong, ask your data-protection officer to review it"
            + (f" and quote reference {reference}." if reference else "."),
        ]
    elif outcome is Outcome.WAITING:
        lines.append(f"NOT SENT YET to {destination}. The file is still here; Clearance will try again.")
    else:
        lines.append(f"NOT SENT to {destination}. The file is still here; Clearance could not process it.")
    if note:
        lines += ["", f"Note: {note}"]
    if reasons:
        lines += ["", "Why:"] + [f"  - {r}" for r in reasons[:_REASONS_SHOWN]]
    elif outcome is Outcome.RELEASED:
        lines += ["", "Nothing sensitive was found."]
    lines.append("")
    if reference:
        lines.append(f"Audit reference: {reference}")
    if sha256:
        lines.append(f"File fingerprint (SHA-256): {sha256}")
    return "\n".join(lines) + "\n"


def write_receipt(path: Path, text: str) -> None:
    """``<name>.clearance.txt`` beside ``path``, replaced atomically; a failure is logged, never raised."""
    receipt = path.with_name(path.name + RECEIPT_SUFFIX)
    tmp = path.with_name(f"{RECEIPT_TMP_PREFIX}{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, receipt)
    except OSError as exc:
        log_event(logging.WARNING, "receipt_not_written", path=str(receipt), error=words(exc))
        with contextlib.suppress(OSError):
            tmp.unlink()


def is_receipt_tmp(name: str) -> bool:
    return name.startswith(RECEIPT_TMP_PREFIX)


def remove_if_stale(tmp: str) -> None:
    """Delete a temp receipt a killed run left behind (a young one may be being written now)."""
    with contextlib.suppress(OSError):
        if time.time() - os.stat(tmp).st_mtime > _STALE_TMP_AGE_S:
            os.unlink(tmp)
