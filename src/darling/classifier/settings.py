"""A partition classifier's own settings: pair layout, threshold, tokens per text, equivalent label.

They are the only thing darling adds to a plain two-label sequence-classification checkpoint, and
they travel inside it as one small sub-dict of the model config (``config.darling``), so what
darling saves is an ordinary transformers checkpoint that ``AutoModelForSequenceClassification``
and serving engines load as is. :class:`ClassifierSettings` is their one home: every value is
validated here, and everything else receives validated settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# The key of the settings sub-dict in the model config (``config.json``).
CONFIG_KEY = "darling"
PAIR_LAYOUTS: tuple[str, ...] = ("cls_sep", "chatml", "tokenizer", "template")

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
    },
}
# Released checkpoints that ship no tokenizer: NoveltyBench loads the base model's.
RELEASED_TOKENIZERS: dict[str, str] = {
    "yimingzhang/deberta-v3-large-generation-similarity": "microsoft/deberta-v3-large",
}

# Defaults for a plain sequence-classification checkpoint, by backbone family (config.model_type).
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "modernbert": {"pair_layout": "cls_sep", "threshold": 0.32, "max_tokens_per_text": 1024},
    "deberta-v2": {"pair_layout": "cls_sep", "threshold": 0.102, "max_tokens_per_text": 128},
    "qwen3": {"pair_layout": "chatml", "threshold": 0.5, "max_tokens_per_text": 2048},
    "qwen2": {"pair_layout": "chatml", "threshold": 0.5, "max_tokens_per_text": 2048},
}
GENERIC_DEFAULTS: dict[str, Any] = {"pair_layout": "cls_sep", "threshold": 0.5, "max_tokens_per_text": 256}


@dataclass(frozen=True)
class ClassifierSettings:
    """How a partition classifier reads a pair and decides, saved as ``config.darling``.

    Args:
        pair_layout: How a pair becomes one input: ``"cls_sep"`` (``[CLS] a [SEP] b [SEP]`` with
            token type ids 0 up to the first ``[SEP]`` and 1 after, as NoveltyBench feeds
            BERT/DeBERTa), ``"chatml"`` (``<|im_start|>a<|im_end|>b<|im_end|>``, DARLING's math
            classifier), ``"tokenizer"`` (the tokenizer's own pair encoding) or ``"template"``.
        pair_template: With ``pair_layout="template"``: a string holding ``{a}`` and ``{b}`` once
            each (and optionally ``{cls}``/``{sep}``), e.g. ``"<s>{a}</s></s>{b}</s>"``.
        threshold: A pair is equivalent when P(equivalent) > ``threshold``.
        max_tokens_per_text: Each text is cut to this many tokens, separately (never an error).
        equivalent_label: Index of the output label meaning "equivalent" (1 in every released model).
        base_model: Model-card metadata: the encoder the classifier was trained from.
        training_data: Model-card metadata: the pairs it was trained on.
        metrics: Model-card metadata: held-out metrics, e.g. ``{"roc_auc": 0.81}``.

    Raises:
        ValueError: On an unknown layout, a template without ``{a}``/``{b}``, a threshold outside
            [0, 1], a non-positive token count or a label other than 0/1; the message says how to fix it.

    Example:
        >>> settings = ClassifierSettings(threshold=0.32, max_tokens_per_text=1024)
        >>> settings.template
        '{cls}{a}{sep}{b}{sep}'
        >>> settings.replace(threshold=0.5).threshold
        0.5
    """

    pair_layout: str = "cls_sep"
    pair_template: str | None = None
    threshold: float = 0.5
    max_tokens_per_text: int = 256
    equivalent_label: int = 1
    base_model: str | None = None
    training_data: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
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
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ValueError(
                f"threshold must be a number in [0, 1] (it is compared with P(equivalent)), got {threshold!r}."
            )
        tokens = self.max_tokens_per_text
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            raise ValueError(f"max_tokens_per_text must be a positive int, got {tokens!r}.")
        if self.equivalent_label not in (0, 1) or isinstance(self.equivalent_label, bool):
            raise ValueError(
                f"equivalent_label must be 0 or 1 (the classifier has two labels), got {self.equivalent_label!r}."
            )
        if not isinstance(self.metrics, dict):
            raise ValueError(
                f"metrics must be a dict such as {{'roc_auc': 0.8}}, got {type(self.metrics).__name__}."
            )
        object.__setattr__(self, "threshold", float(threshold))

    @property
    def template(self) -> str | None:
        """The layout's template string (``None`` for the tokenizer's own pair encoding)."""
        if self.pair_layout == "template":
            return self.pair_template
        return LAYOUT_TEMPLATES.get(self.pair_layout)

    def replace(self, **changes: Any) -> ClassifierSettings:
        """A copy with ``changes`` applied (validated); ``None`` values are ignored.

        A ``pair_template`` without a ``pair_layout`` implies ``pair_layout="template"``.
        """
        changes = {key: value for key, value in changes.items() if value is not None}
        if "pair_template" in changes and "pair_layout" not in changes:
            changes["pair_layout"] = "template"
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"Unknown classifier setting(s) {sorted(unknown)}.")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The ``config.darling`` sub-dict (unset metadata left out)."""
        values = dataclasses.asdict(self)
        return {key: value for key, value in values.items() if value not in (None, {})}

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config.darling") -> ClassifierSettings:
        """Settings from a ``config.darling`` sub-dict.

        Raises:
            ValueError: If it is not a dict or holds keys these settings do not know (named in the message).
        """
        if not isinstance(values, dict):
            raise ValueError(f"{where} must be a dict of classifier settings, got {type(values).__name__}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"{where} holds unknown setting(s) {unknown}; known: {', '.join(sorted(known))}. Was it saved by "
                "a newer darling?"
            )
        return cls(**values)


def default_settings(model_type: str, name_or_path: str | None = None) -> ClassifierSettings:
    """Settings for a plain checkpoint without a ``config.darling`` sub-dict.

    Args:
        model_type: The checkpoint's ``config.model_type`` (``"modernbert"``, ``"deberta-v2"``, ...).
        name_or_path: Its hub name or path; the released checkpoints get their published settings.

    Returns:
        The released checkpoint's settings, else the family's defaults, else generic ones.

    Example:
        >>> default_settings("deberta-v2").threshold
        0.102
        >>> default_settings("bert", "dogtooth/similarity-classifier-f168-hf").threshold
        0.32
    """
    name = str(name_or_path).rstrip("/") if name_or_path is not None else None
    values = RELEASED_CLASSIFIERS.get(name) or FAMILY_DEFAULTS.get(model_type, GENERIC_DEFAULTS)
    return ClassifierSettings(**values)
