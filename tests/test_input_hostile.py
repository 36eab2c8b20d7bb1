"""Issue 23, input side: each silent wrong result and each traceback has a named test."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from labelaudit.agreement import agreement_report
from labelaudit.cli.app import app
from labelaudit.exceptions import InputError
from labelaudit.io import read_any, read_export
from labelaudit.project import ReadOptions, ingest_batch, init_project
from labelaudit.project.config import load_config
from labelaudit.table import read_annotations
from labelaudit.table.source import limits, open_arrow

runner = CliRunner()


def _rows(n_items: int = 200, raters: int = 5, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    labels = rng.choice(["pos", "neg"], size=(n_items, raters))
    out = ["item,annotator,label"]
    out += [f"i{i},a{r},{labels[i, r]}" for i in range(n_items) for r in range(raters)]
    return out


# ------------------------------------------------------------------ (1) stray quote
def test_stray_quote_is_an_error_at_the_line_it_opened(tmp_path: Path) -> None:
    rows = _rows()
    rows[501] = rows[501].replace(",pos", ',"pos').replace(",neg", ',"neg')
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError, match="unbalanced quote") as caught:
        read_annotations(path)
    assert caught.value.line == 502
    result = runner.invoke(app, ["agreement", str(path)])
    assert result.exit_code == 2
    assert "stray.csv:502: unbalanced quote" in result.output


def test_quoted_multiline_cells_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('item,annotator,label,text\ni1,a,x,"two\nlines"\ni1,b,x,"say ""hi"""\n')
    table = read_annotations(path)
    assert table.n_ratings == 2


# ------------------------------------------------------------------ (2) missing values
def test_na_null_nan_are_labels_in_csv_as_in_jsonl(tmp_path: Path) -> None:
    cells = [("i1", "a", "NA"), ("i1", "b", "null"), ("i2", "a", "nan"), ("i2", "b", "x")]
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("item,annotator,label\n" + "".join(f"{i},{a},{v}\n" for i, a, v in cells))
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"item": i, "annotator": a, "label": v}) + "\n" for i, a, v in cells)
    )
    from_csv, from_jsonl = read_annotations(csv_path), read_annotations(jsonl)
    assert list(from_csv.categories) == list(from_jsonl.categories) == ["NA", "nan", "null", "x"]
    alpha_csv = agreement_report(from_csv).to_dict()["metrics"]["krippendorff_alpha"]["value"]
    alpha_jsonl = agreement_report(from_jsonl).to_dict()["metrics"]["krippendorff_alpha"]["value"]
    assert alpha_csv == alpha_jsonl


