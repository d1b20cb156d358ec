"""Shared test configuration: headless Qt and the optional shared corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any PySide6 import: the suite runs headless everywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not available")
    return CORPUS


@pytest.fixture(scope="session")
def shared_tools() -> Path:
    tools = SHARED / "tools"
    if not tools.is_dir():
        pytest.skip("../shared/tools is not available")
    return tools
