"""Content hash v2, store migration 3, re-ingest of a corrected column, nominal labels as text.

Regression tests for issue 23 items 3, 4 and 5, and the shared statistics of issue 15.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.agreement import agreement_report, diagnostics
from labelaudit.agreement.alpha import alpha_from_counts
from labelaudit.agreement.chance import chance_corrected
from labelaudit.cli.app import app
from labelaudit.exceptions import UsageError
from labelaudit.project import ingest_batch, init_project
from labelaudit.project._migrations import MIGRATIONS
from labelaudit.project.store import Store
from labelaudit.table import AnnotationTable, content_sha256, read_annotations

runner = CliRunner()


def table(items: list[str], annotators: list[str], labels: list[str], **kw: Any) -> AnnotationTable:
    frame = pd.DataFrame({"item": items, "annotator": annotators, "label": labels, **kw})
    return read_annotations(frame)


def v1_sha256(t: AnnotationTable) -> str:
    """The version-1 definition (rows joined with TAB), to show the collision it had."""
    import hashlib

    order = np.lexsort((t.annotator_codes, t.item_codes))
    text = "".join(
        f"{t.items[i]}\t{t.annotators[a]}\t{t.categories[k]}"
        for i, a, k in zip(
            t.item_codes[order], t.annotator_codes[order], t.label_codes[order], strict=True
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------ hash v2
@pytest.mark.parametrize("sep", ["\t", "\n", "\0", "\r\n"])
def test_separator_characters_in_ids_do_not_collide(sep: str) -> None:
    first = table([f"a{sep}b"], ["c"], ["x"])
    second = table(["a"], [f"b{sep}c"], ["x"])
    if sep == "\t":
        assert v1_sha256(first) == v1_sha256(second)  # the old, ambiguous encoding
    assert content_sha256(first) != content_sha256(second)


def test_hash_ignores_row_order_and_unused_categories() -> None:
    rows = (["i1", "i1", "i2", "i2"], ["a", "b", "a", "b"], ["x", "y", "x", "x"])
    reordered = tuple(list(reversed(column)) for column in rows)
    declared = read_annotations(
        pd.DataFrame(dict(zip(("item", "annotator", "label"), rows, strict=True))),
        categories="y,z,x",
    )
    assert content_sha256(table(*rows)) == content_sha256(table(*reordered))
    assert content_sha256(table(*rows)) == content_sha256(declared)


def test_hash_covers_every_column() -> None:
    rows = (["i1", "i2"], ["a", "a"], ["x", "y"])
    plain = content_sha256(table(*rows))
    with_text = content_sha256(table(*rows, text=["hello", "world"]))
    corrected = content_sha256(table(*rows, text=["hello", "world!"]))
    missing = content_sha256(table(*rows, text=["hello", None]))
    empty = content_sha256(table(*rows, text=["hello", ""]))
    assert len({plain, with_text, corrected, missing, empty}) == 5


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=4).filter(lambda s: s.strip()), min_size=2),
    seed=st.integers(0, 10),
)
def test_hash_is_injective_on_random_ids(names: list[str], seed: int) -> None:
    """Moving characters between item and annotator ids never keeps the hash."""
    rng = np.random.default_rng(seed)
    first, second = names[0].strip(), names[1].strip()
    one = table([first + "\t" + second], ["r"], [str(rng.integers(3))])
    two = table([first], ["\t" + second + "\tr"], [str(rng.integers(3))])
    assert content_sha256(one) != content_sha256(two)


# ------------------------------------------------------------------ store and ingest
def test_tab_ids_are_two_batches(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    one.write_text(json.dumps({"item": "a\tb", "annotator": "c", "label": "x"}) + "\n")
    two.write_text(json.dumps({"item": "a", "annotator": "b\tc", "label": "x"}) + "\n")
    assert ingest_batch(project, one, batch="one").outcome == "stored"
    assert ingest_batch(project, two, batch="two").outcome == "stored"


def test_corrected_column_is_not_a_duplicate(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    first = tmp_path / "w1.csv"
    first.write_text("item,annotator,label,text\n1,a,x,helo\n1,b,x,helo\n2,a,y,ok\n")
    fixed = tmp_path / "w1_fixed.csv"
    fixed.write_text("item,annotator,label,text\n1,a,x,hello\n1,b,x,hello\n2,a,y,ok\n")
    ingest_batch(project, first, batch="w1")
    with pytest.raises(UsageError, match=r"column text \(2 rows\) differ.*--replace"):
        ingest_batch(project, fixed, batch="w1")
    assert ingest_batch(project, fixed, batch="w1", replace_batch=True).outcome == "replaced"
    with project.open_store(read_only=True) as store:
        (batch,) = store.batches()
        stored = store.annotations(batch.batch_id).column("extra").to_pylist()
    assert sorted(dict(m)["text"] for m in stored) == ["hello", "hello", "ok"]


def test_new_column_is_named_in_the_error(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    (tmp_path / "a.csv").write_text("item,annotator,label\n1,a,x\n1,b,x\n")
    (tmp_path / "b.csv").write_text("item,annotator,label,note\n1,a,x,n\n1,b,x,n\n")
    ingest_batch(project, tmp_path / "a.csv", batch="w1")
    with pytest.raises(UsageError, match=r"new column.*note"):
        ingest_batch(project, tmp_path / "b.csv", batch="w1")


def test_migration_4_rehashes_stored_batches(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    path = tmp_path / "b.csv"
    path.write_text("item,annotator,label,note\n1,a,x,n1\n1,b,y,\n2,a,x,n3\n2,b,x,n4\n")
    result = ingest_batch(project, path, batch="w1")
    expected = content_sha256(read_annotations(path))
    assert result.sha256 == expected
    with Store.open(project.store_path) as store:  # pretend the store predates version 3
        store.execute("UPDATE batches SET sha256 = 'v1-hash'")
        store.execute("DELETE FROM schema_migrations WHERE version = 4")
    with Store.open(project.store_path) as store:
        assert [m["version"] for m in store.migrations()] == [m.version for m in MIGRATIONS]
        (batch,) = store.batches()
        agreement = json.loads(store.result(batch.batch_id, "agreement") or "{}")
    assert batch.sha256 == expected
    assert agreement["input"]["sha256"] == expected
    assert ingest_batch(project, path, batch="again").outcome == "duplicate"


# ------------------------------------------------------------- nominal labels (item 3)
def test_nominal_labels_that_look_like_numbers_stay_text() -> None:
    t = table(["i1", "i1", "i2", "i2"], ["a", "b", "a", "b"], ["01", "1", "1.0", "1e0"])
    assert list(t.categories) == ["01", "1", "1.0", "1e0"]
    (warning,) = t.report["warnings"]
    assert "numerically equal" in warning and "'01'" in warning
    assert agreement_report(t).metrics["percent_agreement"].value == 0.0


def test_numeric_levels_merge_equal_numbers_with_a_warning() -> None:
    frame = pd.DataFrame(
        {
            "item": ["i1", "i1", "i2", "i2"],
            "annotator": list("abab"),
            "label": ["01", "1", "2", "2.0"],
        }
    )
    t = read_annotations(frame, level="ordinal")
    assert list(t.categories) == ["1", "2"]
    assert "counted as one category" in t.report["warnings"][0]


def test_twenty_digit_ids_never_merge(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("item,annotator,label\n12345678901234567890,a,x\n12345678901234567891,a,y\n")
    t = read_annotations(path)
    assert list(t.items) == ["12345678901234567890", "12345678901234567891"]
    floats = read_annotations(
        pd.DataFrame(
            {"item": [1.2345678901234567e19, 3.0], "annotator": ["a", "a"], "label": ["x", "y"]}
        )
    )
    assert sorted(floats.items) == ["1.2345678901234567e+19", "3"]


def test_text_labels_refuse_value_weights(tmp_path: Path) -> None:
    t = table(["i1", "i1", "i2", "i2"], list("abab"), ["low", "high", "low", "low"])
    with pytest.raises(UsageError, match="text order is never value order"):
        agreement_report(t, weights="linear")
    path = tmp_path / "t.csv"
    path.write_text("item,annotator,label\n1,a,low\n1,b,high\n2,a,low\n2,b,low\n")
    refused = runner.invoke(app, ["agreement", str(path), "--weights", "linear"])
    assert refused.exit_code == 2 and "--categories" in refused.output
    declared = runner.invoke(
        app, ["agreement", str(path), "--weights", "linear", "--categories", "low,high"]
    )
    assert declared.exit_code == 0, declared.output


# ------------------------------------------------------------- shared statistics (15)
@settings(max_examples=80, deadline=None)
@given(
    counts=st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=1, max_size=12)
)
def test_one_vs_rest_equals_the_coefficients_per_collapse(counts: list[list[int]]) -> None:
    matrix = np.array([row for row in counts if sum(row) > 0] or [[1, 0, 0]])
    kappa, alpha = diagnostics._one_vs_rest(matrix, np.ones(len(matrix)))
    m = matrix.sum(axis=1)
    for k in range(matrix.shape[1]):
        binary = np.column_stack((matrix[:, k], m - matrix[:, k]))
        ref_kappa = chance_corrected(binary, np.eye(2))["fleiss_kappa"].value
        ref_alpha = float(alpha_from_counts(binary, np.array([1.0, 0.0])))
        if ref_kappa is None:
            assert np.isnan(kappa[k])
        else:
            assert kappa[k] == pytest.approx(ref_kappa, abs=1e-12)
        if np.isnan(ref_alpha):
            assert np.isnan(alpha[k])
        else:
            assert alpha[k] == pytest.approx(ref_alpha, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 1000), r=st.integers(1, 6), n=st.integers(1, 30))
def test_dense_and_sparse_pair_tables_agree(seed: int, r: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    cells = [(i, a) for i in range(n) for a in range(r) if rng.random() < 0.7] or [(0, 0)]
    t = table(
        [f"i{i}" for i, _ in cells],
        [f"a{a}" for _, a in cells],
        [str(rng.integers(3)) for _ in cells],
    )
    dense = diagnostics._pair_cells(t)
    limit = diagnostics._DENSE_RATERS
    try:
        diagnostics._DENSE_RATERS = 0
        sparse = diagnostics._pair_cells(t)
    finally:
        diagnostics._DENSE_RATERS = limit
    assert np.array_equal(dense[0], sparse[0]) and np.array_equal(dense[1], sparse[1])


def test_row_order_sorts_by_item_then_annotator() -> None:
    t = table(["b", "a", "b", "a"], ["y", "y", "x", "x"], ["1", "2", "3", "4"])
    order = t.row_order
    assert [(t.items[t.item_codes[o]], t.annotators[t.annotator_codes[o]]) for o in order] == [
        ("a", "x"),
        ("a", "y"),
        ("b", "x"),
        ("b", "y"),
    ]


def test_cli_prints_the_label_warning_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("item,annotator,label\n1,a,1\n1,b,1.0\n2,a,2\n2,b,2\n")
    result = runner.invoke(app, ["agreement", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["categories"] == ["1", "1.0", "2"]
    assert "numerically equal" in result.stderr and "'1.0'" in result.stderr


def test_migration_4_keeps_the_hash_of_rows_the_reader_refuses(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    path = tmp_path / "b.csv"
    path.write_text("item,annotator,label\n1,a,x\n1,b,y\n")
    ingest_batch(project, path, batch="w1")
    interval = json.dumps({"task": "categorical", "level": "interval", "categories": None})
    with Store.open(project.store_path) as store:  # text labels cannot be read at interval
        store.execute("UPDATE batches SET sha256 = 'v1-hash', task_schema = ?", (interval,))
        store.execute("DELETE FROM schema_migrations WHERE version = 4")
    with Store.open(project.store_path) as store:
        (batch,) = store.batches()
        assert 4 in [m["version"] for m in store.migrations()]
    assert batch.sha256 == "v1-hash"
