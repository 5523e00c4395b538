"""Reward functions for TRL: DARLING's semantic diversity, its n-gram baseline and quality rewards.

Quality comes from a verifier (math) or a reward model, scalar-head or Athene-style.

Every reward function here follows TRL's protocol (called with ``prompts``, ``completions`` and
keyword arguments, returns one float per completion), is picklable and has a ``__name__`` that TRL
names its metrics after. The reward-model pieces (torch, transformers) are imported on first use.
"""

from darling._lazy import lazy_exports
from darling.rewards.diversity import AsyncDiversityRewardFunction, DiversityRewardFunction
from darling.rewards.math import MathAccuracyReward
from darling.rewards.ngram import NGramDiversityReward
from darling.rewards.settings import DiversitySettings

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AtheneRewardModel": "darling.rewards.athene",
        "DarlingReward": "darling.rewards.fused",
        "RewardModelReward": "darling.rewards.reward_model",
    },
)

__all__ = [
    "AsyncDiversityRewardFunction",
    "AtheneRewardModel",
    "DarlingReward",
    "DiversityRewardFunction",
    "DiversitySettings",
    "MathAccuracyReward",
    "NGramDiversityReward",
    "RewardModelReward",
]
