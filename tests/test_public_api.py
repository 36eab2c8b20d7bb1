"""The curated public API: importable names, sorted ``__all__``, the README's Python example."""

from __future__ import annotations

import labelaudit
from labelaudit.datasets import load_pandalm


def test_all_is_sorted_and_importable() -> None:
    assert labelaudit.__all__ == sorted(labelaudit.__all__, key=str.lower)
    for name in labelaudit.__all__:
        assert getattr(labelaudit, name) is not None, name


def test_entry_point_survives_subpackage_import() -> None:
    """``labelaudit.agreement`` is a subpackage; the function has its own name."""
    import labelaudit.agreement

    assert callable(labelaudit.agreement_report)


def test_readme_python_example_runs() -> None:
    report = labelaudit.agreement_report(load_pandalm(), ci="bootstrap", n_boot=200, seed=0)
    alpha = report.metrics["krippendorff_alpha"]
    assert alpha.ci_method == "bootstrap"
    assert alpha.ci95 is not None and alpha.ci95[0] < alpha.value < alpha.ci95[1]
    assert report.to_dict()["metrics"]["krippendorff_alpha"]["se"] > 0
