"""NoveltyBench metric v1.1: parsing the set-level answer, utility with null repeats, upstream's summary, the prompts' source."""

from __future__ import annotations

import json
import random

import pytest

from darling.evaluation.novelty_prompts import ENV_VAR, load_judge_prompts
from darling.evaluation.novelty_v11 import (
    EMPTY,
    InvalidJudgeAnswer,
    exact_classes,
    fold_groups,
    mark_generation,
    parse_groups,
    shuffled_order,
    slim_row,
    summarize,
    utility_fields,
)

# Rows of upstream NoveltyBench's evaluation/2025-11-21_CrPO-llama-3.1-8b-instruct-cre/nb-curated/scores.jsonl
# (commit 3b7c6c66): partition, generation_scores (v1.0 credits a repeat 0) and upstream's utility, patience 0.8.
UPSTREAM_ROWS = [
    ("curated-71", list(range(10)), [9, 6, 6, 9, 6, 6, 7, 4, 2, 7], 6.860795780773976),
    ("curated-69", [0, 1, 2, 3, 4, 5, 6, 3, 6, 7], [4, 10, 9, 4, 10, 10, 10, 0, 0, 10], 6.978157401661962),
    ("curated-27", [0, 1, 0, 2, 1, 3, 2, 4, 5, 6], [2, 9, 0, 4, 0, 10, 0, 9, 7, 10], 4.241154317246582),
    ("curated-82", list(range(10)), [4, 8, 1, 2, 6, 8, 1, 1, 9, 7], 4.4955842281028815),
]


@pytest.mark.parametrize(("row_id", "partition", "credited", "expected"), UPSTREAM_ROWS)
def test_utility_matches_upstream_rows_with_repeats_as_null(row_id, partition, credited, expected):
    # v1.1 does not judge a repeat: its score is null where v1.0 wrote 0.
    first = {label: i for i, label in reversed(list(enumerate(partition)))}
    scores = [s if first[label] == i else None for i, (label, s) in enumerate(zip(partition, credited))]
    fields = utility_fields(scores, partition, patience=0.8)
    assert fields["utility"] == pytest.approx(expected, abs=1e-12), row_id
    assert fields["distinct"] == len(set(partition))
    assert fields["partition_scores"] == [credited[i] for i in sorted(first.values())]
    assert [s is None for s in fields["generation_scores"]] == [
        first[lab] != i for i, lab in enumerate(partition)
    ]


def test_utility_refuses_a_class_head_without_a_score():
    with pytest.raises(ValueError, match=r"Class heads \[2\] have no score"):
        utility_fields([5, None, None], [0, 0, 1])


def test_summary_is_upstreams_over_scored_rows_with_unscored_counted():
    # Upstream's summarize: means over rows with a utility; mean_distinct = mean len(partition_scores),
    # the number of classes (10 = all different), never max(label) = classes - 1.
    rows = [
        {"partition": [0, 1, 0], "partition_scores": [7, 5], "utility": 6.0},
        {"partition": [0, 1, 2], "partition_scores": [4, 4, 9], "utility": 5.0},
        {"partition": [0, 0, 0], "partition_scores": [], "utility": None, "unscored": "judge_refusal"},
    ]
    assert summarize(rows) == {
        "version": "1.1",
        "mean_distinct": 2.5,
        "mean_utility": 5.5,
        "unscored": 1,
        "n_scored": 2,
    }
    assert "unscored" not in summarize(rows[:2])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "at least one"),
        ([{"utility": 1.0}], "partition_scores"),
        ([{"partition_scores": [], "utility": None}], "None of"),
    ],
)
def test_summary_errors(rows, message):
    with pytest.raises(ValueError, match=message):
        summarize(rows)


def test_groups_are_read_from_json_after_reasoning_and_fences():
    assert parse_groups('<think>{"groups": [[9]]}</think>\n```json\n{"groups": [[0, 2], [1]]}\n```') == [
        [0, 2],
        [1],
    ]
    with pytest.raises(InvalidJudgeAnswer, match="no JSON object"):
        parse_groups("They are all different.")
    with pytest.raises(InvalidJudgeAnswer, match="expected"):
        parse_groups('{"groups": [[0, "1"]]}')


