"""Reward fusion and group advantages against the DESIGN.md formulas, with hand-worked numbers."""

from __future__ import annotations

import math

import pytest
import torch

from darling.rewards.fusion import (
    fuse_rewards,
    group_advantages,
    group_nanmin,
    handle_negative_quality,
    weighted_quality,
)

NAN = float("nan")


def _close(actual: torch.Tensor, expected: list[float]) -> None:
    assert actual.shape == (len(expected),)
    for a, e in zip(actual.tolist(), expected):
        if math.isnan(e):
            assert math.isnan(a)
        else:
            assert a == pytest.approx(e, abs=1e-6)


def test_paper_example_two_equivalent_rollouts_give_minus_and_plus_one_sixth():
    # 4 rollouts, two equivalent: diversity 2/3, 2/3, 1, 1; quality 1 -> r = div; mean 5/6.
    fused = fuse_rewards(torch.ones(4), torch.tensor([2 / 3, 2 / 3, 1.0, 1.0]), num_generations=4)
    _close(fused, [2 / 3, 2 / 3, 1.0, 1.0])
    _close(group_advantages(fused, 4), [-1 / 6, -1 / 6, 1 / 6, 1 / 6])


def test_multiplicative_fusion_and_mean_baseline_with_mixed_quality():
    # r = [2/3, 0, 1, 1], mean 2/3 -> A = [0, -2/3, 1/3, 1/3]; second group all 0 -> A = 0.
    quality = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    diversity = torch.tensor([2 / 3, 2 / 3, 1.0, 1.0, 1.0, 0.1, 0.1, 1.0])
    fused = fuse_rewards(quality, diversity, num_generations=4)
    _close(fused, [2 / 3, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    _close(group_advantages(fused, 4), [0.0, -2 / 3, 1 / 3, 1 / 3, 0.0, 0.0, 0.0, 0.0])


def test_group_std_scaling_matches_trl_formula():
    rewards = torch.tensor([1.0, 2.0, 4.0, 5.0])
    std = torch.tensor([1.0, 2.0, 4.0, 5.0]).std().item()  # unbiased, as TRL's nanstd
    expected = [(r - 3.0) / (std + 1e-4) for r in rewards.tolist()]
    _close(group_advantages(rewards, 4, scale=True), expected)
    _close(group_advantages(rewards, 4, scale=False), [-2.0, -1.0, 1.0, 2.0])


def test_nan_rewards_leave_the_baseline_and_get_zero_advantage():
    quality = torch.tensor([NAN, 1.0, 0.0, 1.0])
    fused = fuse_rewards(quality, torch.ones(4), num_generations=4)
    _close(fused, [NAN, 1.0, 0.0, 1.0])
    _close(group_advantages(fused, 4), [0.0, 1 / 3, -2 / 3, 1 / 3])


def test_shift_if_negative_shifts_only_groups_with_a_negative_quality():
    quality = torch.tensor([-1.0, 1.0, 3.0, -3.0, 1.0, 0.0, 1.0, 1.0])
    _close(handle_negative_quality(quality, 4, "shift_if_negative"), [2.0, 4.0, 6.0, 0.0, 1.0, 0.0, 1.0, 1.0])


def test_shift_always_subtracts_the_group_minimum():
    quality = torch.tensor([2.0, 3.0, 5.0, 2.0, -1.0, 1.0, NAN, 0.0])
    _close(handle_negative_quality(quality, 4, "shift"), [0.0, 1.0, 3.0, 0.0, 0.0, 2.0, NAN, 1.0])


def test_clip_allow_and_error_modes():
    quality = torch.tensor([-2.0, 0.5, 1.0, NAN])
    _close(handle_negative_quality(quality, 4, "clip"), [0.0, 0.5, 1.0, NAN])
    _close(handle_negative_quality(quality, 4, "allow"), [-2.0, 0.5, 1.0, NAN])
    with pytest.raises(ValueError, match="negative_quality"):
        handle_negative_quality(quality, 4, "error")
    # Non-negative qualities pass "error" untouched.
    _close(handle_negative_quality(torch.tensor([0.0, 1.0]), 2, "error"), [0.0, 1.0])


def test_default_multiplies_raw_negative_quality_as_the_official_runs():
    # Reward-model scores -2 (div 1) and -1 (div 2/3): multiplied as they are (add_bias off), so the
    # more diverse bad answer gets the lower reward: the behaviour the trainer warns about.
    fused = fuse_rewards(
        torch.tensor([-2.0, -1.0, 0.0, 1.0]), torch.tensor([1.0, 2 / 3, 2 / 3, 1.0]), num_generations=4
    )
    _close(fused, [-2.0, -2 / 3, 0.0, 1.0])


def test_shift_is_the_official_add_bias():
    # Shifted by the group minimum -2 -> 0 and 1: fused 0 and 2/3, diversity no longer punished.
    fused = fuse_rewards(
        torch.tensor([-2.0, -1.0, 0.0, 1.0]),
        torch.tensor([1.0, 2 / 3, 2 / 3, 1.0]),
        negative_quality="shift",
        num_generations=4,
    )
    _close(fused, [0.0, 2 / 3, 4 / 3, 3.0])


def test_additive_fusion_adds_weighted_diversity_and_ignores_negative_quality_mode():
    fused = fuse_rewards(
        torch.tensor([-1.0, 2.0]),
        torch.tensor([0.5, 1.0]),
        fusion="additive",
        weight=2.0,
        negative_quality="error",
    )
    _close(fused, [0.0, 4.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fusion": "additive"}, ValueError, "weight"),
        ({"weight": 1.0}, ValueError, "additive"),
        ({"fusion": "product"}, ValueError, "fusion"),
        ({"negative_quality": "ignore"}, ValueError, "negative_quality"),
    ],
)
def test_fuse_rewards_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        fuse_rewards(torch.tensor([-1.0, 1.0]), torch.ones(2), **kwargs)


def test_fuse_rewards_rejects_mismatched_lengths_and_non_tensors():
    with pytest.raises(ValueError, match="quality has 3 values but diversity has 2"):
        fuse_rewards(torch.ones(3), torch.ones(2))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        fuse_rewards([1.0, 1.0], torch.ones(2))
    with pytest.raises(ValueError, match="1-D"):
        fuse_rewards(torch.ones(2, 2), torch.ones(2, 2))


def test_group_advantages_rejects_partial_groups():
    with pytest.raises(ValueError, match="not a multiple of num_generations=4"):
        group_advantages(torch.ones(6), 4)
    with pytest.raises(ValueError, match="positive int"):
        group_advantages(torch.ones(4), 0)


def test_group_of_one_has_zero_advantage():
    _close(group_advantages(torch.tensor([3.0, 5.0]), 1), [0.0, 0.0])


def test_group_nanmin_ignores_nan_and_keeps_all_nan_groups_nan():
    _close(group_nanmin(torch.tensor([NAN, 2.0, NAN, NAN]), 2), [2.0, 2.0, NAN, NAN])


def test_weighted_quality_is_nansum_of_weighted_quality_columns():
    rewards = torch.tensor([[1.0, 0.5, 0.3], [NAN, 2.0, 0.9], [NAN, NAN, 0.2]])
    # Column 2 is diversity (weight 0); quality = 2 * col0 + 1 * col1.
    _close(weighted_quality(rewards, torch.tensor([2.0, 1.0, 0.0])), [2.5, 2.0, NAN])
    with pytest.raises(ValueError, match="3 weights"):
        weighted_quality(torch.ones(2, 2), torch.ones(3))
