"""NoveltyBench metric v1.1: set-level partition folding, LLM utility fields and the summary.

Metric v1.1 (upstream NoveltyBench's default since its leaderboard moved to it) replaces v1.0's
pairwise DeBERTa classifier and reward model with two LLM judges:

- **partition**: one call a prompt shows the judge every response in full and asks for the
  groups of equivalent ones; only exact text equality is settled before the judge. The answer
  must assign every response exactly once; a prompt whose answer never does is left unscored
  with the reason (or, with ``lenient=True``, folded as upstream's last resort does: a response
  left out stands alone, a repeated one keeps its first group).
- **utility**: the judge scores the first response of each class 1-10; a repeat gets a ``null``
  score (it was not judged) and credits 0; ``utility`` is the patience-weighted average
  ``sum_i p**i * credited_i / sum_i p**i`` (p = 0.8), as in v1.0. A prompt a judge declines is
  ``unscored`` and left out of the means.

The summary is upstream's ``summarize``: ``mean_distinct`` (mean number of classes, i.e. of
``partition_scores``) and ``mean_utility`` over the scored prompts, plus ``unscored`` and
``n_scored`` when a prompt was left out. ``distinct`` counts classes (10 = all different), as the
leaderboard's JSON does; a number one lower is the older ``max(label)`` convention (classes - 1)
of the leaderboard's first HTML table and of one historical result file. v1.0 and v1.1 numbers
are not comparable: keep each under its own ``v<version>/`` folder.

Example:
    >>> fold_groups([[0, 2], [1]], 3)
    [0, 1, 0]
    >>> utility_fields([8, None, 6], [0, 0, 1], patience=0.5)["utility"]  # (8 + 0 + 0.25 * 6) / 1.75
    5.428571428571429
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from typing import Any

METRIC_VERSION = "1.1"
PROTOCOL = "v1.1"  # the name `--protocol` takes, as upstream names the folder
EMPTY = "[empty]"  # a response that spent its whole token budget without answering
REFUSED = "[refused]"  # a response the model's provider refused to give
DEFAULT_PATIENCE = 0.8
DEFAULT_JUDGE_MODEL = "claude-opus-5"  # upstream's DEFAULT_JUDGE for both stages
DEFAULT_MAX_NEW_TOKENS = 2048  # upstream's generation budget for v1.1 runs
# The response-text field a slim (submission) file drops; every metric field stays.
TEXT_FIELDS: tuple[str, ...] = ("generations",)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


class InvalidJudgeAnswer(ValueError):
    """A judge's answer does not hold what the stage needs (the message says what was wrong)."""


def shuffled_order(prompt: str, n: int, seed: int | None) -> list[int]:
    """The order responses are shown to the partition judge: as generated, or shuffled by ``seed``.

    The shuffle is seeded with ``f"{seed}{prompt}"``, as upstream's ``--seed`` stability option, so a
    prompt is shown in the same order by both.

    Example:
        >>> shuffled_order("hi", 4, None)
        [0, 1, 2, 3]
        >>> sorted(shuffled_order("hi", 4, 1))
        [0, 1, 2, 3]
    """
    order = list(range(n))
    if seed is not None:
        random.Random(f"{seed}{prompt}").shuffle(order)
    return order


def canonical(labels: Sequence[int]) -> list[int]:
    """Class labels renumbered 0, 1, 2, ... in order of first appearance.

    Example:
        >>> canonical([3, 3, 1, 3, 0])
        [0, 0, 1, 0, 2]
    """
    seen: dict[int, int] = {}
    return [seen.setdefault(label, len(seen)) for label in labels]


def exact_classes(responses: Sequence[str]) -> tuple[list[int], list[int]]:
    """The exact-equality shortcut: ``(unique, label_of)``.

    ``unique`` holds the position of each distinct text's first occurrence (what the judge is
    shown); ``label_of[i]`` is the index into ``unique`` of response ``i``'s text. Only identical
    strings are merged: case and whitespace count, as upstream's shortcut.

    Example:
        >>> exact_classes(["a", "b", "a", "A"])
        ([0, 1, 3], [0, 1, 0, 2])
    """
    first: dict[str, int] = {}
    unique: list[int] = []
    label_of: list[int] = []
    for i, text in enumerate(responses):
        if text not in first:
            first[text] = len(unique)
            unique.append(i)
        label_of.append(first[text])
    return unique, label_of


