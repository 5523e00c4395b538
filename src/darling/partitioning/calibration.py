"""Choosing a cascade's cut-offs so its partitions match the exact judge's on sample groups.

A :class:`~darling.partitioning.judges.CascadeJudge` is only as good as its two cut-offs. A pair-level
rule ("misplace at most 1% of pairs") says little about partitions: a group of ten texts takes 25 to
40 decisions, and one wrong decision can change its partition. :func:`calibrate_cascade` therefore
measures what matters: on sample groups it partitions with the exact judge, then with cascades over
a grid of cut-offs, and keeps the cut-offs that send the fewest pairs to the exact judge while
giving the exact partition on at least ``min_agreement`` of the groups.

Every exact answer is computed once and remembered, so the search costs one exact judgement per
distinct pair it needs (at most every within-group pair) plus one fast score per pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from darling.partitioning._validation import check_groups
from darling.partitioning.algorithms import PARTITION_MODES, _resolve, partition_groups
from darling.partitioning.judges import CascadeJudge, Judge, Pair, ScoreJudge, as_judge, check_fast_judge


@dataclass
class CascadeCalibration:
    """What :func:`calibrate_cascade` measured on its sample groups.

    Attributes:
        low: Chosen lower cut-off (``-inf``: no pair is settled as different).
        high: Chosen upper cut-off (``inf``: no pair is settled as equivalent).
        agreement: Share of the sample groups whose cascade partition equals the exact one.
        exact_pairs_per_group: Pairs the cascade sends to the exact judge, per group.
        reference_pairs_per_group: Pairs the exact judge alone is asked, per group.
        num_groups: Sample groups.
        mode: Partition mode the cut-offs were chosen for.
        min_agreement: The agreement asked for.
    """

    low: float
    high: float
    agreement: float
    exact_pairs_per_group: float
    reference_pairs_per_group: float
    num_groups: int
    mode: str
    min_agreement: float

    @property
    def exact_pair_ratio(self) -> float:
        """Exact-judge pairs without the cascade / with it (the saving in expensive calls)."""
        return self.reference_pairs_per_group / max(self.exact_pairs_per_group, 1e-12)


class _Remembering(Judge):
    """Asks the wrapped judge each pair once and counts the pairs asked through it."""

    uses_model = True

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.short_text_rule = judge.short_text_rule
        self.name = judge.name
        self.answers: dict[Pair, bool] = {}
        self.asked = 0

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        pairs = list(pairs)
        missing = list(dict.fromkeys(p for p in pairs if p not in self.answers))
        self.answers.update(zip(missing, _resolve(self.judge, missing)))
        self.asked += len(pairs)
        return [self.answers[p] for p in pairs]


class _ScoreTable(ScoreJudge):
    """Scores pairs from a table filled by the fast judge (each pair scored once)."""

    def __init__(self, fast: ScoreJudge) -> None:
        self.fast = fast
        self.name = fast.name
        self.short_text_rule = fast.short_text_rule
        self.table: dict[Pair, float] = {}

    def scores(self, pairs: Sequence[Pair]) -> list[float]:
        missing = list(dict.fromkeys(p for p in pairs if p not in self.table))
        if missing:
            self.table.update(zip(missing, (float(s) for s in self.fast.scores(missing))))
        return [self.table[p] for p in pairs]


def _candidates(values: Sequence[float], count: int) -> list[float]:
    ordered = sorted(set(values))
    if len(ordered) <= count:
        return ordered
    return sorted({ordered[round(k * (len(ordered) - 1) / (count - 1))] for k in range(count)})


def calibrate_cascade(
    fast: ScoreJudge,
    exact: Any,
    groups: Sequence[Sequence[str]],
    mode: str = "all_pairs",
    min_agreement: float = 0.95,
    num_candidates: int = 40,
    short_text_rule: str | None = None,
    show_progress: bool = True,
) -> CascadeJudge:
    """Builds a :class:`~darling.partitioning.judges.CascadeJudge` with cut-offs chosen on sample groups.

    The lower cut-off is searched first (with nothing settled as equivalent), then the upper one
    with that lower cut-off; each time the candidate sending the fewest pairs to ``exact`` among
    those reaching ``min_agreement`` wins. Candidates are ``num_candidates`` evenly spaced
    quantiles of the fast scores of the groups' pairs. Settling nothing (``low=-inf``,
    ``high=inf``) always agrees, so a result always exists; it is what you get when the fast judge
    cannot be trusted on any pair.

    Agreement on the sample groups is optimistic for new groups (the cut-offs were chosen on them):
    calibrate on as many groups as you can, ask for a margin above the agreement you need, and
    check on held-out groups (``benchmarks/partition_cost.py`` does).

    Args:
        fast: The cheap scorer (an :class:`~darling.partitioning.judges.EmbeddingJudge`, a
            :class:`~darling.partitioning.judges.LexicalJudge`, ...).
        exact: The judge to approximate: anything :func:`~darling.partitioning.judges.as_judge` accepts
            (typically a :class:`~darling.PartitionClassifier`).
        groups: Sample groups, like the ones the cascade will partition (for example rollouts of a
            few training prompts).
        mode: ``"all_pairs"`` or ``"greedy"``: the mode the cascade will be used with.
        min_agreement: Share of the sample groups whose partition must equal the exact one, in (0, 1].
        num_candidates: Cut-off candidates tried for each of the two cut-offs.
        short_text_rule: As in :func:`~darling.partitioning.partition_groups` (``None``: the exact
            judge's own).
        show_progress: Show a progress bar over the candidates.

    Returns:
        The cascade, with the measurements in its ``calibration`` attribute
        (a :class:`CascadeCalibration`).

    Raises:
        ValueError: For an unknown ``mode``, ``min_agreement`` outside (0, 1], fewer than two
            candidates, or no groups.
        TypeError: For a ``fast`` judge that does not score pairs, or a flat list of texts as ``groups``.

    Example:
        >>> from darling.partitioning import ExactMatchJudge, LexicalJudge
        >>> from darling.partitioning.calibration import calibrate_cascade
        >>> groups = [["a red cat", "a red cat!", "a blue dog"], ["one", "two", "one."]]
        >>> cascade = calibrate_cascade(LexicalJudge(), ExactMatchJudge(), groups, show_progress=False)
        >>> cascade.calibration.agreement
        1.0
    """
    if mode not in PARTITION_MODES:
        raise ValueError(f"Unknown partition mode {mode!r}; choose one of {', '.join(PARTITION_MODES)}.")
    if not 0.0 < min_agreement <= 1.0:
        raise ValueError(f"`min_agreement` must be in (0, 1], got {min_agreement}.")
    if num_candidates < 2:
        raise ValueError(f"`num_candidates` must be at least 2, got {num_candidates}.")
    check_fast_judge(fast)
    groups = check_groups(groups)
    if not groups:
        raise ValueError("calibrate_cascade needs at least one sample group.")
    exact_judge = as_judge(exact)
    rule = short_text_rule or exact_judge.short_text_rule
    remembered = _Remembering(exact_judge)
    table = _ScoreTable(fast)

    def run(low: float, high: float) -> tuple[float, float]:
        cascade = CascadeJudge(table, remembered, low=low, high=high)
        results = partition_groups(groups, cascade, mode=mode, short_text_rule=rule)
        same = sum(r.labels == ref for r, ref in zip(results, reference)) / len(groups)
        return same, cascade.exact_pairs_total / len(groups)

    reference_results = partition_groups(groups, remembered, mode=mode, short_text_rule=rule)
    reference = [r.labels for r in reference_results]
    reference_pairs = remembered.asked / len(groups)
    pairs = [
        (g[i], g[j]) for g in groups for i in range(len(g)) for j in range(i + 1, len(g)) if g[i] != g[j]
    ]
    values = table.scores(pairs)
    grid = _candidates(values, num_candidates)
    progress = tqdm(total=2 * len(grid), desc="calibrating cascade", disable=not show_progress)

    best_low, best_high = -math.inf, math.inf
    best_same, best_cost = 1.0, reference_pairs
    for low in grid:  # settle pairs scored <= low as different
        same, cost = run(low, math.inf)
        progress.update()
        if same >= min_agreement and cost < best_cost:
            best_low, best_same, best_cost = low, same, cost
    for high in reversed(grid):  # then settle pairs scored > high as equivalent
        if high < best_low:
            progress.update()
            continue
        same, cost = run(best_low, high)
        progress.update()
        if same >= min_agreement and cost < best_cost:
            best_high, best_same, best_cost = high, same, cost
    progress.close()

    cascade = CascadeJudge(fast, exact_judge, low=best_low, high=best_high)
    cascade.short_text_rule = rule
    cascade.calibration = CascadeCalibration(
        low=best_low,
        high=best_high,
        agreement=best_same,
        exact_pairs_per_group=best_cost,
        reference_pairs_per_group=reference_pairs,
        num_groups=len(groups),
        mode=mode,
        min_agreement=min_agreement,
    )
    return cascade
