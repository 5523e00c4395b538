"""DARLING on TRL: the config, the reward fusion and the GRPO trainer."""

from darling.trainer.config import DarlingConfig
from darling.trainer.fusion import (
    FUSIONS,
    NEGATIVE_QUALITY_MODES,
    fuse_rewards,
    group_advantages,
    handle_negative_quality,
    weighted_quality,
)
from darling.trainer.grpo_trainer import DarlingGRPOTrainer

__all__ = [
    "FUSIONS",
    "NEGATIVE_QUALITY_MODES",
    "DarlingConfig",
    "DarlingGRPOTrainer",
    "fuse_rewards",
    "group_advantages",
    "handle_negative_quality",
    "weighted_quality",
]
