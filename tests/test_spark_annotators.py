"""``annotators --engine spark``: the statistics on Spark, the local finish, the local report.

Spark (local[2], the session fixture of conftest) against the local engine on the same
files: the whole ``to_dict()`` to 1e-9 (Dawid-Skene and MACE are EM fits), every
closed-form figure to 1e-12, identical flags; ``input.sha256`` is None on Spark (the
content hash needs every row in order). Published crowd data (bluebirds, default
methods: majority, Dawid-Skene, MACE) and generated data with gold labels, durations,
timestamps (ISO 8601, ties, missing cells) and a straight-lining spammer (majority vote
only, to keep the EM runs to one test). Bad input gives the local error line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine_helpers import assert_same
from labelaudit.cli.app import app
from labelaudit.datasets import dataset_path

runner = CliRunner()
BLUEBIRDS = dataset_path("bluebirds")
#: The figures fitted by EM (compared to 1e-9); everything else is closed-form (1e-12).
EM_FITS = ("dawid-skene", "mace")
EM_COLUMNS = ("ds_accuracy", "ds_kappa", "mace_spamming")


def cli(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def closed_form(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the EM-based figures (and without the flag scores, which
    include them: the flags are compared on their own)."""
    out = json.loads(json.dumps(report))
    out["fits"] = {k: v for k, v in out["fits"].items() if k not in EM_FITS}
    for row in out["annotators"]:
        for key in EM_COLUMNS:
            row.pop(key)
    out["pools"] = {k: v for k, v in out["pools"].items() if k not in EM_COLUMNS}
    if out["gold"]:
        aggregators = out["gold"]["aggregators"]
        out["gold"]["aggregators"] = {k: v for k, v in aggregators.items() if k not in EM_FITS}
    out.pop("flags")
    return out


def assert_same_report(remote: dict[str, Any], local: dict[str, Any]) -> None:
    assert remote["input"]["sha256"] is None
    assert remote["input"]["source"] == local["input"]["source"]
    local = {**local, "input": remote["input"]}
    assert_same(remote, local, tol=1e-9)
    assert_same(closed_form(remote), closed_form(local), tol=1e-12)
    identity = [(f["annotator"], f["metric"], f["rule"], f["reason"]) for f in remote["flags"]]
    assert identity == [
        (f["annotator"], f["metric"], f["rule"], f["reason"]) for f in local["flags"]
    ]


def both(*args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Spark, local) JSON reports of ``labelaudit annotators ARGS --format json``."""
    local = cli("annotators", *args, "--format", "json")
    remote = cli("annotators", *args, "--format", "json", "--engine", "spark")
    assert local.exit_code == 0, local.output
    assert remote.exit_code == 0, remote.output
    assert "every row is read" not in remote.stderr  # distributed, not collected
    return json.loads(remote.stdout), json.loads(local.stdout)


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated labels with durations and timestamps (CSV), the same without durations,
    a gold file (one item not in the table) and bluebirds as Parquet."""
    folder = tmp_path_factory.mktemp("spark_annotators")
    rng = np.random.default_rng(11)
    n_items, q = 120, 3
    truth = rng.integers(0, q, n_items)
    rows = []
    for a in range(6):
        clock = 1.7e9 + 3600 * a
        for i in np.flatnonzero(rng.random(n_items) < 0.75):
            good = rng.random() < 0.55 + 0.08 * a
            label = 0 if a == 5 else truth[i] if good else rng.integers(0, q)
            clock += float(rng.integers(0, 3)) * 7.5  # repeated times: order by row
            stamp = "" if rng.random() < 0.05 else f"{np.datetime64(int(clock), 's')}Z"
            duration = "" if rng.random() < 0.05 else f"{rng.exponential(12):.3f}"
            rows.append((f"t{i:03d}", f"w{a}", f"c{label}", duration, stamp))
    rows = [rows[k] for k in rng.permutation(len(rows))]
    names = ["item", "annotator", "label", "duration_s", "created_at"]
    table = pa.table({n: [r[k] for r in rows] for k, n in enumerate(names)})
    pacsv.write_csv(table, folder / "timed.csv")
    pacsv.write_csv(table.drop_columns(["duration_s"]), folder / "stamped.csv")
    gold = [(f"t{i:03d}", f"c{truth[i]}") for i in range(0, n_items, 6)] + [("zz", "c0")]
    pacsv.write_csv(
        pa.table({"item": [g[0] for g in gold], "gold_label": [g[1] for g in gold]}),
        folder / "gold.csv",
    )
    birds = pacsv.read_csv(
        BLUEBIRDS,
        convert_options=pacsv.ConvertOptions(
            column_types={"task": pa.string(), "worker": pa.string(), "label": pa.string()}
        ),
    )
    pq.write_table(birds, folder / "birds.parquet")
    return {
        "timed": folder / "timed.csv",
        "stamped": folder / "stamped.csv",
        "gold": folder / "gold.csv",
        "birds": folder / "birds.parquet",
    }


