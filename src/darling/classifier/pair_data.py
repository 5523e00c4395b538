"""Labelled pair data in the NoveltyBench format: loading, checks, grouped and stratified splits.

A pair dataset has two text columns and a 0/1 label (``generation_0``, ``generation_1``, ``similar``
in NoveltyBench's human-labelled pairs; 1 = equivalent). Splits keep the pairs of one prompt on one
side, so a model never sees a dev prompt in training, and keep each class's share.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

PAIR_COLUMNS: tuple[str, str, str] = ("generation_0", "generation_1", "similar")


def load_pairs(
    source: str | os.PathLike,
    split: str = "train",
    text_columns: tuple[str, str] = PAIR_COLUMNS[:2],
    label_column: str = PAIR_COLUMNS[2],
    **load_kwargs: Any,
):
    """Loads labelled pairs from a local JSON/JSONL/CSV/Parquet file or a hub dataset id.

    Args:
        source: A file path (``.json``, ``.jsonl``, ``.csv``, ``.parquet``) or a hub dataset id.
        split: Split to load from a hub dataset.
        text_columns: The two text columns.
        label_column: The label column (1 / ``True`` = equivalent, 0 / ``False`` = not).
        **load_kwargs: Passed to ``datasets.load_dataset`` (``name``, ``revision``, ...).

    Returns:
        A ``datasets.Dataset`` with at least the text and label columns.

    Raises:
        ValueError: If a column is missing, a label is not 0/1, or the dataset is empty.
        TypeError: If a text is not a string (the message names the row).
    """
    import datasets

    path = os.fspath(source)
    suffix = path.rsplit(".", 1)[-1].lower() if "." in os.path.basename(path) else ""
    builders = {"json": "json", "jsonl": "json", "csv": "csv", "parquet": "parquet"}
    if os.path.isfile(path) and suffix in builders:
        try:
            dataset = datasets.load_dataset(builders[suffix], data_files=path, split="train", **load_kwargs)
        except Exception as err:  # datasets wraps the parser's error without naming the file
            raise ValueError(
                f"Cannot read {path!r} as {suffix}: {_parse_problem(path, suffix, err)}."
            ) from None
    elif os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"Cannot read {path!r}: use a .json, .jsonl, .csv or .parquet file, or a hub dataset id."
        )
    elif suffix in builders and not os.path.exists(path):
        raise FileNotFoundError(
            f"The pairs file {path!r} does not exist; check the path (or give a hub dataset id)."
        )
    else:
        dataset = datasets.load_dataset(path, split=split, **load_kwargs)
    check_pair_dataset(dataset, text_columns, label_column)
    return dataset


def _parse_problem(path: str, suffix: str, err: Exception) -> str:
    """What is wrong with a local pairs file: for JSONL the first line that is not a JSON object."""
    if suffix == "jsonl":
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as bad:
                    return f"line {number} is not valid JSON ({bad.msg} at column {bad.colno})"
                if not isinstance(record, dict):
                    return f"line {number} is a JSON {type(record).__name__}, not an object"
    cause = err.__cause__ or err.__context__ or err
    return f"{type(cause).__name__}: {str(cause)[:200]}"


def check_pair_dataset(dataset, text_columns=PAIR_COLUMNS[:2], label_column=PAIR_COLUMNS[2]) -> None:
    """Raises a clear error when ``dataset`` is not a set of labelled text pairs.

    Raises:
        ValueError: On a missing column, an empty dataset or a label other than 0/1.
        TypeError: On a text that is not a string.
    """
    missing = [c for c in (*text_columns, label_column) if c not in dataset.column_names]
    if missing:
        raise ValueError(
            f"The pair dataset lacks column(s) {missing}; it has {dataset.column_names}. Pass text_columns=(..., ...) "
            "and label_column=... naming its two texts and its 0/1 equivalence label."
        )
    if len(dataset) == 0:
        raise ValueError("The pair dataset is empty.")
    for index, label in enumerate(dataset[label_column]):
        if label not in (0, 1):  # True/False compare equal to 1/0
            raise ValueError(f"Row {index}: label {label!r} in column {label_column!r} must be 0 or 1.")
    for column in text_columns:
        for index, text in enumerate(dataset[column]):
            if not isinstance(text, str):
                raise TypeError(f"Row {index}: column {column!r} must hold a str, got {type(text).__name__}.")


def pairs_and_labels(
    data: Any, text_columns: Sequence[str] = PAIR_COLUMNS[:2], label_column: str = PAIR_COLUMNS[2]
) -> tuple[list[tuple[str, str]], list[int]]:
    """Pairs and 0/1 labels from a ``datasets.Dataset``, a list of dicts or a list of ``(a, b, label)`` tuples.

    Raises:
        ValueError: On missing columns, an empty dataset or a row that is not ``(a, b, 0/1)``.
    """
    if hasattr(data, "column_names"):
        check_pair_dataset(data, text_columns, label_column)
        return list(zip(data[text_columns[0]], data[text_columns[1]])), [int(v) for v in data[label_column]]
    rows = list(data)
    if not rows:
        raise ValueError("The pair dataset is empty.")
    if isinstance(rows[0], dict):
        from datasets import Dataset

        return pairs_and_labels(Dataset.from_list(rows), text_columns, label_column)
    pairs, labels = [], []
    for index, row in enumerate(rows):
        if isinstance(row, str) or len(row) != 3 or row[2] not in (0, 1):
            raise ValueError(f"Row {index} must be (text_a, text_b, label 0/1), got {row!r:.80}.")
        pairs.append((row[0], row[1]))
        labels.append(int(row[2]))
    return pairs, labels


def kfold_indices(
    n: int,
    k: int = 5,
    seed: int = 0,
    groups: Sequence[Any] | None = None,
    labels: Sequence[int] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, test) index splits: rows of one group fall in one fold, labels stratified.

    scikit-learn's ``StratifiedGroupKFold`` (shuffled with ``seed``).

    Args:
        n: Number of rows.
        k: Number of folds (>= 2).
        seed: Shuffling seed.
        groups: Optional group key per row (e.g. the prompt); default: every row its own group.
        labels: Optional 0/1 label per row, to give every fold the same class balance.

    Returns:
        ``k`` ``(train_indices, test_indices)`` pairs; every row is a test row exactly once.

    Example:
        >>> [len(test) for _, test in kfold_indices(10, k=5)]
        [2, 2, 2, 2, 2]
    """
    from sklearn.model_selection import StratifiedGroupKFold

    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and the number of rows ({n}), got {k}.")
    keys = list(groups) if groups is not None else list(range(n))
    if len(keys) != n or (labels is not None and len(labels) != n):
        raise ValueError(f"groups and labels must have one entry per row ({n}).")
    y = np.asarray(labels if labels is not None else np.zeros(n), dtype=int)
    group_ids = np.unique(np.asarray([str(key) for key in keys]), return_inverse=True)[1]
    folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(train, test) for train, test in folds.split(np.zeros(n), y, group_ids)]


