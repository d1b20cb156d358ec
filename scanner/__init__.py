"""Clearance: classify and clear files before they leave the company.

The core engine. No Qt here: usable from the CLI, the watcher, the GUI and as a library::

    from scanner import scan_paths
    for result in scan_paths(["outgoing/"]):
        print(result.path, result.verdict.value, result.decision.reasons)
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "scan_paths"]


def __getattr__(name: str) -> object:
    if name == "scan_paths":
        # Deferred: `import scanner` must not load the engine (workers, the CLI's cheap commands).
        from scanner.pipeline.scan import scan_paths

        return scan_paths
    raise AttributeError(name)
