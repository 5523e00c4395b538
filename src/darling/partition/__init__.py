"""Partitioning: judges, partition algorithms, diversity scores and the partition classifier.

This module is also callable: ``darling.partition(texts, judge, mode=...)`` is
:func:`darling.partition.algorithms.partition`, while ``darling.partition.judges`` and the other
submodules stay importable as usual.
"""

import sys
import types

from darling.partition.algorithms import (
    PARTITION_MODES,
    PartitionResult,
    class_sizes,
    diversity_scores,
    partition,
    partition_groups,
    relabel,
)
from darling.partition.calibration import CascadeCalibration, calibrate_cascade
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
    "class_sizes",
    "diversity_scores",
    "ngram_f1",
    "normalize_text",
    "partition",
    "partition_groups",
    "relabel",
    "short_text_equivalent",
]


class _CallablePartitionModule(types.ModuleType):
    """Lets ``darling.partition(texts, judge)`` call the function while the package stays a package."""

    def __call__(self, texts, judge, mode="all_pairs", short_text_rule=None):
        return partition(texts, judge, mode=mode, short_text_rule=short_text_rule)


sys.modules[__name__].__class__ = _CallablePartitionModule