def test_default_report_on_published_data_equals_local(spark: Any, crowd: dict[str, Path]) -> None:
    """Majority vote, Dawid-Skene and MACE on bluebirds (Parquet, numeric item ids)."""
    remote, local = both(crowd["birds"])
    assert set(remote["fits"]) == {"majority", "dawid-skene", "mace"}
    assert_same_report(remote, local)


def test_gold_timing_and_runs_equal_local(spark: Any, crowd: dict[str, Path]) -> None:
    remote, local = both(crowd["timed"], "--gold", crowd["gold"], "--method", "majority")
    assert local["gold"]["warnings"] and local["config"]["duration_col"] == "duration_s"
    assert {f["metric"] for f in local["flags"] if f["annotator"] == "w5"} >= {"longest_run"}
    assert_same_report(remote, local)


def test_gaps_between_timestamps_equal_local(spark: Any, crowd: dict[str, Path]) -> None:
    remote, local = both(crowd["stamped"], "--method", "majority")
    assert local["config"]["duration_col"] is None
    assert all(row["median_seconds"] is not None for row in local["annotators"])
    assert_same_report(remote, local)


BAD = {
    "missing column": ("item,rater_x,label\na,x,1\n", []),
    "null item": ("item,annotator,label\na,x,1\nb,x,2\n,y,1\nc,y,2\n", []),
    "duplicate pair": ("item,annotator,label\na,x,1\nb,x,2\nc,y,1\nb,y,1\na,x,3\nb,x,1\n", []),
    "bad duration": ("item,annotator,label,duration_s\na,x,1,2\nb,x,2,fast\nc,y,1,3\n", []),
    "negative duration": ("item,annotator,label,duration_s\na,x,1,2\nb,x,2,-1\n", []),
    "bad timestamp": ("item,annotator,label,created_at\na,x,1,2024-01-01\nb,x,2,soon\n", []),
    "no such time column": ("item,annotator,label\na,x,1\n", ["--time-col", "when"]),
    "gold label outside": ("item,annotator,label\na,x,1\nb,y,2\n", ["--gold", "{gold}"]),
    "no gold item": ("item,annotator,label\na,x,1\nb,y,2\n", ["--gold", "{nogold}"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_the_local_error(spark: Any, tmp_path: Path, case: str) -> None:
    text, options = BAD[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    (tmp_path / "gold.csv").write_text("item,gold_label\na,1\nb,7\n")
    (tmp_path / "nogold.csv").write_text("item,gold_label\nq,1\n")
    extra = [o.format(gold=tmp_path / "gold.csv", nogold=tmp_path / "nogold.csv") for o in options]
    args = ["annotators", path, *extra, "--categories", "1,2,3", "--method", "majority"]
    local, remote = cli(*args), cli(*args, "--engine", "spark")
    assert local.exit_code == remote.exit_code == 2, remote.output
    assert remote.stderr == local.stderr and remote.stderr.startswith("error: ")
    assert "Traceback" not in remote.output and "org.apache" not in remote.output


def test_options_spark_does_not_cover_read_every_row_and_say_so(
    spark: Any, crowd: dict[str, Path]
) -> None:
    args = ["annotators", crowd["timed"], "--method", "wawa", "--format", "json"]
    local, remote = cli(*args), cli(*args, "--engine", "spark")
    assert remote.exit_code == 0, remote.output
    assert "--method wawa: every row is read into this process" in remote.stderr
    expected = json.loads(local.stdout)
    found = json.loads(remote.stdout)
    assert_same({**found, "input": None}, {**expected, "input": None})
