"""``labelaudit label-errors``: confident learning (cleanlab) on planted label errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from label_error_data import CLASSES, crowd_rows, planted
from labelaudit.cli.app import app
from labelaudit.models.label_errors import find_label_errors, read_given_labels
from labelaudit.models.probs import SUM_TOLERANCE, read_probabilities

pytest.importorskip("cleanlab")
pytest.importorskip("sklearn")
from cleanlab.filter import find_label_issues
from cleanlab.multiannotator import get_label_quality_multiannotator

runner = CliRunner()
Rows = list[list[str]]
#: (planted errors, flagged, true positives) per seed; docs/models.md quotes these.
RECOVERY = {0: (54, 68, 46), 1: (57, 65, 57), 2: (59, 65, 56)}


def _run(*args: str) -> dict:
    result = runner.invoke(app, ["label-errors", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("seed", sorted(RECOVERY))
def test_recovers_planted_errors_as_cleanlab_does(tmp_path: Path, seed: int) -> None:
    data = planted(seed=seed)
    labels, probs = data.write(tmp_path)
    found = _run(str(labels), "--probs", str(probs))
    # the same arrays cleanlab sees: the file's probabilities, rows divided by their sums
    matrix = read_probabilities(probs).matrix
    given = data.given
    mask = find_label_issues(given, matrix)
    ranked = find_label_issues(given, matrix, return_indices_ranked_by="self_confidence")
    assert {i["item"] for i in found["issues"]} == set(data.items[mask])
    assert [i["item"] for i in found["issues"]] == data.items[ranked].tolist()
    assert [i["rank"] for i in found["issues"]] == list(range(1, len(ranked) + 1))
    first = found["issues"][0]
    k = int(np.flatnonzero(data.items == first["item"])[0])
    assert first["given"] == CLASSES[given[k]]
    assert first["suggested"] == CLASSES[int(np.argmax(matrix[k]))]
    assert first["quality"] == pytest.approx(matrix[k, given[k]], abs=1e-15)
    flagged = {i["item"] for i in found["issues"]}
    truth = set(data.items[data.errors])
    assert (len(truth), len(flagged), len(flagged & truth)) == RECOVERY[seed]


def test_annotation_table_takes_consensus_and_adds_crowdlab(tmp_path: Path) -> None:
    data = planted(seed=0)
    _, probs = data.write(tmp_path)
    crowd = tmp_path / "crowd.csv"
    pacsv.write_csv(crowd_rows(data), crowd)
    found = _run(str(crowd), "--probs", str(probs), "--method", "majority")
    assert found["labels_from"] == "consensus:majority"
    assert found["n_items"] == 600
    annotators = {a["annotator"]: a for a in found["crowdlab"]["annotators"]}
    assert min(annotators, key=lambda a: annotators[a]["quality"]) == "ann3"  # accuracy 0.6
    # CROWDLAB's own call on the same matrix
    rows = crowd_rows(data).to_pydict()
    names = list(dict.fromkeys(rows["annotator"]))
    matrix = np.full((600, len(names)), np.nan)
    index = {item: i for i, item in enumerate(data.items)}
    for item, who, label in zip(rows["item"], rows["annotator"], rows["label"], strict=True):
        matrix[index[item], names.index(who)] = CLASSES.index(label)
    import pandas as pd

    direct = get_label_quality_multiannotator(
        pd.DataFrame(matrix, columns=names), read_probabilities(probs).matrix, verbose=False
    )
    scores = direct["label_quality"]["consensus_quality_score"].to_numpy()
    ours = {i["item"]: i["quality"] for i in found["crowdlab"]["items"]}
    np.testing.assert_allclose([ours[i] for i in data.items], scores, rtol=0, atol=1e-12)
    quality = direct["annotator_stats"]["annotator_quality"]
    assert {a: annotators[a]["quality"] for a in names} == pytest.approx(dict(quality), abs=1e-12)


def _rewrite(path: Path, target: Path, edit: Callable[[Rows], Rows]) -> Path:
    rows = list(csv.reader(path.open()))
    csv.writer(target.open("w", newline="")).writerows(edit(rows))
    return target


def _error(labels: Path, probs: Path) -> str:
    """The error line of a run from the files' folder (so messages hold bare names)."""
    result = runner.invoke(app, ["label-errors", labels.name, "--probs", probs.name])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr.strip()


def test_bad_probabilities_name_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    labels, probs = planted(n=60, seed=1).write(tmp_path)

    def off(rows: list[list[str]]) -> list[list[str]]:
        rows[5][2] = str(float(rows[5][2]) + 2 * SUM_TOLERANCE)
        return rows

    message = _error(labels, _rewrite(probs, tmp_path / "sum.csv", off))
    assert message.startswith(
        "error: sum.csv:6: probabilities do not sum to 1; field 'cat,dog,fox'"
    )
    assert "within 0.001" in message
    within = _rewrite(probs, tmp_path / "ok.csv", lambda r: [*r[:5], [r[5][0], *(
        f"{float(v) * (1 + SUM_TOLERANCE / 2):.12f}" for v in r[5][1:])], *r[6:]])  # fmt: skip
    assert runner.invoke(app, ["label-errors", str(labels), "--probs", str(within)]).exit_code == 0

    dropped = _rewrite(probs, tmp_path / "class.csv", lambda r: [row[:3] for row in r])
    message = _error(labels, dropped)
    assert message.startswith(
        "error: class.csv:1: class missing from the probability columns; field 'fox'"
    )
    extra = _rewrite(probs, tmp_path / "extra.csv", lambda r: [*r, ["zz", "0.2", "0.3", "0.5"]])
    assert _error(labels, extra).startswith(
        "error: extra.csv:62: item not in the labels; field 'item'; expected an item of "
        "labels.csv; got 'zz'"
    )
    short = _rewrite(probs, tmp_path / "short.csv", lambda r: r[:-1])
    assert "no row for 'x0059' (labels.csv:61)" in _error(labels, short)
    text = _rewrite(
        probs, tmp_path / "text.csv", lambda r: [*r[:7], [r[7][0], "n/a", *r[7][2:]], *r[8:]]
    )
    assert _error(labels, text).startswith(
        "error: text.csv:8: not a probability; field 'cat'; expected a number from 0 to 1; "
        "got 'n/a'"
    )
    twice = _rewrite(probs, tmp_path / "twice.csv", lambda r: [*r, r[3]])
    assert _error(labels, twice).startswith("error: twice.csv:62: item listed twice; field 'item'")


def test_library_and_cli_agree(tmp_path: Path) -> None:
    labels, probs = planted(n=200, seed=2).write(tmp_path)
    result = find_label_errors(read_given_labels(labels), read_probabilities(probs))
    assert result.to_dict() == _run(str(labels), "--probs", str(probs))
    document = result.to_document()
    assert document.headline.sentence.startswith(f"{len(result.issues)} of 200 items")


def test_without_cleanlab_says_how_to_install(tmp_path: Path) -> None:
    labels, probs = planted(n=30, seed=0).write(tmp_path)
    code = (
        "import sys; sys.modules['cleanlab'] = None\n"  # the import fails as if not installed
        "from labelaudit.cli.app import main\n"
        f"sys.argv = ['labelaudit', 'label-errors', {str(labels)!r}, '--probs', {str(probs)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "pip install 'labelaudit[cleanlab]'" in done.stderr
    assert "Traceback" not in done.stderr