def split_pairs(
    dataset,
    dev_size: float | int = 0.1,
    seed: int = 0,
    group_column: str | None = "prompt",
    label_column: str | None = PAIR_COLUMNS[2],
):
    """Splits pairs into train and dev, keeping the pairs of one group (prompt) on the same side.

    The split is one fold of a stratified group k-fold (:func:`kfold_indices`) with
    ``k = round(1 / dev share)``, so each label keeps about its share on both sides and a small dev
    split still holds both classes.

    Args:
        dataset: A ``datasets.Dataset`` of pairs.
        dev_size: Fraction (``0 < x < 1``) or number of rows for the dev split (approximate: groups
            are not cut).
        seed: Shuffling seed.
        group_column: Rows sharing this column's value stay together; every row is its own group when
            the column is absent or ``None``.
        label_column: Column to stratify on (``None`` or absent: no stratification).

    Returns:
        ``(train, dev)`` datasets.

    Raises:
        ValueError: If ``dev_size`` leaves either side empty.
    """
    n = len(dataset)
    share = dev_size if isinstance(dev_size, float) else int(dev_size) / max(n, 1)
    if not 0.0 < share < 1.0 or round(share * n) < 1:
        raise ValueError(f"dev_size={dev_size!r} must leave both splits non-empty for {n} rows.")
    keys = dataset[group_column] if group_column and group_column in dataset.column_names else None
    labels = dataset[label_column] if label_column and label_column in dataset.column_names else None
    k = min(n, max(2, round(1 / share)))
    train, dev = kfold_indices(n, k=k, seed=seed, groups=keys, labels=labels)[0]
    if len(dev) == 0 or len(train) == 0:
        raise ValueError(f"dev_size={dev_size!r} leaves one split empty; use a value between 0 and 1.")
    return dataset.select(sorted(train.tolist())), dataset.select(sorted(dev.tolist()))
