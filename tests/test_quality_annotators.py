"""The annotator table and its outlier flags: a hand example, planted spammers, options."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.consensus.synthetic import generate
from labelaudit.exceptions import InputError, UsageError
from labelaudit.quality import (
    OutlierRules,
    annotator_report,
    gold_from_column,
)
from labelaudit.table import AnnotationTable, read_annotations

N_ITEMS = 60


def rec(item: str, annotator: str, label: str, **extra: Any) -> dict[str, Any]:
    """One annotation row."""
    return {"item": item, "annotator": annotator, "label": label, **extra}


def hand_rows() -> list[dict[str, Any]]:
    """60 items, truth = i % 3, gold on the first 30.

    good1..good7 err once per item at most (good_a on items a-1, a-1+7, ... a times);
    good7 is fast (1 s per label); ``random`` answers (i // 3) % 3, independent of the
    truth; ``clicker`` always answers c0; ``newbie`` has 5 labels only.
    """
    rows = []
    for i in range(N_ITEMS):
        truth = i % 3
        gold = f"c{truth}" if i < 30 else ""
        for a in range(1, 8):
            wrong = i in {a - 1 + 7 * k for k in range(a)}
            label = (truth + 1) % 3 if wrong else truth
            seconds = 1.0 if a == 7 else 10.0 + i % 5
            rows.append(rec(f"item{i:02d}", f"good{a}", f"c{label}", duration_s=seconds, gold=gold))
        rows.append(rec(f"item{i:02d}", "random", f"c{(i // 3) % 3}", duration_s=12.0, gold=gold))
        rows.append(rec(f"item{i:02d}", "clicker", "c0", duration_s=11.0, gold=gold))
        if i < 5:
            rows.append(
                rec(f"item{i:02d}", "newbie", f"c{(truth + 2) % 3}", duration_s=0.5, gold=gold)
            )
    return rows


def to_table(rows: list[dict[str, Any]], **options: Any) -> AnnotationTable:
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    return read_annotations(pa.table(columns), **options)


@pytest.fixture(scope="module")
def hand() -> dict[str, Any]:
    table = to_table(hand_rows())
    report = annotator_report(table, gold=gold_from_column(table, "gold"))
    return report.to_dict()


def by_annotator(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["annotator"]: row for row in document["annotators"]}


def flags_of(document: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for flag in document["flags"]:
        out.setdefault(flag["annotator"], []).append(flag["metric"])
    return out


def test_hand_example_flags_exactly_the_planted_problems(hand: dict[str, Any]) -> None:
    assert flags_of(hand) == {
        "clicker": [
            "gold_accuracy",
            "loo_agreement",
            "ds_accuracy",
            "js_divergence",
            "longest_run",
            "spammer",
        ],
        "good7": ["median_seconds"],
        "random": ["gold_accuracy", "loo_agreement", "ds_accuracy", "spammer"],
    }
    assert hand["n_flagged"] == 3
    assert hand["notes"] == ["1 annotator(s) with fewer than 20 labels were not assessed"]


def test_hand_example_gold_rule_numbers(hand: dict[str, Any]) -> None:
    rows = by_annotator(hand)
    # gold correct of 30: good1..7 = 29, 28, 27, 26, 26, 26, 26; random 10; clicker 10
    assert [rows[f"good{a}"]["gold_correct"] for a in range(1, 8)] == [29, 28, 27, 26, 26, 26, 26]
    # pool (newbie excluded): median 26/30; |x - median| * 30 = 3,2,1,0,0,0,0,16,16 -> MAD 1/30
    pool = hand["pools"]["gold_accuracy"]
    assert pool["n"] == 9 and pool["median"] == pytest.approx(26 / 30)
    assert pool["scale"] == pytest.approx(1.4826 / 30)
    flag = next(f for f in hand["flags"] if f["annotator"] == "random")
    assert flag["metric"] == "gold_accuracy"
    assert flag["score"] == pytest.approx(-16 / 1.4826)  # -10.79
    assert flag["reason"] == "gold accuracy 0.33 (95% CI 0.19-0.51, 10/30) vs pool median 0.87"
    assert rows["random"]["gold_ci95"] == pytest.approx([0.192305, 0.512199], abs=1e-6)


def test_hand_example_speed_rule_on_the_log_scale(hand: dict[str, Any]) -> None:
    rows = by_annotator(hand)
    assert rows["good7"]["median_seconds"] == 1.0 and rows["good1"]["median_seconds"] == 12.0
    # log10 medians: seven at log10(12), clicker log10(11), good7 0 -> MAD 0: mean-AD scale
    deviations = [0.0] * 7 + [np.log10(12) - np.log10(11), np.log10(12)]
    scale = 1.253314 * float(np.mean(deviations))
    flag = next(f for f in hand["flags"] if f["metric"] == "median_seconds")
    assert flag["score"] == pytest.approx(-np.log10(12) / scale)
    assert flag["reason"].startswith("median 1.0 s per label vs pool median 12.0 s")


def test_hand_example_metrics(hand: dict[str, Any]) -> None:
    rows = by_annotator(hand)
    assert rows["newbie"]["n_labels"] == 5 and rows["newbie"]["flags"] == []
    assert rows["clicker"]["longest_run"] == 60 and rows["clicker"]["longest_run_label"] == "c0"
    assert rows["random"]["ds_kappa"] == pytest.approx(0.0, abs=1e-6)
    assert rows["good1"]["loo_agreement"] > 0.9 and rows["random"]["mace_spamming"] > 0.9
    spam = next(f for f in hand["flags"] if f["annotator"] == "random" and f["metric"] == "spammer")
    assert spam["rule"] == "Dawid-Skene kappa <= 0.1 and MACE spamming >= 0.9"
    assert spam["reason"].startswith("labels no better than chance: Dawid-Skene kappa 0.00")
    assert "(60 labels)" in spam["reason"]


def test_json_contract(hand: dict[str, Any]) -> None:
    json.dumps(hand, allow_nan=False)
    assert set(hand) == {
        "tool",
        "input",
        "config",
        "n_items",
        "n_annotators",
        "n_ratings",
        "categories",
        "annotators",
        "flags",
        "n_flagged",
        "pools",
        "gold",
        "fits",
        "reasons",
        "notes",
    }
    assert set(hand["annotators"][0]) == {
        "annotator",
        "n_labels",
        "n_compared",
        "n_gold",
        "gold_correct",
        "loo_agreement",
        "gold_accuracy",
        "gold_ci95",
        "ds_accuracy",
        "ds_kappa",
        "mace_spamming",
        "js_divergence",
        "median_seconds",
        "longest_run",
        "longest_run_label",
        "longest_run_p",
        "flags",
        "reasons",
    }
    assert set(hand["flags"][0]) == {"annotator", "metric", "value", "score", "rule", "reason"}
    assert hand["config"]["duration_col"] == "duration_s" and hand["config"]["time_col"] is None
    assert hand["config"]["rules"] == OutlierRules().to_dict()
    assert set(hand["fits"]) == {"majority", "dawid-skene", "mace"}
    assert len(hand["input"]["sha256"]) == 64


def test_undefined_values_carry_reasons() -> None:
    rows = [("i1", "solo", "a"), ("i2", "ann", "a"), ("i2", "bob", "b")]
    table = read_annotations(
        pa.table({k: [r[i] for r in rows] for i, k in enumerate(("item", "annotator", "label"))})
    )
    document = annotator_report(table, methods=["majority"]).to_dict()
    solo = by_annotator(document)["solo"]
    assert solo["loo_agreement"] is None and solo["gold_accuracy"] is None
    assert solo["reasons"]["loo_agreement"] == "shares no item with another annotator"
    assert document["reasons"]["gold_accuracy"] == "no gold labels given"
    assert document["reasons"]["ds_accuracy"] == "dawid-skene is not among the methods"
    assert (
        "spammer rule skipped: it needs dawid-skene or mace among the methods"
        in (document["notes"])
    )


def test_exclude_gold_leaves_gold_items_out_of_agreement_and_models() -> None:
    table = to_table(hand_rows())
    gold = gold_from_column(table, "gold")
    kept = by_annotator(annotator_report(table, gold=gold, methods=["dawid-skene"]).to_dict())
    left = annotator_report(table, gold=gold, methods=["dawid-skene"], exclude_gold=True)
    rows = by_annotator(left.to_dict())
    assert kept["good1"]["n_compared"] == 60 and rows["good1"]["n_compared"] == 30
    assert rows["newbie"]["n_compared"] == 0 and rows["newbie"]["loo_agreement"] is None
    assert rows["newbie"]["ds_accuracy"] is None  # labelled gold items only
    assert rows["newbie"]["reasons"]["ds_accuracy"].startswith("labelled only gold items")
    assert rows["good1"]["gold_accuracy"] == kept["good1"]["gold_accuracy"]  # always all labels
    assert rows["good1"]["n_labels"] == 60 and left.to_dict()["config"]["exclude_gold"] is True


def test_metrics_do_not_depend_on_row_order() -> None:
    rows = hand_rows()
    order = np.random.default_rng(7).permutation(len(rows))
    shuffled = [rows[i] for i in order]
    reports = []
    for version in (rows, shuffled):
        table = to_table(version)
        gold = gold_from_column(table, "gold")
        reports.append(annotator_report(table, gold=gold, methods=["majority", "dawid-skene"]))
    first, second = (r.to_dict()["annotators"] for r in reports)
    keys = ("n_labels", "loo_agreement", "gold_accuracy", "gold_ci95", "js_divergence",
            "median_seconds", "ds_accuracy", "ds_kappa")  # fmt: skip
    for a, b in zip(first, second, strict=True):
        for key in keys:
            assert a[key] == pytest.approx(b[key], abs=1e-9), key


# ------------------------------------------------------------------- planted spammers
def spammer_scores(
    methods: list[str], seed: int, n_items: int, n_annotators: int
) -> tuple[float, float, int]:
    crowd = generate(n_items, n_annotators, 5, 4, seed=seed)
    report = annotator_report(crowd.table, methods=methods)
    flagged = {f.annotator for f in report.flags if f.metric == "spammer"}
    planted = set(crowd.table.annotators[crowd.is_spammer].astype(str))
    recall = len(flagged & planted) / len(planted)
    precision = len(flagged & planted) / max(len(flagged), 1)
    return recall, precision, int(report.metrics.n_labels[crowd.is_spammer].min())


@pytest.mark.parametrize(
    "methods", [["dawid-skene", "mace"], ["dawid-skene"], ["mace"]], ids=["ds+mace", "ds", "mace"]
)
def test_spammer_rule_on_the_synthetic_crowd_seed_0(methods: list[str]) -> None:
    # 20,000 items x 5 labels, 100 annotators (10 planted uniform spammers, >= 300 labels each)
    recall, precision, fewest = spammer_scores(methods, 0, 20_000, 100)
    assert fewest >= 300
    assert recall == 1.0
    assert precision >= 0.9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spammer_rule_on_smaller_crowds(seed: int) -> None:
    recall, precision, fewest = spammer_scores(["dawid-skene", "mace"], seed, 5_000, 50)
    assert fewest >= 100 and recall == 1.0 and precision >= 0.9


# ------------------------------------------------------------------------- timing
def test_timestamps_give_speed_and_run_order() -> None:
    rows = []
    for i in range(30):  # "late" labels in reverse row order; times restore the order
        rows.append(
            rec(f"i{i}", "ann", "a" if i < 15 else "b", created_at=f"2024-05-01T10:{i:02d}:00Z")
        )
        rows.append(
            rec(f"i{i}", "bob", "ab"[i % 2], created_at=f"2024-05-01T11:00:{59 - i:02d}+00:00")
        )
    table = to_table(rows)
    report = annotator_report(table, methods=["majority"])
    rows_out = by_annotator(report.to_dict())
    assert rows_out["ann"]["median_seconds"] == 60.0 and rows_out["bob"]["median_seconds"] == 1.0
    assert rows_out["ann"]["longest_run"] == 15 and rows_out["bob"]["longest_run"] == 1
    assert report.config["time_col"] == "created_at" and report.config["duration_col"] is None


def test_unreadable_durations_and_timestamps_are_input_errors() -> None:
    base = [rec("i1", "a", "x"), rec("i1", "b", "x")]
    bad = to_table([{**base[0], "duration_s": "3"}, {**base[1], "duration_s": "fast"}])
    with pytest.raises(InputError) as caught:
        annotator_report(bad, methods=["majority"])
    assert str(caught.value) == (
        "<Table> record 2: unreadable value; field 'duration_s'; expected a duration in "
        "seconds; got 'fast'. Fix: fix the value or leave the cell empty (missing); or "
        "choose another column"
    )
    mixed = to_table([{**base[0], "t": "2024-05-01T10:00:00Z"}, {**base[1], "t": "2024-05-01"}])
    with pytest.raises(InputError, match="record 2: unreadable value; field 't'"):
        annotator_report(mixed, methods=["majority"], time_col="t")
    with pytest.raises(InputError, match="no such column"):
        annotator_report(to_table(base), methods=["majority"], duration_col="nope")


def test_rules_and_methods_are_validated() -> None:
    with pytest.raises(UsageError, match="min_labels must be an integer >= 1"):
        OutlierRules(min_labels=0)
    with pytest.raises(UsageError, match="run_alpha must be in"):
        OutlierRules(run_alpha=2.0)
    with pytest.raises(UsageError, match="unknown method 'magic'"):
        annotator_report(to_table(hand_rows()[:3]), methods=["magic"])


def test_hostile_names_and_labels_survive_as_data() -> None:
    names = [
        "<script>alert(1)</script>",
        "'; DROP TABLE annotators; --",
        "[bold red]x[/]",
        "\x1b[31mred",
        "名前 😀",
    ]
    labels = ['"quoted, comma"', "<b>", "{{ 7*7 }}"]
    rows = [
        rec(f"i{i}", name, labels[(i + j) % 3]) for i in range(6) for j, name in enumerate(names)
    ]
    document = annotator_report(to_table(rows), methods=["majority"]).to_dict()
    assert sorted(row["annotator"] for row in document["annotators"]) == sorted(names)
    assert set(document["categories"]) == set(labels)
    assert json.loads(json.dumps(document, ensure_ascii=False)) == document


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    parts=st.integers(1, 5),
    q=st.integers(1, 4),
)
def test_annotator_sums_of_item_parts_add_up_to_the_table(seed: int, parts: int, q: int) -> None:
    """The statistics step on disjoint item sets (how Spark runs it, one partition each)
    sums to the one-part statistics: the finish gives the local figures to 1e-12."""
    from labelaudit.quality.annotators import annotator_sums, table_sums

    rng = np.random.default_rng(seed)
    n_items, r = 40, 5
    rated = rng.random((n_items, r)) < 0.7
    item, annotator = np.nonzero(rated)
    label = rng.integers(0, q, item.size)
    table = read_annotations(
        pa.table(
            {
                "item": [f"i{i:02d}" for i in item],
                "annotator": [f"a{a}" for a in annotator],
                "label": [f"c{k}" for k in label],
            }
        ),
        categories=[f"c{k}" for k in range(q)],
    )
    part = rng.integers(0, parts, table.n_items)[table.item_codes]  # items to parts
    total = None
    for p in range(parts):
        rows = np.flatnonzero(part == p)
        local_items, codes = np.unique(table.item_codes[rows], return_inverse=True)
        sums = annotator_sums(
            codes,
            table.annotator_codes[rows],
            table.label_codes[rows],
            n_items=local_items.size,
            n_annotators=table.n_annotators,
            n_categories=table.n_categories,
        )
        total = sums if total is None else total + sums
    whole = table_sums(table)
    assert total is not None
    np.testing.assert_array_equal(total.label_counts, whole.label_counts)
    np.testing.assert_array_equal(total.n_compared, whole.n_compared)
    for mine, theirs in zip(total.loo_agreement(), whole.loo_agreement(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(total.divergence(), whole.divergence(), rtol=0, atol=1e-12)
