"""Reward fusion and group advantages: the arithmetic DARLING adds on top of GRPO.

Pure functions on 1-D torch tensors laid out like TRL's gathered rewards: the ``num_generations``
rollouts of a prompt are consecutive. ``NaN`` means "no reward" (a reward function returned
``None``), as in TRL.

For one group (DESIGN.md section 1):

- fused reward ``r_i = quality_i * diversity_i`` (multiplicative, the paper's choice) or
  ``r_i = quality_i + weight * diversity_i`` (additive);
- advantage ``A_i = r_i - mean(r)`` over the group, with no division by the group std unless
  asked for.

Example:
    >>> import torch
    >>> quality = torch.tensor([1.0, 1.0, 1.0, 1.0])
    >>> diversity = torch.tensor([2 / 3, 2 / 3, 1.0, 1.0])  # paper example: rollouts 1 and 2 equivalent
    >>> fused = fuse_rewards(quality, diversity, num_generations=4)
    >>> [round(a, 4) for a in group_advantages(fused, num_generations=4).tolist()]
    [-0.1667, -0.1667, 0.1667, 0.1667]
"""

from __future__ import annotations

import math

import torch

from darling.partitioning._validation import check_choice, check_positive_int

FUSIONS: tuple[str, ...] = ("multiplicative", "additive")
NEGATIVE_QUALITY_MODES: tuple[str, ...] = ("allow", "shift", "shift_if_negative", "clip", "error")


def _check_1d(name: str, tensor: torch.Tensor) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(tensor).__name__}.")
    if tensor.dim() != 1:
        raise ValueError(f"`{name}` must be 1-D (one value per rollout), got shape {tuple(tensor.shape)}.")
    return tensor.float()


def _check_groups(tensor: torch.Tensor, num_generations: int) -> None:
    check_positive_int(num_generations, "num_generations")
    if tensor.numel() % num_generations:
        raise ValueError(
            f"Got {tensor.numel()} rewards, which is not a multiple of num_generations={num_generations}; "
            "rewards must hold whole groups of consecutive rollouts."
        )


def check_fusion_settings(
    fusion: str, diversity_weight: float | None, negative_quality: str
) -> tuple[str, float | None, str]:
    """Checks DARLING's three fusion settings together; the one place they are validated.

    Returns:
        ``(fusion, diversity_weight, negative_quality)``, the weight as a float (or ``None``).

    Raises:
        ValueError: On an unknown fusion or negative-quality mode, a weight that is not a finite
            number, additive fusion without a weight, or multiplicative fusion with one.

    Example:
        >>> check_fusion_settings("additive", 1, "allow")
        ('additive', 1.0, 'allow')
    """
    if fusion not in FUSIONS:
        raise ValueError(f"fusion={fusion!r} is not supported; set fusion to one of {', '.join(FUSIONS)}.")
    check_choice(negative_quality, "negative_quality", NEGATIVE_QUALITY_MODES)
    if diversity_weight is not None:
        if (
            isinstance(diversity_weight, bool)
            or not isinstance(diversity_weight, (int, float))
            or not math.isfinite(diversity_weight)
        ):
            raise ValueError(f"diversity_weight must be a finite number, e.g. 1.0, got {diversity_weight!r}.")
        diversity_weight = float(diversity_weight)
    if fusion == "additive" and diversity_weight is None:
        raise ValueError(
            "fusion='additive' needs diversity_weight (reward = quality + diversity_weight * diversity); set "
            "diversity_weight, e.g. 1.0, or use fusion='multiplicative'."
        )
    if fusion == "multiplicative" and diversity_weight is not None:
        raise ValueError(
            "diversity_weight only applies to fusion='additive'; remove diversity_weight or set fusion='additive'."
        )
    return fusion, diversity_weight, negative_quality


def group_nanmin(values: torch.Tensor, num_generations: int) -> torch.Tensor:
    """The minimum of each group, ignoring ``NaN`` (``NaN`` for an all-``NaN`` group), repeated per rollout."""
    _check_groups(values, num_generations)
    grouped = values.view(-1, num_generations)
    minimum = torch.where(torch.isnan(grouped), torch.inf, grouped).min(dim=1).values
    minimum = torch.where(torch.isinf(minimum), torch.nan, minimum)
    return minimum.repeat_interleave(num_generations)


