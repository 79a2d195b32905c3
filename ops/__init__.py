"""``python -m ops``: the operator's command, built on the app's own settings and adapters."""
