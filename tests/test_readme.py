"""The README's quickstart works when pasted: its shell block runs in an empty folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def quickstart_shell_block() -> str:
    """The first ```sh block under '## Quickstart'."""
    section = README.read_text(encoding="utf-8").split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README: no sh block under ## Quickstart"
    return match.group(1)


def test_quickstart_shell_block_runs(tmp_path: Path) -> None:
    script = quickstart_shell_block()
    assert script.count(".venv/bin/labelaudit") >= 6
    bin_dir = Path(sys.executable).parent
    script = "set -euo pipefail\n" + script.replace(".venv/bin/", f"{bin_dir}/")
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out" / "pilot.json").read_text())["n_items"] == 4
    consensus = (tmp_path / "consensus.csv").read_text().splitlines()
    assert consensus[0] == '"item","label","confidence"' and len(consensus) == 5
    queue = [json.loads(line) for line in (tmp_path / "queue.jsonl").read_text().splitlines()]
    assert [(row["item"], row["reason"]) for row in queue] == [
        ("3", "tie"),
        ("1", "low_confidence"),
    ]