def answer_json(content: str) -> Any:
    """The JSON value in a judge's answer: reasoning in ``<think>`` and code fences are dropped.

    Raises:
        InvalidJudgeAnswer: When no JSON object can be read from the answer.

    Example:
        >>> answer_json('<think>hmm</think> ```json\\n{"score": 7}\\n```')
        {'score': 7}
    """
    text = _THINK.sub("", content or "").strip()
    if "</think>" in text:  # a reasoning block whose opening tag the server dropped
        text = text.rsplit("</think>", 1)[1]
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise InvalidJudgeAnswer(f"the answer holds no JSON object: {text[-200:]!r}")
    try:
        return json.loads(text[start : end + 1])
    except json.JSONDecodeError as err:
        raise InvalidJudgeAnswer(f"the answer's JSON does not parse ({err}): {text[-200:]!r}") from None


def parse_groups(content: str) -> list[list[int]]:
    """The ``groups`` of a set-level partition answer (``{"groups": [[0, 2], [1]]}``), unchecked.

    Raises:
        InvalidJudgeAnswer: When the answer is not an object with a list of lists of integers.
    """
    value = answer_json(content)
    groups = value.get("groups") if isinstance(value, dict) else None
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in g) for g in groups
    ):
        raise InvalidJudgeAnswer(f'expected {{"groups": [[int, ...], ...]}}, got {str(value)[:200]}')
    return groups


def fold_groups(
    groups: Sequence[Sequence[int]], n: int, order: Sequence[int] | None = None, *, lenient: bool = False
) -> list[int]:
    """Class labels of ``n`` responses from the judge's groups of shown positions.

    Args:
        groups: Groups of positions as shown to the judge (0-based).
        n: Number of responses shown.
        order: ``order[shown] = original index`` (see :func:`shuffled_order`); identity when ``None``.
        lenient: Upstream's last resort for an answer that is not a partition: a response left out
            stands alone, a repeated one keeps its first group, out-of-range indices are dropped.

    Returns:
        Canonical labels (0, 1, ... in order of first appearance) in original order.

    Raises:
        InvalidJudgeAnswer: When ``groups`` does not assign each of the ``n`` responses exactly once
            (naming the missing, repeated and out-of-range ones) and ``lenient`` is off.
    """
    order = list(range(n)) if order is None else list(order)
    flat = [i for g in groups for i in g]
    if sorted(flat) != list(range(n)):
        if not lenient:
            missing = sorted(set(range(n)) - set(flat))
            repeated = sorted({i for i in flat if flat.count(i) > 1})
            outside = sorted({i for i in flat if not 0 <= i < n})
            raise InvalidJudgeAnswer(
                f"the groups are not a partition of the {n} responses (missing {missing}, repeated "
                f"{repeated}, out of range {outside}): {[list(g) for g in groups]}"
            )
        seen: set[int] = set()
        kept = []
        for g in groups:
            members = []
            for i in g:
                if 0 <= i < n and i not in seen:
                    seen.add(i)
                    members.append(i)
            kept.append(members)
        groups = kept + [[i] for i in range(n) if i not in seen]
    labels = [0] * n
    for label, members in enumerate(groups):
        for shown in members:
            labels[order[shown]] = label
    return canonical(labels)


def heads(partition: Sequence[int]) -> list[int]:
    """Positions of the first response of each class (the ones the utility judge scores).

    Example:
        >>> heads([0, 1, 0, 2, 1])
        [0, 1, 3]
    """
    seen: set[int] = set()
    out = []
    for i, label in enumerate(partition):
        if label not in seen:
            seen.add(label)
            out.append(i)
    return out


def check_patience(patience: float) -> float:
    """Returns ``patience`` as a float in [0, 1], else raises a ``ValueError``."""
    if isinstance(patience, bool) or not isinstance(patience, (int, float)) or not 0.0 <= patience <= 1.0:
        raise ValueError(f"`patience` must be in [0, 1], got {patience!r}.")
    return float(patience)


