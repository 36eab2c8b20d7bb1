"""docs/integrations.md works when pasted: its ``sh`` blocks run in order in an empty folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[1] / "docs" / "integrations.md"


def test_integrations_page_shell_blocks_run(tmp_path: Path) -> None:
    for module in ("openpyxl", "mlflow", "wandb"):
        pytest.importorskip(module)
    blocks = re.findall(r"```sh\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 6
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "WANDB_DATA_DIR": str(tmp_path / "wandb-data"),
        "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
        "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config"),
        "WANDB_SILENT": "true",
    }
    for name in ("MLFLOW_EXPERIMENT_NAME", "WANDB_PROJECT", "WANDB_MODE"):
        env.pop(name, None)
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cases = ET.parse(tmp_path / "gates.xml").getroot().iter("testcase")
    assert {c.attrib["name"] for c in cases} == {"agreement", "in-control"}
    assert (tmp_path / "summary.md").read_text().startswith("### :x: labelaudit check")
    assert json.loads((tmp_path / "gx.json").read_text())["success"] is True
    assert (tmp_path / "week.xlsx").stat().st_size > 0
    assert (tmp_path / "queue.csv").read_text().startswith('"batch","item","reason"')
    assert (tmp_path / "mlflow.db").is_file() and list((tmp_path / "wandb").glob("offline-run-*"))
    audit = json.loads((tmp_path / "audit.json").read_text())
    (pair,) = audit["agreement"]["with_humans"]
    assert pair["n_items"] == 3 and pair["percent_agreement"]["value"] == pytest.approx(2 / 3)
    (scale,) = json.loads((tmp_path / "scale-audit.json").read_text())["annotators"]
    assert (scale["annotator"], scale["n_gold"], scale["gold_correct"]) == ("scale", 2, 1)
