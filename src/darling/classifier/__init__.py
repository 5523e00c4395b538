"""The partition classifier: a plain two-label sequence-classification checkpoint that says whether
two texts are semantically equivalent.

:class:`PartitionClassifier` wraps any ``AutoModelForSequenceClassification`` checkpoint (the three
released classifiers, or one darling trained) with its tokenizer and darling's settings, which are
saved in the model config as the ``darling`` sub-dict. Training lives in
:mod:`darling.classifier.training`.
"""

from darling.classifier.card import ClassifierCardData, write_model_card
from darling.classifier.judge import ClassifierJudge
from darling.classifier.layout import PairLayout, pad_batch
from darling.classifier.modeling import PartitionClassifier
from darling.classifier.settings import (
    CONFIG_KEY,
    FAMILY_DEFAULTS,
    PAIR_LAYOUTS,
    RELEASED_CLASSIFIERS,
    ClassifierSettings,
    default_settings,
)

__all__ = [
    "CONFIG_KEY",
    "FAMILY_DEFAULTS",
    "PAIR_LAYOUTS",
    "RELEASED_CLASSIFIERS",
    "ClassifierCardData",
    "ClassifierJudge",
    "ClassifierSettings",
    "PairLayout",
    "PartitionClassifier",
    "default_settings",
    "pad_batch",
    "write_model_card",
]
