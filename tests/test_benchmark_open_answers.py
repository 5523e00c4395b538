"""benchmarks/open_answers: the real-model task's split, answer-extraction rule and quality reward."""

from __future__ import annotations

import pickle

from open_answers.categories import CATEGORIES
from open_answers.task import OpenAnswerReward, Prompt, extract_item, is_valid, split_categories, task_split


def test_at_least_40_categories_with_distinct_names():
    assert len(CATEGORIES) >= 40
    for key, (_, items) in CATEGORIES.items():
        names = [name.lower() for item in items for name in item]
        assert len(names) == len(set(names)), key


def test_split_is_by_category_fixed_and_disjoint():
    train, held_out = split_categories()
    assert (train, held_out) == split_categories()
    assert not set(train) & set(held_out) and len(held_out) == 15
    split = task_split()
    assert {p.category for p in split.train} == set(train)
    assert {p.category for p in split.held_out_open} == set(held_out)
    assert not {p.text for p in split.train} & {p.text for p in split.held_out_constrained}


def test_constrained_prompts_have_one_to_three_answers_from_both_splits():
    split = task_split()
    train, held_out = split_categories()
    assert len(split.held_out_constrained) == 40
    assert all(1 <= len(p.valid) <= 3 for p in split.held_out_constrained)
    assert {p.category for p in split.held_out_constrained} & set(train)
    assert {p.category for p in split.held_out_constrained} & set(held_out)


def test_extraction_takes_the_earliest_whole_word_item():
    assert extract_item("planet", "Maybe Mars. Or Earth.") == "Mars"
    assert extract_item("planet", "Earthly delights on Marshmallow") is None  # whole words only
    assert extract_item("continent", "I pick North America.") == "North America"  # not "America" alone
    assert extract_item("month", "You may choose any month.") is None  # capitalised names are case-sensitive
    assert extract_item("month", "May.") == "May"
    assert extract_item("noble_gas", "NEON lights") == "neon"  # lower-case names match in any case
    assert extract_item("europe", "Czechia") == "Czech Republic"  # aliases give the canonical item
    assert extract_item("triangle", "It is right, I think") is None


def test_constrained_validity_needs_the_letter():
    prompt = Prompt("planet", "M")
    assert prompt.valid == ["Mercury", "Mars"]
    assert is_valid(prompt, "Mars!") and not is_valid(prompt, "Venus")
    assert not is_valid(prompt, "Venus, then Mars")  # the first item named is the answer


def test_reward_reads_conversational_completions_and_the_dataset_columns():
    reward = pickle.loads(pickle.dumps(OpenAnswerReward()))
    completions = [
        [{"role": "assistant", "content": "Saturn"}],
        [{"role": "assistant", "content": "Pluto"}],
        "Uranus",
    ]
    assert reward(completions=completions, category=["planet"] * 3, letter=["", "", "S"]) == [1.0, 0.0, 0.0]
    assert reward.__name__ == "open_answer"
    assert Prompt("planet").row()["prompt"][0]["content"].startswith("Name a planet of the solar system.")


def test_a_stopped_run_resumes_its_recorded_seeds_and_refuses_other_settings(tmp_path):
    import json

    import pytest

    from open_answers.run import parse_args, previous_runs

    args = parse_args(["--model", "m", "--seeds", "0", "1", "--output", str(tmp_path)])
    settings = {k: str(v) if k == "output" else v for k, v in vars(args).items()}
    results = {"settings": settings, "runs": []}
    assert previous_runs(results, tmp_path) == []  # nothing recorded yet
    recorded = {
        "command": "python run.py --seeds 0 7",
        "machine": "old machine",
        "date": "2026-01-01",
        "settings": settings,
        "runs": [{"seed": 0}, {"seed": 7, "command": "python run.py --seeds 7", "machine": "m", "date": "d"}],
    }
    (tmp_path / "results.json").write_text(json.dumps(recorded))
    # Every recorded seed is kept, asked for or not (a results file only grows), with what trained it.
    kept = [
        {"seed": 0, "command": "python run.py --seeds 0 7", "machine": "old machine", "date": "2026-01-01"},
        {"seed": 7, "command": "python run.py --seeds 7", "machine": "m", "date": "d"},
    ]
    assert previous_runs(results, tmp_path) == kept
    elsewhere = {"settings": {**settings, "seeds": [1], "output": "./" + str(tmp_path), "plot": "p.png"}}
    assert previous_runs(elsewhere, tmp_path) == kept  # seeds, --output spelling and --plot are not settings
    other = {"settings": {**settings, "steps": 80}, "runs": []}
    with pytest.raises(SystemExit, match=r"other settings \(steps\).*another --output"):
        previous_runs(other, tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(SystemExit, match="not a results file"):
        previous_runs(results, tmp_path)
    assert (tmp_path / "results.json").read_text() == "{not json"  # a refused resume leaves it alone


def test_the_report_pools_both_constrained_sets_per_seed_for_the_hypothesis():
    from open_answers.run import render_markdown

    def metrics(pass16_a: float, pass16_b: float) -> dict:
        def one(value: float) -> dict:
            row = {
                "pass@k": [value / 2, value],
                "distinct_valid": 1,
                "coverage": 0.5,
                "correct": 1,
                "samples": ["x", "y"],
            }
            return {
                "per_prompt": [row],
                "pass@k": row["pass@k"],
                "distinct_valid": 1,
                "coverage": 0.5,
                "valid_share": 0.5,
            }

        return {"constrained_a": one(pass16_a), "constrained_b": one(pass16_b)}

    run = {
        "metrics": {"base": metrics(0.0, 0.2), "grpo": metrics(0.4, 0.8), "darling": metrics(1.0, 0.6)},
        "seconds": {"total": 60.0},
        "logs": {
            "darling": [{"darling/diversity_mean": 0.5, "darling/collapsed_groups": 0.25}, {"loss": 1.0}]
        },
    }
    results = {"runs": [{"seed": 0, **run}], "machine": "m", "date": "d", "command": "python x.py --output o"}
    page = render_markdown(results)
    assert "**All held-out constrained prompts** (2, the hypothesis' test)" in page
    assert "| grpo | 0.300 | 0.600 | 0.300 / 0.600 |" in page  # pooled over one prompt of each set
    assert "| darling | 0.400 | 0.800 | 0.400 / 0.800 |" in page
    assert "seed 0: mean diversity 0.500 over 1 steps, at most 25% of a step's groups collapsed" in page


def test_the_plot_draws_one_panel_a_set_also_for_a_pilot_with_one_set(tmp_path):
    pytest = __import__("pytest")
    pytest.importorskip("matplotlib")
    from open_answers.run import plot

    def one_set(name: str) -> dict:
        return {name: {"pass@k": [0.1, 0.3], "per_prompt": []}}

    for names in (["train_open"], ["held_out_open", "constrained_a"]):
        metrics = {
            m: {k: v for name in names for k, v in one_set(name).items()} for m in ("base", "grpo", "darling")
        }
        path = tmp_path / f"{len(names)}.png"
        plot({"runs": [{"seed": 0, "metrics": metrics}]}, path)
        assert path.read_bytes().startswith(b"\x89PNG")
