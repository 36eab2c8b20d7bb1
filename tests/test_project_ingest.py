"""Batch ingest: stored rows and results, idempotency, rejects, status and the CLI."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.agreement import agreement_report
from labelaudit.cli.app import app
from labelaudit.datasets import PANDALM_OPTIONS, dataset_path, load_pandalm
from labelaudit.exceptions import InputError, UsageError
from labelaudit.project import (
    Project,
    ReadOptions,
    RejectedRowsError,
    ingest_batch,
    init_project,
    project_status,
)
from labelaudit.project._lines import _csv_lines, _scan_csv

runner = CliRunner()
GOOD = "item,annotator,label\n1,a,pos\n1,b,pos\n2,a,neg\n2,b,pos\n3,a,neg\n3,b,neg\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return init_project(tmp_path / "proj", categories=("pos", "neg"))


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_ingest_stores_rows_and_agreement(project: Project, tmp_path: Path) -> None:
    result = ingest_batch(project, write(tmp_path / "b.csv", GOOD), batch="w1")
    assert result.outcome == "stored"
    assert result.results == ("agreement", "consensus", "annotators")
    assert (result.n_annotations, result.n_items, result.n_annotators) == (6, 3, 2)
    with project.open_store(read_only=True) as store:
        (batch,) = store.batches()
        rows = store.annotations(batch.batch_id).to_pylist()
        stored = json.loads(store.result(batch.batch_id, "agreement") or "{}")
        alpha = store.metric_history("agreement", "krippendorff_alpha")
        runs = store.runs()
    assert {(r["item"], r["annotator"], r["label"]) for r in rows} == {
        ("1", "a", "pos"),
        ("1", "b", "pos"),
        ("2", "a", "neg"),
        ("2", "b", "pos"),
        ("3", "a", "neg"),
        ("3", "b", "neg"),
    }
    assert stored["metrics"]["krippendorff_alpha"]["value"] == alpha[0][1]
    assert alpha[0][0] == "w1" and stored["n_items"] == 3
    assert [r["command"] for r in runs] == ["init", "ingest"]
    assert runs[1]["config_sha256"] == project.config.sha256 and runs[1]["tool_version"]
    assert runs[1]["input_sha256"] == batch.input_sha256


def test_stored_agreement_equals_direct_computation(project: Project) -> None:
    """The PandaLM test set (wide layout) through ingest = agreement_report on it."""
    options = ReadOptions(
        layout="wide",
        item_col="idx",
        annotator_cols=tuple(str(PANDALM_OPTIONS["annotator_cols"]).split(",")),
    )
    root = project.root
    (root / "labelaudit.toml").write_text(
        (root / "labelaudit.toml")
        .read_text()
        .replace('categories = ["pos", "neg"]', 'categories = ["0", "1", "2"]')
    )
    project = Project.load(root)
    result = ingest_batch(project, dataset_path("pandalm"), batch="pandalm", options=options)
    direct = agreement_report(load_pandalm()).to_dict()
    with project.open_store(read_only=True) as store:
        (batch,) = store.batches()
        stored = json.loads(store.result(batch.batch_id, "agreement") or "{}")
    assert result.n_annotations == 2997 and batch.sha256 == direct["input"]["sha256"]
    assert stored["metrics"] == direct["metrics"]
    assert stored["metrics"]["fleiss_kappa"]["value"] == pytest.approx(0.86, abs=0.005)


def test_same_content_under_another_name_and_order_is_a_no_op(
    project: Project, tmp_path: Path
) -> None:
    ingest_batch(project, write(tmp_path / "b.csv", GOOD), batch="w1")
    rows = [line.split(",") for line in GOOD.strip().split("\n")[1:]]
    shuffled = "label,item,annotator\n" + "".join(f"{c},{a},{b}\n" for a, b, c in rows[::-1])
    again = ingest_batch(project, write(tmp_path / "c.csv", shuffled), batch="w2")
    assert again.outcome == "duplicate" and again.batch == "w1" and again.requested == "w2"
    assert "already ingested as batch 'w1'" in again.message()
    same_file = ingest_batch(project, tmp_path / "b.csv", batch="w3")  # fast path
    assert same_file.outcome == "duplicate" and same_file.batch == "w1"
    assert [b["name"] for b in project_status(project).to_dict()["batches"]] == ["w1"]


def test_same_name_other_content_needs_replace(project: Project, tmp_path: Path) -> None:
    ingest_batch(project, write(tmp_path / "b.csv", GOOD), batch="w1")
    ingest_batch(project, write(tmp_path / "x.csv", GOOD.replace("3,b,neg", "3,b,pos")), batch="w2")
    other = write(tmp_path / "c.csv", GOOD.replace("1,b,pos", "1,b,neg"))
    with pytest.raises(UsageError, match=r"already holds other content.*--replace"):
        ingest_batch(project, other, batch="w1")
    replaced = ingest_batch(project, other, batch="w1", replace_batch=True)
    assert replaced.outcome == "replaced"
    with project.open_store(read_only=True) as store:
        batches = store.batches()
        rows = store.annotations(batches[0].batch_id).to_pylist()
        result = json.loads(store.result(batches[0].batch_id, "agreement") or "{}")
        n_results = store.execute("SELECT count(*) FROM batch_results").fetchone()[0]
    assert (
        result["input"]["sha256"] == replaced.sha256 and n_results == 6
    )  # 2 batches x 3 result kinds
    assert [b.name for b in batches] == ["w1", "w2"]  # w1 keeps its place in history
    assert batches[0].sha256 == replaced.sha256
    assert ("1", "b", "neg") in {(r["item"], r["annotator"], r["label"]) for r in rows}


BAD = (
    "item,annotator,label\n"
    "1,a,pos\n"
    "1,b,maybe\n"  # line 3: outside the categories
    "2,a,\n"  # line 4: missing label
    '"2\nx",b,pos\n'  # lines 5-6: one record with a newline in the item
    ",a,neg\n"  # line 7: missing item
    "3,b,neg\n"
    "3,b,pos\n"  # line 9: duplicate of line 8
    "4,,pos\n"  # line 10: missing annotator
)


def test_invalid_rows_fail_the_ingest_listing_all(project: Project, tmp_path: Path) -> None:
    source = write(tmp_path / "bad.csv", BAD)
    with pytest.raises(RejectedRowsError) as caught:
        ingest_batch(project, source, batch="w1")
    listed = [str(r) for r in caught.value.rejects]
    name = str(source)
    assert listed == [
        f"{name}:3:label: expected one of the declared categories (pos, neg) / actual 'maybe'",
        f"{name}:4:label: expected a non-empty label / actual ''",
        f"{name}:7:item: expected a non-empty item / actual ''",
        f"{name}:9:item,annotator: expected one label per item and annotator / "
        "actual 'a second label (first at line 8)'",
        f"{name}:10:annotator: expected a non-empty annotator / actual ''",
    ]
    assert "5 of 8 rows are invalid" in str(caught.value)
    assert project_status(project).to_dict() | {"project": None} == {
        "project": None,
        "batches": [],
        "n_annotations": 0,
        "rejected_rows": 0,
        "rejects": [],
    }


def test_max_rejects_keeps_valid_rows_and_rejects(project: Project, tmp_path: Path) -> None:
    source = write(tmp_path / "bad.csv", BAD)
    with pytest.raises(RejectedRowsError, match="at most 4 allowed"):
        ingest_batch(project, source, batch="w1", max_rejects=4)
    result = ingest_batch(project, source, batch="w1", max_rejects=5)
    assert result.n_rejected == 5 and result.n_annotations == 3
    status = project_status(project).to_dict()
    assert status["rejected_rows"] == 5 and status["batches"][0]["n_rejected"] == 5
    first = status["rejects"][0]
    assert first["batch"] == "w1" and first["line"] == 3 and first["field"] == "label"
    assert first["problem"] == "invalid label" and first["label"] == "maybe"
    assert first["item"] == "1" and first["annotator"] == "b"
    with project.open_store(read_only=True) as store:
        rows = store.annotations(store.batches()[0].batch_id).to_pylist()
    assert sorted((r["item"], r["annotator"]) for r in rows) == [
        ("1", "a"),
        ("2\nx", "b"),
        ("3", "b"),
    ]


def test_first_20_rejects_are_listed(project: Project, tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text(
        "\n".join(
            json.dumps({"item": str(i), "annotator": "a", "label": f"wrong{i}"}) for i in range(25)
        )
        + "\n\n"
        + json.dumps({"item": "x", "annotator": "a", "label": "pos"})
        + "\n"
    )
    with pytest.raises(RejectedRowsError) as caught:
        ingest_batch(project, source, batch="w1")
    message = str(caught.value)
    assert len(caught.value.rejects) == 20 and "... and 5 more problems" in message
    assert f"{source}:20:label:" in message and f"{source}:21:label:" not in message
    result = cli("ingest", str(source), "--batch", "w1", "--project", str(project.root))
    assert result.exit_code == 2
    assert result.output.count(f"{source}:") == 21  # the header line + 20 rejects


def test_interval_level_rejects_non_numbers_with_record_numbers(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj", level="interval")
    table = pa.table({"item": ["1", "1", "2", "2"], "annotator": ["a", "b"] * 2})
    table = table.append_column("label", pa.array(["1.5", "two", "3", "4"]))
    pq.write_table(table, tmp_path / "b.parquet")
    with pytest.raises(RejectedRowsError) as caught:
        ingest_batch(project, tmp_path / "b.parquet", batch="w1")
    (reject,) = caught.value.rejects
    assert str(reject) == (
        f"{tmp_path / 'b.parquet'}:row 2:label: expected a number (interval level) / actual 'two'"
    )


def test_wide_layout_rejects_name_the_annotator_column(project: Project, tmp_path: Path) -> None:
    source = write(tmp_path / "wide.csv", "id,ann1,ann2\nq1,pos,neg\nq2,pos,bad\nq3,,neg\n")
    options = ReadOptions(layout="wide", item_col="id")
    with pytest.raises(RejectedRowsError) as caught:
        ingest_batch(project, source, batch="w1", options=options)
    assert [str(r) for r in caught.value.rejects] == [
        f"{source}:3:ann2: expected one of the declared categories (pos, neg) / actual 'bad'"
    ]
    result = ingest_batch(project, source, batch="w1", options=options, max_rejects=1)
    assert result.n_annotations == 4  # q3/ann1 is "not rated", not a reject


def test_table_level_errors_pass_through(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj", level="ordinal")
    with pytest.raises(InputError, match="ordinal string labels need a declared category order"):
        ingest_batch(project, write(tmp_path / "b.csv", GOOD), batch="w1")
    with pytest.raises(InputError, match="no annotator column"):
        ingest_batch(project, write(tmp_path / "c.csv", "item,label\n1,a\n"), batch="w1")


def test_extra_columns_are_kept(project: Project, tmp_path: Path) -> None:
    text = "item,annotator,label,seconds,note\n1,a,pos,3.5,ok\n1,b,neg,,\n"
    ingest_batch(project, write(tmp_path / "b.csv", text), batch="w1")
    with project.open_store(read_only=True) as store:
        rows = store.annotations(store.batches()[0].batch_id).to_pylist()
    extras = {r["annotator"]: dict(r["extra"]) for r in rows}
    assert extras == {"a": {"seconds": "3.5", "note": "ok"}, "b": {"seconds": None, "note": None}}


def test_status_json_contract(project: Project, tmp_path: Path) -> None:
    ingest_batch(project, write(tmp_path / "b.csv", GOOD), batch="2024-w17")
    result = cli("status", "--project", str(project.root), "--format", "json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    (batch,) = status["batches"]
    assert set(batch) >= {"name", "n_annotations", "n_items", "n_annotators", "ingested_at"}
    assert batch["name"] == "2024-w17" and batch["n_annotations"] == 6
    assert batch["ingested_at"].endswith("Z") and "T" in batch["ingested_at"]
    assert len(batch["sha256"]) == 64 and status["rejected_rows"] == 0
    table = cli("status", "--project", str(project.root))
    assert table.exit_code == 0 and "2024-w17" in table.output
    markdown = cli("status", "--project", str(project.root), "--format", "markdown")
    assert "| 2024-w17 | 6 | 3 | 2 | 0 |" in markdown.output


def test_cli_exit_codes(project: Project, tmp_path: Path) -> None:
    root = str(project.root)
    good = write(tmp_path / "b.csv", GOOD)
    stored = cli("ingest", str(good), "--batch", "w1", "--project", root)
    assert stored.exit_code == 0 and "stored batch 'w1'" in stored.output
    again = cli("ingest", str(good), "--batch", "other", "--project", root, "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["outcome"] == "duplicate"
    bad = write(tmp_path / "bad.csv", BAD)
    refused = cli("ingest", str(bad), "--batch", "w2", "--project", root)
    assert refused.exit_code == 2 and f"{bad}:3:label: expected" in refused.output
    kept = cli("ingest", str(bad), "--batch", "w2", "--project", root, "--max-rejects", "5")
    assert kept.exit_code == 0 and "5 rejected rows kept" in " ".join(kept.output.split())
    changed = write(tmp_path / "c.csv", GOOD.replace("1,b,pos", "1,b,neg"))
    clash = cli("ingest", str(changed), "--batch", "w1", "--project", root)
    assert clash.exit_code == 2 and "--replace" in clash.output
    replaced = cli("ingest", str(changed), "--batch", "w1", "--project", root, "--replace")
    assert replaced.exit_code == 0 and "replaced batch 'w1'" in replaced.output
    missing = cli("ingest", str(tmp_path / "nope.csv"), "--batch", "w3", "--project", root)
    assert missing.exit_code == 2 and "file not found" in missing.output
    outside = cli("status", "--project", str(tmp_path))
    assert outside.exit_code == 2 and "labelaudit init" in outside.output


def test_platform_export_without_answers_is_one_clear_error(
    project: Project, tmp_path: Path
) -> None:
    """A Prodigy file with no usable answer: the platform reader's error, no --item-col."""
    source = write(tmp_path / "b.jsonl", '{"text": "x"}\n')
    with pytest.raises(InputError, match="no usable annotations") as caught:
        ingest_batch(project, source, batch="w1", options=ReadOptions(format="prodigy"))
    assert "--item-col" not in str(caught.value)


