"""The partition classifier: a pretrained-style model that says whether two texts are equivalent.

Importing this package registers :class:`PartitionClassifierConfig` and :class:`PartitionClassifier`
with the transformers Auto classes, so ``AutoModel.from_pretrained(path)`` loads a darling checkpoint.
"""

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

from darling.partition.classifier.card import PartitionClassifierCardData, write_model_card
from darling.partition.classifier.configuration import (
    ARCHITECTURES,
    FAMILY_DEFAULTS,
    MODEL_TYPE,
    PAIR_LAYOUTS,
    RELEASED_CLASSIFIERS,
    PartitionClassifierConfig,
    default_settings,
)
from darling.partition.classifier.head_training import train_bi_encoder_head
from darling.partition.classifier.heads import BiEncoderHead
from darling.partition.classifier.judge import ClassifierJudge
from darling.partition.classifier.layout import PairLayout, pad_batch
from darling.partition.classifier.modeling import PartitionClassifier
from darling.partition.classifier.text_features import (
    FORMAT_FEATURES,
    SIMILARITY_FEATURES,
    TEXT_FEATURES,
    TextFeatures,
)


def register_auto_classes() -> None:
    """Registers the classifier with ``AutoConfig``, ``AutoModel`` and ``AutoModelForSequenceClassification``.

    Runs once on import; calling it again (or reloading the module) replaces the entries instead of
    raising, so the Auto classes always point at the current classes.
    """
    AutoConfig.register(MODEL_TYPE, PartitionClassifierConfig, exist_ok=True)
    AutoModel.register(PartitionClassifierConfig, PartitionClassifier, exist_ok=True)
    AutoModelForSequenceClassification.register(PartitionClassifierConfig, PartitionClassifier, exist_ok=True)


register_auto_classes()

__all__ = [
    "ARCHITECTURES",
    "FAMILY_DEFAULTS",
    "FORMAT_FEATURES",
    "MODEL_TYPE",
    "PAIR_LAYOUTS",
    "RELEASED_CLASSIFIERS",
    "SIMILARITY_FEATURES",
    "TEXT_FEATURES",
    "BiEncoderHead",
    "ClassifierJudge",
    "PairLayout",
    "PartitionClassifier",
    "PartitionClassifierCardData",
    "PartitionClassifierConfig",
    "TextFeatures",
    "default_settings",
    "pad_batch",
    "register_auto_classes",
    "train_bi_encoder_head",
    "write_model_card",
]
