"""Reading a partition classifier's parts from a checkpoint: config, settings, tokenizer, limits.

A partition classifier is a plain two-label ``*ForSequenceClassification`` checkpoint plus the
``config.darling`` settings sub-dict. Checkpoints saved by darling 0.1 (``model_type``
``darling_partition_classifier``, weights prefixed ``backbone.``) are converted on load.
"""

from __future__ import annotations

import json
import os
from typing import Any

from torch import nn

from darling.classifier.settings import CONFIG_KEY, RELEASED_TOKENIZERS, ClassifierSettings, default_settings
from darling.partitioning._validation import check_location

# Label names of a new classifier's head (what a serving engine reports as `label`).
LABELS = {0: "different", 1: "equivalent"}
HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")
LEGACY_MODEL_TYPE = "darling_partition_classifier"
# Special tokens a pair layout adds around the two texts ([CLS] a [SEP] b [SEP]).
PAIR_SPECIAL_TOKENS = 3


def hub_kwargs_of(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``from_pretrained`` arguments that locate files (they apply to config, weights and tokenizer)."""
    return {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}


def config_dict(name_or_path: str | os.PathLike, **hub_kwargs: Any) -> dict[str, Any]:
    """The checkpoint's ``config.json`` as a dict, without building a config class (works for any model type)."""
    from transformers import PretrainedConfig

    location = check_location(name_or_path, "classifier checkpoint")
    values, _ = PretrainedConfig.get_config_dict(location, **hub_kwargs)
    return values


def position_limit(model: nn.Module) -> int | None:
    """Longest input a model with learned absolute position embeddings takes (``None`` if unbounded)."""
    for name, module in model.named_modules():
        if name.endswith("position_embeddings") and isinstance(module, nn.Embedding):
            offset = module.padding_idx + 1 if module.padding_idx is not None else 0  # RoBERTa-style offsets
            return module.num_embeddings - offset
    return None


def max_tokens_limit(model: nn.Module) -> int | None:
    """Most tokens each text of a pair may keep so that the pair fits the model's positions."""
    limit = position_limit(model)
    return None if limit is None else (limit - PAIR_SPECIAL_TOKENS) // 2


def check_sequence_classifier(config: Any, name_or_path: Any) -> None:
    """Raises a clear error unless ``config`` is a two-label sequence classifier's.

    Raises:
        ValueError: For a bare encoder (no trained head) or a head with another number of labels.
    """
    architectures = getattr(config, "architectures", None) or []
    if architectures and not any(name.endswith("ForSequenceClassification") for name in architectures):
        raise ValueError(
            f"{name_or_path!s} is a {architectures[0]}, not a sequence classifier: it has no trained equivalence "
            f"head. Start a new classifier with PartitionClassifier.from_encoder({str(name_or_path)!r}) and train it."
        )
    if config.num_labels != 2:
        raise ValueError(
            f"{name_or_path!s} has {config.num_labels} labels; a partition classifier is a 2-label sequence "
            "classifier (label 1 = equivalent). Pass a two-label checkpoint, or use from_encoder() to start anew."
        )


def checkpoint_settings(config: Any, name_or_path: Any, overrides: dict[str, Any]) -> ClassifierSettings:
    """The checkpoint's saved ``config.darling`` settings (else the released/family defaults), with ``overrides``."""
    saved = getattr(config, CONFIG_KEY, None)
    if saved is not None:
        settings = ClassifierSettings.from_dict(
            saved, where=f"{CONFIG_KEY} in the config of {name_or_path!s}"
        )
    else:
        settings = default_settings(config.model_type, str(name_or_path))
    return settings.replace(**overrides)


def default_tokenizer_source(name_or_path: Any) -> str:
    """Where the tokenizer of a checkpoint comes from: itself, or its base model for a released one that ships none."""
    return RELEASED_TOKENIZERS.get(str(name_or_path).rstrip("/"), str(name_or_path))


def load_tokenizer(source: Any, hub_kwargs: dict[str, Any], checkpoint: str) -> Any:
    """Returns ``source`` if it is a tokenizer, else loads one from ``source`` or the checkpoint."""
    from transformers import AutoTokenizer

    if source is not None and not isinstance(source, (str, os.PathLike)):
        return source
    location = str(source) if source is not None else default_tokenizer_source(checkpoint)
    try:
        return AutoTokenizer.from_pretrained(location, **hub_kwargs)
    except (OSError, ValueError, TypeError) as err:
        raise ValueError(
            f"Could not load a tokenizer from {location!r} ({err}). Pass tokenizer=<a tokenizer or the "
            "name/path of the base model's tokenizer>, e.g. tokenizer='microsoft/deberta-v3-large'."
        ) from err


def check_tokenizer(tokenizer: Any, model_config: Any, checkpoint: str) -> None:
    """Catches a tokenizer that cannot be the checkpoint's own before it gives wrong numbers."""
    size = len(tokenizer)
    if size <= len(set(getattr(tokenizer, "all_special_ids", []))) + 1:
        raise ValueError(
            f"The tokenizer loaded for {checkpoint!r} has no vocabulary (the checkpoint ships no tokenizer files). "
            "Pass tokenizer=<the base model's tokenizer>, e.g. tokenizer='microsoft/deberta-v3-large'."
        )
    vocab = getattr(model_config, "vocab_size", None)
    if isinstance(vocab, int) and size > vocab:
        raise ValueError(
            f"The tokenizer of {checkpoint!r} has {size} tokens but the model embeds only {vocab}; pass "
            "tokenizer=<the tokenizer the checkpoint was trained with>."
        )


def load_legacy_checkpoint(name_or_path: Any, values: dict[str, Any], hub_kwargs: dict[str, Any]):
    """A darling 0.1 cross-encoder checkpoint as ``(model, settings)``: its ``encoder`` config and its
    ``backbone.``-prefixed weights become a plain sequence classifier.

    Raises:
        ValueError: For a darling 0.1 bi-encoder, which has no plain-checkpoint equivalent.
    """
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForSequenceClassification
    from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, cached_file

    if values.get("architecture", "cross_encoder") != "cross_encoder":
        raise ValueError(
            f"{name_or_path!s} is a darling 0.1 bi-encoder checkpoint; bi-encoders are no longer partition "
            "classifiers. Use darling.partitioning.EmbeddingJudge (a sentence-transformers model with a fitted "
            "threshold) instead, or retrain a cross-encoder with PartitionClassifier.from_encoder()."
        )
    encoder = dict(values["encoder"])
    config = AutoConfig.for_model(encoder.pop("model_type"), **encoder)
    model = AutoModelForSequenceClassification.from_config(config)
    index = cached_file(
        str(name_or_path), SAFE_WEIGHTS_INDEX_NAME, _raise_exceptions_for_missing_entries=False, **hub_kwargs
    )
    if index is not None:
        with open(index, encoding="utf-8") as handle:
            files = sorted(set(json.load(handle)["weight_map"].values()))
        paths = [cached_file(str(name_or_path), name, **hub_kwargs) for name in files]
    else:
        paths = [cached_file(str(name_or_path), SAFE_WEIGHTS_NAME, **hub_kwargs)]
    state = {}
    for path in paths:
        state.update(load_file(path))
    prefix = "backbone."
    state = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{name_or_path!s} does not hold the weights of a darling 0.1 cross-encoder (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})."
        )
    legacy = {
        key: values[key]
        for key in ("pair_layout", "pair_template", "threshold", "max_tokens_per_text", "equivalent_label",
                    "base_model", "training_data", "metrics")
        if values.get(key) is not None
    }  # fmt: skip
    return model.eval(), ClassifierSettings(**legacy)


