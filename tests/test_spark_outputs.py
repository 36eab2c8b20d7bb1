"""Consensus and diagnostics computed where the data lives: equal to the local engine.

Without Spark: :func:`profile_report` (coefficients and diagnostics weighted by the
profiles' multiplicities, never expanded) equals the local report on published and
generated data. With Spark (local[2], shuffle partitions 2, so the per-item results come
back in several partitions): ``consensus --engine spark`` writes byte-identical files
(majority with random and abstained ties, Dawid-Skene) and the same summary; methods
that do not run distributed are refused; bad input gives the local error line for
``consensus`` and ``annotators`` too.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from typer.testing import CliRunner

from engine_helpers import assert_same, comparable, generated, published_tables, read
from labelaudit.agreement import agreement_report
from labelaudit.agreement.api import profile_report
from labelaudit.cli.app import app
from labelaudit.table.profiles import ItemProfiles

runner = CliRunner()
PUBLISHED = published_tables()


def cli(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def parts(arrow: pa.Table, level: str, keep: int = 5) -> ItemProfiles:
    """Profiles of the even and odd items, compacted and added (two partitions)."""
    items = np.asarray(arrow.column("item").to_pylist())
    even = np.isin(items, np.unique(items)[::2])
    found = [
        ItemProfiles.of_table(read(arrow.filter(pa.array(mask)), level), keep=keep).compact()
        for mask in (even, ~even)
    ]
    return found[0] + found[1]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_profile_report_equals_the_local_report_on_published_data(name: str) -> None:
    arrow, level = PUBLISHED[name]
    local = agreement_report(read(arrow, level), top=3).to_dict()
    found = profile_report(parts(arrow, level), top=3).to_dict()
    assert_same(comparable(found), comparable(local), path=name)


@pytest.mark.parametrize(("seed", "weights"), [(0, "identity"), (1, "quadratic"), (2, "linear")])
def test_profile_report_weights_every_diagnostic_by_multiplicity(seed: int, weights: str) -> None:
    arrow = generated(seed, n_items=500, n_annotators=3, q=3)
    arrow = arrow.set_column(2, "label", pa.array([s[1:] for s in arrow["label"].to_pylist()]))
    profiles = parts(arrow, "ordinal")
    assert profiles.table.n_items < profiles.n_items  # folded: the weights matter
    local = agreement_report(read(arrow, "ordinal"), weights=weights, top=5).to_dict()
    found = profile_report(profiles, weights=weights, top=5).to_dict()
    assert found["input"]["sha256"] is None  # the content hash needs every row
    assert found["per_category"] and found["pairwise"] and found["confusions"]
    assert_same(comparable(found), comparable(local))


def test_profile_report_without_ci_and_with_bootstrap_falls_back() -> None:
    arrow = generated(3, n_items=200, n_annotators=3, q=3)
    profiles = parts(arrow, "nominal")
    for ci in ("none", "bootstrap"):
        local = agreement_report(profiles.expand(), ci=ci, n_boot=50).to_dict()
        found = profile_report(profiles, ci=ci, n_boot=50).to_dict()
        if ci == "bootstrap":  # expanded: the same table, the same draws
            assert found["input"]["sha256"] == local["input"]["sha256"]
        assert_same(comparable(found), comparable(local))


@settings(max_examples=40, deadline=None)
@given(
    counts=arrays(
        np.int64, st.tuples(st.integers(1, 60), st.integers(2, 5)), elements=st.integers(0, 3)
    ),
    cuts=st.lists(st.integers(0, 60), max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_vote_winners_in_ranges_equal_one_pass(
    counts: np.ndarray, cuts: list[int], seed: int
) -> None:
    """Ranges of items, each with the generator advanced to its first item: the same
    shares and winners (random ties included) as the whole matrix at once."""
    from labelaudit.consensus.majority import vote_winners

    scores = counts.astype(np.float64)
    n, q = scores.shape
    shares, labels = vote_winners(scores, "random", np.random.default_rng(seed))
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    for start, end in itertools.pairwise(bounds):
        rng = np.random.Generator(np.random.PCG64(seed).advance(start * q))
        part_shares, part_labels = vote_winners(scores[start:end], "random", rng)
        np.testing.assert_array_equal(part_shares, shares[start:end])
        np.testing.assert_array_equal(part_labels, labels[start:end])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_consensus_written_in_parts_is_the_file_written_at_once(
    tmp_path: Path, suffix: str
) -> None:
    from labelaudit.consensus.api import write_consensus, write_consensus_parts

    table = pa.table(
        {
            "item": ["a", "=cmd()", "c", "d", "+1", "f"],
            "label": ["x", None, "@y", "x", "z", None],
            "confidence": [0.5, 1.0, 0.25, float("nan"), 1 / 3, 0.75],
        }
    )
    if suffix != ".csv":  # JSON has no NaN; Parquet's NaN is unequal to itself
        table = table.set_column(2, "confidence", pa.array([0.5, 1.0, 0.25, None, 1 / 3, 0.75]))
    whole, parts = tmp_path / f"whole{suffix}", tmp_path / f"parts{suffix}"
    write_consensus(table, whole)
    write_consensus_parts([table.slice(0, 0), table.slice(0, 2), table.slice(2)], parts)
    if suffix == ".parquet":
        assert pq.read_table(parts).equals(pq.read_table(whole))
    else:
        assert parts.read_bytes() == whole.read_bytes()


# ----------------------------------------------------------------------------- Spark
@pytest.fixture(scope="module")
def tied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 annotators, 10% missing, 5 categories: many tied votes, numeric item ids."""
    arrow = generated(11, n_items=400, n_annotators=4, q=5)
    arrow = arrow.set_column(0, "item", pa.array([s[1:] for s in arrow["item"].to_pylist()]))
    path = tmp_path_factory.mktemp("spark_outputs") / "tied.csv"
    pacsv.write_csv(arrow, path)
    return path