_FIELD = st.text(alphabet='ab ,"\n\t', max_size=6)


@settings(max_examples=60)
@given(
    st.lists(st.tuples(_FIELD, _FIELD, st.booleans()), min_size=1, max_size=12),
    st.sampled_from(["\n", "\r\n"]),
)
def test_vectorised_csv_lines_match_a_sequential_scan(
    rows: list[tuple[str, str, bool]], newline: str
) -> None:
    """Record start lines from the byte scan = the csv module's, quotes and blank lines too."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(["item", "label"])
    for item, label, blank_after in rows:
        writer.writerow([item or "x", label or "y"])
        if blank_after:
            buffer.write(newline)
    data = np.frombuffer(buffer.getvalue().encode(), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(data.tobytes())
        scanned = _scan_csv(path, "csv")
    np.testing.assert_array_equal(_csv_lines(data), scanned)
    assert scanned.size == len(rows)


def test_crlf_csv_with_bom_and_blank_lines(project: Project, tmp_path: Path) -> None:
    text = "\ufeffitem,annotator,label\r\n1,a,pos\r\n\r\n1,b,nope\r\n"
    source = tmp_path / "crlf.csv"
    source.write_bytes(text.encode("utf-8"))
    with pytest.raises(RejectedRowsError) as caught:
        ingest_batch(project, source, batch="w1")
    assert [r.line for r in caught.value.rejects] == [4]