def handle_negative_quality(quality: torch.Tensor, num_generations: int, mode: str) -> torch.Tensor:
    """Prepares quality rewards for multiplication by diversity.

    Multiplying a negative quality by a larger diversity punishes the more diverse rollout. The
    official runs did it anyway (``"allow"``); the official code's opt-in ``add_bias`` shift is
    ``"shift"``.

    Args:
        quality: One quality reward per rollout (``NaN`` = no reward).
        num_generations: Rollouts per group.
        mode: ``"allow"`` keeps the qualities as they are (the official default); ``"shift"``
            subtracts the group minimum in every group (the official ``add_bias``);
            ``"shift_if_negative"`` subtracts it only in groups that contain a negative quality
            (0/1 math rewards are untouched); ``"clip"`` sets negative qualities to 0; ``"error"``
            raises on a negative quality.

    Returns:
        The adjusted quality (a new tensor; ``NaN`` stays ``NaN``).

    Raises:
        ValueError: For an unknown mode, or with ``mode="error"`` when a quality is negative.
    """
    quality = _check_1d("quality", quality)
    check_choice(mode, "negative_quality", NEGATIVE_QUALITY_MODES)
    negative = quality < 0  # NaN compares False
    if mode == "allow" or (mode != "shift" and not negative.any()):
        return quality.clone()
    if mode == "error":
        raise ValueError(
            f"Got {int(negative.sum())} negative quality rewards (minimum {quality[negative].min().item():.4g}); "
            "multiplying them by diversity would punish diverse rollouts. Set negative_quality to "
            "'shift' (the official add_bias), 'shift_if_negative' or 'clip', or 'allow' to multiply them anyway "
            "as the official runs did."
        )
    if mode == "clip":
        return torch.where(negative, torch.zeros_like(quality), quality)
    minimum = group_nanmin(quality, num_generations)
    if mode == "shift_if_negative":
        minimum = torch.where(minimum < 0, minimum, torch.zeros_like(minimum))
    return quality - torch.nan_to_num(minimum, nan=0.0)


def fuse_rewards(
    quality: torch.Tensor,
    diversity: torch.Tensor,
    fusion: str = "multiplicative",
    weight: float | None = None,
    negative_quality: str = "allow",
    num_generations: int | None = None,
) -> torch.Tensor:
    """Combines quality and diversity into one reward per rollout.

    Args:
        quality: Quality reward per rollout (``NaN`` = no reward).
        diversity: Diversity per rollout, in ``[0, 1]`` (``NaN`` = no reward).
        fusion: ``"multiplicative"`` (``quality * diversity``, the paper's default) or ``"additive"``
            (``quality + weight * diversity``).
        weight: The diversity weight; required for additive fusion, not allowed for multiplicative.
        negative_quality: How negative qualities are handled before multiplying (see
            :func:`handle_negative_quality`); ignored by additive fusion.
        num_generations: Rollouts per group; needed by the ``"shift"`` modes (defaults to one group
            holding every rollout).

    Returns:
        The fused rewards; ``NaN`` where quality or diversity is ``NaN``.

    Raises:
        TypeError: If an input is not a tensor.
        ValueError: On mismatched lengths, unknown modes or a missing / superfluous weight (see
            :func:`check_fusion_settings`).
    """
    quality = _check_1d("quality", quality)
    diversity = _check_1d("diversity", diversity)
    if quality.shape != diversity.shape:
        raise ValueError(
            f"quality has {quality.numel()} values but diversity has {diversity.numel()}; pass one of each per rollout."
        )
    fusion, weight, negative_quality = check_fusion_settings(fusion, weight, negative_quality)
    if fusion == "additive":
        return quality + weight * diversity
    groups = num_generations if num_generations is not None else max(quality.numel(), 1)
    return handle_negative_quality(quality, groups, negative_quality) * diversity


def group_advantages(rewards: torch.Tensor, num_generations: int, scale: bool = False) -> torch.Tensor:
    """GRPO advantages: each reward minus its group's mean, optionally divided by the group std.

    ``NaN`` rewards are left out of the group mean and std and get advantage 0, as in TRL. The std
    is the unbiased one and ``1e-4`` is added before dividing, as TRL does.

    Args:
        rewards: One reward per rollout, groups of ``num_generations`` consecutive rollouts.
        num_generations: Rollouts per group.
        scale: Divide by the group std (``scale_rewards="group"``); DARLING does not (``False``).

    Returns:
        The advantages, same shape as ``rewards``.
    """
    rewards = _check_1d("rewards", rewards)
    _check_groups(rewards, num_generations)
    grouped = rewards.view(-1, num_generations)
    mean = torch.nanmean(grouped, dim=1, keepdim=True)
    advantages = grouped - mean
    if scale:
        valid = (~torch.isnan(grouped)).sum(dim=1, keepdim=True)
        squares = torch.nansum((grouped - mean) ** 2, dim=1, keepdim=True)
        std = torch.sqrt(squares / (valid - 1).clamp(min=1))
        std = torch.where(valid > 1, std, torch.zeros_like(std))
        advantages = advantages / (std + 1e-4)
    return torch.nan_to_num(advantages.reshape(-1), nan=0.0)


def weighted_quality(rewards_per_func: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The quality reward: the weighted sum of the quality reward functions, as TRL sums them.

    Args:
        rewards_per_func: ``(N, K)`` rewards, one column per reward function (``NaN`` = no reward).
        weights: ``(K,)`` weights; the diversity function's column has weight 0.

    Returns:
        ``(N,)`` qualities: ``nansum`` of the weighted columns with a non-zero weight, ``NaN`` for a
        row in which every such column is ``NaN``.
    """
    if rewards_per_func.dim() != 2 or rewards_per_func.shape[1] != weights.numel():
        raise ValueError(
            f"rewards_per_func has shape {tuple(rewards_per_func.shape)} but there are {weights.numel()} weights."
        )
    weights = weights.to(rewards_per_func.device, rewards_per_func.dtype)
    used = weights != 0
    quality = (rewards_per_func[:, used] * weights[used]).nansum(dim=1)
    missing = torch.isnan(rewards_per_func[:, used]).all(dim=1)
    return torch.where(missing, torch.full_like(quality, torch.nan), quality)
