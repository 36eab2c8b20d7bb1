"""Project creation, discovery and the labelaudit.toml contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError, UsageError
from labelaudit.project import find_project, init_project, load_config
from labelaudit.project.config import (
    DEFAULT_GATES,
    ProjectConfig,
    default_config_text,
    toml_string,
)

runner = CliRunner()


def test_init_creates_config_and_store(tmp_path: Path) -> None:
    project = init_project(tmp_path / "proj", categories=("pos", "neg"))
    assert (tmp_path / "proj" / "labelaudit.toml").is_file()
    assert (tmp_path / "proj" / "labelaudit.duckdb").is_file()
    config = project.config
    assert config.name == "proj" and config.task.categories == ("pos", "neg")
    assert config.gates == DEFAULT_GATES  # alpha >= 0.667 and no out-of-control point
    assert config.monitor.ewma_lambda == 0.2 and config.monitor.cusum_h == 5.0
    with project.open_store(read_only=True) as store:
        runs = store.runs()
    assert [r["command"] for r in runs] == ["init"]
    assert runs[0]["config_sha256"] == config.sha256 and runs[0]["tool_version"]


def test_init_refuses_an_existing_project(tmp_path: Path) -> None:
    init_project(tmp_path)
    with pytest.raises(UsageError, match="already a labelaudit project"):
        init_project(tmp_path)


def test_default_config_documents_every_key() -> None:
    text = default_config_text("x")
    document = tomllib.loads(text)
    defaults = ProjectConfig().to_dict()
    for section in ("task", "input", "agreement", "gold", "monitor", "report", "alert"):
        for key in defaults[section]:
            assert f"{key} =" in text, f"[{section}] {key} is not shown in the template"
    assert len(document["gates"]) == 2
    docs = (Path(__file__).parent.parent / "docs" / "pipeline.md").read_text()
    for section in ("task", "input", "agreement", "gold", "monitor", "report", "alert"):
        for key in defaults[section]:
            assert f"`{section}.{key}`" in docs, f"{section}.{key} is not in docs/pipeline.md"
    for key in ("name", "metric", "op", "threshold", "allow_undefined"):
        assert f"`gates.{key}`" in docs


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_toml_string_round_trips(text: str) -> None:
    assert tomllib.loads(f"key = {toml_string(text)}")["key"] == text


def test_hostile_names_and_categories_round_trip(tmp_path: Path) -> None:
    categories = ('say "hi"', "back\\slash", "new\nline", "<script>", "é\x7f")
    project = init_project(tmp_path, name='a"]\n[evil]', categories=categories)
    assert project.config.task.categories == categories
    assert project.config.name == 'a"]\n[evil]'


def test_config_hash_ignores_comments_and_layout(tmp_path: Path) -> None:
    project = init_project(tmp_path)
    text = project.config_path.read_text()
    project.config_path.write_text("# a comment\n\n" + text.replace(" = ", "="))
    assert load_config(project.config_path).sha256 == project.config.sha256
    project.config_path.write_text(text.replace("seed = 0", "seed = 1"))
    assert load_config(project.config_path).sha256 != project.config.sha256


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (('level = "nominal"', 'level = "nominl"'), "task.level", "one of nominal"),
        (("n_boot = 1000", "n_boot = 0"), "agreement.n_boot", "an integer >= 1"),
        (("n_boot = 1000", "n_boot = 1000000000"), "agreement.n_boot", "from 2 to 100,000"),
        (("seed = 0", 'seed = "zero"'), "agreement.seed", "a int"),
        (("ewma_lambda = 0.2", "ewma_lamda = 0.2"), "monitor.ewma_lamda", "one of the keys"),
        (('op = ">="', 'op = "=>"'), "gates[1].op", "one of >="),
        (("[report]", "[reports]"), "reports", "one of the sections"),
    ],
)
def test_invalid_config_names_key_expected_and_fix(
    tmp_path: Path, edit: tuple[str, str], field: str, expected: str
) -> None:
    project = init_project(tmp_path)
    text = project.config_path.read_text()
    assert edit[0] in text
    project.config_path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(InputError) as caught:
        load_config(project.config_path)
    assert caught.value.field == field
    assert expected in str(caught.value.expected)
    assert "labelaudit.toml" in str(caught.value) and "Fix:" in str(caught.value)


def test_malformed_toml_and_bad_categories(tmp_path: Path) -> None:
    project = init_project(tmp_path, level="interval")
    project.config_path.write_text("[task\n")
    with pytest.raises(InputError, match="malformed TOML"):
        load_config(project.config_path)
    project.config_path.write_text('[task]\nlevel = "interval"\ncategories = ["1", "x"]\n')
    with pytest.raises(InputError, match="numbers at interval level"):
        load_config(project.config_path)
    project.config_path.write_text('[task]\ncategories = ["a", "a"]\n')
    with pytest.raises(InputError, match="each category once"):
        load_config(project.config_path)


def test_numeric_categories_become_text(tmp_path: Path) -> None:
    (tmp_path / "labelaudit.toml").write_text(
        '[task]\nlevel = "ordinal"\ncategories = [1, 2.0, 2.5]\n'
    )
    config = load_config(tmp_path / "labelaudit.toml")
    assert config.task.categories == ("1", "2", "2.5") and config.gates == ()


def test_find_project_searches_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_project(tmp_path / "proj")
    deep = tmp_path / "proj" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(start=deep).root == (tmp_path / "proj").resolve()
    monkeypatch.chdir(deep)
    assert find_project().root == (tmp_path / "proj").resolve()
    with pytest.raises(UsageError, match="no labelaudit project"):
        find_project(start=tmp_path)
    with pytest.raises(UsageError, match="is not a labelaudit project"):
        find_project(tmp_path)


def test_init_cli(tmp_path: Path) -> None:
    target = tmp_path / "new"
    result = runner.invoke(app, ["init", str(target), "--categories", "a,b", "--level", "ordinal"])
    assert result.exit_code == 0, result.output
    assert "Created project" in result.output
    config = load_config(target / "labelaudit.toml")
    assert config.task.level == "ordinal" and config.task.categories == ("a", "b")
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2 and "already a labelaudit project" in again.output
