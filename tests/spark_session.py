"""A Java runtime and one local SparkSession for the Spark engine tests.

:func:`java_path` finds ``java``, installing Debian's ``default-jre-headless`` with apt-get
when running as root without one (as :mod:`browser` installs Chromium); the ``spark``
fixture skips with the reason when Java or PySpark cannot be had. One session per test run
(``local[2]``, 512 MB driver, UI off, quiet logs), registered once in ``conftest.py``.
Run ``python tests/spark_session.py`` to install Java ahead of a test run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

APT_TIMEOUT_S = 900
PACKAGES = ("default-jre-headless", "openjdk-17-jre-headless")


def _apt_install_java() -> bool:
    """Install a headless Java runtime with apt-get; ``True`` when one is on PATH after."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(
            ["apt-get", "update"], check=True, env=env, timeout=APT_TIMEOUT_S, capture_output=True
        )
        for package in PACKAGES:
            done = subprocess.run(
                ["apt-get", "install", "-y", "--no-install-recommends", package],
                env=env,
                timeout=APT_TIMEOUT_S,
                capture_output=True,
            )
            if done.returncode == 0 and shutil.which("java"):
                return True
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(shutil.which("java"))


@functools.cache
def java_path() -> str | None:
    """Path of ``java`` (installed now as root through apt-get when missing), else None."""
    found = shutil.which("java")
    if found:
        return found
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and shutil.which("apt-get") and _apt_install_java():
        return shutil.which("java")
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The session-wide local SparkSession (skips when Java or PySpark is unavailable)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    if java_path() is None:
        pytest.skip(
            "no Java runtime and it could not be installed (needs root and apt-get: "
            "apt-get install default-jre-headless): Spark engine tests skipped"
        )
    from labelaudit.spark.engine import spark_session

    session = spark_session("local[2]", memory="512m")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    try:
        yield session
    finally:
        session.stop()


if __name__ == "__main__":
    print(java_path() or "Java unavailable")