def test_every_response_must_be_assigned_exactly_once():
    assert fold_groups([[1], [0, 2]], 3) == [0, 1, 0]  # labels renumbered by first appearance
    with pytest.raises(InvalidJudgeAnswer, match=r"missing \[2\], repeated \[0\], out of range \[\]"):
        fold_groups([[0, 1], [0]], 3)
    with pytest.raises(InvalidJudgeAnswer, match=r"out of range \[5\]"):
        fold_groups([[0, 1, 2, 5]], 3)
    # upstream's last resort: a repeated index keeps its first group, a missing one stands alone
    assert fold_groups([[0, 1], [0], [7]], 3, lenient=True) == [0, 0, 1]


def test_shown_positions_map_back_through_the_shuffle():
    order = shuffled_order("Name a colour.", 5, seed=3)
    assert sorted(order) == list(range(5)) and order != list(range(5))
    assert order == shuffled_order("Name a colour.", 5, seed=3)  # one prompt, one order
    # the judge groups the first two shown positions; they are the responses order[0] and order[1]
    labels = fold_groups([[0, 1], [2], [3], [4]], 5, order)
    assert labels[order[0]] == labels[order[1]] and len(set(labels)) == 4


def test_exact_duplicates_are_settled_before_the_judge():
    assert exact_classes(["x", "y", "x", "x ", "y"]) == ([0, 1, 3], [0, 1, 0, 2, 1])


def test_empty_marker_and_slim_rows():
    assert mark_generation("") == EMPTY
    assert mark_generation("<think>still thinking when the budget ran out") == EMPTY
    assert mark_generation("<think>a</think>\n\nBlue.") == "Blue."
    assert mark_generation("Blue.") == "Blue."
    assert slim_row({"id": "a", "generations": ["t"], "utility": 3.0}) == {"id": "a", "utility": 3.0}


# ---- judge prompts come from an upstream checkout, never from darling -----------------------------


def fake_checkout(root, partition_text="PARTITION-SYSTEM (test)", score_text="SCORE-SYSTEM (test)"):
    """A folder shaped like a NoveltyBench checkout, with prompts written by this test."""
    (root / "src").mkdir(parents=True)
    (root / "src/partition.py").write_text(f"import torch\nJUDGE_SYSTEM = {partition_text!r}\n")
    (root / "src/score.py").write_text(f'SCORE_SYSTEM = """\\\n{score_text}"""\n')
    return root


def test_prompts_are_read_from_a_checkout_without_importing_it(tmp_path):
    prompts = load_judge_prompts(fake_checkout(tmp_path / "nb"))
    assert (prompts.partition_system, prompts.score_system) == (
        "PARTITION-SYSTEM (test)",
        "SCORE-SYSTEM (test)",
    )
    assert prompts.source == str(tmp_path / "nb")


def test_prompts_from_the_environment_and_from_a_json_file(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(fake_checkout(tmp_path / "nb", "P env")))
    assert load_judge_prompts().partition_system == "P env"
    own = tmp_path / "prompts.json"
    own.write_text(json.dumps({"partition_system": "P", "score_system": "S"}))
    assert load_judge_prompts(own).score_system == "S"
    own.write_text(json.dumps({"partition_system": "P"}))
    with pytest.raises(ValueError, match="score_system"):
        load_judge_prompts(own)


def test_missing_prompts_say_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(FileNotFoundError, match=r"does not exist.*clone https://github\.com/novelty-bench"):
        load_judge_prompts(tmp_path / "nowhere")
    old = tmp_path / "old"
    (old / "src").mkdir(parents=True)
    (old / "src/partition.py").write_text("x = 1\n")
    (old / "src/score.py").write_text("x = 1\n")
    with pytest.raises(FileNotFoundError, match=r"has no JUDGE_SYSTEM; that checkout predates metric v1\.1"):
        load_judge_prompts(old)
    with pytest.raises(FileNotFoundError, match=r"no src/partition\.py"):
        load_judge_prompts(tmp_path)


def test_shuffle_matches_upstreams_seeding():
    # upstream seeds random.Random with f"{seed}{prompt}"; the same seed shows the same order in both
    expected = list(range(10))
    random.Random("7Tell me a joke.").shuffle(expected)
    assert shuffled_order("Tell me a joke.", 10, 7) == expected
