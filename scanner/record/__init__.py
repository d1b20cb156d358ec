"""Record (stage 6): the tamper-evident audit trail and what is read from it."""
