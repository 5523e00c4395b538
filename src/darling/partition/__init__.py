"""Partitioning: judges, partition algorithms, diversity scores and the partition classifier."""

from darling.partition.algorithms import (
    PARTITION_MODES,
    PartitionResult,
    class_sizes,
    diversity_scores,
    partition,
    partition_groups,
    relabel,
)
from darling.partition.judges import (
    CallableJudge,
    CascadeJudge,
    EmbeddingJudge,
    ExactMatchJudge,
    Judge,
    LexicalJudge,
    ScoreJudge,
    as_judge,
    ngram_f1,
    normalize_text,
)
from darling.partition.shortcut import SHORT_TEXT_RULES, short_text_equivalent

__all__ = [
    "PARTITION_MODES",
    "SHORT_TEXT_RULES",
    "CallableJudge",
    "CascadeJudge",
    "EmbeddingJudge",
    "ExactMatchJudge",
    "Judge",
    "LexicalJudge",
    "PartitionResult",
    "ScoreJudge",
    "as_judge",
    "class_sizes",
    "diversity_scores",
    "ngram_f1",
    "normalize_text",
    "partition",
    "partition_groups",
    "relabel",
    "short_text_equivalent",
]
