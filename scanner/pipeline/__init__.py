"""The flow run end to end: worker processes, one file's analysis, the public scan API."""
