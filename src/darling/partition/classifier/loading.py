"""Building a PartitionClassifier's parts from checkpoints: plain classifiers, bare encoders, tokenizers."""

from __future__ import annotations

import copy
import os
from typing import Any

from torch import nn
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from darling.partition.classifier.configuration import PartitionClassifierConfig, default_settings

HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")


def position_limit(backbone: nn.Module) -> int | None:
    """Longest input a backbone with learned absolute position embeddings takes (None if unbounded)."""
    for name, module in backbone.named_modules():
        if name.endswith("position_embeddings") and isinstance(module, nn.Embedding):
            offset = module.padding_idx + 1 if module.padding_idx is not None else 0  # RoBERTa-style offsets
            return module.num_embeddings - offset
    return None


def max_tokens_limit(backbone: nn.Module, architecture: str, specials: int = 3) -> int | None:
    """Most tokens a text may keep so that a pair (cross-encoder) or a text (bi-encoder) fits the positions."""
    limit = position_limit(backbone)
    if limit is None:
        return None
    return (limit - specials) // 2 if architecture == "cross_encoder" else limit - 2


def load_tokenizer(source: Any, hub_kwargs: dict[str, Any], checkpoint: str) -> Any:
    """Returns ``source`` if it is a tokenizer, else loads one from ``source`` or the checkpoint."""
    if source is not None and not isinstance(source, (str, os.PathLike)):
        return source
    try:
        return AutoTokenizer.from_pretrained(source if source is not None else checkpoint, **hub_kwargs)
    except (OSError, ValueError, TypeError) as err:
        raise ValueError(
            f"Could not load a tokenizer from {source or checkpoint!r} ({err}). Pass tokenizer=<a tokenizer or the "
            "name/path of the base model's tokenizer>, e.g. tokenizer='microsoft/deberta-v3-large'."
        ) from err


def check_tokenizer(tokenizer: Any, encoder_config: Any, checkpoint: str) -> None:
    """Catches a tokenizer that cannot be the checkpoint's own before it gives wrong numbers."""
    size = len(tokenizer)
    if size <= len(set(getattr(tokenizer, "all_special_ids", []))) + 1:
        raise ValueError(
            f"The tokenizer loaded for {checkpoint!r} has no vocabulary (the checkpoint ships no tokenizer files). "
            "Pass tokenizer=<the base model's tokenizer>, e.g. tokenizer='microsoft/deberta-v3-large'."
        )
    vocab = getattr(encoder_config, "vocab_size", None)
    if isinstance(vocab, int) and size > vocab:
        raise ValueError(
            f"The tokenizer of {checkpoint!r} has {size} tokens but the model embeds only {vocab}; pass "
            "tokenizer=<the tokenizer the checkpoint was trained with>."
        )


def sequence_classifier_parts(
    path: Any, config: Any, tokenizer: Any, overrides: dict[str, Any], kwargs: dict[str, Any]
) -> tuple[Any, PartitionClassifierConfig, Any]:
    """Backbone, config and tokenizer of a plain two-label sequence-classification checkpoint.

    Raises:
        ValueError: If the checkpoint is not a trained two-label sequence classifier, or has no usable
            tokenizer.
    """
    architectures = getattr(config, "architectures", None) or []
    if architectures and not any(name.endswith("ForSequenceClassification") for name in architectures):
        raise ValueError(
            f"{path!s} is a {architectures[0]}, not a sequence classifier: it has no trained equivalence head. "
            f"Start a new classifier with PartitionClassifier.from_encoder({str(path)!r}) and train it."
        )
    if config.num_labels != 2:
        raise ValueError(
            f"{path!s} has {config.num_labels} labels; a partition classifier is a 2-label sequence "
            "classifier (label 1 = equivalent). Pass a two-label checkpoint, or use from_encoder() to start anew."
        )
    hub_kwargs = {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}
    settings = {**default_settings(config.model_type, str(path)), **overrides}
    tokenizer = tokenizer if tokenizer is not None else settings.pop("tokenizer", None)
    settings.pop("tokenizer", None)
    backbone, info = AutoModelForSequenceClassification.from_pretrained(
        path, config=config, output_loading_info=True, **kwargs
    )
    if info.get("missing_keys"):
        raise ValueError(
            f"{path!s} lacks weights the classifier needs ({', '.join(sorted(info['missing_keys'])[:5])}); "
            "it is not a trained sequence classifier. Use PartitionClassifier.from_encoder() to start a new one."
        )
    if "max_tokens_per_text" not in overrides:
        limit = max_tokens_limit(backbone, "cross_encoder")
        if limit is not None:
            settings["max_tokens_per_text"] = min(settings["max_tokens_per_text"], limit)
    pc_config = PartitionClassifierConfig(
        encoder=copy.deepcopy(backbone.config),
        architecture="cross_encoder",
        base_model=str(path),
        **settings,
    )
    tokenizer = load_tokenizer(tokenizer, hub_kwargs, str(path))
    check_tokenizer(tokenizer, backbone.config, str(path))
    return backbone, pc_config, tokenizer


def encoder_parts(
    encoder_name_or_path: Any,
    architecture: str,
    tokenizer: Any,
    model_kwargs: dict[str, Any],
    config_kwargs: dict[str, Any],
) -> tuple[Any, PartitionClassifierConfig, Any]:
    """Backbone (pretrained encoder, fresh head), config and tokenizer of a new classifier."""
    hub_kwargs = {key: model_kwargs[key] for key in HUB_KWARGS if key in model_kwargs}
    if architecture == "cross_encoder":
        backbone = AutoModelForSequenceClassification.from_pretrained(
            encoder_name_or_path, num_labels=2, ignore_mismatched_sizes=True, **model_kwargs
        )
    elif architecture == "bi_encoder":
        backbone = AutoModel.from_pretrained(encoder_name_or_path, **model_kwargs)
    else:
        raise ValueError(f"Unknown architecture {architecture!r}; choose 'cross_encoder' or 'bi_encoder'.")
    defaults = default_settings(backbone.config.model_type)
    settings = {
        "pair_layout": defaults["pair_layout"],
        "max_tokens_per_text": defaults["max_tokens_per_text"],
    }
    if architecture == "bi_encoder":
        settings["pair_layout"] = "tokenizer"
    limit = max_tokens_limit(backbone, architecture)
    if limit is not None:
        settings["max_tokens_per_text"] = min(settings["max_tokens_per_text"], limit)
    settings.update(config_kwargs)
    settings.setdefault("base_model", str(encoder_name_or_path))
    config = PartitionClassifierConfig(
        encoder=copy.deepcopy(backbone.config), architecture=architecture, **settings
    )
    tokenizer = load_tokenizer(tokenizer, hub_kwargs, str(encoder_name_or_path))
    check_tokenizer(tokenizer, backbone.config, str(encoder_name_or_path))
    return backbone, config, tokenizer
