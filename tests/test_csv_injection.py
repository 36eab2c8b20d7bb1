"""CSV/TSV formula injection (OWASP) is neutralised by every writer; round trips stay exact."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.csvio import FORMULA_START, neutralise_formulas, unquote_formulas, write_csv
from labelaudit.io import read_export, write_table
from labelaudit.table import read_annotations

runner = CliRunner()
HOSTILE = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "'=y"]
SAFE_NUMBERS = ["-1", "+2.5", "-3e4"]


def _dangerous(cell: str) -> bool:
    """A cell a spreadsheet would evaluate: formula start and not a plain number."""
    try:
        float(cell)
    except ValueError:
        return cell[:1] != "" and cell[:1] in FORMULA_START
    return False


def _write_input(path: Path) -> list[tuple[str, str, str]]:
    # "'=y" is what labelaudit itself writes for "=y": its readers read it back as "=y"
    names = HOSTILE + SAFE_NUMBERS
    rows = [
        (
            f"item{i}" if i % 2 else f"{names[i % len(names)]}{i}",
            rater,
            names[(i + j) % len(names)],
        )
        for i in range(20)
        for j, rater in enumerate(["=a1", "@bob", "carol"])
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "annotator", "label"])
        writer.writerows(rows)
    return rows


def _cells(path: Path, delimiter: str = ",") -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle, delimiter=delimiter) for cell in row]


def test_neutralise_then_unquote_is_identity_and_safe() -> None:
    values = [*HOSTILE, *SAFE_NUMBERS, "'hi", "''=z", "-", "ok", None]
    table = pa.table({"text": values, "number": list(range(len(values)))})
    safe = neutralise_formulas(table)
    cells = [c for c in safe.column("text").to_pylist() if c is not None]
    assert not any(_dangerous(c) for c in cells)
    assert safe.column("number").equals(table.column("number"))  # numbers stay numbers
    assert safe.column("text").to_pylist()[len(HOSTILE) : len(HOSTILE) + 3] == SAFE_NUMBERS
    assert unquote_formulas(safe).equals(table)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="=+-@\t\r'a1. e", max_size=6), min_size=1, max_size=20))
def test_round_trip_property(values: list[str]) -> None:
    table = pa.table({"text": values})
    safe = neutralise_formulas(table)
    assert not any(_dangerous(c) for c in safe.column("text").to_pylist())
    assert unquote_formulas(safe).equals(table)


def test_consensus_out_csv_is_neutralised(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    _write_input(source)
    out = tmp_path / "labels.csv"
    result = runner.invoke(
        app, ["consensus", str(source), "--method", "majority", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    cells = _cells(out)
    assert not any(_dangerous(c) for c in cells)
    assert '\'=HYPERLINK("http://x")' in cells
    raw = tmp_path / "raw.csv"
    args = ["consensus", str(source), "--method", "majority", "--out", str(raw), "--raw-csv"]
    assert runner.invoke(app, args).exit_code == 0
    assert '=HYPERLINK("http://x")' in _cells(raw)


def test_adjudicate_out_csv_writes_csv(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    _write_input(source)
    out = tmp_path / "queue.csv"
    args = ["adjudicate", str(source), "--method", "majority", "--threshold", "1.0"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and "item" in rows[0]  # CSV with a header, not JSONL
    assert not any(_dangerous(c) for row in rows for c in row.values())
    candidates = json.loads(rows[0]["candidates"]) if "candidates" in rows[0] else None
    assert candidates is None or isinstance(candidates, list)


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_canonical_table_round_trip_is_exact(tmp_path: Path, suffix: str) -> None:
    source = tmp_path / "in.csv"
    _write_input(source)
    table = read_annotations(source)
    out = write_table(table, tmp_path / f"canon{suffix}")
    assert not any(_dangerous(c) for c in _cells(out, "\t" if suffix == ".tsv" else ","))
    back, _ = read_export(out)
    assert list(back.items) == list(table.items)
    assert list(back.annotators) == list(table.annotators)
    assert list(back.categories) == list(table.categories)


def test_plain_reader_strips_the_prefix_it_added(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = _write_input(source)
    safe = tmp_path / "safe.csv"
    write_csv(
        pa.Table.from_pylist(
            [dict(zip(["item", "annotator", "label"], r, strict=True)) for r in rows]
        ),
        safe,
    )
    again = read_annotations(safe)
    # the table reader trims surrounding whitespace of ids and labels ("\tcmd" -> "cmd")
    assert sorted(again.items) == sorted({r[0].strip() for r in rows})
    assert sorted(again.annotators) == sorted({r[1].strip() for r in rows})
    assert sorted(again.categories) == sorted({r[2].strip() for r in rows})
