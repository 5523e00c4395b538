"""drop_long_prompts: verl's overlong-prompt filter for DarlingConfig.max_prompt_length."""

from __future__ import annotations

import pytest
from datasets import Dataset, IterableDataset

from darling.trainer.prompt_filter import drop_long_prompts


def words(prompts):
    return [len(p.split()) for p in prompts]


def test_keeps_prompts_at_or_under_the_limit_in_order():
    data = Dataset.from_dict({"prompt": ["a b", "a b c d", "a", "a b c"], "id": [0, 1, 2, 3]})
    kept = drop_long_prompts(data, words, max_length=2, batch_size=3, show_progress=False)
    assert kept["id"] == [0, 2]


def test_returns_the_same_dataset_when_nothing_is_dropped():
    data = Dataset.from_dict({"prompt": ["a", "b"]})
    assert drop_long_prompts(data, words, max_length=5, show_progress=False) is data


def test_an_empty_dataset_is_not_reported_as_all_too_long():
    empty = Dataset.from_dict({"prompt": []})
    assert drop_long_prompts(empty, words, max_length=5, show_progress=False) is empty
    with pytest.raises(ValueError, match="Every one of the 1 train prompts is longer"):
        drop_long_prompts(Dataset.from_dict({"prompt": ["a b c"]}), words, max_length=1, show_progress=False)


def test_filters_streams_lazily_and_dicts_of_datasets():
    stream = IterableDataset.from_generator(lambda: ({"prompt": p} for p in ["a", "a b c", "b"]))
    assert [row["prompt"] for row in drop_long_prompts(stream, words, max_length=1)] == ["a", "b"]
    both = drop_long_prompts(
        {"x": Dataset.from_dict({"prompt": ["a b", "a"]}), "y": Dataset.from_dict({"prompt": ["c"]})},
        words,
        max_length=1,
        show_progress=False,
    )
    assert both["x"]["prompt"] == ["a"] and both["y"]["prompt"] == ["c"]
    assert drop_long_prompts(None, words, max_length=1) is None


def test_clear_errors_for_a_missing_column_everything_too_long_and_other_types():
    with pytest.raises(ValueError, match="no 'prompt' column"):
        drop_long_prompts(Dataset.from_dict({"text": ["a"]}), words, max_length=1)
    with pytest.raises(
        ValueError, match="Every one of the 2 train prompts is longer than max_prompt_length=1"
    ):
        drop_long_prompts(
            Dataset.from_dict({"prompt": ["a b", "c d"]}), words, max_length=1, show_progress=False
        )
    with pytest.raises(TypeError, match=r"filters a datasets\.Dataset"):
        drop_long_prompts([{"prompt": "a"}], words, max_length=1)
