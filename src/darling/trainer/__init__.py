"""DARLING on TRL: the config with the paper's defaults and the GRPO trainer that uses the fused reward.

The fused reward itself (usable with any TRL trainer) is :class:`darling.rewards.DarlingReward`; its
arithmetic is in :mod:`darling.rewards.fusion`.
"""

from darling.trainer.config import DarlingConfig
from darling.trainer.grpo_trainer import DarlingGRPOTrainer

__all__ = ["DarlingConfig", "DarlingGRPOTrainer"]