def utility_fields(
    scores: Sequence[int | None], partition: Sequence[int], patience: float = DEFAULT_PATIENCE
) -> dict[str, Any]:
    """A scored prompt's row fields: ``generation_scores``, ``partition_scores``, ``utility``, ``distinct``.

    Args:
        scores: The judge's 1-10 score of each class head, ``None`` for every repeat.
        partition: Class label of each response.
        patience: Weight decay per position.

    Raises:
        ValueError: When a class head has no score, lengths differ or ``patience`` is out of [0, 1].
    """
    patience = check_patience(patience)
    if len(scores) != len(partition):
        raise ValueError(f"Got {len(scores)} scores for {len(partition)} responses.")
    first = heads(partition)
    missing = [i for i in first if scores[i] is None]
    if missing:
        raise ValueError(f"Class heads {missing} have no score; every class's first response needs one.")
    head_set = set(first)
    generation_scores = [scores[i] if i in head_set else None for i in range(len(scores))]
    credited = [float(s) if s is not None else 0.0 for s in generation_scores]
    weights = [patience**i for i in range(len(credited))]
    utility = sum(w * c for w, c in zip(weights, credited)) / sum(weights) if credited else 0.0
    return {
        "generation_scores": generation_scores,
        "partition_scores": [scores[i] for i in first],
        "utility": utility,
        "distinct": len(first),
    }


def unscored_fields(n: int, partition: Sequence[int] | None, reason: str) -> dict[str, Any]:
    """The row fields of a prompt left out of the means (``reason`` says why, e.g. ``judge_refusal``)."""
    return {
        "generation_scores": [None] * n,
        "partition_scores": [],
        "utility": None,
        "distinct": None if partition is None else len(set(partition)),
        "unscored": reason,
    }


def summarize(rows: Iterable[dict[str, Any]], version: str = METRIC_VERSION) -> dict[str, Any]:
    """The ``summary.json`` of a ``scores.jsonl``, as upstream's ``summarize``.

    ``mean_distinct`` is the mean length of ``partition_scores`` and ``mean_utility`` the mean
    ``utility``, both over the rows with a utility; when some rows have none, ``unscored`` (their
    count) and ``n_scored`` are added.

    Raises:
        ValueError: For no rows, a row without the score fields, or no scored row.

    Example:
        >>> rows = [{"partition_scores": [7, 5], "utility": 6.0}, {"partition_scores": [], "utility": None}]
        >>> summarize(rows)
        {'version': '1.1', 'mean_distinct': 2.0, 'mean_utility': 6.0, 'unscored': 1, 'n_scored': 1}
    """
    rows = list(rows)
    if not rows:
        raise ValueError("A NoveltyBench summary needs at least one scored row; got none.")
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or "partition_scores" not in row or "utility" not in row:
            raise ValueError(
                f"Row {index + 1} has no `partition_scores`/`utility`; summarize reads a scores.jsonl."
            )
    scored = [row for row in rows if row["utility"] is not None]
    if not scored:
        raise ValueError(f"None of the {len(rows)} rows was scored (every utility is null).")
    summary: dict[str, Any] = {
        "version": version,
        "mean_distinct": sum(len(row["partition_scores"]) for row in scored) / len(scored),
        "mean_utility": sum(float(row["utility"]) for row in scored) / len(scored),
    }
    if len(scored) < len(rows):
        summary["unscored"] = len(rows) - len(scored)
        summary["n_scored"] = len(scored)
    return summary


def slim_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` without the response text (what a leaderboard submission commits)."""
    return {key: value for key, value in row.items() if key not in TEXT_FIELDS}


def mark_generation(text: str, hit_token_limit: bool = True) -> str:
    """A generation as v1.1 records it: :data:`EMPTY` when no answer text is left.

    A reasoning block (``<think>...</think>``, or one never closed) is not the answer; what is
    left empty after it, when the model ran out of tokens, is the ``[empty]`` marker, so the judges
    see a placeholder rather than nothing.

    Example:
        >>> mark_generation("<think>let me see ...")
        '[empty]'
        >>> mark_generation("<think>ok</think>Paris")
        'Paris'
    """
    answer = _THINK.sub("", text)
    if "<think>" in answer:  # never closed: the budget ran out while thinking
        answer = answer.split("<think>", 1)[0]
    if "</think>" in answer:
        answer = answer.rsplit("</think>", 1)[1]
    answer = answer.strip()
    if not answer and hit_token_limit:
        return EMPTY
    return answer if answer != text.strip() else text
