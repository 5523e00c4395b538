"""Partitioning: judges, partition algorithms and diversity scores (pure Python, no model needed).

``darling.partition(texts, judge)`` (also :func:`darling.partitioning.partition`) groups texts into
classes of equivalent ones; :func:`diversity_scores` turns classes into DARLING's diversity. A judge
is anything that says whether two texts are equivalent: a learned
:class:`~darling.classifier.PartitionClassifier`, an :class:`EmbeddingJudge` (cosine of
sentence-transformers embeddings), a :class:`LexicalJudge`, or any callable ``(a, b) -> bool``.
"""

from darling.partitioning.algorithms import (
    PARTITION_MODES,
    PartitionResult,
    check_mode,
    class_sizes,
    diversity_scores,
    partition,
    partition_groups,
    relabel,
)
from darling.partitioning.calibration import CascadeCalibration, calibrate_cascade
from darling.partitioning.embedding import EmbeddingJudge
from darling.partitioning.judges import (
    CallableJudge,
    CascadeJudge,
    ExactMatchJudge,
    Judge,
    LexicalJudge,
    ScoreJudge,
    as_judge,
    ngram_f1,
    normalize_text,
)
from darling.partitioning.shortcut import SHORT_TEXT_RULES, short_text_equivalent

__all__ = [
    "PARTITION_MODES",
    "SHORT_TEXT_RULES",
    "CallableJudge",
    "CascadeCalibration",
    "CascadeJudge",
    "EmbeddingJudge",
    "ExactMatchJudge",
    "Judge",
    "LexicalJudge",
    "PartitionResult",
    "ScoreJudge",
    "as_judge",
    "calibrate_cascade",
    "check_mode",
    "class_sizes",
    "diversity_scores",
    "ngram_f1",
    "normalize_text",
    "partition",
    "partition_groups",
    "relabel",
    "short_text_equivalent",
]
