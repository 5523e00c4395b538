"""Model card of a partition classifier, rendered from a template shipped with the package."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from darling.classifier.modeling import PartitionClassifier

_LAYOUTS = {
    "cls_sep": "`[CLS] a [SEP] b [SEP]`, token type ids 0 up to the first `[SEP]`, 1 after",
    "chatml": "`<|im_start|>a<|im_end|>b<|im_end|>`",
    "tokenizer": "the tokenizer's own pair encoding",
}


@dataclass
class ClassifierCardData:
    """What the model card of a partition classifier says.

    User fields come first (set them in the classifier's settings: ``base_model``,
    ``training_data``, ``metrics``); the rest is filled in from the classifier by :meth:`from_model`.

    Attributes:
        model_id: Hub id (or path) shown in the usage snippet.
        base_model: Encoder checkpoint the classifier was trained from.
        training_data: Pairs it was trained on (hub dataset id or description).
        metrics: Held-out metrics, e.g. ``{"roc_auc": 0.81}``.
        language: Language code(s) of the training data.
        license: License of the weights.
    """

    model_id: str = "path/to/partition-classifier"
    base_model: str | None = None
    training_data: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    language: str | list[str] | None = "en"
    license: str | None = "apache-2.0"
    # Filled in from the model.
    encoder_type: str = "unknown"
    num_parameters: str = "?"
    threshold: float = 0.5
    pair_layout: str = "cls_sep"
    pair_template: str | None = None
    max_tokens_per_text: int = 256
    equivalent_label: int = 1
    darling_version: str = ""
    transformers_version: str = ""
    torch_version: str = ""

    @classmethod
    def from_model(cls, model: PartitionClassifier, model_id: str | None = None) -> ClassifierCardData:
        """Collects the card fields of ``model`` (user fields from its config)."""
        import torch
        import transformers

        import darling

        settings = model.settings
        count = sum(p.numel() for p in model.model.parameters())
        return cls(
            model_id=model_id or cls.model_id,
            base_model=settings.base_model,
            training_data=settings.training_data,
            metrics=dict(settings.metrics),
            encoder_type=model.model.config.model_type,
            num_parameters=f"{count / 1e6:.1f}M" if count >= 1e5 else f"{count:,}",
            threshold=settings.threshold,
            pair_layout=settings.pair_layout,
            pair_template=settings.pair_template,
            max_tokens_per_text=settings.max_tokens_per_text,
            equivalent_label=settings.equivalent_label,
            darling_version=darling.__version__,
            transformers_version=transformers.__version__,
            torch_version=torch.__version__,
        )

    @property
    def layout_description(self) -> str:
        if self.pair_layout == "template":
            return f"template `{self.pair_template}`"
        return _LAYOUTS.get(self.pair_layout, self.pair_layout)

    def render(self) -> str:
        """The README.md text: YAML metadata and the rendered template."""
        from huggingface_hub import ModelCard, ModelCardData

        is_local = os.path.isdir(self.base_model) if self.base_model else False
        metadata = ModelCardData(
            language=self.language,
            license=self.license,
            library_name="transformers",
            pipeline_tag="text-classification",
            tags=["darling", "partition-classifier", "semantic-equivalence", "cross-encoder"],
            base_model=None if is_local or not self.base_model else self.base_model,
            datasets=[self.training_data]
            if self.training_data and "/" in self.training_data and " " not in self.training_data
            else None,
        )
        template = (
            resources.files("darling").joinpath("templates/partition_classifier_card.md").read_text("utf-8")
        )
        fields = asdict(self)
        fields["model_name"] = f"Partition classifier {self.model_id.rstrip('/').split('/')[-1]}"
        fields["layout_description"] = self.layout_description
        return str(ModelCard.from_template(metadata, template_str=template, **fields))


def write_model_card(
    model: PartitionClassifier, save_directory: str | os.PathLike, model_id: str | None = None
) -> str:
    """Writes ``README.md`` for ``model`` into ``save_directory`` and returns its path."""
    path = os.path.join(save_directory, "README.md")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(ClassifierCardData.from_model(model, model_id=model_id).render())
    return path
