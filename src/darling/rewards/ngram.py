"""The paper's ablation baseline: lexical n-gram diversity within a group, as a TRL reward function."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from darling.partitioning._validation import check_groups, check_number, check_positive_int, check_texts
from darling.rewards._groups import completion_texts, group_bounds, overlapping_groups, prompt_key
from darling.rewards.distributed import gather_for_groups


def ngram_novelty(texts: Sequence[str], n: int = 4) -> list[float]:
    """The official code's n-gram diversity of each text of one group.

    Tokens are ``str.split()`` (case and punctuation kept). A text's score is the number of its
    distinct n-grams that appear in no other text of the group, divided by its number of n-gram
    positions ``max(1, tokens - n + 1)`` (1 for a text shorter than ``n`` tokens). Repeating an
    n-gram inside one text therefore lowers its score: a rollout that loops on one phrase is not
    diverse. A group of one text scores ``distinct n-grams / positions``.

    Args:
        texts: The rollouts of one prompt.
        n: n-gram order (the paper's ablation uses 4).

    Returns:
        One score in [0, 1] per text.

    Example:
        >>> ngram_novelty(["a b c d e", "a b c d x", "p q r s"], n=4)
        [0.5, 0.5, 1.0]
        >>> round(ngram_novelty(["loop " * 10, "something else entirely here"], n=4)[0], 4)  # 1 distinct / 7
        0.1429
    """
    check_positive_int(n, "n")
    tokens = [text.split() for text in check_texts(texts)]
    grams = [{tuple(words[i : i + n]) for i in range(len(words) - n + 1)} for words in tokens]
    # How many texts each n-gram appears in.
    document_frequency = Counter(g for text_grams in grams for g in text_grams)
    scores = []
    for words, text_grams in zip(tokens, grams):
        unique = sum(1 for g in text_grams if document_frequency[g] == 1)
        scores.append(unique / max(1, len(words) - n + 1))
    return scores


class NGramDiversityReward:
    """N-gram diversity (the DARLING paper's ablation baseline) as a TRL reward function.

    A rollout's reward is the number of its distinct n-grams (``str.split()`` tokens) found in no
    other rollout of its group, divided by its number of n-gram positions, exactly as the official
    code's ``ngram`` reward (see :func:`ngram_novelty`). Groups are gathered across processes the
    same way as :class:`~darling.rewards.DiversityRewardFunction`.

    Args:
        n: n-gram order (the paper uses 4).
        num_generations: Rollouts per prompt; ``None`` groups runs of consecutive equal prompts.
        floor: Lower bound of every score. The official reward has none (0.0, the default); under
            multiplicative fusion a floor such as 0.1 keeps a rollout's quality from being zeroed out.
        gather: Gather rollouts across processes before scoring.

    Example:
        >>> reward = NGramDiversityReward(n=2, num_generations=2)
        >>> reward(prompts=["p", "p"], completions=["the cat sat", "the cat ran"])
        [0.5, 0.5]
    """

    __name__ = "ngram_diversity"

    def __init__(
        self,
        n: int = 4,
        num_generations: int | None = None,
        floor: float = 0.0,
        gather: bool = True,
    ) -> None:
        check_positive_int(n, "n")
        floor = check_number(floor, "floor", 0.0, 1.0)
        check_positive_int(num_generations, "num_generations", allow_none=True)
        self.n = n
        self.num_generations = num_generations
        self.floor = float(floor)
        self.gather = gather
        self.last_stats: dict[str, float] = {}

    def score_groups(self, groups: Sequence[Sequence[str]]) -> list[list[float]]:
        """Scores whole groups on this process (no gathering). Also sets :attr:`last_stats`."""
        out = [[max(s, self.floor) for s in ngram_novelty(g, self.n)] for g in check_groups(groups)]
        flat = [s for g in out for s in g]
        self.last_stats = {"mean_ngram_diversity": sum(flat) / len(flat)} if flat else {}
        return out

    def __call__(
        self,
        prompts: Sequence[Any] | None,
        completions: Sequence[Any],
        log_metric: Callable[[str, float], None] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        """Scores this process's completions against their whole groups.

        Raises:
            ValueError: On mismatched lengths or rollouts that do not split into groups.
            TypeError: On a ``None`` or malformed completion.
        """
        texts = completion_texts(prompts, completions)
        if self.num_generations is None and prompts is None:
            raise ValueError("Pass `prompts` (to group rollouts by prompt) or set `num_generations`.")
        keys = [prompt_key(p) for p in prompts] if prompts is not None else [None] * len(texts)
        rows = list(zip(texts, keys))
        all_rows, counts, rank = gather_for_groups(rows, gather=self.gather)
        bounds = group_bounds(len(all_rows), self.num_generations, [r[1] for r in all_rows])
        start = sum(counts[:rank])
        stop = start + counts[rank]
        needed = overlapping_groups(bounds, start, stop)
        scores = {}
        for b, group_scores in zip(needed, self.score_groups([[all_rows[i][0] for i in b] for b in needed])):
            scores.update(zip(b, group_scores))
        if log_metric is not None and self.last_stats:
            log_metric("darling/mean_ngram_diversity", self.last_stats["mean_ngram_diversity"])
        return [scores[i] for i in range(start, stop)]

    def __repr__(self) -> str:
        return f"NGramDiversityReward(n={self.n}, num_generations={self.num_generations}, floor={self.floor})"
