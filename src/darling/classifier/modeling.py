"""PartitionClassifier: "are these two texts equivalent?" as a plain sequence-classification checkpoint.

A thin wrapper, the way sentence-transformers' ``CrossEncoder`` wraps a model: it holds an ordinary
two-label ``AutoModelForSequenceClassification`` (``clf.model``), its tokenizer (``clf.tokenizer``)
and darling's own :class:`~darling.classifier.settings.ClassifierSettings` (pair layout, threshold,
tokens per text, equivalent label), which travel in the model config as the ``darling`` sub-dict.
What :meth:`PartitionClassifier.save_pretrained` writes therefore loads with plain transformers
and can be served by engines that load plain checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import BatchEncoding, PreTrainedModel

from darling.classifier._staging import staged_save
from darling.classifier.judge import ClassifierJudge
from darling.classifier.layout import PairLayout, pad_batch
from darling.classifier.loading import checkpoint_parts, encoder_parts, max_tokens_limit
from darling.classifier.settings import CONFIG_KEY, ClassifierSettings, default_settings
from darling.partitioning._validation import check_pairs

Pair = tuple[str, str]


class PartitionClassifier:
    """Pairwise equivalence classifier: P(equivalent) for pairs of texts, and partitions of groups.

    Load a released or darling-trained checkpoint with :meth:`from_pretrained`, or start a new one from
    any encoder with :meth:`from_encoder`.

    Args:
        model: A two-label ``*ForSequenceClassification`` model.
        tokenizer: Its tokenizer.
        settings: darling's settings; by default the model config's ``darling`` sub-dict, else the
            defaults of the model's family.

    Raises:
        ValueError: If the model is not a two-label sequence classifier, or ``max_tokens_per_text``
            does not fit its positions, or the pair layout does not fit the tokenizer.

    Example:
        >>> from darling.tiny_models import tiny_sequence_classifier
        >>> model, tokenizer = tiny_sequence_classifier("bert")
        >>> clf = PartitionClassifier(model, tokenizer, ClassifierSettings(threshold=0.5))
        >>> len(clf.predict_proba([("a cat sat", "the cat sat"), ("hello", "goodbye")]))
        2
    """

    def __init__(
        self, model: PreTrainedModel, tokenizer: Any, settings: ClassifierSettings | None = None
    ) -> None:
        if getattr(model.config, "num_labels", None) != 2:
            raise ValueError(
                f"A partition classifier is a two-label sequence classifier (label 1 = equivalent); "
                f"{type(model).__name__} has num_labels={getattr(model.config, 'num_labels', None)}."
            )
        if settings is None:
            saved = getattr(model.config, CONFIG_KEY, None)
            settings = (
                ClassifierSettings.from_dict(saved)
                if saved is not None
                else default_settings(model.config.model_type)
            )
        self.model = model
        self.tokenizer = tokenizer
        if model.config.pad_token_id is None and self.pad_token_id is not None:
            # Last-token pooling (Qwen-style classifiers) needs the pad id to find each row's end.
            model.config.pad_token_id = self.pad_token_id
        self._layout: PairLayout | None = None
        self.settings = settings

    # ----------------------------------------------------------------------------------------------
    # Settings

    @property
    def settings(self) -> ClassifierSettings:
        """darling's settings (assign a new :class:`ClassifierSettings` to change them)."""
        return self._settings

    @settings.setter
    def settings(self, settings: ClassifierSettings) -> None:
        if not isinstance(settings, ClassifierSettings):
            raise TypeError(f"settings must be a ClassifierSettings, got {type(settings).__name__}.")
        limit = max_tokens_limit(self.model)
        if limit is not None and settings.max_tokens_per_text > limit:
            raise ValueError(
                f"max_tokens_per_text={settings.max_tokens_per_text} does not fit the model's positions; use "
                f"max_tokens_per_text <= {limit}."
            )
        self._layout = PairLayout(self.tokenizer, settings.template, settings.max_tokens_per_text)
        self._settings = settings
        # The saved form lives in the model config, so plain transformers carries it along.
        setattr(self.model.config, CONFIG_KEY, settings.to_dict())

    @property
    def threshold(self) -> float:
        """A pair is equivalent when P(equivalent) > ``threshold``."""
        return self._settings.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.settings = self._settings.replace(threshold=value)

    @property
    def _no_cache(self) -> dict[str, bool]:
        # Decoder classifiers (Qwen3) would build a key/value cache on every scoring call: gigabytes at 4B.
        return {"use_cache": False} if getattr(self.model.config, "use_cache", None) is not None else {}

    @property
    def layout(self) -> PairLayout:
        """The :class:`PairLayout` that turns pairs into token ids."""
        return self._layout

    @property
    def pad_token_id(self) -> int:
        """Id used to pad inputs: the tokenizer's pad token, else the model's, else its eos, else 0."""
        for candidate in (
            getattr(self.tokenizer, "pad_token_id", None),
            getattr(self.model.config, "pad_token_id", None),
            getattr(self.tokenizer, "eos_token_id", None),
        ):
            if isinstance(candidate, int):
                return candidate
        return 0

    @property
    def name_or_path(self) -> str:
        """Where the model was loaded from (``""`` for one built in memory)."""
        return str(getattr(self.model.config, "_name_or_path", "") or "")

    @property
    def device(self) -> torch.device:
        """The model's device."""
        return self.model.device

    def to(self, *args: Any, **kwargs: Any) -> PartitionClassifier:
        """Moves the model (``torch.nn.Module.to`` arguments) and returns the classifier."""
        self.model.to(*args, **kwargs)
        return self

    # ----------------------------------------------------------------------------------------------
    # Inputs and predictions

    def encode_pairs(
        self, pairs: Sequence[Pair], padding: bool = True, return_tensors: str | None = "pt"
    ) -> BatchEncoding:
        """Tokenizes pairs exactly as :meth:`predict_proba` does (for training loops and servers).

        Keys: ``input_ids``, ``attention_mask`` and, for models that take them, ``token_type_ids``.

        Args:
            pairs: ``(a, b)`` text pairs.
            padding: Right-pad to the longest pair (needed for tensors); with ``False``, one list per
                pair (collate later with :meth:`collate`).
            return_tensors: ``"pt"`` or ``None``.

        Returns:
            A ``BatchEncoding``.
        """
        pairs = check_pairs(pairs)
        if not pairs:
            raise ValueError("encode_pairs needs at least one pair.")
        rows = self._rows(pairs)
        if padding:
            return pad_batch(rows, self.pad_token_id, return_tensors)
        if return_tensors is not None:
            raise ValueError(
                "encode_pairs(padding=False) returns lists; use return_tensors=None or padding=True."
            )
        return BatchEncoding({key: [row[key] for row in rows] for key in rows[0]})

    def collate(self, features: Sequence[dict[str, Any]]) -> BatchEncoding:
        """Pads unpadded pairs (from ``encode_pairs(..., padding=False)``) into a batch; ``labels`` are kept."""
        features = list(features)
        model_keys = ("input_ids", "attention_mask", "token_type_ids")
        batch = pad_batch([{k: f[k] for k in model_keys if k in f} for f in features], self.pad_token_id)
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([f["labels"] for f in features])
        return batch

    def _rows(self, pairs: list[Pair]) -> list[dict[str, list[int]]]:
        takes_types = getattr(self.model.config, "type_vocab_size", 0) > 1
        rows = []
        for input_ids, type_ids in self.layout.encode(pairs):
            row = {"input_ids": input_ids, "attention_mask": [1] * len(input_ids)}
            if takes_types:
                row["token_type_ids"] = type_ids
            rows.append(row)
        return rows

    def _batches(
        self, rows: list[dict], batch_size: int, show_progress: bool
    ) -> Iterator[tuple[list[int], BatchEncoding]]:
        # Longest first, so each batch pads to similar lengths; callers restore input order.
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i]["input_ids"]))
        for start in tqdm(range(0, len(order), batch_size), desc="pairs", disable=not show_progress):
            index = order[start : start + batch_size]
            yield index, pad_batch([rows[i] for i in index], self.pad_token_id).to(self.device)

    @torch.no_grad()
    def predict_proba(
        self, pairs: Sequence[Pair], batch_size: int = 32, show_progress: bool = False
    ) -> list[float]:
        """P(equivalent) of each ``(a, b)`` pair, in input order.

        Batched, without gradients, on the model's device; pairs are sorted by length to cut padding.
        Texts longer than ``max_tokens_per_text`` tokens are truncated; empty texts are fine.

        Args:
            pairs: ``(a, b)`` pairs of strings.
            batch_size: Pairs per forward pass.
            show_progress: Show a progress bar.

        Returns:
            One probability per pair (``[]`` for no pairs): the softmax of the logits at
            ``equivalent_label``.

        Raises:
            TypeError: If an item is not a string (the message names its index).
            ValueError: If a pair is not two texts, or ``batch_size`` < 1.
        """
        pairs = check_pairs(pairs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        if not pairs:
            return []
        rows = self._rows(pairs)
        logits = torch.empty(len(rows), 2)
        was_training = self.model.training
        self.model.eval()
        try:
            for index, batch in self._batches(rows, batch_size, show_progress):
                logits[index] = self.model(**batch, **self._no_cache).logits.float().cpu()
        finally:
            self.model.train(was_training)
        return logits.softmax(-1)[:, self._settings.equivalent_label].tolist()

    def as_judge(
        self, threshold: float | None = None, batch_size: int = 32, show_progress: bool = False
    ) -> ClassifierJudge:
        """This classifier as a judge for :func:`darling.partition` (its own threshold by default)."""
        return ClassifierJudge(self, threshold=threshold, batch_size=batch_size, show_progress=show_progress)

    def partition(
        self, texts: Sequence[str], mode: str = "all_pairs", short_text_rule: str | None = None
    ) -> list[int]:
        """Class labels of ``texts`` (numbered in order of first occurrence) under this classifier.

        Args:
            texts: One group of texts.
            mode: ``"all_pairs"`` (union-find over pairs, DARLING training) or ``"greedy"`` (NoveltyBench).
            short_text_rule: ``"overlap"`` (default), ``"exact"`` or ``"off"``.
        """
        from darling.partitioning.algorithms import partition

        return partition(texts, self.as_judge(), mode=mode, short_text_rule=short_text_rule)

    def __repr__(self) -> str:
        name = self.name_or_path or self.model.config.model_type
        return f"PartitionClassifier({name!r}, threshold={self.threshold}, pair_layout={self._settings.pair_layout!r})"

    # ----------------------------------------------------------------------------------------------
    # Loading and saving

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        tokenizer: Any = None,
        pair_layout: str | None = None,
        pair_template: str | None = None,
        threshold: float | None = None,
        max_tokens_per_text: int | None = None,
        **model_kwargs: Any,
    ) -> PartitionClassifier:
        """Loads a two-label sequence-classification checkpoint as a partition classifier.

        Any such checkpoint works (ModernBERT, DeBERTa-v2/v3, Qwen3, BERT-style): darling-trained ones
        carry their settings in ``config.darling``; the released ones get their published settings
        (``RELEASED_CLASSIFIERS``) and others their family's defaults (``FAMILY_DEFAULTS``).
        Checkpoints saved by darling 0.1 are converted.

        Args:
            name_or_path: Hub id or local directory.
            tokenizer: A tokenizer, or where to load it from (default: the checkpoint itself).
            pair_layout: Overrides the pair layout (``"cls_sep"``, ``"chatml"``, ``"tokenizer"``, ``"template"``).
            pair_template: Template for ``pair_layout="template"`` (implies it).
            threshold: Overrides the decision threshold.
            max_tokens_per_text: Overrides the per-text truncation length.
            **model_kwargs: Passed to ``AutoModelForSequenceClassification.from_pretrained`` (``dtype``,
                ``device_map``, ``revision``, ...).

        Returns:
            A :class:`PartitionClassifier` in eval mode.

        Raises:
            ValueError: If the checkpoint is not a two-label sequence classifier, its weights do not fit,
                or the layout does not fit its tokenizer.
        """
        overrides = dict(
            pair_layout=pair_layout,
            pair_template=pair_template,
            threshold=threshold,
            max_tokens_per_text=max_tokens_per_text,
        )
        return cls(*checkpoint_parts(name_or_path, tokenizer, overrides, model_kwargs))

    @classmethod
    def from_encoder(
        cls,
        encoder_name_or_path: str | os.PathLike,
        *,
        tokenizer: Any = None,
        model_kwargs: dict[str, Any] | None = None,
        **settings: Any,
    ) -> PartitionClassifier:
        """Starts a new (untrained) classifier: any encoder checkpoint with a fresh two-label head.

        Args:
            encoder_name_or_path: Hub id or path, e.g. ``"answerdotai/ModernBERT-base"``.
            tokenizer: A tokenizer or where to load it from (default: the encoder checkpoint).
            model_kwargs: Passed to ``AutoModelForSequenceClassification.from_pretrained`` (``dtype``, ...).
            **settings: :class:`ClassifierSettings` fields (``threshold``, ``pair_layout``,
                ``max_tokens_per_text``, ``training_data``, ...); the encoder family's defaults otherwise.

        Returns:
            A :class:`PartitionClassifier` with a random head, ready to train.
        """
        return cls(*encoder_parts(encoder_name_or_path, tokenizer, dict(model_kwargs or {}), settings))

    def save_pretrained(
        self, save_directory: str | os.PathLike, *, model_id: str | None = None, **kwargs: Any
    ) -> None:
        """Saves a plain transformers checkpoint: config (with ``darling`` settings), safetensors weights,
        the tokenizer and a generated model card (README.md).

        Everything is written to a staging folder beside ``save_directory`` first and moved in at the
        end, so an error or an interruption leaves an earlier checkpoint there whole.

        Args:
            save_directory: Target directory.
            model_id: Hub id shown in the card's usage snippet (default: ``save_directory``).
            **kwargs: Passed to ``PreTrainedModel.save_pretrained`` (e.g. ``max_shard_size``).
        """
        from darling.classifier.card import write_model_card

        with staged_save(save_directory) as staging:
            self.model.save_pretrained(staging, **kwargs)
            self.tokenizer.save_pretrained(staging)
            write_model_card(self, staging, model_id=model_id or str(save_directory))

    def push_to_hub(
        self,
        repo_id: str,
        *,
        commit_message: str = "Upload DARLING partition classifier",
        private: bool | None = None,
        token: str | bool | None = None,
        revision: str | None = None,
        create_pr: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Uploads weights, config, tokenizer and the model card to the Hub in one commit.

        Args:
            repo_id: Target repository (created if missing).
            commit_message: Commit message.
            private: Create the repository private.
            token: Hub token (default: the stored login).
            revision: Branch to push to.
            create_pr: Open a pull request instead of committing.
            **kwargs: Passed to :meth:`save_pretrained` (e.g. ``max_shard_size``).

        Returns:
            The ``huggingface_hub`` commit info.
        """
        from darling.partitioning._hub import push_saved_folder

        return push_saved_folder(
            lambda folder, repo: self.save_pretrained(folder, model_id=repo, **kwargs),
            repo_id,
            commit_message=commit_message,
            private=private,
            token=token,
            revision=revision,
            create_pr=create_pr,
        )
