"""Windows, panels and dialogs. Each subscribes to the ``AppController``; none knows another."""