def checkpoint_parts(
    name_or_path: Any, tokenizer: Any, overrides: dict[str, Any], model_kwargs: dict[str, Any]
) -> tuple[Any, Any, ClassifierSettings]:
    """Model (in eval mode), tokenizer and settings of a two-label sequence-classification checkpoint.

    Raises:
        ValueError: If the checkpoint is not a trained two-label sequence classifier, or its tokenizer
            cannot be its own.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    hub_kwargs = hub_kwargs_of(model_kwargs)
    values = config_dict(name_or_path, **hub_kwargs)
    if values.get("model_type") == LEGACY_MODEL_TYPE:
        model, settings = load_legacy_checkpoint(name_or_path, values, hub_kwargs)
        settings = settings.replace(**overrides)
    else:
        config = AutoConfig.from_pretrained(name_or_path, **hub_kwargs)
        check_sequence_classifier(config, name_or_path)
        model, info = AutoModelForSequenceClassification.from_pretrained(
            name_or_path, config=config, output_loading_info=True, **model_kwargs
        )
        if info.get("missing_keys"):
            raise ValueError(
                f"{name_or_path!s} lacks weights the classifier needs ({', '.join(sorted(info['missing_keys'])[:5])}); "
                "it is not a trained sequence classifier. Use PartitionClassifier.from_encoder() to start a new one."
            )
        settings = fitted_settings(config, name_or_path, overrides, model)
    tokenizer = load_tokenizer(tokenizer, hub_kwargs, str(name_or_path))
    check_tokenizer(tokenizer, model.config, str(name_or_path))
    return model.eval(), tokenizer, settings


def fitted_settings(
    config: Any, name_or_path: Any, overrides: dict[str, Any], model: nn.Module
) -> ClassifierSettings:
    """:func:`checkpoint_settings`; for a plain checkpoint also its source (for the card) and a default
    token limit that fits the model's positions."""
    settings = checkpoint_settings(config, name_or_path, overrides)
    if getattr(config, CONFIG_KEY, None) is None:
        settings = settings.replace(base_model=settings.base_model or str(name_or_path))
        limit = max_tokens_limit(model)
        if overrides.get("max_tokens_per_text") is None and limit is not None:
            settings = settings.replace(max_tokens_per_text=min(settings.max_tokens_per_text, limit))
    return settings


