"""The background folder watcher: stability, dispatch, release or quarantine, receipts."""
