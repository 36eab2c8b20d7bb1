"""Labeling functions over a Spark DataFrame (``spark_apply_lfs``) and the label model with
``--engine spark``: equal to the local applier and model on the same records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError, UsageError
from labelaudit.weak import apply_lfs, labeling_function

runner = CliRunner()
LABELS = ["HAM", "SPAM"]


@labeling_function()
def check_out(x):  # type: ignore[no-untyped-def]
    return "SPAM" if "check out" in x.text else None


@labeling_function(vectorized=True)
def has_link(batch):  # type: ignore[no-untyped-def]
    return batch["text"].str.contains("http").map({True: "SPAM", False: None})


@labeling_function()
def short(x):  # type: ignore[no-untyped-def]
    return "HAM" if len(x.text.split()) < 3 else None


@labeling_function()
def fragile(x):  # type: ignore[no-untyped-def]
    return "HAM" if 1 / (len(x.text) % 7) else None  # raises on texts of 7, 14, ... chars


@labeling_function(vectorized=True)
def odd(batch):  # type: ignore[no-untyped-def]
    return np.where(batch["text"].str.len() > 20, "MAYBE", "HAM")


LFS = [check_out, has_link, short]
TEXTS = ["check out http://spam.example now", "nice song", "check out my song http://x.org",
         "great", "what a day it was", "see http://a.b", "ok", "fine tune"]  # fmt: skip


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    texts = [TEXTS[i % len(TEXTS)] + " " * (i % 3) for i in range(240)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(240)], "text": texts})


def frame_of(spark: Any, records: pd.DataFrame) -> Any:
    frame = spark.createDataFrame(records)
    assert frame.rdd.getNumPartitions() > 1  # the test spans partitions
    return frame


def same_table(actual: Any, expected: Any) -> None:
    for name in ("items", "annotators", "categories", "item_codes", "annotator_codes",
                 "label_codes"):  # fmt: skip
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name))
    assert actual.data.to_pylist() == expected.data.to_pylist()
    for key in ("n_records", "labeling_functions", "lf_errors"):
        assert actual.report[key] == expected.report[key]


@pytest.mark.parametrize("id_col", ["id", None])
def test_spark_votes_equal_local(spark: Any, records: pd.DataFrame, id_col: str | None) -> None:
    from labelaudit.spark.weak import spark_apply_lfs

    votes = spark_apply_lfs(LFS, frame_of(spark, records), labels=LABELS, id_col=id_col)
    assert votes.frame.columns == ["item", "annotator", "label", "annotator_kind"]
    local = apply_lfs(LFS, records, labels=LABELS, id_col=id_col)
    assert votes.n_votes == local.n_ratings
    same_table(votes.to_table(), local)


def test_spark_errors_equal_local(spark: Any, records: pd.DataFrame) -> None:
    from labelaudit.spark.weak import spark_apply_lfs

    frame = frame_of(spark, records)
    for lfs in ([check_out, fragile], [check_out, odd]):  # an LF raises; a bad label
        with pytest.raises(InputError) as local:
            apply_lfs(lfs, records, labels=LABELS)
        with pytest.raises(InputError) as remote:
            spark_apply_lfs(lfs, frame, labels=LABELS)
        expected = str(local.value).replace("<DataFrame>", "<Spark DataFrame>")
        assert str(remote.value) == expected
    kept = spark_apply_lfs([check_out, fragile], frame, labels=LABELS, on_error="abstain")
    local_kept = apply_lfs([check_out, fragile], records, labels=LABELS, on_error="abstain")
    assert kept.lf_errors == local_kept.report["lf_errors"] and kept.lf_errors["fragile"] > 0
    same_table(kept.to_table(), local_kept)
    twice = records.assign(id=records["id"].where(records.index != 200, "r7"))
    with pytest.raises(InputError, match="record id repeated") as repeated:
        spark_apply_lfs(LFS, frame_of(spark, twice), labels=LABELS, id_col="id")
    assert repeated.value.line == 201 and repeated.value.actual == "r7"
    with pytest.raises(InputError, match="missing id column"):
        spark_apply_lfs(LFS, frame, labels=LABELS, id_col="key")
    with pytest.raises(UsageError, match="named 'short'"):
        spark_apply_lfs([short, short], frame, labels=LABELS)


def test_label_model_engine_spark_equals_local(
    spark: Any, records: pd.DataFrame, tmp_path: Path
) -> None:
    votes = tmp_path / "votes.csv"
    apply_lfs(LFS, records, labels=LABELS, id_col="id").to_pandas().to_csv(votes, index=False)
    outputs = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.csv"
        done = runner.invoke(
            app,
            ["consensus", str(votes), "--method", "label-model", "--n-records", "240",
             "--out", str(out), "--format", "json", "--engine", engine],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        outputs[engine] = (json.loads(done.stdout), out.read_text())
    assert outputs["spark"] == outputs["local"]