def weightless_parts(
    name_or_path: Any, tokenizer: Any, overrides: dict[str, Any], hub_kwargs: dict[str, Any]
) -> tuple[Any, Any, ClassifierSettings]:
    """Config, tokenizer and settings of a checkpoint, without loading its weights (for a served judge).

    The model is built on the meta device only to read its position limit.

    Raises:
        ValueError: As :func:`checkpoint_parts`, and for a darling 0.1 checkpoint (re-save it with
            ``PartitionClassifier.from_pretrained(old).save_pretrained(new)`` first).
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if config_dict(name_or_path, **hub_kwargs).get("model_type") == LEGACY_MODEL_TYPE:
        raise ValueError(
            f"{name_or_path!s} is a darling 0.1 checkpoint, which serving engines cannot load; convert it with "
            "PartitionClassifier.from_pretrained(old).save_pretrained(new) and serve the new folder."
        )
    config = AutoConfig.from_pretrained(name_or_path, **hub_kwargs)
    check_sequence_classifier(config, name_or_path)
    with torch.device("meta"):
        skeleton = AutoModelForSequenceClassification.from_config(config)
    settings = fitted_settings(config, name_or_path, overrides, skeleton)
    tokenizer = load_tokenizer(tokenizer, hub_kwargs, str(name_or_path))
    check_tokenizer(tokenizer, config, str(name_or_path))
    return config, tokenizer, settings


def encoder_parts(
    encoder_name_or_path: Any, tokenizer: Any, model_kwargs: dict[str, Any], settings: dict[str, Any]
) -> tuple[Any, Any, ClassifierSettings]:
    """Model (an encoder with a fresh two-label head), tokenizer and settings of a new classifier."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        encoder_name_or_path,
        num_labels=2,
        id2label=dict(LABELS),
        label2id={name: index for index, name in LABELS.items()},
        ignore_mismatched_sizes=True,
        **model_kwargs,
    )
    model.config.architectures = [type(model).__name__]  # the saved config names the classifier
    defaults = default_settings(model.config.model_type)
    limit = max_tokens_limit(model)
    if limit is not None and "max_tokens_per_text" not in settings:
        defaults = defaults.replace(max_tokens_per_text=min(defaults.max_tokens_per_text, limit))
    settings = {"base_model": str(encoder_name_or_path), **settings}
    tokenizer = load_tokenizer(tokenizer, hub_kwargs_of(model_kwargs), str(encoder_name_or_path))
    check_tokenizer(tokenizer, model.config, str(encoder_name_or_path))
    return model, tokenizer, defaults.replace(**settings)
