"""Preference readers: real files, every format, and malformed input located precisely."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.datasets import dataset_path
from labelaudit.exceptions import InputError, UsageError
from labelaudit.preferences import from_columns, read_preferences
from labelaudit.preferences.records import BOTH_BAD, FIRST, MISSING, SECOND, TIE

DATA = Path(__file__).parent / "data" / "preferences"


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# --------------------------------------------------------------------------- real data
def test_mtbench_bundled_experts_only() -> None:
    table = read_preferences(DATA / "mtbench", format="mtbench")
    assert table.n_votes == 2668 + 2400
    assert table.n_prompts == 160 and table.models.size == 6
    assert not table.order_known.any()
    assert set(table.annotator_kind) == {"human", "judge"}
    assert "687 author votes excluded (experts only, as FastChat)" in table.notes
    kinds = dict(zip(table.annotators, table.annotator_kind, strict=True))
    assert kinds["gpt4_pair"] == "judge" and kinds["expert_0"] == "human"
    assert sorted(set(table.meta["turn"])) == ["1", "2"]
    assert set(table.meta["category"]) >= {"writing", "math", "humanities"}


def test_mtbench_with_authors() -> None:
    table = read_preferences(DATA / "mtbench", format="mtbench", authors=True)
    assert table.n_votes == 3355 + 2400


def test_mtbench_fastchat_pair_format_gives_both_orders(tmp_path: Path) -> None:
    record = {
        "question_id": 81,
        "model_1": "x",
        "model_2": "y",
        "g1_winner": "model_1",
        "g2_winner": "model_1",
        "judge": ["gpt-4", "pair-v2"],
        "turn": 1,
    }
    path = write_jsonl(tmp_path / "pair.jsonl", [record, {**record, "g2_winner": "error"}])
    table = read_preferences(path, format="mtbench")
    assert table.order_known.all() and table.n_votes == 4
    assert list(table.choice) == [FIRST, SECOND, FIRST, MISSING]
    # g2 showed model_2 first: model_1 winning there is the second slot
    assert table.responses[table.first_codes[1]] == "q81-t1/y"
    assert list(table.annotators) == ["gpt-4/pair-v2"] and table.annotator_kind[0] == "judge"


def test_pandalm_bundled_test_set() -> None:
    table = read_preferences(dataset_path("pandalm"), format="pandalm")
    assert table.n_votes == 2997 and table.n_items == 999 and table.has_text
    assert list(table.annotators) == ["annotator1", "annotator2", "annotator3"]
    assert list(table.models) == [
        "bloom-7b",
        "cerebras-gpt-6.7B",
        "llama-7b",
        "opt-7b",
        "pythia-6.9b",
    ]
    counts = np.bincount(table.choice + 1, minlength=4)
    assert counts[0] == 0  # no missing label


@pytest.mark.shared
def test_pandalm_folder_adds_judges(shared_dir: Path) -> None:
    table = read_preferences(shared_dir / "datasets" / "pandalm_testset", format="pandalm")
    assert table.n_votes == 5 * 999
    judges = table.annotators[table.annotator_kind == "judge"]
    assert list(judges) == ["gpt-3.5-turbo", "pandalm-7b"]
    gpt = table.annotator_codes == list(table.annotators).index("gpt-3.5-turbo")
    assert int((table.choice[gpt] == MISSING).sum()) == 25  # "garbage" verdicts
    assert "gpt-3.5-turbo: 25 unparseable verdicts kept as missing" in table.notes


def test_llmbar_bundled_both_orders_and_gold() -> None:
    table = read_preferences(DATA / "llmbar", format="llmbar")
    assert table.n_votes == 2 * 2 * 419 and table.order_known.all()
    assert sorted(set(table.meta["subset"])) == [
        "GPTInst",
        "GPTOut",
        "Manual",
        "Natural",
        "Neighbor",
    ]
    assert list(table.annotators) == ["ChatGPT", "GPT-4"]
    assert table.gold is not None and (table.gold >= 0).all()
    # the gold of a swapped vote is in the other slot
    swapped = table.swapped
    assert (table.gold[swapped] != table.gold[~swapped][: swapped.sum()]).any()


def test_dpo_strings_and_chat_formats(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Say hi", "chosen": "Hi!", "rejected": "No."},
        {"prompt": "Say hi", "chosen": "Hello.", "rejected": "Hi!"},
    ]
    table = read_preferences(write_jsonl(tmp_path / "dpo.jsonl", rows), format="dpo")
    assert table.n_votes == 2 and table.n_prompts == 1 and table.n_responses == 3
    assert (table.choice == FIRST).all() and not table.order_known.any()
    assert list(table.response_length[table.first_codes]) == [3, 6]
    chat = [
        {
            "chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "rejected": [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "bb"}],
        }
    ]
    table = read_preferences(write_jsonl(tmp_path / "chat.jsonl", chat), format="dpo")
    assert table.prompts[0] == "user: q" and table.context_mismatch is not None
    assert table.context_mismatch.tolist() == [True]


def test_hh_rlhf_transcripts_gz(tmp_path: Path) -> None:
    rows = [
        {
            "chosen": "\n\nHuman: hi\n\nAssistant: Hello there.",
            "rejected": "\n\nHuman: hi\n\nAssistant: go away",
        },
        {
            "chosen": "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: ",
            "rejected": "\n\nHuman: a\n\nAssistant: x\n\nHuman: c\n\nAssistant: d",
        },
    ]
    path = tmp_path / "test.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    table = read_preferences(path, format="hh-rlhf")
    assert table.n_votes == 2 and table.context_mismatch is not None
    assert table.context_mismatch.tolist() == [False, True]
    assert table.response_length[table.first_codes].tolist() == [12, 0]
    assert table.prompts.tolist() == sorted(
        ["\n\nHuman: hi", "\n\nHuman: a\n\nAssistant: b\n\nHuman: c"]
    )


def test_csv_columns_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(
        "q,left,right,verdict,rater,kind,turn\n"
        "p1,aa,bbb,first,ann,human,1\n"
        "p1,bbb,aa,B,ann,human,1\n"
        "p2,c,d,tie,gpt,judge,2\n"
        "p2,c,d,both_bad,gpt,judge,2\n"
        "p2,d,c,,gpt,judge,2\n"
    )
    table = read_preferences(
        path,
        format="csv",
        prompt_col="q",
        first_col="left",
        second_col="right",
        choice_col="verdict",
        annotator_col="rater",
    )
    assert table.choice.tolist() == [FIRST, SECOND, TIE, BOTH_BAD, MISSING]
    assert table.n_responses == 4 and table.order_known.all()
    assert table.meta["turn"].tolist() == ["1", "1", "2", "2", "2"]
    assert table.annotator_kind.tolist() == ["human", "judge"]
    assert table.outcome.tolist()[:2] == [0, 0]  # "aa" won both orders


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("content", "fmt", "expected"),
    [
        ('{"prompt": "p", "chosen": "a"}\n', "dpo", "bad.jsonl:1: missing field; field 'rejected'"),
        (
            '{"prompt": "p", "chosen": "a", "rejected": "b"}\n{oops\n',
            "dpo",
            "bad.jsonl:2: malformed JSON line",
        ),
        (
            '{"prompt": "p", "chosen": "a", "rejected": 3}\n',
            "dpo",
            "bad.jsonl:1: bad field value; field 'rejected'",
        ),
        (
            '{"chosen": "no turns", "rejected": "x"}\n',
            "hh-rlhf",
            "bad.jsonl:1: bad field value; field 'chosen'",
        ),
        (
            '{"question_id": 81, "model_a": "x", "model_b": "y", "winner": "model_c", '
            '"judge": "expert_1", "turn": 1}\n',
            "mtbench",
            "bad.jsonl:1: bad field value; field 'winner'",
        ),
        (
            '{"question_id": 81, "model_a": "x", "model_b": "y", "winner": "tie", '
            '"judge": "expert_1", "turn": 3}\n',
            "mtbench",
            "bad.jsonl:1: bad field value; field 'turn'",
        ),
        ("[1, 2]", "pandalm", "bad.jsonl record 1: bad field value; field '(record)'"),
        (
            '[{"idx": 0, "instruction": "i", "response1": "a", "response2": "b", "annotator1": 7}]',
            "pandalm",
            "bad.jsonl record 1: bad field value; field 'annotator1'",
        ),
        (
            '[{"input": "i", "output_1": "a", "output_2": "b", "results": "[oops"}]',
            "llmbar",
            "bad.jsonl record 1: bad field value; field 'results'",
        ),
    ],
)
def test_malformed_input_names_file_line_field(
    tmp_path: Path, content: str, fmt: str, expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InputError) as error:
        read_preferences(path, format=fmt)
    assert str(error.value).startswith(f"{tmp_path}/{expected}"), str(error.value)


def test_csv_errors(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("prompt,first,second,choice\np,a,b,first\np,a,b,maybe\n")
    with pytest.raises(
        InputError,
        match=r"v\.csv:3: unknown choice; field 'choice'; expected "
        r"first, second, tie or both_bad \(empty = missing\); got 'maybe'",
    ):
        read_preferences(path, format="csv")
    path.write_text("prompt,first,second\np,a,b\n")
    with pytest.raises(InputError, match="no choice column; field '--choice-col'"):
        read_preferences(path, format="csv")
    path.write_text("prompt,first,second,choice\n,a,b,first\n")
    with pytest.raises(InputError, match=r"v\.csv:2: missing prompt; field 'prompt'"):
        read_preferences(path, format="csv")
    path.write_text(
        "prompt,first,second,choice,annotator,kind\np,a,b,first,x,human\np,a,b,first,x,judge\n"
    )
    with pytest.raises(InputError, match=r"v\.csv:3: one annotator with two different kind"):
        read_preferences(path, format="csv")
    with pytest.raises(InputError, match="no prompt column; field 'nope'"):
        read_preferences(path, format="csv", prompt_col="nope")


def test_unknown_format_and_option(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown preference format"):
        read_preferences(tmp_path, format="xml")
    path = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    with pytest.raises(UsageError, match="--from dpo"):
        read_preferences(path, format="dpo", prompt_col="x")
    with pytest.raises(InputError, match="file not found"):
        read_preferences(tmp_path / "missing.jsonl", format="dpo")


def label_studio_task(task: int, data: dict[str, str], votes: dict[int, str]) -> dict[str, object]:
    return {
        "id": task,
        "data": data,
        "annotations": [
            {
                "completed_by": who,
                "result": [
                    {
                        "from_name": "pw",
                        "to_name": "a,b",
                        "type": "pairwise",
                        "value": {"selected": side},
                    }
                ],
            }
            for who, side in votes.items()
        ],
    }


def test_label_studio_pairwise(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    tasks = [
        label_studio_task(1, {"a": "A long answer.", "b": "Short."}, {7: "left", 8: "right"}),
        label_studio_task(2, {"a": "Yes.", "b": "No."}, {7: "left"}),
    ]
    path.write_text(json.dumps(tasks))
    table = read_preferences(path, format="label-studio")
    assert table.n_votes == 3 and table.order_known.all() and table.has_text
    assert table.choice.tolist() == [FIRST, SECOND, FIRST]
    assert table.annotators.tolist() == ["7", "8"]
    assert table.response_length[table.first_codes].tolist() == [14, 14, 4]
    assert "left response taken as shown first" in table.notes


def test_label_studio_non_pairwise_control(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    task = {
        "id": 1,
        "data": {"text": "t"},
        "annotations": [
            {
                "completed_by": 1,
                "result": [
                    {
                        "from_name": "s",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["x"]},
                    }
                ],
            }
        ],
    }
    path.write_text(json.dumps([task]))
    with pytest.raises(InputError, match="not a pairwise annotation; field '--control'"):
        read_preferences(path, format="label-studio")


# --------------------------------------------------------------------------- properties
votes = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["first", "second", "tie", "both_bad", ""]),
        st.sampled_from(["u", "v", "w"]),
    ),
    min_size=1,
    max_size=40,
)


def build(rows: list[tuple[str, str, str, str, str]]):  # type: ignore[no-untyped-def]
    prompt, first, second, choice, annotator = (list(c) for c in zip(*rows, strict=True))
    return from_columns(
        prompt=prompt,
        first=[f"{p}/{r}" for p, r in zip(prompt, first, strict=True)],
        second=[f"{p}/{r}" for p, r in zip(prompt, second, strict=True)],
        choice=choice,
        annotator=annotator,
    )


@settings(max_examples=60, deadline=None)
@given(votes, st.randoms(use_true_random=False))
def test_codes_do_not_depend_on_row_order(rows, rnd) -> None:  # type: ignore[no-untyped-def]
    table = build(rows)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = build([rows[i] for i in order])
    assert table.responses.tolist() == shuffled.responses.tolist()
    assert table.outcome[order].tolist() == shuffled.outcome.tolist()
    items = table.item_codes[order]
    assert items.tolist() == shuffled.item_codes.tolist()
    # outcome in item terms agrees with the winner in response terms
    won = (table.winner >= 0) & (table.lo != table.hi)
    assert ((table.winner[won] == table.lo[won]) == (table.outcome[won] == 0)).all()


def test_filter_keeps_code_spaces() -> None:
    table = read_preferences(DATA / "mtbench", format="mtbench")
    turn1 = table.filter(table.meta["turn"] == "1")
    assert turn1.n_annotators == table.n_annotators and turn1.n_votes < table.n_votes
    assert set(turn1.meta["turn"]) == {"1"}


# --------------------------------------------------------------------------- fuzzing
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["", "1", "2", "tie", "model_a", "first", "x", "\n\nAssistant: y"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["content", "role", "winner", "swap = False"]), children, max_size=3
        )
    ),
    max_leaves=6,
)
FIELDS = {
    "dpo": ["prompt", "chosen", "rejected", "prompt_id", "annotator"],
    "hh-rlhf": ["chosen", "rejected"],
    "mtbench": ["question_id", "turn", "model_a", "model_b", "winner", "judge", "g1_winner"],
    "pandalm": ["idx", "instruction", "input", "response1", "response2", "annotator1"],
    "llmbar": ["input", "output_1", "output_2", "label", "results"],
    "csv": ["prompt", "first", "second", "choice", "annotator", "kind"],
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(FIELDS)),
    st.lists(
        st.dictionaries(
            st.sampled_from(sorted({f for v in FIELDS.values() for f in v})), json_values
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_malformed_records_raise_input_errors_only(fmt: str, records) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from labelaudit.exceptions import LabelAuditError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("data.json" if fmt in ("pandalm", "llmbar") else "data.jsonl")
        if fmt in ("pandalm", "llmbar"):
            path.write_text(json.dumps(records))
        else:
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
        try:
            table = read_preferences(path, format=fmt)
        except LabelAuditError:
            return
        assert table.n_votes >= 1


def test_rankings_expand_into_pairs(tmp_path: Path) -> None:
    from labelaudit.preferences.rankings import expand_rankings

    record, first, second, choice = expand_rankings([[2, 1, 3], [1, 1], [5]])
    assert record.tolist() == [0, 0, 0, 1]
    assert list(zip(first.tolist(), second.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (1, 2),
        (0, 1),
    ]
    assert choice.tolist() == ["second", "first", "first", "tie"]
    rows = [
        {
            "prompt": "q",
            "responses": ["a", "bb", "ccc"],
            "ranks": [3, 1, 2],
            "models": ["m1", "m2", "m3"],
            "annotator": "u",
        },
        {"prompt": "q", "chosen": "bb", "rejected": "a", "annotator": "v"},
        {"prompt": "r", "responses": ["x", "y"], "scores": [0.1, 0.9]},
    ]
    table = read_preferences(write_jsonl(tmp_path / "rank.jsonl", rows), format="dpo")
    assert table.n_votes == 1 + 3 + 1 and table.n_prompts == 2
    assert "2 rankings expanded into 4 pairs" in table.notes
    winners = [table.response_text[w].as_py() for w in table.winner.tolist()]
    assert winners == ["bb", "bb", "ccc", "bb", "y"]
    assert table.lines.tolist() == [2, 1, 1, 1, 3]
    with pytest.raises(InputError, match=r"rank\.jsonl:1: bad field value; field 'ranks'"):
        read_preferences(
            write_jsonl(
                tmp_path / "rank.jsonl", [{"prompt": "q", "responses": ["a"], "ranks": [1, 2]}]
            ),
            format="dpo",
        )
