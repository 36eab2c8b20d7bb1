"""The Spark engine and the item profiles under it: the same numbers and errors as local.

Profiles (no Spark): summing the profiles of disjoint parts and expanding them gives the
local report to 1e-12. Spark (local[2], the session fixture of conftest): agreement
and consensus reports equal the local engine's on published and generated data,
files and DataFrames; bad input raises the local error line, without a JVM trace.
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

from engine_helpers import assert_same, comparable, generated, published_tables, read
from labelaudit.agreement import agreement_report
from labelaudit.cli.app import app
from labelaudit.datasets import dataset_path
from labelaudit.exceptions import UsageError
from labelaudit.table.profiles import ItemProfiles

runner = CliRunner()
PUBLISHED = published_tables()
BLUEBIRDS = dataset_path("bluebirds")


def halves(arrow: pa.Table, level: str, keep: int) -> ItemProfiles:
    """Profiles of the even and odd items, compacted and added."""
    items = np.asarray(arrow.column("item").to_pylist())
    even = np.isin(items, np.unique(items)[::2])
    parts = [
        ItemProfiles.of_table(read(arrow.filter(pa.array(mask)), level), keep=keep).compact()
        for mask in (even, ~even)
    ]
    return parts[0] + parts[1]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_profiles_of_parts_give_the_published_report(name: str) -> None:
    arrow, level = PUBLISHED[name]
    local = agreement_report(read(arrow, level), top=3).to_dict()
    total = halves(arrow, level, keep=5)
    assert total.n_items == local["n_items"]
    assert_same(comparable(agreement_report(total.expand(), top=3).to_dict()), comparable(local))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compacted_profiles_keep_every_figure_and_the_worst_items(seed: int) -> None:
    arrow = generated(seed, n_items=400, n_annotators=3, q=3)
    table = read(arrow)
    total = halves(arrow, "nominal", keep=5)
    assert total.table.n_items < table.n_items  # repeated profiles were folded
    assert total.n_items == table.n_items and total.n_ratings == table.n_ratings
    expanded = agreement_report(total.expand(), top=5).to_dict()
    assert_same(comparable(expanded), comparable(agreement_report(table, top=5).to_dict()))


def test_one_partition_is_the_table_itself() -> None:
    table = read(generated(3))
    assert ItemProfiles.of_table(table).expand() is table


def test_profiles_of_overlapping_parts_are_refused() -> None:
    part = ItemProfiles.of_table(read(generated(4)))
    with pytest.raises(UsageError, match="in both parts"):
        part + part


# ----------------------------------------------------------------------------- Spark
def spark_table_of(spark: Any, arrow: pa.Table, **options: Any) -> Any:
    from labelaudit.spark import spark_profiles

    frame = spark.createDataFrame(
        arrow.to_pylist(), schema="item string, annotator string, label string"
    )
    return spark_profiles(frame, **options)


#: Published vectors run on Spark too (every one runs through the profiles above):
#: multi-rater with missing ratings, and two raters.
ON_SPARK = ("gwet_raw5observers_15x5_missing", "krippendorff2011_A_binary_2obs")


def test_spark_agreement_equals_local_on_published_data(spark: Any) -> None:
    for name in ON_SPARK:
        arrow, level = PUBLISHED[name]
        profiles = spark_table_of(spark, arrow, level=level)
        local = agreement_report(read(arrow, level)).to_dict()
        expanded = agreement_report(profiles.expand()).to_dict()
        assert_same(comparable(expanded), comparable(local), path=name)


def test_spark_profiles_fold_repeated_items(spark: Any) -> None:
    arrow = generated(5, n_items=600, n_annotators=3, q=3)
    profiles = spark_table_of(spark, arrow, keep=5)
    table = read(arrow)
    assert profiles.table.n_items < table.n_items == profiles.n_items
    local = agreement_report(read(arrow), top=5).to_dict()
    assert_same(comparable(agreement_report(profiles.expand(), top=5).to_dict()), comparable(local))


def cli(*args: str) -> Any:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bluebirds (published crowd data) as CSV and Parquet, and a generated ordinal table."""
    folder = tmp_path_factory.mktemp("spark")
    birds = pacsv.read_csv(
        BLUEBIRDS,
        convert_options=pacsv.ConvertOptions(
            column_types={"task": pa.string(), "worker": pa.string(), "label": pa.string()}
        ),
    )
    pq.write_table(birds, folder / "birds.parquet")
    ordinal = generated(6, n_items=500, n_annotators=4, q=5)
    ordinal = ordinal.set_column(
        2, "label", pa.array([s[1:] for s in ordinal.column("label").to_pylist()])
    )
    pacsv.write_csv(ordinal, folder / "ordinal.csv")
    return {
        "csv": BLUEBIRDS,
        "parquet": folder / "birds.parquet",
        "ordinal": folder / "ordinal.csv",
    }


