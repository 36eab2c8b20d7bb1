"""Aggregators on generated crowds with known truth (labelaudit.consensus.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from labelaudit.consensus import GLAD, MACE, DawidSkene, MajorityVote, OneCoinDawidSkene, Wawa
from labelaudit.consensus.mace import SPAMMER_THRESHOLD
from labelaudit.consensus.synthetic import KINDS, SyntheticCrowd, generate


@pytest.fixture(scope="module")
def crowd() -> SyntheticCrowd:
    return generate(n_items=20_000, seed=0)


def test_generator_is_seeded_and_well_formed(crowd: SyntheticCrowd) -> None:
    table = crowd.table
    assert table.n_ratings == 100_000 and table.n_items == 20_000
    assert table.n_annotators == 200 and list(table.categories) == ["0", "1", "2", "3"]
    per_item = table.annotator_codes.reshape(-1, 5)
    assert np.all(np.diff(np.sort(per_item, axis=1), axis=1) > 0)  # distinct annotators
    counts = {kind: int(np.sum(crowd.kinds == kind)) for kind in KINDS}
    assert counts == {"good": 120, "mediocre": 40, "spammer": 20, "biased": 20}
    np.testing.assert_allclose(crowd.confusions.sum(axis=2), 1.0)
    again = generate(n_items=2_000, seed=0)
    same = generate(n_items=2_000, seed=0)
    np.testing.assert_array_equal(again.table.label_codes, same.table.label_codes)
    np.testing.assert_array_equal(again.truth, same.truth)
    assert not np.array_equal(generate(n_items=2_000, seed=1).truth, again.truth)
    labels = np.asarray(table.data.column("label").to_numpy(zero_copy_only=False), dtype=object)
    np.testing.assert_array_equal(labels, table.categories[table.label_codes])


def test_dawid_skene_recovers_annotator_accuracy(crowd: SyntheticCrowd) -> None:
    model = DawidSkene().fit(crowd.table)
    busy = np.bincount(crowd.table.annotator_codes) >= 500
    assert busy.sum() >= 40
    error = np.abs(model.skills_ - crowd.accuracy)[busy]
    assert error.max() <= 0.02
    assert model.converged_
    assert np.mean(model.labels_ == crowd.truth) > 0.945


def test_model_accuracy_ranking(crowd: SyntheticCrowd) -> None:
    accuracy = {
        type(model).__name__: float(np.mean(model.fit_predict(crowd.table) == crowd.truth))
        for model in (MajorityVote(), Wawa(), OneCoinDawidSkene(), DawidSkene(), MACE())
    }
    assert accuracy["MajorityVote"] < accuracy["Wawa"] < accuracy["DawidSkene"]
    assert accuracy["MajorityVote"] < accuracy["OneCoinDawidSkene"] < accuracy["DawidSkene"]
    assert accuracy["MajorityVote"] < accuracy["MACE"] < accuracy["DawidSkene"]


def test_mace_flags_every_planted_spammer(crowd: SyntheticCrowd) -> None:
    model = MACE().fit(crowd.table)
    flagged = model.spamming_ >= SPAMMER_THRESHOLD
    planted = crowd.is_spammer
    recall = np.sum(flagged & planted) / planted.sum()
    precision = np.sum(flagged & planted) / flagged.sum()
    assert recall == 1.0 and precision >= 0.9
    assert model.spamming_.shape == (crowd.table.n_annotators,)


def test_glad_beats_majority_vote() -> None:
    small = generate(n_items=4_000, seed=0)
    model = GLAD().fit(small.table)
    majority = MajorityVote().fit(small.table)
    assert np.mean(model.labels_ == small.truth) > np.mean(majority.labels_ == small.truth)
    assert model.difficulty_.shape == (4_000,) and np.all(model.difficulty_ > 0)
    assert np.corrcoef(model.skills_, small.accuracy)[0, 1] > 0.9


def test_gold_improves_dawid_skene(crowd: SyntheticCrowd) -> None:
    gold_items = np.arange(0, crowd.table.n_items, 10)
    model = DawidSkene().fit(crowd.table, gold=crowd.gold(gold_items))
    np.testing.assert_array_equal(model.labels_[gold_items], crowd.truth[gold_items])
    rest = np.setdiff1d(np.arange(crowd.table.n_items), gold_items)
    plain = DawidSkene().fit(crowd.table)
    assert np.mean(model.labels_[rest] == crowd.truth[rest]) >= np.mean(
        plain.labels_[rest] == crowd.truth[rest]
    )
