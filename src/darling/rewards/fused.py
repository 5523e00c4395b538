"""DARLING as one TRL reward function: quality fused with semantic diversity, per rollout.

With ``scale_rewards="none"`` a GRPO trainer's advantage is ``reward - group mean``, so a reward
function that returns the fused reward ``quality x diversity`` (or the official ``add_bias`` /
additive variants) makes any TRL trainer train DARLING: ``trl.GRPOTrainer``, ``trl.RLOOTrainer``,
or a trainer that scores one group at a time in another process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from darling.partitioning._validation import check_positive_int
from darling.rewards._groups import group_bounds, overlapping_groups, prompt_key
from darling.rewards.distributed import gather_for_groups
from darling.rewards.diversity import METRIC_PREFIX, DiversityRewardFunction
from darling.rewards.fused_hub import DarlingRewardHub
from darling.rewards.fusion import (
    check_fusion_settings,
    fuse_rewards,
    handle_negative_quality,
    weighted_quality,
)

# Negative-quality modes that need the whole group's qualities (its minimum).
_GROUP_MODES = ("shift", "shift_if_negative")


def _name_of(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _check_quality_func(func: Any, index: int) -> Any:
    if isinstance(func, (str, torch.nn.Module)) or not callable(func):
        raise TypeError(
            f"quality[{index}] is {type(func).__name__}; DarlingReward takes reward functions (callables "
            "following TRL's protocol). Wrap a reward model in darling.rewards.RewardModelReward."
        )
    if isinstance(func, (DiversityRewardFunction, DarlingReward)):
        raise TypeError(
            f"quality[{index}] is a {type(func).__name__}; pass the diversity reward as `diversity`, not as quality."
        )
    return func


def _run_alongside(awaitables: list[Any], blocking: Callable[[], Any]) -> tuple[Any, list[Any]]:
    """Runs ``blocking()`` in a worker thread while awaiting ``awaitables``; returns both results.

    Async quality rewards (an LLM judge, say) then make progress while the diversity reward waits on
    its classifier or servers. Works from a thread with or without a running event loop.
    """

    async def together():
        return await asyncio.gather(asyncio.to_thread(blocking), *awaitables)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        first, *rest = asyncio.run(together())
        return first, rest
    # Already inside an event loop (this thread cannot block on it): run them on a loop of their own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        first, *rest = pool.submit(asyncio.run, together()).result()
    return first, rest


def _as_floats(output: Any, name: str, expected: int) -> list[float]:
    if output is None or isinstance(output, (str, bytes)):
        raise TypeError(
            f"The reward function {name!r} returned {output!r:.80}; it must return one reward per completion."
        )
    values = [math.nan if r is None else float(r) for r in output]
    if len(values) != expected:
        raise ValueError(
            f"The reward function {name!r} returned {len(values)} rewards, but {expected} were expected (one per "
            "completion)."
        )
    return values


class DarlingReward(DarlingRewardHub):
    """DARLING's fused reward as one picklable TRL reward function.

    Each rollout's reward is ``quality x diversity`` (the paper's multiplicative fusion), where
    quality is the weighted sum of the quality reward functions (``None`` rewards skipped, as TRL
    sums them) and diversity comes from a :class:`~darling.rewards.DiversityRewardFunction`. With a
    GRPO trainer set to ``scale_rewards="none"``, the advantage ``reward - group mean`` is then
    exactly DARLING's: pass it as the only reward function of ``trl.GRPOTrainer`` (or use
    :class:`~darling.trainer.DarlingGRPOTrainer`, which builds it for you).

    Groups are whole across processes: the diversity reward gathers the completions of every
    process, and so does the ``"shift"`` mode for the group minimum of quality. A rollout whose
    quality rewards are all ``None`` gets ``None`` (TRL leaves it out of the group mean and gives it
    advantage 0).

    Logged through TRL's ``log_metric``: ``darling/quality_mean``, ``darling/diversity_mean``,
    ``darling/fused_reward_mean``, ``darling/quality/<name>_mean`` for each quality function, and
    the diversity reward's own metrics (``darling/collapsed_groups``: the share of groups whose
    rollouts all fell into one class, ``darling/mean_classes``, ...). Through ``log_extra``, TRL's
    completions table gets each rollout's ``darling/class`` (its class id within its group),
    ``darling/diversity`` and ``darling/quality``.

    Args:
        quality: One quality reward function or a list of them (TRL's protocol). A reward model
            goes in wrapped as :class:`~darling.rewards.RewardModelReward`. Async functions are
            awaited together, while the diversity is scored in a worker thread.
        diversity: The diversity reward. Its ``num_generations`` defines the groups (``None``:
            runs of consecutive equal prompts).
        fusion: ``"multiplicative"`` (``quality * diversity``) or ``"additive"``
            (``quality + diversity_weight * diversity``).
        diversity_weight: Weight of diversity in additive fusion (required there, not allowed
            otherwise).
        negative_quality: What multiplicative fusion does with negative quality: ``"allow"``
            (multiply as it is, the official runs; warns once), ``"shift"`` (subtract each group's
            minimum quality first, the official ``add_bias``), ``"shift_if_negative"``, ``"clip"``
            or ``"error"`` (see :func:`~darling.rewards.fusion.handle_negative_quality`).
        quality_weights: One weight per quality function (default 1.0 each).
        num_generations: Rollouts per prompt; sets the diversity reward's ``num_generations``
            (left as it is when ``None``). Pass the trainer's ``num_generations`` when you can;
            with plain TRL and a different ``num_generations_eval``, leave it ``None`` (groups are
            then runs of equal prompts) or keep the two equal. ``DarlingGRPOTrainer`` sets it for
            training and evaluation itself.

    Raises:
        TypeError: If a quality function is not a reward function, or ``diversity`` is not a
            ``DiversityRewardFunction``.
        ValueError: On bad fusion settings or weights.

    Example:
        >>> from darling.partitioning import ExactMatchJudge
        >>> def correct(completions, **kwargs):
        ...     return [1.0 if "4" in c else 0.0 for c in completions]
        >>> reward = DarlingReward(correct, DiversityRewardFunction(judge=ExactMatchJudge()), num_generations=4)
        >>> reward(prompts=["2+2?"] * 4, completions=["4", "4", "It is 4", "5"])
        [0.6666666865348816, 0.6666666865348816, 1.0, 0.0]

    With ``trl.GRPOTrainer``:

        ```python
        # doc: no-run
        trainer = GRPOTrainer(
            model="Qwen/Qwen3-4B-Base",
            reward_funcs=[DarlingReward(MathAccuracyReward(), diversity, num_generations=8)],
            args=GRPOConfig(output_dir="out", num_generations=8, scale_rewards="none"),
            train_dataset=dataset,
        )
        ```
    """

    __name__ = "darling"

    def __init__(
        self,
        quality: Callable[..., Sequence[float | None]] | Sequence[Callable[..., Sequence[float | None]]],
        diversity: DiversityRewardFunction,
        *,
        fusion: str = "multiplicative",
        diversity_weight: float | None = None,
        negative_quality: str = "allow",
        quality_weights: Sequence[float] | None = None,
        num_generations: int | None = None,
    ) -> None:
        funcs = list(quality) if isinstance(quality, (list, tuple)) else [quality]
        if not funcs:
            raise ValueError(
                "DarlingReward needs at least one quality reward function; diversity alone has nothing to multiply."
            )
        self.quality_funcs = [_check_quality_func(f, i) for i, f in enumerate(funcs)]
        if not isinstance(diversity, DiversityRewardFunction):
            raise TypeError(
                f"`diversity` must be a darling.rewards.DiversityRewardFunction, got {type(diversity).__name__}."
            )
        self.diversity = diversity
        self.fusion, self.diversity_weight, self.negative_quality = check_fusion_settings(
            fusion, diversity_weight, negative_quality
        )
        weights = [1.0] * len(funcs) if quality_weights is None else list(quality_weights)
        if len(weights) != len(funcs):
            raise ValueError(
                f"quality_weights has {len(weights)} entries for {len(funcs)} quality reward functions; give one each."
            )
        for i, w in enumerate(weights):
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
                raise ValueError(f"quality_weights[{i}] must be a finite number, got {w!r}.")
        if all(w == 0 for w in weights):
            raise ValueError(
                "quality_weights gives every quality function weight 0; give at least one a weight."
            )
        self.quality_weights = [float(w) for w in weights]
        if num_generations is not None:
            self.num_generations = num_generations
        self._warned_negative_quality = False

    @property
    def num_generations(self) -> int | None:
        """Rollouts per prompt (the diversity reward's setting)."""
        return self.diversity.num_generations

    @num_generations.setter
    def num_generations(self, value: int | None) -> None:
        self.diversity.num_generations = check_positive_int(value, "num_generations", allow_none=True)

    @property
    def quality_names(self) -> list[str]:
        """The names of the quality reward functions, as TRL would name them."""
        return [_name_of(f) for f in self.quality_funcs]

    def _score(
        self, call_kwargs: dict[str, Any], kwargs: dict[str, Any], expected: int
    ) -> tuple[torch.Tensor, list[float], list[int | None]]:
        """Quality columns ``(N, K)``, diversity scores and class ids of this process's rollouts."""
        outputs: list[Any] = [func(**call_kwargs) for func in self.quality_funcs]
        pending = [i for i, out in enumerate(outputs) if inspect.isawaitable(out)]

        def diversity():
            return self.diversity._score_local(
                call_kwargs["prompts"], call_kwargs["completions"], call_kwargs["completion_ids"], kwargs
            )

        if pending:
            (scores, labels), results = _run_alongside([outputs[i] for i in pending], diversity)
            for i, out in zip(pending, results):
                outputs[i] = out
        else:
            scores, labels = diversity()
        columns = [_as_floats(out, name, expected) for out, name in zip(outputs, self.quality_names)]
        return torch.tensor(columns, dtype=torch.float32).T.reshape(expected, len(columns)), scores, labels

    def _prepared_quality(self, quality: torch.Tensor, prompts: Sequence[Any] | None) -> torch.Tensor:
        """Quality after the negative-quality mode, using whole groups (gathered) for the shift modes."""
        if self.fusion != "multiplicative":
            return quality
        if self.negative_quality not in _GROUP_MODES:
            return handle_negative_quality(quality, max(quality.numel(), 1), self.negative_quality)
        keys = [prompt_key(p) for p in prompts] if prompts is not None else [None] * quality.numel()
        rows = list(zip(quality.tolist(), keys))
        all_rows, counts, rank = gather_for_groups(rows, gather=self.diversity.gather)
        bounds = group_bounds(len(all_rows), self.num_generations, [key for _, key in all_rows])
        start = sum(counts[:rank])
        stop = start + counts[rank]
        prepared = {}
        for b in overlapping_groups(bounds, start, stop):
            group = torch.tensor([all_rows[i][0] for i in b], dtype=torch.float32)
            prepared.update(zip(b, handle_negative_quality(group, len(b), self.negative_quality).tolist()))
        return torch.tensor([prepared[i] for i in range(start, stop)], dtype=torch.float32)

    def _warn_negative(self, quality: torch.Tensor) -> None:
        multiplies_raw = self.fusion == "multiplicative" and self.negative_quality == "allow"
        if multiplies_raw and not self._warned_negative_quality and bool((quality < 0).any()):
            self._warned_negative_quality = True
            warnings.warn(
                f"Quality rewards are negative (minimum {quality[quality < 0].min().item():.4g}) and are multiplied "
                "by diversity as they are (negative_quality='allow', as the official DARLING runs did), which "
                "punishes the more diverse of two rollouts with the same negative score. Set "
                "negative_quality='shift' (the official add_bias: subtract each group's minimum quality first) or "
                "'shift_if_negative' to avoid it. This warning is shown once.",
                UserWarning,
                stacklevel=3,
            )

    def __call__(
        self,
        prompts: Sequence[Any] | None,
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        """Fused rewards of this process's completions.

        Args:
            prompts: One prompt per completion (TRL repeats each prompt ``num_generations`` times).
            completions: Strings, or lists of chat messages for conversational prompts.
            completion_ids: Token ids, passed on to the quality functions.
            log_metric: TRL's metric logger (optional).
            log_extra: TRL's completions-table logger (optional).
            **kwargs: Dataset columns and other TRL arguments, passed on to every quality function
                (and to the diversity reward's ``correctness_reward``).

        Returns:
            One fused reward per completion; ``None`` where no quality function gave a reward.
        """
        completions = list(completions)
        call_kwargs = dict(
            prompts=prompts,
            completions=completions,
            completion_ids=completion_ids,
            log_metric=log_metric,
            **kwargs,
        )
        if log_extra is not None:
            call_kwargs["log_extra"] = log_extra
        columns, scores, labels = self._score(call_kwargs, kwargs, len(completions))
        quality = weighted_quality(columns, torch.tensor(self.quality_weights))
        diversity = torch.tensor(scores, dtype=torch.float32)
        self._warn_negative(quality)
        prepared = self._prepared_quality(quality, prompts)
        fused = fuse_rewards(
            prepared,
            diversity,
            fusion=self.fusion,
            weight=self.diversity_weight,
            negative_quality="allow",  # already applied, on whole groups
        )
        self._log(log_metric, log_extra, columns, quality, diversity, fused, labels)
        return [None if math.isnan(value) else value for value in fused.tolist()]

    def _log(self, log_metric, log_extra, columns, quality, diversity, fused, labels) -> None:
        self.diversity._log(log_metric, log_extra, labels)
        if log_metric is not None and quality.numel():
            for name, value in (
                ("quality_mean", quality),
                ("diversity_mean", diversity),
                ("fused_reward_mean", fused),
            ):
                if not bool(torch.isnan(value).all()):
                    log_metric(METRIC_PREFIX + name, torch.nanmean(value).item())
            for name, column in zip(self.quality_names, columns.T):
                if not bool(torch.isnan(column).all()):
                    log_metric(f"{METRIC_PREFIX}quality/{name}_mean", torch.nanmean(column).item())
        if log_extra is not None:
            log_extra(METRIC_PREFIX + "diversity", diversity.tolist())
            log_extra(METRIC_PREFIX + "quality", [None if math.isnan(q) else q for q in quality.tolist()])

    def __repr__(self) -> str:
        weight = f", diversity_weight={self.diversity_weight}" if self.fusion == "additive" else ""
        return (
            f"DarlingReward(quality={self.quality_names}, diversity={self.diversity!r}, fusion={self.fusion!r}"
            f"{weight}, negative_quality={self.negative_quality!r})"
        )