def both(path: Path, folder: Path, suffix: str, *options: Any) -> dict[str, tuple[Any, Path]]:
    """``consensus`` on both engines: (JSON summary, output file) per engine."""
    found = {}
    for engine in ("local", "spark"):
        out = folder / f"{engine}{suffix}"
        options_out = (*options, "--out", out, "--format", "json", "--engine", engine)
        done = cli("consensus", path, *options_out)
        assert done.exit_code == 0, done.output
        summary = json.loads(done.stdout)
        assert f"wrote {summary['n_items']} rows to {out}" in done.stderr
        found[engine] = (summary, out)
    return found


@pytest.mark.parametrize(
    ("options", "suffix"),
    [
        (("--method", "majority", "--seed", "3"), ".csv"),
        (("--method", "majority", "--tie", "abstain"), ".jsonl"),
        (("--method", "dawid-skene", "--max-iter", "20"), ".csv"),
    ],
)
def test_spark_consensus_writes_the_local_file(
    spark: Any, tied: Path, tmp_path: Path, options: tuple[str, ...], suffix: str
) -> None:
    found = both(tied, tmp_path, suffix, *options)
    (summary, out), (local_summary, local_out) = found["spark"], found["local"]
    assert_same(summary, local_summary, tol=1e-9)
    if "majority" in options:  # exact shares: the files are byte-identical
        assert out.read_bytes() == local_out.read_bytes()
        if "abstain" in options:
            assert summary["n_abstained"] > 0
        return
    rows, local_rows = pacsv.read_csv(out).to_pylist(), pacsv.read_csv(local_out).to_pylist()
    assert [r["label"] for r in rows] == [r["label"] for r in local_rows]
    assert_same(rows, local_rows, tol=1e-9)


@pytest.mark.parametrize(
    ("method", "options"),
    [("majority", {"seed": 3}), ("majority", {"tie": "abstain"}), ("dawid-skene", {"tol": 1e-7})],
)
def test_spark_consensus_in_many_chunks_equals_local(
    spark: Any, tmp_path: Path, method: str, options: dict[str, Any]
) -> None:
    """64 items per partition: random ties drawn at each item's position in every chunk."""
    from labelaudit.consensus.api import run_consensus
    from labelaudit.spark import spark_consensus

    arrow = generated(11, n_items=400, n_annotators=4, q=5)
    frame = spark.createDataFrame(
        arrow.to_pylist(), schema="item string, annotator string, label string"
    )
    out, local_out = tmp_path / "spark.csv", tmp_path / "local.csv"
    found = spark_consensus(frame, method, out=out, options=options, chunk_items=64)
    _, local = run_consensus(read(arrow), method, out=local_out, **options)
    assert found.n_rows == local.n_items and local.n_items > 6 * 64
    assert_same(found.result.to_dict(), local.to_dict(), tol=1e-9)
    if method == "majority":  # exact vote shares and the same draws: the same bytes
        assert out.read_bytes() == local_out.read_bytes()
        return
    rows, local_rows = pacsv.read_csv(out).to_pylist(), pacsv.read_csv(local_out).to_pylist()
    assert [r["label"] for r in rows] == [r["label"] for r in local_rows]
    assert_same(rows, local_rows, tol=1e-9)


def test_spark_soft_labels_equal_local(spark: Any, tied: Path, tmp_path: Path) -> None:
    found = both(tied, tmp_path, ".parquet", "--method", "majority", "--tie", "random", "--soft")
    (summary, out), (local_summary, local_out) = found["spark"], found["local"]
    assert summary["soft"]["n_ambiguous"] > 0
    assert_same(summary, local_summary, tol=1e-12)
    assert pq.read_table(out).equals(pq.read_table(local_out))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--method", "glad"), "--method glad: not available with --engine spark"),
        (("--method", "majority", "--max-iter", "3"), "does not apply to method 'majority'"),
        (("--method", "majority", "--min-votes", "2"), "--min-votes: not available"),
    ],
)
def test_spark_consensus_refuses_what_it_does_not_distribute(
    spark: Any, tied: Path, options: tuple[str, ...], message: str
) -> None:
    done = cli("consensus", tied, *options, "--engine", "spark")
    assert done.exit_code == 2 and message in done.stderr, done.output
    assert "Traceback" not in done.output


BAD = {
    "missing column": "item,rater_x,label\na,x,1\n",
    "null annotator": "item,annotator,label\na,x,1\nb,,2\nc,y,2\n",
    "duplicate pair": "item,annotator,label\na,x,1\nb,x,2\nc,y,1\nb,y,1\na,x,3\nb,x,1\n",
    "bad declared label": "item,annotator,label\na,x,1\nb,x,2\nc,y,9\nd,y,7\n",
}


@pytest.mark.parametrize("command", ["consensus", "annotators"])
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_the_local_error_on_every_command(
    spark: Any, tmp_path: Path, command: str, case: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD[case])
    args = [command, path, "--categories", "1,2,3"]
    local, remote = cli(*args), cli(*args, "--engine", "spark")
    assert local.exit_code == remote.exit_code == 2
    assert remote.stderr == local.stderr and remote.stderr.startswith("error: ")
    assert "Traceback" not in remote.output and "org.apache" not in remote.output
