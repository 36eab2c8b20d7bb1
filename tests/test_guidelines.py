"""Guideline files: parsing, file:line errors, check, diff, Label Studio config, CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError, UsageError
from labelaudit.guidelines import (
    check_guideline,
    diff_guidelines,
    label_studio_config,
    parse_guideline,
    read_guideline,
    rules_for_confusions,
    sections_for_pair,
)
from labelaudit.io import parse_label_config

EXAMPLES = Path(__file__).resolve().parents[1] / "src/labelaudit/guidelines/examples"
V1, V2 = EXAMPLES / "pandalm-v1.md", EXAMPLES / "pandalm-v2.md"
runner = CliRunner()

MINIMAL = """+++
version = "v1"
[[labels]]
id = "a"
name = "alpha"
definition = "Alpha things."
[[labels]]
id = "b"
name = "beta"
definition = "Beta things."
+++
## Alpha or beta {#ab.1}
Choose alpha over beta when ...
## Other {#ab.2}
See §ab.1.
"""


def test_parse_reads_labels_sections_and_citations() -> None:
    guide = parse_guideline(MINIMAL, source="g.md")
    assert guide.version == "v1" and guide.task == "categorical"
    assert guide.label_ids == ("a", "b")
    assert [(s.id, s.line) for s in guide.sections] == [("ab.1", 12), ("ab.2", 14)]
    assert guide.citations == (("ab.1", 15),)
    assert guide.labels[1].line == 7


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (MINIMAL.replace("{#ab.2}", "{#ab.1}"), "g.md:14", "duplicate section id 'ab.1'"),
        ("version = 1\n", "g.md:1", "missing front matter"),
        (MINIMAL.replace('id = "b"', 'id = "b'), "g.md:8", "malformed TOML front matter"),
        (MINIMAL.replace('id = "b"', 'id = "a"'), "g.md:7", "duplicate label id"),
        (MINIMAL.replace('name = "beta"', 'nmae = "beta"'), "g.md:7", "unknown key in [[labels]]"),
    ],
)
def test_bad_files_name_file_and_line(text: str, where: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_guideline(text, source="g.md")
    assert str(caught.value).startswith(f"{where}: {problem}")


def test_label_not_in_project_is_an_input_error_with_line() -> None:
    guide = parse_guideline(MINIMAL, source="g.md")
    with pytest.raises(InputError, match=r"^g.md:7: label not in the project; field 'id'"):
        check_guideline(guide, categories=["a", "c"])


def test_check_findings() -> None:
    text = MINIMAL.replace(
        'definition = "Beta things."',
        'definition = "Beta things."\nsections = ["ab.9"]\n[[labels.examples]]\nitem = "7"\n'
        'expected = "b"\n[[labels.examples]]\ntext = "x"\nexpected = "z"',
    )
    guide = parse_guideline(text, source="g.md")
    result = check_guideline(
        guide, categories=["a", "b"], gold={"7": "a"}, config_labels=["a", "q"]
    )
    kinds = sorted(k for k, _, _ in result.findings)
    assert kinds == ["example", "gold", "label_config", "label_config", "reference"]
    cited = parse_guideline(MINIMAL.replace("Alpha things.", "Alpha, see §ab.8."), source="g.md")
    assert [m for _, _, m in check_guideline(cited).findings] == [
        "section 'ab.8' is referenced but not defined"
    ]
    assert not result.ok
    ok = check_guideline(parse_guideline(MINIMAL), categories=["a", "b"])
    assert ok.ok and ok.to_dict()["findings"] == []


def test_missing_definition_is_a_finding() -> None:
    guide = parse_guideline(MINIMAL.replace('definition = "Beta things."', ""))
    result = check_guideline(guide, categories=["a", "b"])
    assert [m for _, _, m in result.findings] == ["category 'b' has no definition"]


def test_diff_detects_added_removed_renamed_and_changed() -> None:
    before = parse_guideline(MINIMAL)
    after = parse_guideline(
        MINIMAL.replace('id = "b"', 'id = "bb"\nrenamed_from = ["b"]')
        .replace("Alpha things.", "Alpha things, revised.")
        .replace("Choose alpha over beta when ...", "Choose alpha over beta only when ...")
        .replace("## Other {#ab.2}\nSee §ab.1.\n", "## New {#ab.3}\nNew rule.\n")
    )
    diff = diff_guidelines(before, after)
    assert diff.labels_renamed == (("b", "bb"),)
    assert diff.labels_added == () and diff.labels_removed == ()
    assert diff.definitions_changed == ("a",)
    assert diff.sections_added == ("ab.3",) and diff.sections_removed == ("ab.2",)
    assert diff.sections_changed == ("ab.1",)
    assert diff_guidelines(before, before).changed is False


def test_bundled_versions_check_clean_and_differ() -> None:
    v1, v2 = read_guideline(V1), read_guideline(V2)
    result = check_guideline(v2, categories=["0", "1", "2"], previous=v1)
    assert result.ok, result.findings
    assert result.diff is not None
    assert result.diff.sections_added == ("pref.better.2", "pref.tie.2")


def test_pairs_map_to_explicit_confusions_or_mentions() -> None:
    v2 = read_guideline(V2)
    assert sections_for_pair(v2, "1", "0") == ("pref.tie.2",)  # explicit table
    assert sections_for_pair(v2, "1", "2") == ("pref.better.2",)  # explicit table
    v1 = read_guideline(V1)  # no table: the sections mentioning both labels
    assert sections_for_pair(v1, "1", "2") == ("pref.better.1",)
    assert sections_for_pair(v1, "0", "1") == ()
    rules = rules_for_confusions(
        v2,
        [
            {"label_a": "0", "label_b": "1", "count": 5, "example_items": ["4", "9"]},
            {"label_a": "0", "label_b": "2", "count": 2, "example_items": ["9", "11"]},
        ],
    )
    assert rules[0] == {
        "section": "pref.tie.2",
        "title": "A tie is not a way out",
        "count": 7,
        "pairs": ["0/1", "0/2"],
        "examples": [{"item": "4"}, {"item": "9"}, {"item": "11"}],
    }


def test_label_config_round_trips_through_the_ls_parser() -> None:
    xml = label_studio_config(read_guideline(V2))
    parsed = parse_label_config(xml)
    assert parsed.controls["label"].labels == ("0", "1", "2")
    assert parsed.controls["label"].type == "choices"
    assert parsed.data_field("text") == "text"
    escaped = parse_guideline(MINIMAL.replace("Alpha things.", "Alpha <b> & 'things'"))
    assert parse_label_config(label_studio_config(escaped)).controls["label"].labels == ("a", "b")


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    good = runner.invoke(app, ["guidelines", "check", str(V2), "--previous", str(V1)])
    assert good.exit_code == 0, good.output
    assert "sections added" in good.output
    bad = tmp_path / "g.md"
    bad.write_text(MINIMAL.replace("{#ab.2}", "{#ab.1}"), encoding="utf-8")
    failed = runner.invoke(app, ["guidelines", "check", str(bad)])
    assert failed.exit_code == 2
    assert f"{bad}:14: duplicate section id" in failed.output
    assert "Traceback" not in failed.output
    findings = tmp_path / "f.md"
    findings.write_text(MINIMAL.replace("See §ab.1.", "See §ab.7."), encoding="utf-8")
    result = runner.invoke(app, ["guidelines", "check", str(findings), "--format", "json"])
    assert result.exit_code == 1
    assert '"kind": "reference"' in result.output


def test_cli_check_previous_from_git(tmp_path: Path) -> None:
    path = tmp_path / "g.md"
    path.write_text(MINIMAL, encoding="utf-8")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "g.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    path.write_text(MINIMAL.replace('version = "v1"', 'version = "v2"') + "## New {#ab.3}\nx\n")
    result = runner.invoke(app, ["guidelines", "check", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"sections_added": [\n      "ab.3"\n    ]' in result.output


def test_cli_label_config_writes_xml(tmp_path: Path) -> None:
    out = tmp_path / "config.xml"
    result = runner.invoke(app, ["guidelines", "label-config", str(V1), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert parse_label_config(out).controls["label"].labels == ("0", "1", "2")


def test_schema_lists_the_keys_the_parser_allows() -> None:
    import json

    from labelaudit.guidelines.model import (
        CONFUSION_KEYS,
        EXAMPLE_KEYS,
        LABEL_KEYS,
        SCHEMA_PATH,
        TASKS,
        TOP_KEYS,
    )

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    top = schema["properties"]
    label = top["labels"]["items"]["properties"]
    assert set(top) == set(TOP_KEYS)
    assert set(label) == set(LABEL_KEYS)
    assert set(label["examples"]["items"]["properties"]) == set(EXAMPLE_KEYS)
    assert set(top["confusions"]["items"]["properties"]) == set(CONFUSION_KEYS)
    assert tuple(top["task"]["enum"]) == TASKS


def test_label_config_for_region_tasks_names_the_platform_control() -> None:
    """Polygons and keypoints get Label Studio's PolygonLabels / KeyPointLabels on an
    Image; cuboids have no Label Studio control and are refused with the reason."""
    expected = {"polygons": "polygonlabels", "keypoints": "keypointlabels"}
    for task, control_type in expected.items():
        guide = parse_guideline(
            MINIMAL.replace('version = "v1"', f'version = "v1"\ntask = "{task}"')
        )
        assert guide.task == task
        parsed = parse_label_config(label_studio_config(guide, data_field="image"))
        assert parsed.controls["label"].type == control_type
        assert parsed.controls["label"].labels == ("a", "b")
        assert parsed.data_field("image") == "image"
    cuboids = parse_guideline(MINIMAL.replace('version = "v1"', 'version = "v1"\ntask = "cuboids"'))
    with pytest.raises(UsageError, match="task 'cuboids' has no Label Studio config"):
        label_studio_config(cuboids)
