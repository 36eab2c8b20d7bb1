"""CoNLL-2003 files as spans: detection, items and offsets, annotators per file or column,
BIO decoding against seqeval, strict BIOES errors with file:line, commands end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError
from labelaudit.io import detect_format, read_any
from labelaudit.io.conll import tag_spans

DATA = Path(__file__).parent / "data" / "conll"
runner = CliRunner()


def spans_by(table):
    """{(item, annotator): [(text, label), ...]} from a spans table."""
    payload = table.data.column("payload").to_pylist()
    text = table.data.column("text").to_pylist()
    out = {}
    for row, spans in enumerate(payload):
        key = (
            str(table.items[table.item_codes[row]]),
            str(table.annotators[table.annotator_codes[row]]),
        )
        out[key] = [(text[row][s["start"] : s["end"]], s["label"]) for s in spans]
    return out


def test_directory_of_annotator_files(tmp_path):
    assert detect_format(DATA) == "conll"
    assert detect_format(DATA / "a.conll") == "conll"
    table, report = read_any(DATA)
    assert table.task == "spans"
    assert sorted(table.annotators.tolist()) == ["a", "b", "c"]
    assert sorted(table.items.tolist()) == ["doc1-s1", "doc1-s2", "doc2-s1", "doc2-s2"]
    found = spans_by(table)
    assert found[("doc1-s1", "a")] == [
        ("Acme Corp", "ORG"),
        ("Maria Lopez", "PER"),
        ("Lisbon", "LOC"),
    ]
    assert found[("doc1-s1", "b")] == [("Acme Corp", "ORG"), ("Maria", "PER"), ("Lisbon", "LOC")]
    assert found[("doc1-s2", "b")] == [("Lisbon", "ORG")]
    assert found[("doc2-s1", "c")] == [("Brazil", "LOC"), ("New", "LOC"), ("Zealand", "LOC")]
    assert found[("doc2-s2", "a")] == []  # an annotation with no entities, not a missing one
    assert report.n_annotations == 12


def test_txt_with_docstart_is_detected_and_columns_are_annotators(tmp_path):
    lines = []
    for raw in (DATA / "a.conll").read_text().splitlines():
        parts = raw.split()
        if not parts or parts[0] == "-DOCSTART-":
            lines.append(raw)
            continue
        b = "B-PER" if parts[0] == "Lisbon" else parts[-1]
        lines.append(" ".join([parts[0], parts[-1], b, "O"]))
    path = tmp_path / "team.txt"
    path.write_text("\n".join(lines) + "\n")
    assert detect_format(path) == "conll"
    table, _ = read_any(path, annotator_cols="ann1,ann2,ann3")
    found = spans_by(table)
    assert found[("doc1-s1", "ann1")] == [
        ("Acme Corp", "ORG"),
        ("Maria Lopez", "PER"),
        ("Lisbon", "LOC"),
    ]
    assert found[("doc1-s1", "ann2")][-1] == ("Lisbon", "PER")
    assert found[("doc1-s1", "ann3")] == []


BIO = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(BIO)
def test_bio_decoding_matches_seqeval(tags):
    from seqeval.metrics.sequence_labeling import get_entities

    ours = tag_spans(tags, False, path=Path("x"), lines=list(range(1, len(tags) + 1)), who="a")
    theirs = [(start, end + 1, kind) for kind, start, end in get_entities(list(tags))]
    assert sorted(ours) == sorted(theirs)


def test_bioes_is_strict_and_errors_name_file_and_line(tmp_path):
    good = ["B-PER", "E-PER", "O", "S-LOC"]
    assert tag_spans(good, True, path=Path("x"), lines=[1, 2, 3, 4], who="a") == [
        (0, 2, "PER"),
        (3, 4, "LOC"),
    ]
    path = tmp_path / "bad.conll"
    path.write_text("Maria B-PER\nLopez O\nspoke O\n\nin S-LOC\n")
    with pytest.raises(InputError) as caught:
        read_any(path)
    message = str(caught.value)
    assert "bad.conll" in message and ":2" in message and "E-PER" in message
    result = runner.invoke(app, ["agreement", str(path)])
    assert result.exit_code == 2
    assert "bad.conll:2" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("Maria X-PER\n", "malformed tag"),
        ("Maria B-PER\nLopez\n", "too few columns"),
    ],
)
def test_bad_lines_exit_2(tmp_path, content, needle):
    path = tmp_path / "bad.conll"
    path.write_text(content)
    result = runner.invoke(app, ["agreement", str(path)])
    assert result.exit_code == 2, result.output
    assert needle in result.output and "bad.conll" in result.output


def test_misaligned_files_name_both(tmp_path):
    folder = tmp_path / "team"
    shutil.copytree(DATA, folder)
    text = (folder / "c.conll").read_text().replace("Brazil", "Brasil")
    (folder / "c.conll").write_text(text)
    with pytest.raises(InputError, match=r"differs from a\.conll"):
        read_any(folder)


def test_commands_run_on_conll(tmp_path):
    result = runner.invoke(app, ["agreement", str(DATA), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "consensus.jsonl"
    result = runner.invoke(app, ["consensus", str(DATA), "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = {r["item"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert [s["label"] for s in records["doc1-s1"]["label"]] == ["ORG", "PER", "LOC"]
    result = runner.invoke(app, ["annotators", str(DATA), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["annotators"]
    assert {r["annotator"] for r in rows} == {"a", "b", "c"}
    assert "span_f1_exact" in rows[0]


def test_cli_platform_formats_are_the_readers():
    """The command line keeps its own literal list (no pyarrow at start-up): the same names."""
    from labelaudit.cli.common import PLATFORM_FORMATS as CLI_FORMATS
    from labelaudit.cli.common import InputFormat
    from labelaudit.io.detect import PLATFORM_FORMATS

    assert frozenset(PLATFORM_FORMATS) == CLI_FORMATS
    assert {f.value for f in InputFormat} >= CLI_FORMATS
