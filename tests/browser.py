"""Headless Chromium for browser tests: find Debian's ``chromium``, install it if we can.

Playwright's own browser download cannot work on these machines, so the tests drive the
distribution's Chromium through ``executable_path``. :func:`chromium_path` returns its path,
installing the ``chromium`` Debian package first when running as root with ``apt-get``;
it returns ``None`` when neither works, and the browser tests then skip with a reason.

Run ``python tests/browser.py`` to install Chromium ahead of a test run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
APT_TIMEOUT_S = 600
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _apt_install_chromium() -> bool:
    """Install Debian's ``chromium`` with apt-get; ``True`` when it succeeded."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    commands = [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ]
    try:
        for command in commands:
            subprocess.run(command, check=True, env=env, timeout=APT_TIMEOUT_S, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@functools.cache
def chromium_path() -> str | None:
    """Path of a usable Chromium binary, installing Debian's package when possible.

    Returns
    -------
    str or None
        ``/usr/bin/chromium`` when present (or installed now as root through apt-get),
        otherwise ``None``. The result is cached for the whole session.
    """
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and shutil.which("apt-get") and _apt_install_chromium():
        return CHROMIUM if os.path.exists(CHROMIUM) else None
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A session-wide headless Chromium driven by Playwright (skips when unavailable)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    path = chromium_path()
    if path is None:
        pytest.skip(
            f"no Chromium at {CHROMIUM} and it could not be installed "
            "(needs root and apt-get: apt-get install chromium)"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


if __name__ == "__main__":
    print(chromium_path() or "Chromium unavailable")