def test_wide_layout_counts_missing_cells_and_na_values_option(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("item,a1,a2\ni1,NA,NA\ni2,x,\ni3,y,y\n")
    table = read_annotations(path, layout="wide")
    assert table.n_ratings == 5  # NA is a label: only the empty cell is not rated
    assert table.report["missing_cells"] == 1
    declared = read_annotations(path, layout="wide", na_values="NA")
    assert declared.n_ratings == 3
    assert declared.report["missing_cells"] == 3


def test_long_layout_reports_the_na_cell_as_written(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("item,annotator,label\ni1,a,NA\ni1,b,x\n")
    with pytest.raises(InputError, match="missing label"):
        read_annotations(path, na_values=["NA"])
    assert read_annotations(path).n_categories == 2


# ------------------------------------------------------------------ (6) names stay text
def test_preference_names_that_look_like_numbers_stay_strings() -> None:
    from labelaudit.results import clean_number

    assert clean_number({"model": "007", "b": "1e3", "c": "inf", "v": float("inf")}) == {
        "model": "007",
        "b": "1e3",
        "c": "inf",
        "v": None,
    }


def test_preferences_cli_keeps_model_names(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    lines = ["prompt,first,second,choice,first_model,second_model,annotator"]
    for i in range(12):
        winner = "first" if i % 3 else "second"
        lines.append(f"p{i} words here,a{i},b{i},{winner},007,1e3,inf")
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["preferences", str(path), "--from", "csv", "--format", "json"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert '"007"' in text and '"1e3"' in text
    assert "1000.0" not in text and "7.0," not in text


# ------------------------------------------------------------------ (8) short prompts
def test_preferences_with_fewer_than_five_words_in_all_prompts(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("prompt,first,second,choice\nhi,a,b,first\nyo,c,d,second\n")
    result = runner.invoke(app, ["preferences", str(path), "--from", "csv", "--format", "json"])
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ (7) interval projects
def test_interval_project_ingests_continuous_ratings(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", level="interval")
    rng = np.random.default_rng(3)
    truth = rng.normal(50, 10, 4000)
    lines = ["item,annotator,label"]
    for r in range(5):
        noisy = truth + rng.normal(0, 3, truth.size)
        lines += [f"i{i},r{r},{v:.4f}" for i, v in enumerate(noisy)]
    path = tmp_path / "cont.csv"
    path.write_text("\n".join(lines) + "\n")
    result = ingest_batch(project, path, batch="w1")
    assert result.outcome == "stored" and result.n_items == 4000
    assert result.results == ("agreement", "consensus", "annotators")
    with project.open_store() as store:
        rows = dict(
            store.execute(
                "SELECT metric, value FROM batch_metrics WHERE metric IN "
                "('krippendorff_alpha', 'within_item_sd', 'icc:ICC(2,1)')"
            ).fetchall()
        )
    assert rows["krippendorff_alpha"] > 0.8
    assert rows["within_item_sd"] == pytest.approx(3.0, rel=0.05)


# ------------------------------------------------------------------ tracebacks
def _expect_input_error(path: Path, match: str, **options: object) -> None:
    with pytest.raises(InputError, match=match):
        read_annotations(path, **options)  # type: ignore[arg-type]
    result = runner.invoke(app, ["agreement", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_latin1_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"item,annotator,label\ni1,a,x\ni1,b,caf\xe9\n")
    _expect_input_error(path, r"latin.csv:3: not UTF-8")


def test_utf16_files_are_named(tmp_path: Path) -> None:
    for name in ("u.csv", "u.json", "u.jsonl"):
        path = tmp_path / name
        path.write_bytes("item,annotator,label\ni,a,x\n".encode("utf-16"))
        _expect_input_error(path, "UTF-16")


def test_gzip_data_under_a_plain_name_is_decoded(tmp_path: Path) -> None:
    text = "\n".join(_rows(20)) + "\n"
    plain, hidden = tmp_path / "p.csv", tmp_path / "z.csv"
    plain.write_text(text)
    hidden.write_bytes(gzip.compress(text.encode()))
    assert read_annotations(hidden).n_ratings == read_annotations(plain).n_ratings == 100
    records = "".join(
        json.dumps(dict(zip(("item", "annotator", "label"), r.split(","), strict=True))) + "\n"
        for r in _rows(20)[1:]
    )
    gz = tmp_path / "r.jsonl.gz"
    gz.write_bytes(gzip.compress(records.encode()))
    assert read_annotations(gz).n_ratings == 100


def test_arrow_readers_get_native_files_only(tmp_path: Path) -> None:
    """Arrow's threaded readers never get a Python file: a buffer read from one is freed
    on an Arrow thread that must take the GIL, which aborted the process at exit
    (benchmarks/exit_crash_loop.py reproduces the abort). Plain and gzip inputs both come back
    as native Arrow files with the same bytes; the gzip size limit still applies."""
    text = ("\n".join(_rows(50)) + "\n").encode()
    plain, packed = tmp_path / "p.csv", tmp_path / "p.csv.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    for path in (plain, packed):
        with open_arrow(path) as handle:
            assert isinstance(handle, pa.NativeFile) and not isinstance(handle, pa.PythonFile)
            assert handle.read() == text
    with limits(max_decompressed_bytes=100), pytest.raises(InputError, match="size limit"):
        open_arrow(packed)
    utf16 = tmp_path / "u.csv"
    utf16.write_bytes("item,annotator,label\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        open_arrow(utf16)


def test_truncated_gzip_is_exit_2_not_aborted(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(_rows(200)) + "\n").encode())
    path = tmp_path / "cut.csv"
    path.write_bytes(data[: len(data) // 2])
    _expect_input_error(path, "truncated or corrupt gzip")
    dpo = tmp_path / "cut.jsonl.gz"
    line = json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n"
    full = gzip.compress((line * 2000).encode())
    dpo.write_bytes(full[: len(full) // 2])
    result = runner.invoke(app, ["preferences", str(dpo), "--from", "dpo"])
    assert result.exit_code == 2 and "Aborted" not in result.output, result.output


def test_deeply_nested_json(tmp_path: Path) -> None:
    for name, text in (
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep.jsonl", '{"item": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
    ):
        path = tmp_path / name
        path.write_text(text)
        _expect_input_error(path, "malformed JSON")
    export = tmp_path / "ls.json"
    export.write_text('[{"data": {}, "annotations": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    with pytest.raises(InputError):
        read_export(export, from_="label-studio")


def test_duplicate_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("item,annotator,label,label\ni,a,x,y\n")
    _expect_input_error(path, "duplicate column name")


def test_nested_parquet_id_columns(tmp_path: Path) -> None:
    for column in (
        pa.array([[1, 2], [3]]),
        pa.array([{"x": 1}, {"x": 2}]),
        pa.array([b"\xff\xfe", b"\x00"], type=pa.binary()),
    ):
        path = tmp_path / f"{column.type}.parquet".replace("<", "").replace(">", "")
        table = pa.table({"item": column, "annotator": ["a", "b"], "label": ["x", "y"]})
        pq.write_table(table, path)
        _expect_input_error(path, "single values|binary column")
    ok = tmp_path / "bin.parquet"
    pq.write_table(
        pa.table({"item": pa.array([b"i1", b"i1"]), "annotator": ["a", "b"], "label": ["x", "y"]}),
        ok,
    )
    assert read_annotations(ok).n_items == 1


def test_integers_longer_than_4300_digits(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text('{"item": ' + "9" * 5000 + ', "annotator": "a", "label": "x"}\n')
    _expect_input_error(path, "malformed JSON")
    export = tmp_path / "big.json"
    export.write_text('[{"data": {}, "annotations": [], "id": ' + "9" * 5000 + "}]")
    with pytest.raises(InputError):
        read_export(export, from_="label-studio")


def test_truncated_store_file(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    store = project.root / "labelaudit.duckdb"
    data = store.read_bytes()
    store.write_bytes(data[: len(data) // 3])
    result = runner.invoke(app, ["status", "--project", str(project.root)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_config_not_utf8_and_ranges_checked_at_read_time(tmp_path: Path) -> None:
    path = tmp_path / "labelaudit.toml"
    path.write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        load_config(path)
    for text, key in (
        ("[monitor]\newma_lambda = 1.5\n", "monitor.ewma_lambda"),
        ("[monitor]\ncusum_h = 0\n", "monitor.cusum_h"),
        ("[monitor]\newma_L = nan\n", "monitor.ewma_L"),
        ("[alert]\ntimeout_s = -1.0\n", "alert.timeout_s"),
        ('[report]\nperiod = "weekly"\n', "report.period"),
        ("[[gates]]\nmetric = 'x'\nop = '>='\nthreshold = inf\n", "gates[1].threshold"),
        ("[agreement]\nseed = " + "9" * 5000 + "\n", None),
    ):
        path.write_text(text)
        with pytest.raises(InputError) as caught:
            load_config(path)
        assert str(path) in str(caught.value)
        if key is not None:
            assert caught.value.field == key


# ------------------------------------------------------------------ limits
def test_line_length_limit_on_gzip_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl.gz"
    line = json.dumps({"item": "i", "annotator": "a", "label": "x" * 5000}) + "\n"
    path.write_bytes(gzip.compress(line.encode()))
    with limits(max_line_bytes=1000), pytest.raises(InputError, match="exceeds the line length"):
        read_annotations(path)
    assert read_annotations(path).n_ratings == 1


def test_decompressed_size_limit_gzip_and_zip(tmp_path: Path) -> None:
    text = ("\n".join(_rows(2000)) + "\n").encode()
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(text))
    with limits(max_decompressed_bytes=10_000), pytest.raises(InputError, match="size limit"):
        read_annotations(path)
    archive = tmp_path / "doccano.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        records = [json.dumps({"id": i, "text": "t", "label": ["pos"]}) for i in range(5000)]
        out.writestr("alice.jsonl", "\n".join(records) + "\n")
    assert read_export(archive, from_="doccano")[0].n_items == 5000
    with limits(max_decompressed_bytes=10_000), pytest.raises(InputError, match="size limit"):
        read_export(archive, from_="doccano")
    result = runner.invoke(
        app, ["agreement", str(path)], env={"LABELAUDIT_MAX_DECOMPRESSED_BYTES": "10000"}
    )
    assert result.exit_code == 2 and "decompressed size limit" in result.output


# ------------------------------------------------------------------ front door (issue 13)
def _prodigy(path: Path) -> Path:
    lines = []
    for i in range(30):
        for who in ("ann", "bob", "cid"):
            answer = "accept" if (i + len(who)) % 3 else "reject"
            lines.append(
                json.dumps(
                    {
                        "text": f"t{i}",
                        "label": "POS",
                        "answer": answer,
                        "_input_hash": i,
                        "_task_hash": i * 7,
                        "_annotator_id": who,
                        "_session_id": who,
                    }
                )
            )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", ["csv", "prodigy"])
def test_agreement_and_ingest_read_the_same_table(tmp_path: Path, kind: str) -> None:
    if kind == "csv":
        source = tmp_path / "b.csv"
        source.write_text("\n".join(_rows(40)) + "\n")
    else:
        source = _prodigy(tmp_path / "b.jsonl")
    project = init_project(tmp_path / "p")
    front, _ = read_any(source)
    result = ingest_batch(project, source, batch="w1", options=ReadOptions.from_config(project))
    with project.open_store() as store:
        stored = store.execute(
            "SELECT item, annotator, label FROM annotations ORDER BY item, annotator"
        ).fetchall()
    mine = sorted(
        zip(
            *(front.data.column(c).to_pylist() for c in ("item", "annotator", "label")), strict=True
        )
    )
    assert stored == mine
    assert result.n_annotations == front.n_ratings
    cli = runner.invoke(app, ["agreement", str(source), "--format", "json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["n_ratings"] == result.n_annotations


def test_ingest_never_asks_for_item_col_on_an_export(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    export = tmp_path / "odd.json"
    export.write_text(json.dumps([{"task": {"x": 1}, "results": [{"v": 1}]}]))
    with pytest.raises(InputError) as caught:
        ingest_batch(project, export, batch="w1")
    assert "--from" in str(caught.value)
