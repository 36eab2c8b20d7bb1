"""The per-batch consensus, gold and annotator results and the kernels under them give the
figures of straightforward reference computations, bit for bit.

The kernels were made cheaper for ingest (narrow codes, no gathers over every row, the ties
of the one majority fit, annotator sums block by block, runs per annotator slice); the
references below are the plain int64 computations they replaced (every row gathered, one
``np.bincount`` of every row, the (n, q) tie matrix, a Python loop for the runs), and the
stored results are checked against the public estimators' paths (``item_report``,
``adjudication_queue``, ``annotator_report`` with a fit of their own). Tables: ties, items
labelled once, one annotator, many categories (more than the column-by-column tie rule
takes), declared categories nobody used, string and integer ids, rows shuffled or in
(item, annotator) order, a gold column or none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labelaudit.quality.annotators as annotators_module
import labelaudit.table.table as table_module
from labelaudit.consensus import MajorityVote, WeightedMajorityVote
from labelaudit.consensus._base import TIE_RTOL
from labelaudit.project.config import AgreementConfig, GoldConfig, ProjectConfig
from labelaudit.project.results_quality import (
    QUEUE_EXAMPLES,
    QUEUE_THRESHOLD,
    annotators_result,
    batch_gold,
    consensus_result,
    gold_result,
)
from labelaudit.quality import adjudication_queue, annotator_report, item_report
from labelaudit.quality.annotators import label_runs, longest_label_runs, table_sums
from labelaudit.quality.gold_scores import aggregator_gold_accuracy
from labelaudit.quality.items import consensus_ties
from labelaudit.table import AnnotationTable, code_counts, read_annotations

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_table(
    seed: int,
    n_items: int,
    n_annotators: int,
    q: int,
    missing: float,
    *,
    int_ids: bool = False,
    shuffle: bool = True,
    gold: bool = False,
    unused: int = 0,
) -> AnnotationTable:
    """A categorical batch: annotators right with their own accuracy, ``missing`` of the
    (item, annotator) cells empty (each item keeps one label), optional gold column."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n_items)
    accuracy = rng.uniform(0.2, 0.95, n_annotators)
    right = rng.random((n_items, n_annotators)) < accuracy
    labels = np.where(right, truth[:, None], rng.integers(0, q, (n_items, n_annotators)))
    present = rng.random((n_items, n_annotators)) >= missing
    present[np.arange(n_items), rng.integers(0, n_annotators, n_items)] = True
    item, annotator = np.nonzero(present)
    if shuffle:
        order = rng.permutation(item.size)
        item, annotator = item[order], annotator[order]
    columns: dict[str, Any] = {
        "item": pa.array(item * 3 + 1 if int_ids else np.char.add("item-", item.astype(str))),
        "annotator": pa.array(
            annotator * 7 + 2 if int_ids else np.char.add("ann-", annotator.astype(str))
        ),
        "label": pa.array(np.char.add("c", labels[item, annotator].astype(str))),
    }
    if gold:
        known = rng.random(n_items) < 0.3
        text = np.char.add("c", truth[item].astype(str)).astype(object)
        columns["gold"] = pa.array(np.where(known[item], text, None).tolist(), pa.string())
    categories = [f"c{k}" for k in range(q + unused)] if unused else None
    return read_annotations(pa.table(columns), categories=categories)


@st.composite
def tables(draw: st.DrawFn, gold: bool = False) -> AnnotationTable:
    shape = draw(
        st.sampled_from([(1, 3), (2, 2), (3, 2), (4, 3), (5, 5), (6, 4), (12, 3), (3, 40), (2, 1)])
    )
    return make_table(
        draw(st.integers(0, 2**31)),
        draw(st.integers(1, 300)),
        *shape,
        draw(st.sampled_from([0.0, 0.3, 0.8])),
        int_ids=draw(st.booleans()),
        shuffle=draw(st.booleans()),
        gold=gold,
        unused=draw(st.sampled_from([0, 2])),
    )


@contextmanager
def small_blocks() -> Iterator[None]:
    """Blocks of 7 rows in the block-by-block kernels: every carry between blocks runs."""
    saved = table_module.COUNT_BLOCK, annotators_module.SUM_BLOCK
    table_module.COUNT_BLOCK = annotators_module.SUM_BLOCK = 7
    try:
        yield
    finally:
        table_module.COUNT_BLOCK, annotators_module.SUM_BLOCK = saved


