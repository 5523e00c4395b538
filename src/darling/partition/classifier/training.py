"""Training a partition classifier on labelled pairs (NoveltyBench format), with the paper's recipe.

The data are pairs of generations with a human label: ``generation_0``, ``generation_1`` and
``similar`` (1 = equivalent). :class:`PartitionClassifierTrainer` is a ``transformers.Trainer``
(progress bars, checkpoints, ``resume_from_checkpoint``) that adds what the reference training code
does: pairs in both orders, class-weighted cross-entropy, and after training a decision threshold
chosen on the dev split (maximizing balanced accuracy), stored in the classifier's config and card.

Example:
    ```python
    # doc: no-run
    from darling.partition.classifier import PartitionClassifier
    from darling.partition.classifier.training import (
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

from darling.partition.classifier.modeling import PartitionClassifier
from darling.partition.classifier.pair_data import (
    PAIR_COLUMNS,
    check_pair_dataset,
    kfold_indices,
    load_pairs,
    split_pairs,
)
from darling.partition.classifier.pair_metrics import (
    balanced_accuracy,
    choose_threshold,
    pair_metrics,
    roc_auc,
)

__all__ = [
    "PAIR_COLUMNS",
    "PartitionClassifierTrainer",
    "PartitionClassifierTrainingArguments",
    "balanced_accuracy",
    "check_pair_dataset",
    "choose_threshold",
    "class_indices",
    "class_weights",
    "freeze_layers",
    "kfold_indices",
    "load_pairs",
    "pair_metrics",
    "pairs_and_labels",
    "roc_auc",
    "split_pairs",
    "weighted_cross_entropy",
]


# --------------------------------------------------------------------------------------------------
# Loss


def class_weights(labels: Sequence[int], num_classes: int = 2) -> torch.Tensor:
    """Inverse-frequency class weights ``n / (num_classes * n_c)`` (1.0 for each class when balanced).

    Raises:
        ValueError: If a class has no example (its weight would be infinite).
    """
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=num_classes)
    if (counts == 0).any():
        raise ValueError(f"Every class needs at least one training pair; class counts are {counts.tolist()}.")
    return torch.tensor(counts.sum() / (num_classes * counts), dtype=torch.float32)


def class_indices(labels: Sequence[int], equivalent_label: int) -> list[int]:
    """The classifier's class index of each 0/1 "similar" label (``equivalent_label`` for 1, else the other)."""
    return [equivalent_label if label == 1 else 1 - equivalent_label for label in labels]


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Cross-entropy averaged with class weights (``sum w_y * loss / sum w_y``, as torch does)."""
    weight = None if weights is None else weights.to(logits.device, torch.float32)
    return F.cross_entropy(logits.float(), labels.to(logits.device).long(), weight=weight)


def freeze_layers(model: PartitionClassifier, num_layers: int) -> int:
    """Freezes the encoder's input embeddings and its bottom ``num_layers`` transformer blocks.

    On a few hundred pairs, training only the top blocks (and the head) keeps most of the pretrained
    similarity and costs no backward pass through the frozen part.

    Args:
        model: The classifier.
        num_layers: Blocks to freeze from the bottom (0 freezes only the embeddings).

    Returns:
        The number of parameters frozen.

    Raises:
        ValueError: If the backbone's blocks cannot be found or ``num_layers`` exceeds their number.
    """
    backbone = model.backbone
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
        both_orders: Train on ``(a, b)`` and ``(b, a)``. ``None`` does so for a cross-encoder and not for a
            bi-encoder, whose head is symmetric (the reversed pair is the same example).
        select_threshold: After training, set ``config.threshold`` to the value that maximizes balanced
            accuracy on the eval (dev) split and record the dev metrics in ``config.metrics``.
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
    both_orders: bool | None = field(
        default=None, metadata={"help": "Train on both orders of each pair (default: cross-encoders only)."}
    )
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


def pairs_and_labels(
    data: Any, text_columns: Sequence[str], label_column: str
) -> tuple[list[tuple[str, str]], list[int]]:
    """Pairs and 0/1 labels from a ``datasets.Dataset``, a list of dicts or a list of ``(a, b, label)`` tuples.

    Raises:
        ValueError: On missing columns, an empty dataset or a row that is not ``(a, b, 0/1)``.
    """
    if hasattr(data, "column_names"):
        check_pair_dataset(data, text_columns, label_column)
        return list(zip(data[text_columns[0]], data[text_columns[1]])), [int(v) for v in data[label_column]]
    rows = list(data)
    if not rows:
        raise ValueError("The pair dataset is empty.")
    if isinstance(rows[0], dict):
        from datasets import Dataset

        return pairs_and_labels(Dataset.from_list(rows), text_columns, label_column)
    pairs, labels = [], []
    for index, row in enumerate(rows):
        if isinstance(row, str) or len(row) != 3 or row[2] not in (0, 1):
            raise ValueError(f"Row {index} must be (text_a, text_b, label 0/1), got {row!r:.80}.")
        pairs.append((row[0], row[1]))
        labels.append(int(row[2]))
    return pairs, labels


class PartitionClassifierTrainer(Trainer):
    """A ``transformers.Trainer`` for :class:`PartitionClassifier` on labelled pairs.

    What it adds to ``Trainer``: it tokenizes the pairs with the classifier's own pair layout
    (``clf.encode_pairs``), optionally in both orders; the loss is class-weighted cross-entropy;
    evaluation reports accuracy, balanced accuracy and ROC AUC of P(equivalent); and after
    :meth:`train`, the decision threshold is chosen on the eval split (see
    ``PartitionClassifierTrainingArguments.select_threshold``). Checkpoints, progress bars, logging
    and ``resume_from_checkpoint`` are the ``Trainer``'s own.

    Args:
        model: The classifier to train (e.g. from ``PartitionClassifier.from_encoder``).
        args: Training arguments (the paper's recipe by default).
        train_dataset: Pairs: a ``datasets.Dataset`` with the text and label columns, a list of such
            dicts, or a list of ``(a, b, label)`` tuples.
        eval_dataset: Dev pairs in the same form (model selection and threshold choice).
        text_columns: The two text columns.
        label_column: The 0/1 label column (1 = equivalent).
        **kwargs: Passed to ``Trainer`` (``callbacks``, ``optimizers``, ``compute_metrics``, ...).

    Raises:
        TypeError: If ``model`` is not a :class:`PartitionClassifier`.
        ValueError: On a malformed pair dataset or a training set missing a class.
    """

    def __init__(
        self,
        model: PartitionClassifier,
        args: TrainingArguments | None = None,
        train_dataset=None,
        eval_dataset=None,
        text_columns: tuple[str, str] = PAIR_COLUMNS[:2],
        label_column: str = PAIR_COLUMNS[2],
        **kwargs: Any,
    ) -> None:
        if not isinstance(model, PartitionClassifier):
            raise TypeError(
                f"PartitionClassifierTrainer trains a PartitionClassifier, got {type(model).__name__}; build one "
                "with PartitionClassifier.from_encoder(...) or PartitionClassifier.from_pretrained(...)."
            )
        if args is None:
            args = PartitionClassifierTrainingArguments(output_dir="partition-classifier")
        self.text_columns, self.label_column = tuple(text_columns), label_column
        both = getattr(args, "both_orders", None)
        self.both_orders = model.config.architecture == "cross_encoder" if both is None else bool(both)
        self.class_weights = None
        train_features = eval_features = None
        if train_dataset is not None:
            pairs, labels = pairs_and_labels(train_dataset, self.text_columns, label_column)
            if model.text_featurizer is not None and not model.text_featurizer.fitted:
                model.fit_text_features(pairs)
            if getattr(args, "class_weighting", "balanced") == "balanced":
                # Indexed like the logits: by class index, which is not the 0/1 label when equivalent_label=0.
                self.class_weights = class_weights(class_indices(labels, model.config.equivalent_label))
            if self.both_orders:
                pairs, labels = pairs + [(b, a) for a, b in pairs], labels + labels
            train_features = self.tokenize(model, pairs, labels)
        if eval_dataset is not None:
            eval_features = self.tokenize(
                model, *pairs_and_labels(eval_dataset, self.text_columns, label_column)
            )
        kwargs.setdefault("compute_metrics", self._compute_metrics)
        kwargs.setdefault("processing_class", model.tokenizer)
        super().__init__(
            model=model,
            args=args,
            data_collator=model.pad,
            train_dataset=train_features,
            eval_dataset=eval_features,
            **kwargs,
        )
        # The loss is a per-micro-batch weighted mean: let Trainer divide it by the accumulation steps.
        self.loss_is_scaled_for_ga = False

    @staticmethod
    def tokenize(model: PartitionClassifier, pairs: list[tuple[str, str]], labels: list[int]) -> _Features:
        """Pre-tokenized training rows (``clf.encode_pairs`` without padding) with class-index labels."""
        encoded = model.encode_pairs(pairs, padding=False, return_tensors=None)
        rows = []
        for index, target in enumerate(class_indices(labels, model.config.equivalent_label)):
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
        equivalent = self.model.config.equivalent_label
        probs = torch.from_numpy(np.asarray(logits, dtype=np.float32)).softmax(-1)[:, equivalent].numpy()
        return probs, (np.asarray(prediction.label_ids) == equivalent).astype(int)

    def _compute_metrics(self, prediction: EvalPrediction) -> dict[str, float]:
        probs, labels = self._probabilities(prediction)
        return pair_metrics(probs, labels, self.model.config.threshold)

    def train(self, *args: Any, **kwargs: Any):
        """``Trainer.train``, then the threshold choice on the eval split (when ``select_threshold``)."""
        output = super().train(*args, **kwargs)
        if getattr(self.args, "select_threshold", False) and self.eval_dataset is not None:
            self.select_threshold()
        return output

    def select_threshold(self, eval_dataset=None) -> dict[str, float]:
        """Sets ``config.threshold`` to maximize balanced accuracy on the eval split; records its metrics.

        Args:
            eval_dataset: Pairs to choose on (default: the trainer's eval split).

        Returns:
            The dev metrics at the chosen threshold (also stored in ``model.config.metrics``).
        """
        features = self.eval_dataset
        if eval_dataset is not None:
            features = self.tokenize(
                self.model, *pairs_and_labels(eval_dataset, self.text_columns, self.label_column)
            )
        if features is None:
            raise ValueError("select_threshold needs an eval_dataset (dev pairs).")
        prediction = self.predict(features, metric_key_prefix="threshold")
        probs, labels = self._probabilities(EvalPrediction(prediction.predictions, prediction.label_ids))
        if labels.all() or not labels.any():
            warnings.warn(
                "The eval split holds a single class, so no threshold can be chosen on it; keeping "
                f"threshold={self.model.config.threshold}. Use a larger or stratified dev split (split_pairs).",
                stacklevel=2,
            )
            return {}
        threshold = choose_threshold(probs, labels)
        self.model.config.threshold = threshold
        metrics = {key: round(value, 4) for key, value in pair_metrics(probs, labels, threshold).items()}
        metrics["dev_pairs"] = len(labels)
        self.model.config.metrics = {**(self.model.config.metrics or {}), **metrics}
        self.log(
            {f"dev_{key}": float(value) for key, value in metrics.items() if key != "dev_pairs"}
            | {"threshold": threshold}
        )
        return metrics
