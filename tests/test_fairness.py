"""labelaudit.fairness: offsets, group agreement, MetricFrame table, perspectives, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelaudit import read_annotations
from labelaudit.agreement.alpha import alpha_from_counts
from labelaudit.exceptions import InputError, UsageError
from labelaudit.fairness import (
    perspectives_table,
    read_attribute_file,
    reference_labels,
    resolve_groupings,
    slices_report,
    write_perspectives,
)
from labelaudit.fairness.group_agreement import cross_group_alphas
from labelaudit.fairness.metric_frame import leave_one_out_consensus
from labelaudit.fairness.synthetic import planted_ratings


def _table(rows: list[tuple], columns: str = "item,annotator,label,group", tmp: Path | None = None):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns.split(","))
    if tmp is None:
        return read_annotations(frame, level="interval")
    path = tmp / "ratings.csv"
    frame.to_csv(path, index=False)
    return read_annotations(path, level="interval")


def test_offsets_match_pandas_groupby() -> None:
    data = planted_ratings(
        n_items=300, n_raters=40, per_item=5, group_shares=[0.5, 0.5], effects=[0, 0.4], seed=1
    )
    table = read_annotations(data, level="interval")
    report = slices_report(table, ["group"], n_boot=50).to_dict()
    frame = data.to_pandas()
    frame["e"] = frame.label - frame.groupby("item").label.transform("mean")
    expected = frame.groupby("group").e.mean()
    for row in report["offsets"]:
        assert row["offset"] == pytest.approx(expected[row["group"]], abs=1e-12)
        assert row["ci95"][0] < row["offset"] < row["ci95"][1]


def test_within_alpha_is_the_groups_own_alpha() -> None:
    data = planted_ratings(
        n_items=200, n_raters=30, per_item=6, group_shares=[0.5, 0.5], effects=[0, 0], seed=2
    )
    table = read_annotations(data, level="interval")
    report = slices_report(table, ["group"], n_boot=0).to_dict()
    krippendorff = pytest.importorskip("krippendorff")
    frame = data.to_pandas()
    for row in (r for r in report["agreement"] if r["kind"] == "within"):
        sub = frame[frame.group == row["group"]].pivot(
            index="annotator", columns="item", values="label"
        )
        expected = krippendorff.alpha(sub.to_numpy(dtype=float), level_of_measurement="interval")
        assert row["alpha"] == pytest.approx(expected, abs=1e-9)


def test_cross_group_alpha_by_brute_force() -> None:
    rng = np.random.default_rng(3)
    rows = [
        (f"i{i}", f"r{r}", int(rng.integers(1, 6)), "a" if r < 4 else "b")
        for i in range(25)
        for r in range(8)
        if rng.random() < 0.7
    ]
    table = _table(rows)
    group = np.array([int(a[1:]) >= 4 for a in table.annotators])[table.annotator_codes]
    found = cross_group_alphas(table, [~group, group], n_boot=0)[(0, 1)]
    x, items = table.values, table.item_codes
    a, b = np.flatnonzero(~group), np.flatnonzero(group)
    both = np.intersect1d(items[a], items[b])
    a, b = a[np.isin(items[a], both)], b[np.isin(items[b], both)]
    same = items[a][:, None] == items[b][None, :]
    d2 = (x[a][:, None] - x[b][None, :]) ** 2
    expected = 1 - d2[same].mean() / d2.mean()
    assert found.value == pytest.approx(expected, abs=1e-12)


def test_leave_one_out_consensus() -> None:
    items = np.array([0, 0, 0, 1, 1, 2])
    labels = np.array([0, 0, 1, 1, 0, 1])
    # item 0: others of a 0 are {0, 1} (tie), of the 1 are {0, 0}; item 1: one other each
    assert leave_one_out_consensus(items, labels, 2).tolist() == [-1, -1, 0, 0, 1, -1]


def test_planted_group_found_and_no_other_at_the_stated_rate() -> None:
    """40 seeded data sets, 5 groups, only g4 shifted (+1.0): Holm at 5% must find g4
    in every set and flag a null group (g1..g3 vs reference g0) in at most 5 + 3 sets
    (5% of 40 plus binomial slack: P(X >= 5 | n=40, p=0.05) = 0.14)."""
    found = false_alarms = 0
    for seed in range(40):
        data = planted_ratings(
            n_items=200,
            n_raters=100,
            per_item=6,
            group_shares=[0.4, 0.15, 0.15, 0.15, 0.15],
            effects=[0, 0, 0, 0, 1.0],
            seed=seed,
        )
        table = read_annotations(data, level="interval")
        report = slices_report(table, ["group"], n_boot=300, seed=seed, reference={"group": "g0"})
        flagged = {c["group"] for c in report.to_dict()["contrasts"] if c["significant"]}
        found += "g4" in flagged
        false_alarms += bool(flagged - {"g4"})
    assert found == 40, found
    assert false_alarms <= 8, false_alarms
    print(f"planted found {found}/40, false alarms {false_alarms}/40")


def test_small_groups_suppressed_unknown_counted_and_single_rater_slice(tmp_path: Path) -> None:
    rows = []
    for i in range(30):
        for r in range(12):
            group = "A" if r < 6 else ("B" if r < 10 else ("C" if r == 10 else ""))
            rows.append((f"i{i}", f"r{r}", (i + r) % 5 + 1, group, "x" if i < 29 else "solo"))
    rows = [row for row in rows if row[4] == "x" or row[1] == "r0"]
    table = _table(rows, "item,annotator,label,group,topic", tmp_path)
    report = slices_report(table, ["group", "topic"], n_boot=20).to_dict()
    groups = {(r["group"], r["slice"]): r for r in report["groups"]}
    assert groups[("C", None)]["suppressed"] and groups[("C", None)]["n_raters"] == 1
    assert groups[("unknown", None)]["missing_value"] and groups[("unknown", None)]["n_raters"] == 1
    offsets = {r["group"]: r for r in report["offsets"] if r["slice"] is None}
    assert offsets["C"]["offset"] is None and offsets["A"]["offset"] is not None
    solo = next(r for r in report["slices"] if r["slice"] == "solo")
    assert solo["excluded"] and "one rater" in solo["reason"]
    assert not any(r["slice"] == "solo" for r in report["offsets"])
    shown = slices_report(table, ["group"], n_boot=20, show_small_groups=True).to_dict()
    assert next(r for r in shown["offsets"] if r["group"] == "C")["offset"] is not None
    assert any("unknown" in note for note in report["notes"])


def test_not_constant_column_is_located(tmp_path: Path) -> None:
    rows = [
        ("i1", "ann", 1, "A", "t"),
        ("i2", "ann", 2, "A", "u"),
        ("i1", "bob", 3, "B", "t"),
        ("i2", "bob", 4, "C", "t"),
    ]
    table = _table(rows, "item,annotator,label,group,topic", tmp_path)
    with pytest.raises(InputError) as error:
        resolve_groupings(table, ["group"])
    message = str(error.value)
    assert "ratings.csv:5" in message and "field 'group'" in message and "'C'" in message
    with pytest.raises(InputError, match=r"ratings\.csv:3"):
        resolve_groupings(table, ["topic"])
    with pytest.raises(UsageError, match="no such column"):
        resolve_groupings(table, ["vendor"])


def test_annotators_meta_file(tmp_path: Path) -> None:
    rows = [(f"i{i}", f"r{r}", (i * r) % 5 + 1, "") for i in range(20) for r in range(6)]
    table = _table(rows)
    meta = tmp_path / "meta.csv"
    meta.write_text("annotator,vendor\nr0,acme\nr1,acme\nr2,zeta\nr3,zeta\nr9,zeta\n")
    found = resolve_groupings(table, ["vendor"], annotators=read_attribute_file(meta, "annotator"))
    grouping = found[0]
    assert grouping.names == ("acme", "zeta", "unknown")
    assert grouping.units_per_group().tolist() == [2, 2, 2] and grouping.n_meta_only == 1
    meta.write_text("annotator,vendor\nr0,acme\nr0,zeta\n")
    with pytest.raises(InputError, match=r"meta\.csv:3.*listed twice"):
        read_attribute_file(meta, "annotator")


def test_reference_metrics_and_perspectives(tmp_path: Path) -> None:
    data = planted_ratings(
        n_items=100, n_raters=20, per_item=5, group_shares=[0.5, 0.5], effects=[0, 1], seed=4
    )
    table = read_annotations(data, level="interval")
    labels = reference_labels(table, positive=["4", "5"])
    report = slices_report(table, ["group"], n_boot=0, reference_labels=labels).to_dict()
    rows = {r["metric"]: r for r in report["reference_metrics"]}
    assert set(rows) == {
        "agreement",
        "selection_rate",
        "false_positive_rate",
        "false_negative_rate",
    }
    rate = rows["selection_rate"]
    values = list(rate["by_group"].values())
    assert rate["difference"] == pytest.approx(max(values) - min(values))
    assert rate["ratio"] == pytest.approx(min(values) / max(values))
    assert rate["by_group"]["g1"] > rate["by_group"]["g0"]
    groupings = resolve_groupings(table, ["group"])
    soft = perspectives_table(table, groupings)
    shares = np.array([list(v.values()) for v in soft.column("soft_label").to_pylist()])
    assert np.allclose(shares.sum(axis=1), 1.0) and soft.num_rows > table.n_items
    out = write_perspectives(soft, tmp_path / "soft.jsonl")
    first = json.loads(out.read_text().splitlines()[0])
    assert set(first) == {"item", "by", "group", "n_ratings", "mean", "soft_label"}
    with pytest.raises(UsageError):
        write_perspectives(soft, tmp_path / "soft.csv")


def test_document_renders_everywhere() -> None:
    from labelaudit.report.document import render_document

    data = planted_ratings(
        n_items=60, n_raters=15, per_item=4, group_shares=[0.5, 0.5], effects=[0, 0.5], seed=5
    )
    report = slices_report(read_annotations(data, level="interval"), ["group"], n_boot=30)
    document = report.to_document()
    for output in ("table", "markdown", "html", "json"):
        assert "offset" in render_document(document, output).lower()
    frames = report.to_pandas()
    assert {"offsets", "agreement", "contrasts"} <= set(frames)
    assert {"by", "group", "n_raters", "n_ratings", "offset", "se", "ci95"} <= set(
        frames["offsets"]
    )


def test_alpha_all_raters_equals_the_agreement_alpha() -> None:
    data = planted_ratings(
        n_items=80, n_raters=12, per_item=4, group_shares=[1.0], effects=[0], seed=6
    )
    table = read_annotations(data, level="interval")
    report = slices_report(table, ["group"], n_boot=0).to_dict()
    overall = next(r for r in report["agreement"] if r["kind"] == "all raters")
    expected = alpha_from_counts(
        table.to_item_category_counts(), table.category_values, level="interval"
    )
    assert overall["alpha"] == pytest.approx(expected, abs=1e-12)
