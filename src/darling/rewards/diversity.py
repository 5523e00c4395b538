"""DARLING's semantic diversity as a TRL reward function.

Each prompt's rollouts are partitioned into classes of equivalent texts by a judge (the learned
partition classifier by default), and each rollout is rewarded with the share of the other
rollouts outside its class: ``Div = (n - |C|) / (n - 1)``, floored at ``floor``.

The function follows TRL's reward-function protocol, so it works with any TRL trainer
(``reward_funcs=[quality, diversity]``; plain TRL *sums* the two) and is what
``DarlingGRPOTrainer`` multiplies with quality.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from darling.partitioning._validation import check_groups, check_positive_int
from darling.partitioning.algorithms import diversity_scores, partition_groups
from darling.partitioning.judges import as_judge
from darling.rewards._groups import completion_texts, group_bounds, overlapping_groups, prompt_key
from darling.rewards.distributed import gather_for_groups
from darling.rewards.hub import DiversityRewardHub
from darling.rewards.settings import DiversitySettings

METRIC_PREFIX = "darling/"


def _classifier_judge(classifier: Any, batch_size: int):
    """The judge of a partition classifier (loaded first when given as a path or hub id)."""
    if isinstance(classifier, (str, os.PathLike)):
        # Imported here: the classifier pulls in transformers, the rest of this module does not.
        from darling.classifier import PartitionClassifier

        classifier = PartitionClassifier.from_pretrained(classifier)
    if not callable(getattr(classifier, "as_judge", None)):
        raise TypeError(
            f"`classifier` must be a PartitionClassifier or its path/hub id, got {type(classifier).__name__}; pass "
            "other judges (a callable, a SentenceTransformer, a darling Judge) as `judge=`."
        )
    return classifier, classifier.as_judge(batch_size=batch_size)


class DiversityRewardFunction(DiversityRewardHub):
    """Rewards each rollout for being semantically different from the other rollouts of its prompt.

    A picklable callable following TRL's reward-function protocol: called with ``prompts``,
    ``completions`` and keyword arguments, it returns one float per completion. Groups are the
    ``num_generations`` consecutive rollouts of each prompt; with several processes the function
    gathers the completions of all processes first, so a group split between processes is scored
    exactly as on one process.

    Args:
        classifier: A :class:`~darling.PartitionClassifier`, or a local path or hub id to load one
            from. Give this or ``judge``.
        judge: Anything :func:`darling.partitioning.judges.as_judge` accepts (a judge, a callable
            ``(a, b) -> bool``, a ``SentenceTransformer``). Give this or ``classifier``.
        mode: ``"all_pairs"`` (union-find over all pairs, DARLING training) or ``"greedy"``
            (NoveltyBench).
        floor: Lower bound of every diversity score (the official code uses 0.1, so an
            all-equivalent group still passes a small quality signal).
        short_text_rule: How pairs of texts of at most 5 words are settled before the judge:
            ``"overlap"`` (the official rule), ``"exact"``, ``"off"``, or ``None`` for the judge's own.
        num_generations: Rollouts per prompt. ``None`` treats runs of consecutive equal prompts as
            groups; a dataset that repeats a prompt back-to-back then merges two groups, so pass the
            trainer's ``num_generations`` when you can (``DarlingGRPOTrainer`` sets it itself).
        correctness_reward: Optional reward function (same protocol) marking correct rollouts: a
            rollout is correct when its reward is above ``correctness_threshold``. Then only the
            correct rollouts of a group are partitioned and a correct rollout's diversity is
            computed among the correct ones; incorrect rollouts (and ``None`` rewards) get
            ``floor``; a group with at most one correct rollout gets ``floor`` everywhere. This is
            the official code's ``partition_correct`` variant.
        correctness_threshold: See ``correctness_reward``.
        gather: Gather rollouts across processes before scoring (needed whenever a group can be
            split between processes; turn off only if every process holds whole groups).
        batch_size: Pairs per classifier forward pass (with ``classifier``).

    Raises:
        ValueError: If both or neither of ``classifier`` and ``judge`` are given, or a setting is
            out of range.

    Example:
        >>> from darling.partitioning import ExactMatchJudge
        >>> reward = DiversityRewardFunction(judge=ExactMatchJudge(), num_generations=4)
        >>> reward(prompts=["p"] * 4, completions=["a cat", "a cat", "a dog", "a bird"])
        [0.6666666666666666, 0.6666666666666666, 1.0, 1.0]

    The whole reward (settings and judge) saves to a folder or the Hub and loads back with
    ``save_pretrained`` / ``push_to_hub`` / ``from_pretrained`` (see
    :class:`~darling.rewards.hub.DiversityRewardHub`).

    A group of one rollout gets 1.0 (there is nothing to be equivalent to); empty completions are
    ordinary texts (all empty rollouts of a group share one class). Conversational completions
    are scored on their assistant text; an assistant message that only calls tools
    (``content=None``) counts as empty text.
    """

    __name__ = "darling_diversity"

    def __init__(
        self,
        classifier: Any = None,
        judge: Any = None,
        *,
        mode: str = "all_pairs",
        floor: float = 0.1,
        short_text_rule: str | None = None,
        num_generations: int | None = None,
        correctness_reward: Callable[..., Sequence[float | None]] | None = None,
        correctness_threshold: float = 0.0,
        gather: bool = True,
        batch_size: int = 32,
    ) -> None:
        if (classifier is None) == (judge is None):
            raise ValueError(
                "DiversityRewardFunction needs exactly one of `classifier` (a PartitionClassifier or its "
                "path/hub id, e.g. DiversityRewardFunction.from_pretrained('dogtooth/similarity-classifier-f168-hf')) "
                "or `judge` (e.g. judge=darling.EmbeddingJudge('minilm')); got "
                + ("both." if classifier is not None else "neither.")
            )
        # The settings are checked where they are defined, in DiversitySettings.
        settings = DiversitySettings(
            mode=mode,
            floor=floor,
            short_text_rule=short_text_rule,
            correctness_threshold=correctness_threshold,
            batch_size=batch_size,
            gather=gather,
        )
        num_generations = check_positive_int(num_generations, "num_generations", allow_none=True)
        if correctness_reward is not None and not callable(correctness_reward):
            raise TypeError(
                f"`correctness_reward` must be a reward function (callable), got {type(correctness_reward).__name__}."
            )
        self.classifier = None
        if classifier is not None:
            self.classifier, self.judge = _classifier_judge(classifier, settings.batch_size)
        else:
            self.judge = as_judge(judge)
        self.classifier_id: str | None = getattr(self.classifier, "name_or_path", None) or None
        self.mode = settings.mode
        self.floor = settings.floor
        self.short_text_rule = settings.short_text_rule
        self.num_generations = num_generations
        self.correctness_reward = correctness_reward
        self.correctness_threshold = settings.correctness_threshold
        self.gather = settings.gather
        self.batch_size = settings.batch_size
        self.last_stats: dict[str, float] = {}

    @property
    def settings(self) -> DiversitySettings:
        """This reward's settings, typed (``threshold`` is its judge's, when the judge has one)."""
        return DiversitySettings(
            threshold=getattr(self.judge, "threshold", None),
            mode=self.mode,
            floor=self.floor,
            short_text_rule=self.short_text_rule,
            correctness_threshold=self.correctness_threshold,
            batch_size=self.batch_size,
            gather=self.gather,
        )

    def _correct_flags(self, prompts, completions, completion_ids, kwargs) -> list[bool]:
        # The correctness function's own logging is left to its own reward-function slot.
        kwargs = {k: v for k, v in kwargs.items() if k not in ("log_metric", "log_extra")}
        rewards = self.correctness_reward(
            prompts=prompts, completions=completions, completion_ids=completion_ids, **kwargs
        )
        if rewards is None or isinstance(rewards, (str, bytes)):
            raise TypeError(
                f"`correctness_reward` returned {rewards!r:.80}; it must return one reward per completion (a list)."
            )
        rewards = list(rewards)
        if len(rewards) != len(completions):
            raise ValueError(
                f"`correctness_reward` returned {len(rewards)} rewards for {len(completions)} completions."
            )
        return [
            r is not None and not math.isnan(float(r)) and float(r) > self.correctness_threshold
            for r in rewards
        ]

    def __call__(
        self,
        prompts: Sequence[Any] | None,
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        """Scores this process's completions (gathering whole groups across processes first).

        Args:
            prompts: One prompt per completion (TRL repeats each prompt ``num_generations`` times).
            completions: Strings, or lists of chat messages for conversational prompts.
            completion_ids: Token ids (unused; accepted for TRL).
            log_metric: TRL's metric logger; receives ``darling/mean_classes``,
                ``darling/mean_diversity``, ``darling/collapsed_groups`` (the share of groups whose
                rollouts all fell into one class) and ``darling/settled_without_model`` (and
                ``darling/correct_fraction`` with a ``correctness_reward``), computed over the
                groups this process scored (TRL averages them over processes).
            **kwargs: Other TRL arguments and dataset columns, passed on to ``correctness_reward``.
                With TRL's ``log_extra``, each rollout's class id (numbered per group, ``None`` for
                a rollout left out of the partition) goes to the completions table as ``darling/class``.

        Returns:
            One diversity score in ``[floor, 1]`` per completion.

        Raises:
            ValueError: On mismatched lengths, or when the gathered rollouts do not split into
                groups of ``num_generations``.
            TypeError: On a ``None`` or malformed completion (the message names its index).
        """
        scores, labels = self._score_local(prompts, completions, completion_ids, kwargs)
        self._log(log_metric, kwargs.get("log_extra"), labels)
        return scores

    def _score_local(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any], completion_ids: Any, kwargs: dict
    ) -> tuple[list[float], list[int | None]]:
        """Diversity and class id of each of this process's rollouts (groups gathered across processes first)."""
        texts = completion_texts(prompts, completions)
        if self.num_generations is None and prompts is None:
            raise ValueError("Pass `prompts` (to group rollouts by prompt) or set `num_generations`.")
        correct = None
        if self.correctness_reward is not None:
            correct = self._correct_flags(prompts, completions, completion_ids, kwargs)
        # A digest of each prompt: it finds the groups without num_generations and checks them with it.
        keys = [prompt_key(p) for p in prompts] if prompts is not None else [None] * len(texts)
        rows = [(text, keys[i], correct[i] if correct is not None else True) for i, text in enumerate(texts)]
        all_rows, counts, rank = gather_for_groups(rows, gather=self.gather)
        bounds = group_bounds(len(all_rows), self.num_generations, [row[1] for row in all_rows])
        start = sum(counts[:rank])
        stop = start + counts[rank]
        # Only the groups holding this process's rows, whole: processes do not all score every group.
        needed = overlapping_groups(bounds, start, stop)
        groups = [[all_rows[i][0] for i in b] for b in needed]
        flags = [[all_rows[i][2] for i in b] for b in needed] if correct is not None else None
        scores, labels = {}, {}
        for b, group_scores, group_labels in zip(needed, *self._score_groups(groups, flags)):
            scores.update(zip(b, group_scores))
            labels.update(zip(b, group_labels))
        rows_here = range(start, stop)
        return [scores[i] for i in rows_here], [labels[i] for i in rows_here]

    def _log(
        self, log_metric: Callable | None, log_extra: Callable | None, labels: Sequence[int | None]
    ) -> None:
        """Sends :attr:`last_stats` to TRL's ``log_metric`` and each rollout's class id to ``log_extra``."""
        if log_metric is not None and self.last_stats:
            for name, value in self.last_stats.items():
                if name != "num_groups":
                    log_metric(METRIC_PREFIX + name, value)
        if log_extra is not None:
            log_extra(METRIC_PREFIX + "class", list(labels))

    def score_groups(
        self, groups: Sequence[Sequence[str]], correct: Sequence[Sequence[bool]] | None = None
    ) -> list[list[float]]:
        """Diversity scores of whole groups on this process (no gathering, no TRL).

        Args:
            groups: The rollout texts of each prompt.
            correct: Optional, per group, whether each rollout is correct; only correct rollouts
                are partitioned, incorrect ones get ``floor``, and so does every rollout of a group
                with at most one correct rollout.

        Returns:
            One list of scores per group. Also sets :attr:`last_stats`.

        Example:
            >>> from darling.partitioning import ExactMatchJudge
            >>> reward = DiversityRewardFunction(judge=ExactMatchJudge(), floor=0.1)
            >>> reward.score_groups([["a", "a"], ["x", "y", "x"]])
            [[0.1, 0.1], [0.5, 1.0, 0.5]]
        """
        return self._score_groups(groups, correct)[0]

    def _score_groups(
        self, groups: Sequence[Sequence[str]], correct: Sequence[Sequence[bool]] | None
    ) -> tuple[list[list[float]], list[list[int | None]]]:
        """Scores and class ids of whole groups (``None`` for a rollout left out of the partition)."""
        groups = check_groups(groups)
        if correct is not None:
            if len(correct) != len(groups) or any(len(c) != len(g) for c, g in zip(correct, groups)):
                raise ValueError("`correct` must hold one flag per rollout of every group.")
            kept = [[i for i, ok in enumerate(flags) if ok] for flags in correct]
        else:
            kept = [list(range(len(g))) for g in groups]
        results = partition_groups(
            [[g[i] for i in idx] for g, idx in zip(groups, kept)],
            self.judge,
            mode=self.mode,
            short_text_rule=self.short_text_rule,
        )
        out, classes = [], []
        for group, idx, result in zip(groups, kept, results):
            scores = [self.floor] * len(group)
            labels: list[int | None] = [None] * len(group)
            for i, label in zip(idx, result.labels):
                labels[i] = label
            # With correctness, a lone correct rollout has no correct peer to differ from: the official
            # partition_correct gives its whole group the floor.
            if correct is None or len(idx) > 1:
                for i, score in zip(idx, diversity_scores(result.labels, floor=self.floor)):
                    scores[i] = score
            out.append(scores)
            classes.append(labels)
        self.last_stats = self._stats(out, kept, results, correct is not None)
        return out, classes

    @staticmethod
    def _stats(scores, kept, results, with_correctness: bool) -> dict[str, float]:
        flat = [s for group in scores for s in group]
        if not flat:
            return {}
        num_pairs = sum(r.num_pairs for r in results)
        judged = sum(r.judged_pairs for r in results)
        stats = {
            "mean_classes": sum(r.num_classes for r in results) / len(results),
            "mean_diversity": sum(flat) / len(flat),
            "settled_without_model": 1.0 if num_pairs == 0 else 1.0 - judged / num_pairs,
            # Groups whose (two or more) partitioned rollouts all fell into one class.
            "collapsed_groups": sum(len(idx) > 1 and r.num_classes == 1 for idx, r in zip(kept, results))
            / len(results),
            "num_groups": float(len(results)),
        }
        if with_correctness:
            stats["correct_fraction"] = sum(len(idx) for idx in kept) / len(flat)
        return stats

    def __repr__(self) -> str:
        return (
            f"DiversityRewardFunction(judge={self.judge!r}, mode={self.mode!r}, floor={self.floor}, "
            f"num_generations={self.num_generations}, partition_correct={self.correctness_reward is not None})"
        )


class AsyncDiversityRewardFunction(DiversityRewardFunction):
    """:class:`DiversityRewardFunction` with an ``async`` call, for judges that wait on servers.

    TRL runs async reward functions concurrently (``asyncio.gather`` on its own event loop), so
    while this one waits for a served judge's answers, other async reward functions (an LLM-judge
    quality reward, say) make progress. The scoring itself is the synchronous one, run in a worker
    thread, so the numbers are exactly :class:`DiversityRewardFunction`'s; with several processes,
    every process still gathers whole groups first.

    Example:
        ```python
        # doc: no-run
        from darling.serving import ServedClassifierJudge

        judge = ServedClassifierJudge("my/classifier", urls=["http://node1:8000"])
        diversity = AsyncDiversityRewardFunction(judge=judge)
        ```
    """

    async def __call__(
        self,
        prompts: Sequence[Any] | None,
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        """:meth:`DiversityRewardFunction.__call__`, awaited in a worker thread."""
        import asyncio

        call = super().__call__
        return await asyncio.to_thread(call, prompts, completions, completion_ids, log_metric, **kwargs)
