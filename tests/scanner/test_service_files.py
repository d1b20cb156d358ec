"""The service files in resources/service install as shipped: the Task Scheduler XML keeps to
the published schema's types, the systemd unit passes ``systemd-analyze verify``, the launchd
plist parses; receipts are readable by the person who dropped the file; log lines carry a level
and a syslog priority."""

from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "resources" / "service"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
NS = {"t": TASK_NS}

# xs:duration (XML Schema 1.0, 3.2.6): PnYnMnDTnHnMnS, at least one part, T only before a time part.
_DURATION = re.compile(
    r"^-?P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def _seconds(duration: str) -> float:
    m = _DURATION.match(duration)
    assert m, f"not an xs:duration: {duration!r}"
    y, mo, d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    assert y == 0 and mo == 0, "years/months have no fixed length; the task schema's bounds are in days"
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _task() -> etree._Element:
    return etree.parse(str(SERVICE / "clearance-watch-task.xml")).getroot()


def _one(root: etree._Element, path: str) -> str:
    found = root.findall(path, NS)
    assert len(found) == 1, f"{path}: expected one element, found {len(found)}"
    return (found[0].text or "").strip()


def test_task_xml_restart_on_failure_within_the_schema() -> None:
    # restartType (Task Scheduler Schema): Count is unsignedByte with minInclusive 1,
    # Interval a duration from PT1M to P31D; each needs the other.
    root = _task()
    count = _one(root, "t:Settings/t:RestartOnFailure/t:Count")
    assert count.isdigit() and 1 <= int(count) <= 255, f"Count={count} is not an unsignedByte >= 1"
    interval = _seconds(_one(root, "t:Settings/t:RestartOnFailure/t:Interval"))
    assert 60 <= interval <= 31 * 86400


def test_task_xml_other_typed_values_within_the_schema() -> None:
    root = _task()
    assert root.tag == f"{{{TASK_NS}}}Task" and root.get("version") in ("1.2", "1.3", "1.4")
    # Every duration-typed element holds an xs:duration.
    for name in ("Delay", "ExecutionTimeLimit", "Interval"):
        for el in root.iter(f"{{{TASK_NS}}}{name}"):
            _seconds((el.text or "").strip())
    # priorityType: 0..10.
    priority = _one(root, "t:Settings/t:Priority")
    assert priority.isdigit() and 0 <= int(priority) <= 10
    # xs:boolean elements.
    booleans = (
        "Enabled DisallowStartIfOnBatteries StopIfGoingOnBatteries AllowHardTerminate StartWhenAvailable "
        "RunOnlyIfNetworkAvailable StopOnIdleEnd RestartOnIdle AllowStartOnDemand Hidden RunOnlyIfIdle WakeToRun"
    ).split()
    for name in booleans:
        for el in root.iter(f"{{{TASK_NS}}}{name}"):
            assert (el.text or "").strip() in ("true", "false", "1", "0"), name
    # Enumerations.
    assert _one(root, "t:Settings/t:MultipleInstancesPolicy") in ("Parallel", "Queue", "IgnoreNew", "StopExisting")
    principal = root.find("t:Principals/t:Principal", NS)
    assert principal is not None
    assert _one(principal, "t:LogonType") in ("S4U", "Password", "InteractiveToken", "InteractiveTokenOrPassword")
    assert _one(principal, "t:RunLevel") in ("LeastPrivilege", "HighestAvailable")
    # Actions/@Context is an IDREF to a Principal's id.
    actions = root.find("t:Actions", NS)
    assert actions is not None and actions.get("Context") == principal.get("id")
    assert _one(root, "t:Actions/t:Exec/t:Command")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (SERVICE / "clearance-watch.service").read_text(encoding="utf-8")
    # The shipped ExecStart names the install path to adjust; verify checks that the binary
    # exists, so point it at one that does. Everything else is verified as shipped.
    exec_line = re.search(r"^ExecStart=(\S+)", unit, re.M)
    assert exec_line is not None
    target = tmp_path / "clearance-watch.service"
    target.write_text(unit.replace(exec_line.group(1), sys.executable, 1), encoding="utf-8")
    r = subprocess.run(
        ["systemd-analyze", "verify", str(target)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    # verify exits 0 on unknown keys and unparsable values; it only warns, naming file:line.
    complaints = [line for line in (r.stdout + r.stderr).splitlines() if target.name in line]
    assert r.returncode == 0 and complaints == [], r.stdout + r.stderr


def _unit_settings() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (SERVICE / "clearance-watch.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_systemd_unit_does_not_restart_a_broken_configuration() -> None:
    settings = _unit_settings()
    assert settings["Restart"] == "on-failure"
    assert "2" in settings.get("RestartPreventExitStatus", "").split()


@pytest.mark.skipif(not hasattr(os, "setuid"), reason="POSIX permissions only (Windows: ACLs)")
def test_receipt_written_under_the_units_umask_is_readable_by_the_dropper() -> None:
    """A receipt written by the service account, under the unit's UMask, read by another user."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    umask = int(_unit_settings()["UMask"], 8)
    folder = Path(tempfile.mkdtemp(prefix="clearance-receipt-"))
    try:
        folder.chmod(0o777)  # the watched folder: the dropper writes there, the service too
        dropped = folder / "report.pdf"
        write = (
            "from pathlib import Path; from scanner.watch.receipts import write_receipt; "
            f"write_receipt(Path({str(dropped)!r}), 'NOT SENT to Acme\\n')"
        )
        subprocess.run(
            [sys.executable, "-c", write], cwd=ROOT, check=True, timeout=60, preexec_fn=lambda: os.umask(umask)
        )
        receipt = folder / "report.pdf.clearance.txt"
        assert receipt.exists()
        if os.geteuid() != 0:  # cannot become another user: the mode bits must let one read
            assert receipt.stat().st_mode & 0o004, f"UMask={umask:04o}: receipt not readable by others"
            return

        def as_dropper() -> None:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        r = subprocess.run(
            ["/bin/cat", str(receipt)], capture_output=True, text=True, timeout=30, preexec_fn=as_dropper
        )
        assert r.returncode == 0 and "NOT SENT" in r.stdout, f"UMask={umask:04o}: {r.stderr}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_launchd_plist_parses() -> None:
    with open(SERVICE / "com.clearance.watch.plist", "rb") as fh:
        plist = plistlib.load(fh)
    assert plist["Label"] == "com.clearance.watch"
    args = plist["ProgramArguments"]
    assert isinstance(args, list) and args[1] == "watch" and "--config" in args
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert isinstance(plist["ExitTimeOut"], int) and isinstance(plist["ThrottleInterval"], int)


_LOGGING_SCRIPT = """
import logging, sys
from pathlib import Path
from scanner.cli.watch import _setup_logging
from scanner.watch.logs import log_event
log_file = Path(sys.argv[1]) if sys.argv[1] != "-" else None
_setup_logging("json", log_file, "debug")
log_event(logging.ERROR, "scan_failed", path="a.txt", error="boom")
log_event(logging.WARNING, "receipt_not_written", path="a.txt")
log_event(logging.INFO, "file_released", path="a.txt")
logging.getLogger("clearance.watch").debug("plain message")
"""


def test_json_log_lines_carry_level_and_syslog_priority(tmp_path: Path) -> None:
    log = tmp_path / "watch.log"
    subprocess.run([sys.executable, "-c", _LOGGING_SCRIPT, str(log)], cwd=ROOT, check=True, timeout=60)
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [(x["level"], x["priority"]) for x in lines] == [("error", 3), ("warning", 4), ("info", 6), ("debug", 7)]
    assert lines[0]["event"] == "scan_failed"


def test_on_a_journal_stream_each_line_starts_with_its_priority(tmp_path: Path) -> None:
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as fh:
        st = os.fstat(fh.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        subprocess.run(
            [sys.executable, "-c", _LOGGING_SCRIPT, "-"], cwd=ROOT, check=True, timeout=60, stderr=fh, env=env
        )
    lines = err.read_text(encoding="utf-8").splitlines()
    assert [x[:3] for x in lines] == ["<3>", "<4>", "<6>", "<7>"]
    assert json.loads(lines[0][3:])["priority"] == 3
    # Not a journal stream (JOURNAL_STREAM names another file): plain JSON lines.
    with open(err, "wb") as fh:
        env = {**os.environ, "JOURNAL_STREAM": "1:1"}
        subprocess.run(
            [sys.executable, "-c", _LOGGING_SCRIPT, "-"], cwd=ROOT, check=True, timeout=60, stderr=fh, env=env
        )
    assert all(line.startswith("{") for line in err.read_text(encoding="utf-8").splitlines())
