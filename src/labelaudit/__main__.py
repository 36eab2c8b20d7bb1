"""``python -m labelaudit``."""

from labelaudit.cli.app import main

main()
