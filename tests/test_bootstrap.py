"""Vectorised bootstrap: seeded, resamples items, agrees with the analytic SEs on real data."""

from __future__ import annotations

import numpy as np
import pytest

from labelaudit.agreement import agreement_report
from labelaudit.datasets import load_pandalm
from labelaudit.intervals import bootstrap_item_weights


def test_weights_are_item_multiplicities() -> None:
    chunks = list(bootstrap_item_weights(50, 23, seed=4, max_cells=500))
    assert sum(chunk.shape[0] for chunk in chunks) == 23
    assert all(chunk.shape[1] == 50 for chunk in chunks)
    stacked = np.concatenate(chunks)
    assert np.all(stacked.sum(axis=1) == 50)
    again = np.concatenate(list(bootstrap_item_weights(50, 23, seed=4, max_cells=500)))
    assert np.array_equal(stacked, again)
    # chunking does not change what is drawn in total (same rng stream, row by row)
    assert stacked.mean() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def pandalm_reports() -> tuple[dict, dict]:  # type: ignore[type-arg]
    table = load_pandalm()
    analytic = agreement_report(table, ci="analytic", diagnose=False).to_dict()["metrics"]
    boot = agreement_report(table, ci="bootstrap", n_boot=1000, seed=0, diagnose=False).to_dict()[
        "metrics"
    ]
    return analytic, boot


def test_bootstrap_se_close_to_analytic_on_pandalm(pandalm_reports: tuple[dict, dict]) -> None:
    """999 items: the item bootstrap and Gwet's linearisation estimate the same SE."""
    analytic, boot = pandalm_reports
    assert set(boot) == set(analytic)
    for name, metric in boot.items():
        assert metric["ci_method"] == "bootstrap"
        assert metric["value"] == analytic[name]["value"]
        assert metric["se"] == pytest.approx(analytic[name]["se"], rel=0.15), name
        low, high = metric["ci95"]
        assert low < metric["value"] < high
        assert metric["n_boot_defined"] == 1000


def test_bootstrap_is_seeded() -> None:
    table = load_pandalm()
    first = agreement_report(table, ci="bootstrap", n_boot=50, seed=3, diagnose=False)
    second = agreement_report(table, ci="bootstrap", n_boot=50, seed=3, diagnose=False)
    other = agreement_report(table, ci="bootstrap", n_boot=50, seed=4, diagnose=False)
    assert first.to_dict()["metrics"] == second.to_dict()["metrics"]
    assert first.metrics["fleiss_kappa"].se != other.metrics["fleiss_kappa"].se


def test_ci_none_drops_uncertainty() -> None:
    report = agreement_report(load_pandalm(), ci="none", diagnose=False)
    for metric in report.to_dict()["metrics"].values():
        assert metric["se"] is None and metric["ci95"] is None
        assert metric["ci_method"] == "none"


def test_two_annotator_bootstrap_matches_fleiss_cohen_everitt() -> None:
    table = load_pandalm()
    pair = table.subset_annotators(np.array([0, 1]))
    analytic = agreement_report(pair, ci="analytic", diagnose=False).metrics
    boot = agreement_report(pair, ci="bootstrap", n_boot=1000, seed=1, diagnose=False).metrics
    for name in ("cohen_kappa", "scott_pi"):
        assert boot[name].value == analytic[name].value
        assert boot[name].se == pytest.approx(analytic[name].se, rel=0.15), name
    assert analytic["cohen_kappa"].value == pytest.approx(0.852, abs=5e-4)
