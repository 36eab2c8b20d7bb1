"""Install a pinned Label Studio into its own virtual environment, outside the clone.

Label Studio pins Django and dozens of packages, so it never shares the project's ``.venv``.
Its environment lives in ``${LABELAUDIT_CACHE:-~/.cache/labelaudit}/label-studio-<version>``
and is reused when present (a ``.installed`` stamp marks a finished install; a half-done one
is removed and redone). The install is large (over 1 GB with its dependencies) and takes a
few minutes from the package index.

Run ``python tests/ls_install.py`` to install ahead of a test run; it prints the path of the
``label-studio`` executable. The test harness (``tests/ls_harness.py``) calls
:func:`label_studio_executable` itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LS_VERSION = "1.23.2"
INSTALL_TIMEOUT_S = 3600


def cache_root() -> Path:
    """The labelaudit cache folder (``$LABELAUDIT_CACHE`` or ``~/.cache/labelaudit``)."""
    configured = os.environ.get("LABELAUDIT_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "labelaudit"


def venv_dir(version: str = LS_VERSION) -> Path:
    """Where the Label Studio ``version`` environment lives."""
    return cache_root() / f"label-studio-{version}"


def _base_python() -> str:
    """A Python outside any virtual environment (the project's ``.venv`` must not leak in)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return str(base)


def label_studio_executable(version: str = LS_VERSION, log: Path | None = None) -> Path:
    """Path of ``label-studio`` in its own environment, installing it on first use.

    Parameters
    ----------
    version
        The pinned ``label-studio`` release.
    log
        File receiving pip's output (default: ``install.log`` beside the environment).

    Raises
    ------
    RuntimeError
        When the environment cannot be created or pip fails; the message names the log.
    """
    target = venv_dir(version)
    executable = target / "bin" / "label-studio"
    stamp = target / ".installed"
    if stamp.is_file() and executable.is_file():
        return executable
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    log = log or target.parent / f"label-studio-{version}-install.log"
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    steps = [
        [_base_python(), "-m", "venv", str(target)],
        [str(target / "bin" / "python"), "-m", "pip", "install", "--upgrade", "pip"],
        [str(target / "bin" / "python"), "-m", "pip", "install", f"label-studio=={version}"],
    ]
    with log.open("w") as out:
        for step in steps:
            try:
                subprocess.run(
                    step, check=True, env=env, stdout=out, stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_S,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError) as exc:
                raise RuntimeError(
                    f"installing label-studio=={version} failed ({exc}); see {log}"
                ) from None
    stamp.write_text(version + "\n")
    return executable


if __name__ == "__main__":
    print(label_studio_executable())
