"""darling: Diversity-Aware Reinforcement Learning (DARLING) for the Hugging Face ecosystem.

The public pieces, each usable on its own:

- :class:`PartitionClassifier`: a plain sequence-classification checkpoint that says whether two
  texts are semantically equivalent, and partitions groups of texts (:mod:`darling.classifier`).
- :class:`DiversityRewardFunction`: a TRL reward function giving each rollout DARLING's diversity
  (:mod:`darling.rewards`).
- :class:`DarlingReward`: quality x diversity as one TRL reward function, so plain
  ``trl.GRPOTrainer`` (``scale_rewards="none"``) trains DARLING (:mod:`darling.rewards`).
- :class:`DarlingConfig` and :class:`DarlingGRPOTrainer`: GRPO with that fused reward and the
  paper's defaults (:mod:`darling.trainer`).
- :mod:`darling.evaluation`: pass@k, maj@k, NoveltyBench metrics and other diversity measures.

:func:`partition` (from :mod:`darling.partitioning`) groups texts with any judge. Importing
``darling`` is cheap: each piece (and torch, transformers, TRL behind it) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from darling._lazy import lazy_exports

__version__ = "0.2.0"

# Public name -> the module that defines it; imported on first access (PEP 562).
_EXPORTS: dict[str, str] = {
    "PartitionClassifier": "darling.classifier",
    "DiversityRewardFunction": "darling.rewards",
    "DarlingReward": "darling.rewards",
    "NGramDiversityReward": "darling.rewards",
    "MathAccuracyReward": "darling.rewards",
    "RewardModelReward": "darling.rewards",
    "DarlingConfig": "darling.trainer",
    "DarlingGRPOTrainer": "darling.trainer",
    "EmbeddingJudge": "darling.partitioning",
    "LexicalJudge": "darling.partitioning",
    "partition": "darling.partitioning",
    "diversity_scores": "darling.partitioning",
    "pass_at_k": "darling.evaluation",
}

__all__ = [
    "DarlingConfig",
    "DarlingGRPOTrainer",
    "DarlingReward",
    "DiversityRewardFunction",
    "EmbeddingJudge",
    "LexicalJudge",
    "MathAccuracyReward",
    "NGramDiversityReward",
    "PartitionClassifier",
    "RewardModelReward",
    "__version__",
    "diversity_scores",
    "partition",
    "pass_at_k",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from darling.classifier import PartitionClassifier
    from darling.evaluation import pass_at_k
    from darling.partitioning import EmbeddingJudge, LexicalJudge, diversity_scores, partition
    from darling.rewards import (
        DarlingReward,
        DiversityRewardFunction,
        MathAccuracyReward,
        NGramDiversityReward,
        RewardModelReward,
    )
    from darling.trainer import DarlingConfig, DarlingGRPOTrainer


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
