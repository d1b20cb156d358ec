"""Exceptions that carry words for the user (the CLI prints them as one line, exit 2)."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem; the message names the file and key."""


class PatternLoadError(Exception):
    """Pattern sets could not be loaded; the message names file, pattern and line."""
