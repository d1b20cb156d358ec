"""What a scan is given: folders it cannot list, entries it must not open, links, and how it stops.

Nothing is passed over in silence: an unreadable folder is a result line with an error (blocked
as unscannable), a FIFO, socket or device is a "skipped" line and is never opened, and a scan
stopped by SIGTERM or Ctrl-C leaves no worker process behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from scanner.model import DocOutcome, Verdict
from scanner.pipeline.scan import iter_inputs, scan_paths
from tests.unprivileged import ordinary_account, run_python, scratch_for

ROOT = Path(__file__).resolve().parents[2]
SSN = "Employee SSN: 212-67-4431\n"
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions, FIFOs and signals")


def clearance(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _build_tree(work: Path) -> str:
    """Python that makes outgoing/{ok.txt, secret/ (mode 000, holds a file), sub/fine.txt}."""
    return (
        "from pathlib import Path\n"
        f"top = Path({str(work / 'outgoing')!r})\n"
        "(top / 'secret').mkdir(parents=True)\n"
        f"(top / 'secret' / 'hidden.txt').write_text({SSN!r})\n"
        "(top / 'sub').mkdir()\n"
        "(top / 'sub' / 'fine.txt').write_text('nothing to see')\n"
        "(top / 'ok.txt').write_text('nothing to see')\n"
        "(top / 'secret').chmod(0)\n"
    )


def _python_m_scanner(*argv: str) -> str:
    """Python that runs ``python -m scanner ARGV`` (run_python takes a snippet, not -m)."""
    return (
        f"import runpy, sys\nsys.argv = ['clearance', *{list(argv)!r}]\n"
        "runpy.run_module('scanner', run_name='__main__')\n"
    )


# ---------------------------------------------------------------------------- unreadable folders
@posix_only
def test_unreadable_folder_is_a_blocked_line_in_the_cli_as_an_ordinary_user() -> None:
    account = ordinary_account()  # ourselves, or 'nobody' when the tests run as root
    with scratch_for(account) as work:
        build = run_python(account, work, _build_tree(work))
        assert build.returncode == 0, build.stderr
        jsonl = run_python(account, work, _python_m_scanner("scan", "--no-audit", "--format", "jsonl", "outgoing"))
        text = run_python(account, work, _python_m_scanner("scan", "--no-audit", "outgoing"))

    assert jsonl.returncode == 1, jsonl.stderr
    lines = {o["path"]: o for o in map(json.loads, jsonl.stdout.splitlines())}
    assert set(lines) == {"outgoing/ok.txt", "outgoing/secret", "outgoing/sub/fine.txt"}
    secret = lines["outgoing/secret"]
    assert secret["error"] == "folder cannot be read: permission denied"
    assert secret["verdict"] == "block"
    assert secret["reasons"] == ["unscannable: folder cannot be read: permission denied"]
    assert lines["outgoing/ok.txt"]["verdict"] == "allow"

    assert text.returncode == 1, text.stderr
    secret_line = next(x for x in text.stdout.splitlines() if "outgoing/secret" in x)
    assert secret_line.startswith("BLOCK") and "error: folder cannot be read: permission denied" in secret_line


@posix_only
def test_unreadable_folder_is_a_result_of_scan_paths_as_an_ordinary_user() -> None:
    account = ordinary_account()
    with scratch_for(account) as work:
        build = run_python(account, work, _build_tree(work))
        assert build.returncode == 0, build.stderr
        r = run_python(
            account,
            work,
            "import json\n"
            "from scanner.pipeline.scan import scan_paths\n"
            "for res in scan_paths(['outgoing'], jobs=1):\n"
            "    print(json.dumps([res.path, res.verdict.value, res.outcome.error]))\n",
        )
    assert r.returncode == 0, r.stderr
    # in order: a folder's files, then its sub-folders, sorted
    assert [json.loads(x) for x in r.stdout.splitlines()] == [
        ["outgoing/ok.txt", "allow", None],
        ["outgoing/secret", "block", "folder cannot be read: permission denied"],
        ["outgoing/sub/fine.txt", "allow", None],
    ]


def test_a_folder_that_vanishes_during_the_walk_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "later").mkdir()
    walk = iter_inputs([tmp_path])
    assert next(walk) == (tmp_path / "a.txt", str(tmp_path / "a.txt"))  # the top folder is listed
    (tmp_path / "later").rmdir()
    gone = next(walk)
    assert isinstance(gone, DocOutcome) and gone.path == str(tmp_path / "later")
    assert gone.errors == ["folder cannot be read: it no longer exists"]
    assert list(walk) == []


# ---------------------------------------------------------------------------- special files, links
@posix_only
def test_special_files_are_skipped_with_a_reason_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opening it for reading would wait for a writer, for ever
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(tmp_path / "sock"))
    (tmp_path / "bad.txt").write_text(SSN, encoding="utf-8")
    started = time.monotonic()
    try:
        r = clearance("scan", "--no-audit", "--format", "jsonl", tmp_path, "/dev/zero", timeout=90)
    finally:
        sock.close()
    assert time.monotonic() - started < 60, "the scan did not wait on a special file"
    assert r.returncode == 1, r.stderr  # bad.txt is blocked; the skipped entries do not block
    lines = {Path(o["path"]).name: o for o in map(json.loads, r.stdout.splitlines())}
    assert lines["pipe"]["skipped"] == "FIFO (special file)" and lines["pipe"]["error"] is None
    assert lines["sock"]["skipped"] == "socket (special file)"
    assert lines["zero"]["skipped"] == "character device (special file)"  # named on the command line
    assert lines["bad.txt"]["verdict"] == "block"

    text = clearance("scan", "--no-audit", tmp_path / "pipe", timeout=90)
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip().endswith("pipe  skipped: FIFO (special file)")


def test_symlinks_to_files_are_scanned_links_to_folders_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SSN, encoding="utf-8")
    top = tmp_path / "top"
    top.mkdir()
    (top / "file-link.txt").symlink_to(outside / "secret.txt")
    (top / "folder-link").symlink_to(outside, target_is_directory=True)
    results = {Path(r.path).name: r for r in scan_paths([top], jobs=1)}
    assert set(results) == {"file-link.txt", "folder-link"}
    assert results["file-link.txt"].verdict is not Verdict.ALLOW, "the link's target is what a copy sends"
    assert results["folder-link"].outcome.notes["skipped"] == "link to a folder (not followed)"
    # a folder link named by the caller is followed
    assert [Path(r.path).name for r in scan_paths([top / "folder-link"], jobs=1)] == ["secret.txt"]


# ---------------------------------------------------------------------------- stopping a scan
def _big_text(path: Path, mb: int) -> Path:
    """Text with identifiers on every line: several seconds of matching for one worker."""
    line = "Record {n}: jane.doe{n}@example-cdmo.com, phone +1 212 555 {m:04d}, IBAN DE89370400440532013000.\n"
    with path.open("w", encoding="utf-8") as fh:
        n = 0
        while fh.tell() < mb * 1024 * 1024:
            n += 1
            fh.write(line.format(n=n, m=n % 10_000))
    return path


def _wait_for_worker_reading(proc: subprocess.Popen[bytes], path: Path, timeout: float = 120) -> list[psutil.Process]:
    """The scan's child processes, once one of them has ``path`` open (the worker is mid-file)."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the scan ended before a worker started on the file"
        children = parent.children(recursive=True)
        for child in children:
            try:
                if any(Path(f.path) == path for f in child.open_files()):
                    return children
            except psutil.Error:
                continue
        time.sleep(0.05)
    raise AssertionError("no worker opened the file")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            continue
    return out


