"""One module per CLI command; each registers itself on ``labelaudit.cli.app.app``."""
