"""Dropping prompts that are too long, as the official runs did before training.

verl's ``data.filter_overlong_prompts=True`` drops every prompt whose chat-templated token count
exceeds ``data.max_prompt_length`` (512 in the official chat runs, 1,024 in the math runs). TRL has
no such filter: :class:`~darling.trainer.DarlingGRPOTrainer` applies this one when
``DarlingConfig.max_prompt_length`` is set, counting tokens with the trainer's own prompt
tokenization.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

CountTokens = Callable[[Sequence[Any]], list[int]]


def drop_long_prompts(
    dataset: Any,
    count_tokens: CountTokens,
    max_length: int,
    what: str = "train",
    batch_size: int = 256,
    show_progress: bool = True,
) -> Any:
    """Keeps the rows whose ``prompt`` has at most ``max_length`` tokens.

    Args:
        dataset: A ``datasets.Dataset`` (filtered now, with a progress bar), a
            ``datasets.IterableDataset`` (filtered lazily as it streams), a dict of them (each
            filtered) or ``None`` (returned as is).
        count_tokens: Maps a batch of prompts to their token counts (the trainer's own prompt
            tokenization, chat template included).
        max_length: Largest number of prompt tokens kept.
        what: How log messages and errors name the dataset.
        batch_size: Prompts tokenized at a time.
        show_progress: Show a progress bar while counting.

    Returns:
        The filtered dataset (the same object when nothing is dropped).

    Raises:
        ValueError: If the dataset has no ``prompt`` column, or every prompt is too long.
        TypeError: For a dataset type that cannot be filtered.

    Example:
        >>> from datasets import Dataset
        >>> data = Dataset.from_dict({"prompt": ["a b", "a b c d", "a"]})
        >>> words = lambda prompts: [len(p.split()) for p in prompts]
        >>> list(drop_long_prompts(data, words, max_length=2, show_progress=False)["prompt"])
        ['a b', 'a']
    """
    from datasets import Dataset, IterableDataset

    if dataset is None:
        return None
    if isinstance(dataset, dict):
        return {
            name: drop_long_prompts(
                part, count_tokens, max_length, f"{what}/{name}", batch_size, show_progress
            )
            for name, part in dataset.items()
        }
    columns = getattr(dataset, "column_names", None)
    if columns is not None and "prompt" not in columns:
        raise ValueError(
            f"Cannot apply max_prompt_length to the {what} dataset: it has no 'prompt' column (columns: "
            f"{list(columns)}). Rename the prompt column to 'prompt', or set max_prompt_length=None."
        )
    if isinstance(dataset, IterableDataset):
        return dataset.filter(lambda example: count_tokens([example["prompt"]])[0] <= max_length)
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"max_prompt_length filters a datasets.Dataset or IterableDataset; the {what} dataset is a "
            f"{type(dataset).__name__}. Filter it yourself, or set max_prompt_length=None."
        )
    if len(dataset) == 0:
        return dataset  # nothing to filter; an empty dataset is the trainer's to report
    keep: list[int] = []
    starts = range(0, len(dataset), batch_size)
    for start in tqdm(starts, desc=f"prompt lengths ({what})", disable=not show_progress):
        lengths = count_tokens(dataset[start : start + batch_size]["prompt"])
        keep.extend(start + i for i, length in enumerate(lengths) if length <= max_length)
    dropped = len(dataset) - len(keep)
    if not keep:
        raise ValueError(
            f"Every one of the {len(dataset)} {what} prompts is longer than max_prompt_length={max_length} tokens; "
            "raise max_prompt_length or check the prompts."
        )
    if dropped == 0:
        return dataset
    logger.warning(
        "Dropped %d of %d %s prompts longer than max_prompt_length=%d tokens.",
        dropped,
        len(dataset),
        what,
        max_length,
    )
    return dataset.select(keep)
