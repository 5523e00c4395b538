"""Partition algorithms: from pairwise judgements to equivalence classes, and diversity from classes.

Two algorithms, both exact with respect to the judge's answers:

- ``"all_pairs"`` (DARLING's training code): two texts share a class when a chain of equivalent
  pairs joins them (union-find over every pair). Pairs whose texts are already joined are never
  sent to the judge: pairs are judged in rounds, each round asking at most one pair per pair of
  current classes and each class in at most one pair, then merged.
- ``"greedy"`` (NoveltyBench): walk the texts in order; an unassigned text opens a class and
  becomes its head; every later unassigned text is compared with the head only.

Before any judge call, identical texts are merged and the short-text rule
(:mod:`darling.partitioning.shortcut`) settles pairs of short texts. Several groups are processed
together so each round is one judge call for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from darling.partitioning._validation import check_number, check_texts
from darling.partitioning.judges import Judge, as_judge
from darling.partitioning.shortcut import check_short_text_rule, short_text_equivalent

PartitionMode = Literal["all_pairs", "greedy"]
PARTITION_MODES: tuple[str, ...] = ("all_pairs", "greedy")


def check_mode(mode: str) -> str:
    """Validates a partition mode name and returns it (the one check every caller uses)."""
    if mode not in PARTITION_MODES:
        raise ValueError(f"Unknown partition mode {mode!r}; choose one of {', '.join(PARTITION_MODES)}.")
    return mode


@dataclass
class PartitionResult:
    """Class labels of one group and how each pair was settled.

    Attributes:
        labels: Class label of each text, numbered in order of first occurrence (0, 1, ...).
        num_pairs: n(n-1)/2, the pairs a naive all-pairs loop would judge.
        judged_pairs: Pairs sent to the judge.
        identical_pairs: Pairs settled because the texts are identical (or a copy's pair was judged).
        shortcut_pairs: Pairs settled by the short-text rule.
        rounds: Judge calls this group took part in.
    """

    labels: list[int]
    num_pairs: int = 0
    judged_pairs: int = 0
    identical_pairs: int = 0
    shortcut_pairs: int = 0
    rounds: int = 0

    @property
    def num_classes(self) -> int:
        """Number of equivalence classes (NoveltyBench's ``distinct``)."""
        return len(set(self.labels))

    @property
    def settled_without_judge(self) -> float:
        """Share of the n(n-1)/2 pairs not sent to the judge (1.0 for a group of one)."""
        return 1.0 if self.num_pairs == 0 else 1.0 - self.judged_pairs / self.num_pairs


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def relabel(labels: Sequence[int]) -> list[int]:
    """Renumbers class labels in order of first occurrence.

    Example:
        >>> relabel([7, 3, 7, 9])
        [0, 1, 0, 2]
    """
    mapping: dict[int, int] = {}
    return [mapping.setdefault(label, len(mapping)) for label in labels]


@dataclass
class _GroupState:
    texts: list[str]
    result: PartitionResult
    uf: _UnionFind
    # For all_pairs: unique-text representatives and the rep pairs still to settle.
    reps: list[int] = field(default_factory=list)
    pending: list[tuple[int, int]] = field(default_factory=list)
    # For greedy: the next head position and pairs awaiting this round's answers.
    labels: list[int] = field(default_factory=list)
    head: int = 0
    num_classes: int = 0
    # Texts asked about the current head this round -> every position holding that text.
    asked: dict[str, list[int]] = field(default_factory=dict)


def _resolve(judge: Judge, pairs: list[tuple[str, str]]) -> list[bool]:
    if not pairs:
        return []
    answers = judge.equivalent(pairs)
    if len(answers) != len(pairs):
        raise RuntimeError(
            f"Judge {judge!r} returned {len(answers)} answers for {len(pairs)} pairs; a judge must "
            "answer every pair it is given."
        )
    return [bool(a) for a in answers]


def _all_pairs(groups: list[_GroupState], judge: Judge, rule: str) -> None:
    for g in groups:
        n = len(g.texts)
        first: dict[str, int] = {}
        for i, text in enumerate(g.texts):
            if text in first:
                g.uf.union(first[text], i)
            else:
                first[text] = i
                g.reps.append(i)
        # Every pair touching a duplicate copy is settled by its representative.
        g.result.identical_pairs = n * (n - 1) // 2 - len(g.reps) * (len(g.reps) - 1) // 2
        for x in range(len(g.reps)):
            for y in range(x + 1, len(g.reps)):
                i, j = g.reps[x], g.reps[y]
                decided = short_text_equivalent(g.texts[i], g.texts[j], rule)
                if decided is None:
                    g.pending.append((i, j))
                else:
                    g.result.shortcut_pairs += 1
                    if decided:
                        g.uf.union(i, j)
    while True:
        batch: list[tuple[_GroupState, int, int]] = []
        for g in groups:
            g.pending = [(i, j) for i, j in g.pending if g.uf.find(i) != g.uf.find(j)]
            used: set[int] = set()
            for i, j in g.pending:
                ri, rj = g.uf.find(i), g.uf.find(j)
                if ri in used or rj in used:
                    continue
                used.update((ri, rj))
                batch.append((g, i, j))
            if any(b[0] is g for b in batch):
                g.result.rounds += 1
        if not batch:
            break
        answers = _resolve(judge, [(g.texts[i], g.texts[j]) for g, i, j in batch])
        for (g, i, j), same in zip(batch, answers):
            g.result.judged_pairs += 1
            g.pending.remove((i, j))
            if same:
                g.uf.union(i, j)
    for g in groups:
        g.result.labels = relabel([g.uf.find(i) for i in range(len(g.texts))])


def _greedy(groups: list[_GroupState], judge: Judge, rule: str) -> None:
    for g in groups:
        g.labels = [-1] * len(g.texts)
    while True:
        batch: list[tuple[_GroupState, int, int]] = []
        for g in groups:
            while g.head < len(g.texts) and g.labels[g.head] >= 0:
                g.head += 1
            if g.head >= len(g.texts):
                continue
            h = g.head
            g.labels[h] = g.num_classes
            g.num_classes += 1
            asked = g.asked = {}
            for j in range(h + 1, len(g.texts)):
                if g.labels[j] >= 0:
                    continue
                if g.texts[j] == g.texts[h]:
                    g.labels[j] = g.labels[h]
                    g.result.identical_pairs += 1
                    continue
                if g.texts[j] in asked:
                    # A copy of a text already asked about this head: reuse its answer.
                    asked[g.texts[j]].append(j)
                    g.result.identical_pairs += 1
                    continue
                decided = short_text_equivalent(g.texts[h], g.texts[j], rule)
                if decided is not None:
                    g.result.shortcut_pairs += 1
                    if decided:
                        g.labels[j] = g.labels[h]
                    continue
                asked[g.texts[j]] = [j]
                batch.append((g, h, j))
            if any(b[0] is g for b in batch):
                g.result.rounds += 1
        if not batch:
            if all(g.head >= len(g.texts) or min(g.labels) >= 0 for g in groups):
                break
            continue
        answers = _resolve(judge, [(g.texts[h], g.texts[j]) for g, h, j in batch])
        for (g, h, j), same in zip(batch, answers):
            g.result.judged_pairs += 1
            if same:
                for k in g.asked[g.texts[j]]:
                    g.labels[k] = g.labels[h]
    for g in groups:
        g.result.labels = relabel(g.labels)


def partition_groups(
    groups: Sequence[Sequence[str]],
    judge: Any,
    mode: str = "all_pairs",
    short_text_rule: str | None = None,
) -> list[PartitionResult]:
    """Partitions several groups of texts at once, sharing judge calls between them.

    Args:
        groups: One sequence of texts per group (for example the rollouts of each prompt).
        judge: A :class:`~darling.partitioning.judges.Judge`, a :class:`~darling.PartitionClassifier`,
            a ``SentenceTransformer`` or a callable ``(a, b) -> bool``.
        mode: ``"all_pairs"`` (union-find over all pairs, DARLING training) or ``"greedy"``
            (compare with class heads only, NoveltyBench).
        short_text_rule: ``"overlap"``, ``"exact"`` or ``"off"``; ``None`` uses the judge's own
            setting (``"overlap"`` for most judges, as in the references).

    Returns:
        One :class:`PartitionResult` per group, in order.
    """
    check_mode(mode)
    judge = as_judge(judge)
    rule = check_short_text_rule(short_text_rule or getattr(judge, "short_text_rule", "overlap"))
    groups = list(groups)  # any iterable of groups
    states = []
    for index, texts in enumerate(groups):
        texts = check_texts(texts, what=f"groups[{index}]" if len(groups) > 1 else "texts")
        n = len(texts)
        states.append(
            _GroupState(
                texts=texts, result=PartitionResult(labels=[], num_pairs=n * (n - 1) // 2), uf=_UnionFind(n)
            )
        )
    (_all_pairs if mode == "all_pairs" else _greedy)(states, judge, rule)
    return [s.result for s in states]


def partition(
    texts: Sequence[str],
    judge: Any,
    mode: str = "all_pairs",
    short_text_rule: str | None = None,
) -> list[int]:
    """Groups texts into classes of equivalent texts.

    Args:
        texts: The texts of one group (for example the rollouts of one prompt).
        judge: Anything :func:`~darling.partitioning.judges.as_judge` accepts.
        mode: ``"all_pairs"`` or ``"greedy"`` (see the module docstring).
        short_text_rule: ``"overlap"``, ``"exact"``, ``"off"`` or ``None`` for the judge's own.

    Returns:
        Class labels, numbered in order of first occurrence.

    Example:
        >>> from darling import partition
        >>> partition(["a cat", "A cat", "a dog"], lambda a, b: a.lower() == b.lower(), short_text_rule="off")
        [0, 0, 1]
    """
    return partition_groups([texts], judge, mode=mode, short_text_rule=short_text_rule)[0].labels


def class_sizes(labels: Sequence[int]) -> list[int]:
    """Size of each text's class."""
    counts: dict[int, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return [counts[label] for label in labels]


def diversity_scores(labels: Sequence[int], floor: float = 0.0, single: float = 1.0) -> list[float]:
    """DARLING's per-text diversity: the share of the other texts outside its class.

    ``Div(y_i) = (n - |C_i|) / (n - 1)``, then ``max(Div, floor)``. The official training code uses
    ``floor=0.1`` so an all-equivalent group still passes a small quality signal.

    Args:
        labels: Class labels of one group.
        floor: Lower bound of every score, in [0, 1].
        single: The value a group of one text gets, in [0, 1] (there is no other text to differ
            from; the default 1.0 leaves its quality unchanged under multiplicative fusion).

    Returns:
        One score in [floor, 1] per text.

    Example:
        >>> diversity_scores([0, 0, 1, 2])  # the paper's example
        [0.6666666666666666, 0.6666666666666666, 1.0, 1.0]
    """
    floor = check_number(floor, "floor", 0.0, 1.0)
    single = check_number(single, "single", 0.0, 1.0)
    n = len(labels)
    if n == 0:
        return []
    if n == 1:
        return [max(single, floor)]
    return [max((n - size) / (n - 1), floor) for size in class_sizes(labels)]