@pytest.mark.parametrize(
    ("key", "options"),
    [("parquet", []), ("ordinal", ["--level", "ordinal", "--weights", "quadratic"])],
)
def test_cli_agreement_engine_spark_equals_local(
    spark: Any, files: dict[str, Path], key: str, options: list[str]
) -> None:
    args = ["agreement", files[key], "--format", "json", *options]
    local = cli(*args)
    remote = cli(*args, "--engine", "spark")
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    expected, actual = json.loads(local.stdout), json.loads(remote.stdout)
    assert actual["input"]["source"] == expected["input"]["source"]
    assert_same(comparable(actual), comparable(expected))


@pytest.mark.parametrize("method", ["majority", "dawid-skene"])
def test_cli_consensus_engine_spark_equals_local(
    spark: Any, files: dict[str, Path], method: str, tmp_path: Path
) -> None:
    outputs = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.csv"
        done = cli(
            "consensus",
            files["parquet"],
            "--method",
            method,
            "--soft",
            "--out",
            out,
            "--format",
            "json",
            "--engine",
            engine,
        )
        assert done.exit_code == 0, done.output
        outputs[engine] = (json.loads(done.stdout), pacsv.read_csv(out).to_pylist())
    (summary, rows), (local_summary, local_rows) = outputs["spark"], outputs["local"]
    assert [r["label"] for r in rows] == [r["label"] for r in local_rows]  # identical labels
    assert_same(rows, local_rows, tol=1e-9)  # posteriors and shares
    assert_same(summary, local_summary, tol=1e-9)


BAD = {
    "missing column": "item,rater_x,label\na,x,1\n",
    "null item": "item,annotator,label\na,x,1\nb,x,2\n,y,1\nc,y,2\n",
    "null label": "item,annotator,label\na,x,1\nb,x,\nc,y,1\n",
    "duplicate pair": "item,annotator,label\na,x,1\nb,x,2\nc,y,1\nb,y,1\na,x,3\nb,x,1\n",
    "bad declared label": "item,annotator,label\na,x,1\nb,x,2\nc,y,9\nd,y,7\n",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_the_local_error(spark: Any, tmp_path: Path, case: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD[case])
    args = ["agreement", path, "--categories", "1,2,3"]
    local, remote = cli(*args), cli(*args, "--engine", "spark")
    assert local.exit_code == remote.exit_code == 2
    assert remote.stderr == local.stderr and remote.stderr.startswith("error: ")
    assert "Traceback" not in remote.output and "org.apache" not in remote.output


def test_spark_refuses_what_it_cannot_read(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("item,a,b\n1,x,y\n")
    done = cli("agreement", path, "--layout", "wide", "--engine", "spark")
    assert done.exit_code == 2 and "not available with --engine spark" in done.stderr
    missing = cli("agreement", "no_such_table", "--engine", "spark")
    assert missing.exit_code == 2 and "no such table" in missing.stderr
    assert "org.apache" not in missing.output


def test_spark_dawid_skene_equals_local_em(spark: Any) -> None:
    """E and M steps as DataFrame operations: the same iterations, posteriors to 1e-9."""
    from labelaudit.consensus import DawidSkene
    from labelaudit.spark import spark_dawid_skene

    arrow = generated(7, n_items=120, n_annotators=4, q=3)
    table = read(arrow)
    local = DawidSkene(max_iter=3).fit(table)
    frame = spark.createDataFrame(
        arrow.to_pylist(), schema="item string, annotator string, label string"
    )
    found = spark_dawid_skene(frame, max_iter=3)
    assert found.n_iter == local.n_iter_ == 3 and not found.converged
    posteriors = found.posteriors.toArrow()
    position = {str(name): i for i, name in enumerate(table.items)}
    rows = [position[item] for item in posteriors.column("item").to_pylist()]
    probas = np.zeros_like(local.probas_)
    probas[rows, posteriors.column("k").to_numpy()] = posteriors.column("p").to_numpy()
    np.testing.assert_allclose(probas, local.probas_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(found.confusions, local.confusions_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(found.priors, local.priors_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(found.log_likelihood, local.log_likelihood_, rtol=1e-12)
    labels = found.labels.toArrow()
    expected = {str(table.items[i]): str(table.categories[k]) for i, k in enumerate(local.labels_)}
    assert dict(zip(*(labels.column(n).to_pylist() for n in ("item", "label")), strict=True)) == (
        expected
    )
