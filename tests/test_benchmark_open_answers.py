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
