"""Detect (stage 3): pattern sets, the matching engine, validators, scoring."""
