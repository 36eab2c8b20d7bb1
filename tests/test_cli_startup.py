"""Start-up of the ``labelaudit`` process (issue 15): what a command imports, not how fast.

Timing lives in ``benchmarks/bench_e2e.py``; these tests pin the behaviour behind it: a
small ``agreement`` run and ``--help`` import neither pandas nor the plotting, templating
and database libraries, and the pandas deferral of :mod:`labelaudit.cli.startup` gives
pyarrow its whole pandas integration back once pandas is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Runs the console entry point in-process, then prints the heavy modules it imported.
HARNESS = """
import json, sys
heavy = ("pandas", "matplotlib", "jinja2", "duckdb", "scipy.stats", "pyspark")
from labelaudit.cli.app import main
sys.argv = ["labelaudit", *sys.argv[1:]]
try:
    main()
finally:
    print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def _imported(*args: str, cwd: Path) -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    rows = ["item,annotator,label"] + [
        f"i{i},a{a},{(i + a * (i % 2)) % 3}" for i in range(4) for a in range(3)
    ]
    path = tmp_path / "tiny.csv"
    path.write_text("\n".join(rows[:11]) + "\n", encoding="utf-8")
    return path


def test_small_agreement_on_the_terminal_draws_no_chart(tiny: Path) -> None:
    """Only the HTML page shows charts: the terminal rendering needs no matplotlib."""
    out, heavy = _imported("agreement", str(tiny), cwd=tiny.parent)
    assert "Agreement coefficients" in out
    assert heavy == []


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    out, heavy = _imported("--help", cwd=tmp_path)
    assert "agreement" in out
    assert heavy == []


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_small_agreement_imports_nothing_heavy(tiny: Path, kind: str) -> None:
    path = tiny
    if kind == "parquet":
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        path = tiny.with_suffix(".parquet")
        pq.write_table(pacsv.read_csv(tiny), path)
    out, heavy = _imported("agreement", str(path), "--format", "json", cwd=tiny.parent)
    assert heavy == []
    from labelaudit import agreement_report, read_annotations

    expected = agreement_report(read_annotations(path)).to_dict()
    assert json.loads(out)["metrics"] == json.loads(json.dumps(expected["metrics"]))


def test_pandas_comes_back_whole_once_imported(tiny: Path) -> None:
    code = """
import sys
from labelaudit.cli.startup import defer_pandas
defer_pandas()
import pyarrow as pa
from labelaudit import agreement_report, read_annotations
table = read_annotations("tiny.csv")  # labelaudit code converts (pyarrow asks for pandas)
agreement_report(table).to_dict()
assert "pandas" not in sys.modules, "pyarrow's own pandas import was not deferred"
frame = table.to_pandas()  # imports pandas itself
assert list(frame.columns)[:3] == ["item", "annotator", "label"], frame.columns
import pandas as pd
series = pd.Series(pd.Categorical(["u", "v", "u"]))
assert pa.types.is_dictionary(pa.array(series).type), pa.array(series).type  # from_pandas
stamp = pa.array([1_000_000_000_000_000_001], pa.timestamp("ns"))[0].as_py()
assert isinstance(stamp, pd.Timestamp) and stamp.nanosecond == 1, repr(stamp)
assert pa.Table.from_pandas(pd.DataFrame({"a": [1.5, None]})).column("a").null_count == 1
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tiny.parent
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_the_entry_point_builds_only_the_command_it_runs() -> None:
    """``labelaudit agreement ...`` builds one Click command, not ~40; root options and
    unknown names get the whole app (its command list and "did you mean")."""
    from labelaudit.cli.app import app, selected

    only = selected(["agreement", "labels.csv", "--format", "json"])
    assert [c.name for c in only.registered_commands] == ["agreement"]
    assert only.registered_groups == [] and only.registered_callback is app.registered_callback
    plan = selected(["plan", "kappa"])
    assert [g.name for g in plan.registered_groups] == ["plan"]
    assert plan.registered_commands == []
    for argv in ([], ["--help"], ["--version"], ["agreemnt", "x.csv"]):
        assert selected(argv) is app
    assert len(app.registered_commands) > 20  # the copy left the app whole


@pytest.mark.parametrize(
    "argv", [["agreement", "--help"], ["agreement"], ["agreemnt", "x.csv"], ["plan", "--help"]]
)
def test_one_command_app_says_what_the_whole_app_says(tmp_path: Path, argv: list[str]) -> None:
    """Help, usage errors and suggestions are the same from the one-command app."""
    code = """
import sys
from labelaudit.cli.app import app, main
mode, sys.argv = sys.argv[1], ["labelaudit", *sys.argv[2:]]
main() if mode == "main" else app(prog_name="labelaudit")
"""
    outputs = []
    for mode in ("main", "app"):
        env = {**os.environ, "COLUMNS": "100"}
        done = subprocess.run(
            [sys.executable, "-c", code, mode, *argv],
            capture_output=True, text=True, check=False, cwd=tmp_path, env=env,
        )  # fmt: skip
        outputs.append((done.returncode, done.stdout, done.stderr))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] in (0, 2)


def test_pydantic_plugins_are_back_when_the_command_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from labelaudit.cli import app as cli_app

    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    cli_app._defer_pydantic_plugins()
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__"  # while Typer parses
    seen = cli_app.guarded(lambda: os.environ.get("PYDANTIC_DISABLE_PLUGINS"))()
    assert seen is None and "PYDANTIC_DISABLE_PLUGINS" not in os.environ
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "1")  # the user's own setting stays
    cli_app._defer_pydantic_plugins()
    assert cli_app.guarded(lambda: os.environ.get("PYDANTIC_DISABLE_PLUGINS"))() == "1"
