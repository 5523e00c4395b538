"""Configuration of the partition classifier: backbone, pair layout, threshold and card metadata."""

from __future__ import annotations

from typing import Any, ClassVar

from transformers import AutoConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec

from darling.partition.classifier.text_features import TEXT_FEATURES
from darling.partition.shortcut import SHORT_TEXT_RULES

MODEL_TYPE = "darling_partition_classifier"
ARCHITECTURES: tuple[str, ...] = ("cross_encoder", "bi_encoder")
PAIR_LAYOUTS: tuple[str, ...] = ("cls_sep", "chatml", "tokenizer", "template")
POOLINGS: tuple[str, ...] = ("mean", "cls")

# Named layouts as templates: `{a}`/`{b}` are the two texts, `{cls}`/`{sep}` the tokenizer's own tokens,
# anything else is literal text (special tokens such as <|im_start|> map to their single ids).
LAYOUT_TEMPLATES: dict[str, str] = {
    # NoveltyBench / BERT / DeBERTa / ModernBERT: [CLS] a [SEP] b [SEP], token type 1 from b on.
    "cls_sep": "{cls}{a}{sep}{b}{sep}",
    # DARLING's math classifier (Qwen3-Embedding-4B sequence classification).
    "chatml": "<|im_start|>{a}<|im_end|>{b}<|im_end|>",
}

# The classifiers released with the paper and NoveltyBench (DESIGN.md section 1), with their settings.
RELEASED_CLASSIFIERS: dict[str, dict[str, Any]] = {
    "dogtooth/similarity-classifier-f168-hf": {
        "pair_layout": "cls_sep",
        "threshold": 0.32,
        "max_tokens_per_text": 1024,
    },
    "dogtooth/qwen3-4b-emb-finetuned-step-70-hf": {
        "pair_layout": "chatml",
        "threshold": 0.5,
        "max_tokens_per_text": 2048,
    },
    "yimingzhang/deberta-v3-large-generation-similarity": {
        "pair_layout": "cls_sep",
        "threshold": 0.102,
        "max_tokens_per_text": 128,
        # The checkpoint ships no tokenizer; NoveltyBench loads the base model's.
        "tokenizer": "microsoft/deberta-v3-large",
    },
}

# Defaults for a plain sequence-classification checkpoint, by backbone family (config.model_type).
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "modernbert": {"pair_layout": "cls_sep", "threshold": 0.32, "max_tokens_per_text": 1024},
    "deberta-v2": {"pair_layout": "cls_sep", "threshold": 0.102, "max_tokens_per_text": 128},
    "qwen3": {"pair_layout": "chatml", "threshold": 0.5, "max_tokens_per_text": 2048},
    "qwen2": {"pair_layout": "chatml", "threshold": 0.5, "max_tokens_per_text": 2048},
}
GENERIC_DEFAULTS: dict[str, Any] = {"pair_layout": "cls_sep", "threshold": 0.5, "max_tokens_per_text": 256}


def default_settings(model_type: str, name_or_path: str | None = None) -> dict[str, Any]:
    """Pair layout, threshold and per-text length to use for a plain checkpoint.

    Args:
        model_type: The backbone's ``config.model_type`` (``"modernbert"``, ``"deberta-v2"``, ...).
        name_or_path: The checkpoint's hub name or path; released checkpoints get their published settings.

    Returns:
        A dict with ``pair_layout``, ``threshold`` and ``max_tokens_per_text`` (and ``tokenizer`` for a
        released checkpoint that ships none).

    Example:
        >>> default_settings("deberta-v2")["threshold"]
        0.102
    """
    if name_or_path is not None and str(name_or_path).rstrip("/") in RELEASED_CLASSIFIERS:
        return dict(RELEASED_CLASSIFIERS[str(name_or_path).rstrip("/")])
    return dict(FAMILY_DEFAULTS.get(model_type, GENERIC_DEFAULTS))


