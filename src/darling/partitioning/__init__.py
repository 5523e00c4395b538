"""Partitioning: judges, partition algorithms and diversity scores (pure Python, no model needed).

``darling.partition(texts, judge)`` (also :func:`darling.partitioning.partition`) groups texts into
classes of equivalent ones; :func:`diversity_scores` turns classes into DARLING's diversity. A judge
is anything that says whether two texts are equivalent: a learned
:class:`~darling.classifier.PartitionClassifier`, an :class:`EmbeddingJudge` (cosine of
sentence-transformers embeddings), a :class:`LexicalJudge`, or any callable ``(a, b) -> bool``.

Helpers behind these (``as_judge``, ``relabel``, ``short_text_equivalent``, ...) stay in their
modules (:mod:`darling.partitioning.judges`, :mod:`~darling.partitioning.algorithms`,
:mod:`~darling.partitioning.shortcut`).
"""

from darling.partitioning.algorithms import (
    PARTITION_MODES,
    PartitionResult,
    diversity_scores,
    partition,
    partition_groups,
)
from darling.partitioning.calibration import calibrate_cascade
from darling.partitioning.embedding import EmbeddingJudge
from darling.partitioning.judges import (
    CallableJudge,
    CascadeJudge,
    ExactMatchJudge,
    Judge,
    LexicalJudge,
    ScoreJudge,
)

__all__ = [
    "PARTITION_MODES",
    "CallableJudge",
    "CascadeJudge",
    "EmbeddingJudge",
    "ExactMatchJudge",
    "Judge",
    "LexicalJudge",
    "PartitionResult",
    "ScoreJudge",
    "calibrate_cascade",
    "diversity_scores",
    "partition",
    "partition_groups",
]