@posix_only
@pytest.mark.slow  # writes 64 MB and starts a worker
@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGINT"],
)
def test_no_worker_outlives_a_stopped_scan(tmp_path: Path, signum: int, exit_code: int) -> None:
    big = _big_text(tmp_path / "big.txt", 64)  # about 15 s of scanning on one core
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "scan", "--no-audit", "--jobs", "1", str(big)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: SIGINT goes to all of it, as Ctrl-C does
    )
    children: list[psutil.Process] = []
    try:
        children = _wait_for_worker_reading(proc, big)
        stopped = time.monotonic()
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)  # a terminal's Ctrl-C reaches the whole group
        else:
            os.kill(proc.pid, signum)  # a service manager or `kill` signals the process
        proc.wait(timeout=60)
        took = time.monotonic() - stopped
        deadline = time.monotonic() + 2  # the pool's own kill is prompt; allow for a slow machine
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _alive(children)
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in _alive(children):
            p.kill()  # an orphaned worker of this scan (it holds stderr open), so a failure leaks nothing
        _, err = proc.communicate()
    assert not left, f"worker processes outlived the scan: {left}"
    assert took < 6, f"the scan took {took:.1f} s to stop"
    assert proc.returncode == exit_code, err.decode(errors="replace")


# ---------------------------------------------------------------------------- reveals
def test_reveal_without_audit_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text(SSN, encoding="utf-8")
    r = clearance("scan", "--no-audit", "--reveal", "--format", "jsonl", tmp_path / "bad.txt")
    assert r.returncode == 2
    assert r.stdout == ""  # not one value printed
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and "--reveal" in r.stderr