class PartitionClassifierConfig(PretrainedConfig):
    """Configuration of a :class:`~darling.partition.classifier.PartitionClassifier`.

    Args:
        encoder: Config of the backbone (a ``PretrainedConfig`` or its dict, e.g. from
            ``AutoConfig.for_model("bert", ...)``). For a cross-encoder it is the config of a
            2-label sequence classifier; for a bi-encoder that of the plain encoder.
        architecture: ``"cross_encoder"`` (both texts in one input, like every released checkpoint)
            or ``"bi_encoder"`` (each text encoded once, a learned head over the two embeddings).
        threshold: A pair is equivalent when P(equivalent) > ``threshold``.
        pair_layout: How a cross-encoder sees a pair: ``"cls_sep"`` (``[CLS] a [SEP] b [SEP]`` with
            token type ids 0 up to the first ``[SEP]``, 1 after, as NoveltyBench feeds BERT/DeBERTa),
            ``"chatml"`` (``<|im_start|>a<|im_end|>b<|im_end|>``, DARLING's math classifier),
            ``"tokenizer"`` (the tokenizer's own pair encoding) or ``"template"`` (``pair_template``).
            A bi-encoder always encodes each text with the tokenizer's own single-text encoding.
        pair_template: With ``pair_layout="template"``: a string with ``{a}`` and ``{b}`` (and
            optionally ``{cls}``/``{sep}``), e.g. ``"<s>{a}</s></s>{b}</s>"``.
        max_tokens_per_text: Each text is cut to this many tokens (separately, never an error).
        equivalent_label: Index of the output label meaning "equivalent" (1 in every released model).
        short_text_rule: Short-text shortcut applied before the model: ``"overlap"``, ``"exact"``, ``"off"``.
        use_token_type_ids: Pass token type ids to the backbone; ``None`` passes them whenever the
            backbone's ``forward`` accepts them.
        pooling: Bi-encoder pooling: ``"mean"`` (over non-padding tokens) or ``"cls"``.
        head_hidden_size: Bi-encoder head width (defaults to the encoder's hidden size).
        text_features: Bi-encoder only: surface pair features (word, name and character overlap over
            the whole text, see :data:`~darling.partition.classifier.text_features.TEXT_FEATURES`)
            added to the head as a linear term. Their statistics are fitted on the training pairs.
        text_feature_buckets: Hash slots of the fitted document-frequency tables.
        opening_tokens: Bi-encoder only: also mean-pool the first ``opening_tokens`` positions of
            each encoded text (its leading special token included) from the same encoder pass, and add
            the cosine of the two openings to the head as a learned term. How an answer opens tells
            its approach; 32 is the measured recipe. ``None`` (default) turns it off.
        base_model: Card metadata: the encoder checkpoint the classifier was trained from.
        training_data: Card metadata: the pairs it was trained on (hub dataset id or a description).
        metrics: Card metadata: held-out metrics, e.g. ``{"roc_auc": 0.81, "accuracy": 0.79}``.

    Raises:
        ValueError: On an unknown architecture, layout, pooling or short-text rule, a threshold outside
            [0, 1], a non-positive ``max_tokens_per_text``, or a template missing ``{a}``/``{b}``.

    Example:
        >>> from transformers import AutoConfig
        >>> config = PartitionClassifierConfig(encoder=AutoConfig.for_model("bert", hidden_size=32), threshold=0.3)
        >>> config.model_type, config.threshold
        ('darling_partition_classifier', 0.3)
    """

    model_type = MODEL_TYPE
    sub_configs_defaults: ClassVar[dict[str, SubConfigSpec]] = {
        "encoder": SubConfigSpec(config_class=AutoConfig, model_type="bert")
    }

    encoder: PretrainedConfig | dict | None = None
    architecture: str = "cross_encoder"
    threshold: float = 0.5
    pair_layout: str = "cls_sep"
    pair_template: str | None = None
    max_tokens_per_text: int = 256
    equivalent_label: int = 1
    short_text_rule: str = "overlap"
    use_token_type_ids: bool | None = None
    pooling: str = "mean"
    head_hidden_size: int | None = None
    text_features: list[str] | None = None
    text_feature_buckets: int = 2**20
    opening_tokens: int | None = None
    base_model: str | None = None
    training_data: str | None = None
    metrics: dict | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.check()

    def check(self) -> None:
        """Validates the settings, raising a ``ValueError`` that says how to fix a bad one."""
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"Unknown architecture {self.architecture!r}; choose one of {', '.join(ARCHITECTURES)}."
            )
        if self.pair_layout not in PAIR_LAYOUTS:
            raise ValueError(
                f"Unknown pair_layout {self.pair_layout!r}; choose one of {', '.join(PAIR_LAYOUTS)} "
                "(use pair_layout='template' with pair_template='...{a}...{b}...' for a custom layout)."
            )
        if self.pair_layout == "template":
            template = self.pair_template
            if not isinstance(template, str) or template.count("{a}") != 1 or template.count("{b}") != 1:
                raise ValueError(
                    "pair_layout='template' needs pair_template, a string holding '{a}' and '{b}' once each, "
                    f"e.g. '{{cls}}{{a}}{{sep}}{{b}}{{sep}}'; got {template!r}."
                )
            if template.index("{a}") > template.index("{b}"):
                raise ValueError(f"pair_template must put '{{a}}' before '{{b}}', got {template!r}.")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise ValueError(f"threshold must be a number in [0, 1], got {self.threshold!r}.")
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise ValueError(
                f"threshold must be in [0, 1] (it is compared with P(equivalent)), got {self.threshold}."
            )
        if isinstance(self.max_tokens_per_text, bool) or not isinstance(self.max_tokens_per_text, int):
            raise ValueError(f"max_tokens_per_text must be a positive int, got {self.max_tokens_per_text!r}.")
        if self.max_tokens_per_text < 1:
            raise ValueError(f"max_tokens_per_text must be >= 1, got {self.max_tokens_per_text}.")
        if self.equivalent_label not in (0, 1):
            raise ValueError(
                f"equivalent_label must be 0 or 1 (the classifier has two labels), got {self.equivalent_label!r}."
            )
        if self.short_text_rule not in SHORT_TEXT_RULES:
            raise ValueError(
                f"Unknown short_text_rule {self.short_text_rule!r}; choose one of {', '.join(SHORT_TEXT_RULES)}."
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {self.pooling!r}; choose one of {', '.join(POOLINGS)}.")
        if self.head_hidden_size is not None and self.head_hidden_size < 1:
            raise ValueError(f"head_hidden_size must be >= 1 or None, got {self.head_hidden_size}.")
        if self.text_features is not None:
            self._check_text_features()
        if self.opening_tokens is not None:
            self._check_opening_tokens()
        if self.metrics is not None and not isinstance(self.metrics, dict):
            raise ValueError(
                f"metrics must be a dict such as {{'roc_auc': 0.8}}, got {type(self.metrics).__name__}."
            )

    def _check_text_features(self) -> None:
        names = self.text_features
        if isinstance(names, str) or not isinstance(names, (list, tuple)):
            raise ValueError(f"text_features must be a list of feature names, got {names!r}.")
        unknown = [name for name in names if name not in TEXT_FEATURES]
        if unknown:
            raise ValueError(f"Unknown text_features {unknown}; choose from {', '.join(TEXT_FEATURES)}.")
        if len(set(names)) != len(names):
            raise ValueError(f"text_features lists a feature twice: {list(names)}.")
        if names and self.architecture != "bi_encoder":
            raise ValueError(
                "text_features feed the bi-encoder head; use architecture='bi_encoder' or text_features=None."
            )
        buckets = self.text_feature_buckets
        if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
            raise ValueError(f"text_feature_buckets must be a positive int, got {buckets!r}.")
        self.text_features = list(names)

    def _check_opening_tokens(self) -> None:
        tokens = self.opening_tokens
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            raise ValueError(f"opening_tokens must be a positive int or None, got {tokens!r}.")
        if self.architecture != "bi_encoder":
            raise ValueError(
                "opening_tokens adds an opening embedding to a bi-encoder; use architecture='bi_encoder' "
                "or opening_tokens=None."
            )
        if tokens >= self.max_tokens_per_text:
            raise ValueError(
                f"opening_tokens={tokens} would cover the whole text (max_tokens_per_text="
                f"{self.max_tokens_per_text}); use opening_tokens < max_tokens_per_text (32 is the measured "
                "recipe) or a larger max_tokens_per_text."
            )

    @property
    def layout_template(self) -> str | None:
        """The template string of the pair layout (``None`` for the tokenizer's own pair encoding)."""
        if self.pair_layout == "template":
            return self.pair_template
        return LAYOUT_TEMPLATES.get(self.pair_layout)
