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


def test_every_data_file_is_declared_as_package_data() -> None:
    """A wheel carries only the non-Python files pyproject's package-data names."""
    import tomllib
    from fnmatch import fnmatchcase
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["labelaudit"]
    package = root / "src" / "labelaudit"
    data_files = [
        p.relative_to(package)
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert data_files
    for path in data_files:
        assert any(fnmatchcase(path.as_posix(), pattern) for pattern in patterns), path
