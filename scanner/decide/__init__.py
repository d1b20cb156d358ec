"""Decide (stage 4): findings and a destination in, a verdict with its reasons out."""