# --------------------------------------------------------------------------- references
def reference_vote(
    table: AnnotationTable, tie: str, seed: int, weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Majority vote the plain way: float totals, the (n, q) tie matrix, every row gathered
    into int64 keys for the agreement with the consensus."""
    n, q, r = table.n_items, table.n_categories, table.n_annotators
    item, annotator, label = table.item_codes, table.annotator_codes, table.label_codes
    row_weights = None if weights is None else weights[annotator]
    scores = np.bincount(item * q + label, weights=row_weights, minlength=n * q).reshape(n, q)
    totals = scores.sum(axis=1)
    probas = scores / np.where(totals > 0, totals, 1.0)[:, None]
    probas[~(totals > 0)] = 1.0 / q
    best = probas.max(axis=1)
    tied = probas >= (best - TIE_RTOL * np.abs(best))[:, None]
    labels = np.argmax(tied, axis=1).astype(np.int64)
    several = tied.sum(axis=1) > 1
    if tie == "abstain":
        labels[several] = -1
    else:
        draws = np.random.default_rng(seed).random((n, q))  # one draw per item and category
        labels[several] = np.argmax(np.where(tied, draws, -1.0), axis=1)[several]
    ref = labels[item]
    used = ref >= 0
    key = (annotator[used] * q + ref[used]) * q + label[used]
    counts = np.bincount(key, minlength=r * q * q).reshape(r, q, q).astype(np.float64)
    row_totals = counts.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        confusions = counts / row_totals[:, :, None]
        skills = np.trace(counts, axis1=1, axis2=2) / row_totals.sum(axis=1)
    return {
        "labels_": labels,
        "probas_": probas,
        "confidence_": probas.max(axis=1),
        "tied_": several,
        "skills_": skills,
        "confusions_": confusions,
    }


def reference_sums(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label counts, credit sums, n compared): each label's leave-one-out credit from the
    other annotators' counts of its item, summed by one bincount over the rows in order."""
    q, r = table.n_categories, table.n_annotators
    item, annotator, label = table.item_codes, table.annotator_codes, table.label_codes
    counts = np.bincount(item * q + label, minlength=table.n_items * q).reshape(-1, q)
    others = counts[item] - np.eye(q, dtype=np.int64)[label]
    top = others.max(axis=1, keepdims=True)
    winners = others == top
    with np.errstate(invalid="ignore", divide="ignore"):
        credit = winners[np.arange(label.size), label] / winners.sum(axis=1)
    credit[others.sum(axis=1) == 0] = np.nan
    shared = np.isfinite(credit)
    flat = np.bincount(annotator * q + label, minlength=r * q).reshape(r, q)
    sums = np.bincount(annotator[shared], weights=credit[shared], minlength=r)
    return flat, sums, np.bincount(annotator[shared], minlength=r)


def reference_runs(table: AnnotationTable) -> tuple[np.ndarray, np.ndarray]:
    """Longest run of equal labels in each annotator's row order (the earliest of the
    longest), by walking the rows."""
    r = table.n_annotators
    length, label = np.zeros(r, dtype=np.int64), np.full(r, -1, dtype=np.int64)
    current: dict[int, tuple[int, int]] = {}
    for a, k in zip(table.annotator_codes.tolist(), table.label_codes.tolist(), strict=True):
        run_label, run = current.get(a, (-1, 0))
        run = run + 1 if k == run_label else 1
        current[a] = (k, run)
        if run > length[a]:
            length[a], label[a] = run, k
    return length, label


def same(found: np.ndarray, expected: np.ndarray) -> bool:
    """Equal values, NaN where NaN, the same bits (no rounding allowed)."""
    found, expected = np.asarray(found), np.asarray(expected)
    if found.shape != expected.shape:
        return False
    if found.dtype.kind == "f" or expected.dtype.kind == "f":
        a, b = found.astype(np.float64), expected.astype(np.float64)
        return bool(np.array_equal(np.isnan(a), np.isnan(b)) and (a.tobytes() == b.tobytes()))
    return bool(np.array_equal(found, expected))


# ------------------------------------------------------------------------------ kernels
@SETTINGS
@given(table=tables(), tie=st.sampled_from(["random", "abstain"]), seed=st.integers(0, 99))
def test_majority_vote_is_the_plain_vote(table: AnnotationTable, tie: str, seed: int) -> None:
    """labels_, probas_, confidence_, skills_, confusions_ and tied_ of MajorityVote equal
    the plain computation (the same random tie draws); with random ties, tied_ is what
    consensus_ties reads from the posteriors."""
    with small_blocks():
        model = MajorityVote(tie=tie, random_state=seed).fit(table)
    expected = reference_vote(table, tie, seed)
    for name, value in expected.items():
        assert same(getattr(model, name), value), name
    assert model.labels_.dtype == np.int64
    if tie == "random":
        assert np.array_equal(model.tied_, consensus_ties(model)[1])


@SETTINGS
@given(table=tables(), seed=st.integers(0, 99))
def test_weighted_vote_is_the_plain_vote(table: AnnotationTable, seed: int) -> None:
    weights = np.arange(table.n_annotators) % 3 + 0.5
    mapping = {str(name): float(w) for name, w in zip(table.annotators, weights, strict=True)}
    model = WeightedMajorityVote(weights=mapping, random_state=seed).fit(table)
    expected = reference_vote(table, "random", seed, weights)
    for name in ("labels_", "probas_", "confidence_", "skills_", "confusions_"):
        assert same(getattr(model, name), expected[name]), name


def test_majority_vote_with_gold_clamps_the_gold_items() -> None:
    table = make_table(3, 200, 3, 3, 0.2)
    gold = {str(table.items[i]): str(table.categories[i % 3]) for i in range(0, 200, 7)}
    model = MajorityVote(tie="abstain").fit(table, gold=gold)
    codes = np.arange(0, 200, 7)
    assert np.array_equal(model.labels_[codes], codes % 3)
    assert not model.tied_[codes].any()
    assert np.all(model.confidence_[codes] == 1.0)
    assert same(model.confidence_, model.probas_.max(axis=1))


@SETTINGS
@given(table=tables())
def test_annotator_sums_are_the_plain_sums(table: AnnotationTable) -> None:
    """Label counts, credit sums (the same float additions, in row order) and labels
    compared, whether the rows fit one block or take many."""
    flat, credit, compared = reference_sums(table)
    for blocks in (False, True):
        if blocks:
            with small_blocks():
                sums = table_sums(table)
        else:
            sums = table_sums(table)
        assert same(sums.label_counts, flat)
        assert same(sums.credit, credit)
        assert same(sums.n_compared, compared)


@SETTINGS
@given(table=tables())
def test_longest_runs_walk_the_rows(table: AnnotationTable) -> None:
    length, label = reference_runs(table)
    found = longest_label_runs(table)
    assert same(found[0], length) and same(found[1], label)
    assert same(label_runs(table)[0], length)


def test_longest_runs_of_many_annotators_take_the_sorted_path() -> None:
    table = make_table(5, 400, 30, 2, 0.5)  # more than FEW_ANNOTATORS
    assert table.n_annotators > annotators_module.FEW_ANNOTATORS
    length, label = reference_runs(table)
    found = longest_label_runs(table)
    assert same(found[0], length) and same(found[1], label)


@pytest.mark.parametrize("size", [1, 5, 300])
def test_code_counts_is_bincount(size: int) -> None:
    codes = (
        np.random.default_rng(size)
        .integers(0, size, 1000)
        .astype(np.int8 if size < 100 else np.int16)
    )
    with small_blocks():
        assert np.array_equal(code_counts(codes, size), np.bincount(codes, minlength=size))


def test_take_rows_is_filter_rows() -> None:
    table = make_table(1, 60, 4, 3, 0.3)
    rows = np.array([3, 8, 9, 40, 41, table.n_ratings - 1])
    mask = np.zeros(table.n_ratings, dtype=bool)
    mask[rows] = True
    taken, filtered = table.take_rows(rows), table.filter_rows(mask)
    assert taken.data.equals(filtered.data)
    for name in ("items", "annotators", "item_codes", "annotator_codes", "label_codes"):
        assert np.array_equal(getattr(taken, name), getattr(filtered, name)), name


@pytest.mark.parametrize("shuffle", [False, True])
def test_take_items_is_filter_rows_of_those_items(shuffle: bool) -> None:
    table = make_table(2, 60, 4, 3, 0.3, shuffle=shuffle)
    items = np.array([0, 7, 8, 31, table.n_items - 1])
    taken = table.take_items(items)
    filtered = table.filter_rows(np.isin(table.item_codes, items))
    assert taken.data.equals(filtered.data)
    for name in ("items", "annotators", "item_codes", "annotator_codes", "label_codes"):
        assert np.array_equal(getattr(taken, name), getattr(filtered, name)), name


def test_in_cell_order() -> None:
    """Rows sorted by (item, annotator) code (integer ids sort as numbers), or not."""
    assert make_table(1, 50, 3, 2, 0.2, int_ids=True, shuffle=False).in_cell_order
    assert not make_table(1, 50, 3, 2, 0.2, int_ids=True).in_cell_order
    for shuffle in (False, True):  # a subset has no row order kept: the codes decide
        table = make_table(1, 50, 3, 2, 0.2, int_ids=True, shuffle=shuffle)
        subset = table.filter_rows(table.label_codes >= 0)
        assert "row_order" not in subset.__dict__
        assert subset.in_cell_order is not shuffle


# ----------------------------------------------------------------------- stored results
def config_of(seed: int, gold: bool) -> ProjectConfig:
    return ProjectConfig(
        gold=GoldConfig(column="gold") if gold else GoldConfig(),
        agreement=AgreementConfig(seed=seed),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(gold=True), seed=st.integers(0, 5), gold=st.booleans())
def test_consensus_result_is_the_public_queue(
    table: AnnotationTable, seed: int, gold: bool
) -> None:
    """The stored consensus figures are item_report's and adjudication_queue's (each with
    its own fit, ties abstained) on the whole table."""
    stored = consensus_result(table, config_of(seed, gold))
    report = item_report(table, method="majority", seed=seed)
    queue = adjudication_queue(table, method="majority", threshold=QUEUE_THRESHOLD)
    tied, confidence = report.tied, report.confidence
    low = ~tied & (confidence < QUEUE_THRESHOLD)
    assert stored.result["n_tied"] == int(tied.sum())
    assert stored.result["n_low_confidence"] == int(low.sum())
    assert stored.result["n_queued"] == int((tied | low).sum()) == len(queue.entries)
    assert stored.result["mean_confidence"] == float(np.mean(confidence))
    assert stored.result["queue"] == queue.entries[:QUEUE_EXAMPLES]
    n = table.n_items
    assert stored.metrics == [
        ("mean_confidence", float(np.mean(confidence)), None, None, None, None),
        ("tie_rate", float(tied.sum() / n), None, None, None, None),
        ("low_confidence_rate", float(low.sum() / n), None, None, None, None),
        ("adjudication_queue", float((tied | low).sum()), None, None, None, None),
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(gold=True), seed=st.integers(0, 5), gold=st.booleans())
def test_annotator_and_gold_results_are_the_public_reports(
    table: AnnotationTable, seed: int, gold: bool
) -> None:
    """The stored annotator rows are annotator_report's with a majority vote of its own;
    the gold result's consensus accuracy is that of a fresh majority vote's labels."""
    config = config_of(seed, gold)
    stored = annotators_result(table, config)
    labels, _ = batch_gold(table, config)  # None without a gold column or gold item
    full = annotator_report(table, gold=labels, methods=("majority",), seed=seed).to_dict()
    for key in ("annotators", "flags", "n_flagged", "pools", "reasons"):
        assert stored.result[key] == full[key], key
    result = gold_result(table, config)
    if not gold:
        assert result is None
    elif labels is not None:
        fresh = MajorityVote(random_state=0).fit(table).labels_
        expected = aggregator_gold_accuracy(fresh, labels)
        rows = {row[0]: row for row in result.metrics}
        assert rows["consensus_gold_accuracy"][1] == expected.value


def test_stored_results_of_a_batch_taking_many_blocks() -> None:
    """A batch of more rows than one block of the sums and counts: the stored figures are
    those of the same batch computed with one block (the plain bincounts)."""
    table = make_table(11, 3000, 5, 5, 0.1, gold=True)
    again = make_table(11, 3000, 5, 5, 0.1, gold=True)  # a fresh table: nothing cached
    config = config_of(2, True)
    with small_blocks():
        many = [f(table, config) for f in (consensus_result, gold_result, annotators_result)]
    one = [f(again, config) for f in (consensus_result, gold_result, annotators_result)]
    for a, b in zip(many, one, strict=True):
        assert a is not None and b is not None
        assert a.result_json() == b.result_json()
        assert a.metrics == b.metrics and a.annotators == b.annotators
