"""darling: Diversity-Aware Reinforcement Learning (DARLING) for the Hugging Face ecosystem.

The four public pieces, each usable on its own:

- :class:`PartitionClassifier` (with :class:`PartitionClassifierConfig`): a pretrained-style hub model
  that says whether two texts are semantically equivalent, and partitions groups of texts.
- :class:`DiversityRewardFunction`: a TRL reward function giving each rollout DARLING's diversity.
- :class:`DarlingConfig` and :class:`DarlingGRPOTrainer`: GRPO with quality x diversity rewards.
- :mod:`darling.evaluation`: pass@k, NoveltyBench metrics and other diversity measures.

``darling.partition`` is both the partition subpackage and callable as the partition function:
``darling.partition(texts, judge, mode="all_pairs")``.
"""

from darling import partition
from darling.evaluation import mean_pass_at_k, noveltybench_summary, pass_at_k
from darling.partition import (
    CallableJudge,
    CascadeJudge,
    EmbeddingJudge,
    ExactMatchJudge,
    Judge,
    LexicalJudge,
    PartitionResult,
    ScoreJudge,
    as_judge,
    diversity_scores,
    partition_groups,
)
from darling.partition.classifier import ClassifierJudge, PartitionClassifier, PartitionClassifierConfig
from darling.rewards import (
    DiversityRewardFunction,
    MathAccuracyReward,
    NGramDiversityReward,
    RewardModelReward,
)
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

__version__ = "0.1.0"

__all__ = [
    "CallableJudge",
    "CascadeJudge",
    "ClassifierJudge",
    "DarlingConfig",
    "DarlingGRPOTrainer",
    "DiversityRewardFunction",
    "EmbeddingJudge",
    "ExactMatchJudge",
    "Judge",
    "LexicalJudge",
    "MathAccuracyReward",
    "NGramDiversityReward",
    "PartitionClassifier",
    "PartitionClassifierConfig",
    "PartitionResult",
    "RewardModelReward",
    "ScoreJudge",
    "__version__",
    "as_judge",
    "diversity_scores",
    "mean_pass_at_k",
    "noveltybench_summary",
    "partition",
    "partition_groups",
    "pass_at_k",
]
