"""Training a partition classifier on labelled pairs (NoveltyBench format), with the paper's recipe.

The data are pairs of generations with a human label: ``generation_0``, ``generation_1`` and
``similar`` (1 = equivalent). :class:`PartitionClassifierTrainer` is a ``transformers.Trainer``
(progress bars, checkpoints, ``resume_from_checkpoint``) that adds what the reference training code
does: pairs in both orders, class-weighted cross-entropy, and after training a decision threshold
chosen on the dev split (maximizing balanced accuracy), stored in the classifier's config and card.

Example:
    ```python
    # doc: no-run
    from darling.classifier import PartitionClassifier
    from darling.classifier.training import (
        PartitionClassifierTrainer, PartitionClassifierTrainingArguments, load_pairs, split_pairs,
    )

    clf = PartitionClassifier.from_encoder("answerdotai/ModernBERT-base")
    train, dev = split_pairs(load_pairs("pairs/train.jsonl"), dev_size=0.1)
    args = PartitionClassifierTrainingArguments(output_dir="partition-classifier")
    trainer = PartitionClassifierTrainer(clf, args, train_dataset=train, eval_dataset=dev)
    trainer.train()
    trainer.save_model()
    ```
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers import EvalPrediction, SchedulerType, Trainer, TrainingArguments

from darling.classifier.modeling import PartitionClassifier
from darling.classifier.pair_data import (
    PAIR_COLUMNS,
    check_pair_dataset,
    load_pairs,
    pairs_and_labels,
    split_pairs,
)
from darling.partitioning.pair_metrics import choose_threshold, pair_metrics

__all__ = [
    "PAIR_COLUMNS",
    "PartitionClassifierTrainer",
    "PartitionClassifierTrainingArguments",
    "check_pair_dataset",
    "class_indices",
    "class_weights",
    "freeze_layers",
    "load_pairs",
    "pairs_and_labels",
    "split_pairs",
    "weighted_cross_entropy",
]


# --------------------------------------------------------------------------------------------------
# Loss


def class_weights(labels: Sequence[int], num_classes: int = 2) -> torch.Tensor:
    """Inverse-frequency ("balanced") class weights ``n / (num_classes * n_c)``, by class index.

    Raises:
        ValueError: If a class has no example (its weight would be infinite).
    """
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(labels, dtype=int)
    counts = np.bincount(labels, minlength=num_classes)
    if (counts == 0).any():
        raise ValueError(f"Every class needs at least one training pair; class counts are {counts.tolist()}.")
    weights = compute_class_weight("balanced", classes=np.arange(num_classes), y=labels)
    return torch.tensor(weights, dtype=torch.float32)


def class_indices(labels: Sequence[int], equivalent_label: int) -> list[int]:
    """The classifier's class index of each 0/1 "similar" label (``equivalent_label`` for 1, else the other)."""
    return [equivalent_label if label == 1 else 1 - equivalent_label for label in labels]


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Cross-entropy averaged with class weights (``sum w_y * loss / sum w_y``, as torch does)."""
    weight = None if weights is None else weights.to(logits.device, torch.float32)
    return F.cross_entropy(logits.float(), labels.to(logits.device).long(), weight=weight)


def freeze_layers(classifier: PartitionClassifier, num_layers: int) -> int:
    """Freezes the encoder's input embeddings and its bottom ``num_layers`` transformer blocks.

    On a few hundred pairs, training only the top blocks (and the head) keeps most of the pretrained
    similarity and costs no backward pass through the frozen part.

    Args:
        classifier: The classifier.
        num_layers: Blocks to freeze from the bottom (0 freezes only the embeddings).

    Returns:
        The number of parameters frozen.

    Raises:
        ValueError: If the backbone's blocks cannot be found or ``num_layers`` exceeds their number.
    """
    backbone = classifier.model
    depth = getattr(
        getattr(backbone.config, "get_text_config", lambda: backbone.config)(), "num_hidden_layers", None
    )
    blocks = next(
        (m for m in backbone.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == depth and depth),
        None,
    )
    if blocks is None:
        raise ValueError(f"Cannot find the transformer blocks of {type(backbone).__name__} to freeze.")
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or not 0 <= num_layers <= len(blocks):
        raise ValueError(f"num_layers must be an int between 0 and {len(blocks)}, got {num_layers!r}.")
    first_block = {id(p) for p in blocks[0].parameters()}
    frozen = [id(p) for blk in blocks[:num_layers] for p in blk.parameters()]
    for _, param in backbone.named_parameters():
        if id(param) in first_block:
            break
        frozen.append(id(param))  # embeddings (everything before the first block)
    frozen_set = set(frozen)
    count = 0
    for param in backbone.parameters():
        if id(param) in frozen_set:
            param.requires_grad_(False)
            count += param.numel()
    return count


# --------------------------------------------------------------------------------------------------
# Trainer


@dataclass
class PartitionClassifierTrainingArguments(TrainingArguments):
    """``TrainingArguments`` whose defaults are the paper's classifier recipe.

    Only the fields that differ from ``transformers.TrainingArguments`` are listed: learning rate warmed
    up over 10 steps to 2e-5, then cosine down to 2e-6 (``min_lr_rate=0.1``) at step 80, effective
    batch 64 (16 x 4 accumulation steps on one device), class-weighted loss, pairs in both orders.

    Args:
        class_weighting: ``"balanced"`` (each class weighs ``n / (2 * n_c)``, as the reference code) or ``"none"``.
        both_orders: Train on ``(a, b)`` and ``(b, a)``, as the reference code does.
        select_threshold: After training, set the classifier's threshold (``clf.settings.threshold``,
            saved in ``config.json``) to the value that maximizes balanced accuracy on the eval (dev)
            split and record the dev metrics in ``clf.settings.metrics``.
    """

    learning_rate: float = field(default=2e-5, metadata={"help": "Peak learning rate (after warm-up)."})
    lr_scheduler_type: SchedulerType | str = field(
        default="cosine_with_min_lr", metadata={"help": "Learning-rate schedule."}
    )
    lr_scheduler_kwargs: dict | str | None = field(
        default_factory=lambda: {"min_lr_rate": 0.1},
        metadata={"help": "Schedule options; the recipe decays to 0.1 x the peak (2e-6)."},
    )
    warmup_steps: float = field(default=10, metadata={"help": "Linear warm-up steps."})
    max_steps: int = field(default=80, metadata={"help": "Optimizer steps (80 in the paper's recipe)."})
    per_device_train_batch_size: int = field(
        default=16, metadata={"help": "Pairs per device and micro-batch."}
    )
    per_device_eval_batch_size: int = field(default=32, metadata={"help": "Pairs per device at evaluation."})
    gradient_accumulation_steps: int = field(
        default=4, metadata={"help": "Micro-batches per optimizer step (16 x 4 = the recipe's 64)."}
    )
    logging_steps: float = field(default=10, metadata={"help": "Log every this many steps."})
    save_steps: float = field(default=20, metadata={"help": "Checkpoint every this many steps."})
    remove_unused_columns: bool = field(
        default=False, metadata={"help": "Keep the pre-tokenized columns (the trainer tokenizes itself)."}
    )
    # Same annotation as TrainingArguments: TrlParser cannot parse `str | list[str] | None`.
    report_to: None | str | list[str] = field(  # noqa: RUF036
        default="none", metadata={"help": "Experiment trackers."}
    )
    class_weighting: str = field(
        default="balanced", metadata={"help": "'balanced' (inverse class frequency) or 'none'."}
    )
    both_orders: bool = field(default=True, metadata={"help": "Train on both orders of each pair."})
    select_threshold: bool = field(
        default=True, metadata={"help": "Choose the decision threshold on the eval split after training."}
    )

    def __post_init__(self):
        super().__post_init__()
        if self.class_weighting not in ("balanced", "none"):
            raise ValueError(f"class_weighting must be 'balanced' or 'none', got {self.class_weighting!r}.")


class _Features(torch.utils.data.Dataset):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]


class PartitionClassifierTrainer(Trainer):
    """A ``transformers.Trainer`` for a :class:`PartitionClassifier` on labelled pairs.

    It trains the classifier's plain ``model`` (so checkpoints are ordinary transformers
    checkpoints) and adds what the reference training code does: it tokenizes the pairs with the
    classifier's own pair layout (``clf.encode_pairs``), in both orders; the loss is class-weighted
    cross-entropy; evaluation reports accuracy, balanced accuracy and ROC AUC of P(equivalent); and
    after :meth:`train`, the decision threshold is chosen on the eval split (see
    ``PartitionClassifierTrainingArguments.select_threshold``). :meth:`save_model` also writes the
    model card. Checkpoints, progress bars, logging and ``resume_from_checkpoint`` are the
    ``Trainer``'s own.

    Args:
        classifier: The classifier to train (e.g. from ``PartitionClassifier.from_encoder``).
        args: Training arguments (the paper's recipe by default).
        train_dataset: Pairs: a ``datasets.Dataset`` with the text and label columns, a list of such
            dicts, or a list of ``(a, b, label)`` tuples.
        eval_dataset: Dev pairs in the same form (model selection and threshold choice).
        text_columns: The two text columns.
        label_column: The 0/1 label column (1 = equivalent).
        **kwargs: Passed to ``Trainer`` (``callbacks``, ``optimizers``, ``compute_metrics``, ...).

    Raises:
        TypeError: If ``classifier`` is not a :class:`PartitionClassifier`.
        ValueError: On a malformed pair dataset or a training set missing a class.
    """

    # The loss is a per-micro-batch weighted mean: Trainer divides it by the accumulation steps.
    loss_is_scaled_for_ga = False

    def __init__(
        self,
        classifier: PartitionClassifier,
        args: TrainingArguments | None = None,
        train_dataset=None,
        eval_dataset=None,
        text_columns: tuple[str, str] = PAIR_COLUMNS[:2],
        label_column: str = PAIR_COLUMNS[2],
        **kwargs: Any,
    ) -> None:
        if not isinstance(classifier, PartitionClassifier):
            raise TypeError(
                f"PartitionClassifierTrainer trains a PartitionClassifier, got {type(classifier).__name__}; build one "
                "with PartitionClassifier.from_encoder(...) or PartitionClassifier.from_pretrained(...)."
            )
        if args is None:
            args = PartitionClassifierTrainingArguments(output_dir="partition-classifier")
        self.classifier = classifier
        self.text_columns, self.label_column = tuple(text_columns), label_column
        self.both_orders = bool(getattr(args, "both_orders", True))
        self.class_weights = None
        train_features = eval_features = None
        if train_dataset is not None:
            pairs, labels = pairs_and_labels(train_dataset, self.text_columns, label_column)
            if getattr(args, "class_weighting", "balanced") == "balanced":
                # Indexed like the logits: by class index, which is not the 0/1 label when equivalent_label=0.
                self.class_weights = class_weights(
                    class_indices(labels, classifier.settings.equivalent_label)
                )
            if self.both_orders:
                pairs, labels = pairs + [(b, a) for a, b in pairs], labels + labels
            train_features = self.tokenize(classifier, pairs, labels)
        if eval_dataset is not None:
            eval_features = self.tokenize(
                classifier, *pairs_and_labels(eval_dataset, self.text_columns, label_column)
            )
        kwargs.setdefault("compute_metrics", self._compute_metrics)
        kwargs.setdefault("processing_class", classifier.tokenizer)
        super().__init__(
            model=classifier.model,
            args=args,
            data_collator=classifier.collate,
            train_dataset=train_features,
            eval_dataset=eval_features,
            **kwargs,
        )

    @staticmethod
    def tokenize(
        classifier: PartitionClassifier, pairs: list[tuple[str, str]], labels: list[int]
    ) -> _Features:
        """Pre-tokenized training rows (``clf.encode_pairs`` without padding) with class-index labels."""
        encoded = classifier.encode_pairs(pairs, padding=False, return_tensors=None)
        rows = []
        for index, target in enumerate(class_indices(labels, classifier.settings.equivalent_label)):
            row = {key: encoded[key][index] for key in encoded}
            row["labels"] = target
            rows.append(row)
        return _Features(rows)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Class-weighted cross-entropy over the batch (a weighted mean, as the reference code)."""
        labels = inputs["labels"]
        outputs = model(**{key: value for key, value in inputs.items() if key != "labels"})
        loss = weighted_cross_entropy(outputs.logits, labels, self.class_weights)
        return (loss, outputs) if return_outputs else loss

    def _probabilities(self, prediction: EvalPrediction) -> tuple[np.ndarray, np.ndarray]:
        logits = (
            prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        )
        equivalent = self.classifier.settings.equivalent_label
        probs = torch.from_numpy(np.asarray(logits, dtype=np.float32)).softmax(-1)[:, equivalent].numpy()
        return probs, (np.asarray(prediction.label_ids) == equivalent).astype(int)

    def _compute_metrics(self, prediction: EvalPrediction) -> dict[str, float]:
        probs, labels = self._probabilities(prediction)
        return pair_metrics(probs, labels, self.classifier.threshold)

    def train(self, *args: Any, **kwargs: Any):
        """``Trainer.train``, then the threshold choice on the eval split (when ``select_threshold``)."""
        output = super().train(*args, **kwargs)
        if getattr(self.args, "select_threshold", False) and self.eval_dataset is not None:
            self.select_threshold()
        return output

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """``Trainer.save_model`` (a plain checkpoint with the ``darling`` settings), plus the model card."""
        from darling.classifier.card import write_model_card

        super().save_model(output_dir, _internal_call=_internal_call)
        if not _internal_call and self.is_world_process_zero():
            write_model_card(self.classifier, output_dir or self.args.output_dir)

    def select_threshold(self, eval_dataset=None) -> dict[str, float]:
        """Sets the classifier's threshold to maximize balanced accuracy on the eval split; records its metrics.

        Args:
            eval_dataset: Pairs to choose on (default: the trainer's eval split).

        Returns:
            The dev metrics at the chosen threshold (also stored in the classifier's settings).
        """
        features = self.eval_dataset
        if eval_dataset is not None:
            features = self.tokenize(
                self.classifier, *pairs_and_labels(eval_dataset, self.text_columns, self.label_column)
            )
        if features is None:
            raise ValueError("select_threshold needs an eval_dataset (dev pairs).")
        prediction = self.predict(features, metric_key_prefix="threshold")
        probs, labels = self._probabilities(EvalPrediction(prediction.predictions, prediction.label_ids))
        if labels.all() or not labels.any():
            warnings.warn(
                "The eval split holds a single class, so no threshold can be chosen on it; keeping "
                f"threshold={self.classifier.threshold}. Use a larger or stratified dev split (split_pairs).",
                stacklevel=2,
            )
            return {}
        threshold = choose_threshold(probs, labels)
        metrics = {key: round(value, 4) for key, value in pair_metrics(probs, labels, threshold).items()}
        metrics["dev_pairs"] = len(labels)
        settings = self.classifier.settings
        self.classifier.settings = settings.replace(
            threshold=threshold, metrics={**settings.metrics, **metrics}
        )
        self.log(
            {f"dev_{key}": float(value) for key, value in metrics.items() if key != "dev_pairs"}
            | {"threshold": threshold}
        )
        return metrics
