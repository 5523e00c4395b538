"""The partition classifier: a plain two-label sequence-classification checkpoint that says whether
two texts are semantically equivalent.

:class:`PartitionClassifier` wraps any ``AutoModelForSequenceClassification`` checkpoint (the three
released classifiers, or one darling trained) with its tokenizer and darling's settings, which are
saved in the model config as the ``darling`` sub-dict. Training lives in
:mod:`darling.classifier.training`, the model card in :mod:`darling.classifier.card`, the pair
layouts in :mod:`darling.classifier.layout`.
"""

from darling.classifier.judge import ClassifierJudge
from darling.classifier.modeling import PartitionClassifier
from darling.classifier.settings import RELEASED_CLASSIFIERS, ClassifierSettings

__all__ = ["RELEASED_CLASSIFIERS", "ClassifierJudge", "ClassifierSettings", "PartitionClassifier"]
