"""POPQUORN offensiveness (Pei & Jurgens 2023): the published alpha and the race effect.

The data has no licence: it is read from ../shared only (skips when absent), never copied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit import read_annotations
from labelaudit.cli.app import app
from labelaudit.fairness import resolve_groupings, slices_report

BLACK = "Black or African American"


@pytest.fixture(scope="module")
def popquorn(shared_dir: Path) -> Path:
    path = shared_dir / "datasets" / "popquorn_offensiveness" / "raw_data.csv"
    if not path.is_file():
        pytest.skip("POPQUORN offensiveness is absent from ../shared")
    return path


@pytest.fixture(scope="module")
def table(popquorn: Path):
    return read_annotations(
        popquorn,
        item_col="instance_id",
        annotator_col="user_id",
        label_col="offensiveness",
        level="interval",
    )


def test_alpha_and_offsets(table) -> None:
    report = slices_report(table, ["race"], n_boot=400, seed=0).to_dict()
    overall = next(r for r in report["agreement"] if r["kind"] == "all raters")
    assert overall["alpha"] == pytest.approx(0.287, abs=0.0005)  # paper: 0.29
    offsets = {r["group"]: r for r in report["offsets"]}
    black = offsets[BLACK]
    assert black["offset"] == pytest.approx(0.2334, abs=5e-4)  # measured reference +0.233
    assert black["n_raters"] == 34 and black["n_ratings"] == 1685
    # the reference SE 0.027 treats the 1,685 ratings as independent ...
    assert black["se_unclustered"] == pytest.approx(0.0267, abs=5e-4)
    # ... the two-way cluster bootstrap (34 raters) is about three times wider
    assert 0.06 < black["se"] < 0.13 and black["ci95"][0] > 0
    assert offsets["White"]["offset"] == pytest.approx(-0.0202, abs=5e-4)
    arab = offsets["Arab American"]  # one rater: listed, figures suppressed
    assert arab["suppressed"] and arab["offset"] is None and arab["n_raters"] == 1
    contrast = next(c for c in report["contrasts"] if c["group"] == BLACK)
    assert contrast["reference"] == "White" and contrast["difference"] > 0.2


def test_mixed_model_item_intercept(table) -> None:
    pytest.importorskip("statsmodels")
    from labelaudit.fairness.mixed import mixed_model

    race, gender, education = resolve_groupings(table, ["race", "gender", "education"])
    effects = {
        e.group: e for e in mixed_model(table, race, "White", covariates=(gender, education))
    }
    black = effects[BLACK]
    assert black.estimate == pytest.approx(0.269, abs=0.001)  # reference +0.269 (0.213-0.325)
    assert black.ci95 == pytest.approx((0.213, 0.325), abs=0.001)
    assert "(1 | item)" in black.model


def test_cli_json_contract(popquorn: Path, tmp_path: Path) -> None:
    out = tmp_path / "soft.parquet"
    result = CliRunner().invoke(
        app,
        [
            "slices",
            str(popquorn),
            "--item-col",
            "instance_id",
            "--annotator-col",
            "user_id",
            "--label-col",
            "offensiveness",
            "--by",
            "race",
            "--by",
            "gender",
            "--n-boot",
            "100",
            "--positive",
            "3,4,5",
            "--perspectives-out",
            str(out),
            "--format",
            "json",
            "--max-gap",
            "0.5",
            "--mixed-model",
        ],
    )
    assert result.exit_code == 1, result.output  # race gap 0.63 > 0.5: the gate fails
    data = json.loads(result.stdout)
    assert data["max_group_gap"] == pytest.approx(0.633, abs=0.001)
    keys = {"by", "group", "n_raters", "n_ratings", "offset", "se", "ci95"}
    assert all(keys <= set(r) for r in data["offsets"])
    assert {r["group"] for r in data["offsets"] if r["by"] == "race"} >= {BLACK, "White"}
    assert all({"by", "group"} <= set(r) for r in data["agreement"])
    assert out.is_file()
    assert "Arab American" not in {r["group"] for r in data["mixed_model"]}  # one rater
    black = next(r for r in data["mixed_model"] if r["group"] == BLACK)
    assert black["reference"] == "White" and black["estimate"] == pytest.approx(0.278, abs=0.001)
