"""Extractors: one per format, each yielding located text segments (see ``base``)."""
