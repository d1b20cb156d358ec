"""Sensitivity labels as data: the configured scheme and the label a file already carries.

Writing a label into a file is ``scanner.act``'s job; this package only describes labels, so
extraction, the policy and the configuration can use it without reaching up to the writers.
"""
