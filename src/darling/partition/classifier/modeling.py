"""PartitionClassifier: a pairwise "are these two texts equivalent?" model on the Hugging Face Hub.

A cross-encoder wraps any two-label ``AutoModelForSequenceClassification`` (the layout of every
released checkpoint); a bi-encoder wraps an ``AutoModel`` encoder with a small symmetric head over
the two text embeddings. Both give P(equivalent) through :meth:`PartitionClassifier.predict_proba`.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    BatchEncoding,
    PreTrainedModel,
)
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from darling.partition._validation import check_pairs, check_texts
from darling.partition.classifier._staging import staged_save
from darling.partition.classifier.configuration import PartitionClassifierConfig
from darling.partition.classifier.heads import BiEncoderHead
from darling.partition.classifier.judge import ClassifierJudge
from darling.partition.classifier.layout import PairLayout, pad_batch
from darling.partition.classifier.loading import (
    HUB_KWARGS,
    check_tokenizer,
    encoder_parts,
    load_tokenizer,
    max_tokens_limit,
    position_limit,
    sequence_classifier_parts,
)
from darling.partition.classifier.text_features import TextFeatures

Pair = tuple[str, str]


class PartitionClassifier(PreTrainedModel):
    """Pairwise equivalence classifier: P(equivalent) for pairs of texts, and partitions of groups.

    Load a darling checkpoint or a released two-label checkpoint with :meth:`from_pretrained`, or start
    a new one from any encoder with :meth:`from_encoder`. The tokenizer lives on the model
    (``clf.tokenizer``) and is saved and loaded with it.

    Args:
        config: The classifier configuration.
        backbone: An already-built backbone (used when wrapping a loaded checkpoint); built from
            ``config.encoder`` with random weights when ``None``.
        tokenizer: The backbone's tokenizer.

    Example:
        >>> from darling.testing import tiny_sequence_classifier
        >>> backbone, tokenizer = tiny_sequence_classifier("bert")
        >>> config = PartitionClassifierConfig(encoder=backbone.config, threshold=0.5)
        >>> clf = PartitionClassifier(config, backbone=backbone, tokenizer=tokenizer)
        >>> len(clf.predict_proba([("a cat sat", "the cat sat"), ("hello", "goodbye")]))
        2
    """

    config_class = PartitionClassifierConfig
    base_model_prefix = "partition_classifier"
    main_input_name = "input_ids"
    _supports_sdpa = True
    supports_gradient_checkpointing = True
    # forward returns a mean loss: let Trainer scale it for gradient accumulation itself.
    accepts_loss_kwargs = False

    def __init__(
        self,
        config: PartitionClassifierConfig,
        backbone: PreTrainedModel | None = None,
        tokenizer: Any = None,
    ) -> None:
        super().__init__(config)
        if backbone is None:
            factory = (
                AutoModelForSequenceClassification if config.architecture == "cross_encoder" else AutoModel
            )
            backbone = factory.from_config(config.encoder)
        if config.architecture == "cross_encoder" and backbone.config.num_labels != 2:
            raise ValueError(
                f"A cross-encoder partition classifier needs a 2-label backbone, got num_labels="
                f"{backbone.config.num_labels}."
            )
        if backbone.config._attn_implementation is None:
            # Wrapping a backbone's config in ours resets its attention choice: restore the default.
            backbone.set_attn_implementation(self.config._attn_implementation)
        self.backbone = backbone
        self.config.encoder = backbone.config  # one config object: edits to either are saved
        self.text_featurizer = None
        if config.architecture == "bi_encoder":
            hidden = backbone.config.hidden_size
            names = config.text_features or []
            self.head = BiEncoderHead(
                hidden,
                config.head_hidden_size or hidden,
                config.equivalent_label,
                len(names),
                opening=config.opening_tokens is not None,
            )
            if names:
                self.text_featurizer = TextFeatures(names, config.text_feature_buckets)
        self._tokens_limit = max_tokens_limit(backbone, config.architecture)
        self._check_length()
        if config.use_token_type_ids is not None:
            self._pass_token_type_ids = bool(config.use_token_type_ids)
        else:
            self._pass_token_type_ids = "token_type_ids" in inspect.signature(backbone.forward).parameters
        self._layout: PairLayout | None = None
        self.tokenizer = tokenizer
        self.post_init()

    # ----------------------------------------------------------------------------------------------
    # Tokenizer and inputs

    @property
    def tokenizer(self) -> Any:
        """The tokenizer the classifier encodes texts with (saved and loaded with the model)."""
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._layout = None
        if tokenizer is not None:
            pad = self.pad_token_id
            if self.backbone.config.pad_token_id is None and pad is not None:
                # Last-token pooling (Qwen-style classifiers) needs the pad id to find each row's end.
                self.backbone.config.pad_token_id = pad
            self._layout = self._make_layout()

    def _check_length(self) -> None:
        limit = self._tokens_limit
        if limit is not None and self.config.max_tokens_per_text > limit:
            raise ValueError(
                f"max_tokens_per_text={self.config.max_tokens_per_text} does not fit the encoder's "
                f"{position_limit(self.backbone)} positions; use max_tokens_per_text <= {limit}."
            )

    def _make_layout(self) -> PairLayout:
        template = self.config.layout_template if self.config.architecture == "cross_encoder" else "{a}{b}"
        return PairLayout(self._tokenizer, template, self.config.max_tokens_per_text)

    @property
    def layout(self) -> PairLayout:
        """The :class:`PairLayout` that builds inputs from texts (rebuilt when the config changes)."""
        if self._tokenizer is None:
            raise ValueError(
                "This PartitionClassifier has no tokenizer; set `clf.tokenizer = AutoTokenizer.from_pretrained(...)`."
            )
        layout = self._layout
        template = self.config.layout_template if self.config.architecture == "cross_encoder" else "{a}{b}"
        if (
            layout is None
            or layout.template != template
            or layout.max_tokens_per_text != self.config.max_tokens_per_text
        ):
            self._check_length()
            self._layout = layout = self._make_layout()
        return layout

    @property
    def pad_token_id(self) -> int:
        """Id used to pad inputs: the tokenizer's pad token, else the backbone's, else its eos, else 0."""
        for candidate in (
            getattr(self._tokenizer, "pad_token_id", None),
            getattr(self.backbone.config, "pad_token_id", None),
            getattr(self._tokenizer, "eos_token_id", None),
        ):
            if isinstance(candidate, int):
                return candidate
        return 0

    def _rows(self, pairs: list[Pair]) -> list[dict[str, list[int]]]:
        layout = self.layout
        unique = list(dict.fromkeys(text for pair in pairs for text in pair))
        if self.config.architecture == "bi_encoder":
            ids = dict(zip(unique, layout.singles(unique)))
            rows = [
                {
                    "input_ids": ids[a],
                    "attention_mask": [1] * len(ids[a]),
                    "input_ids_b": ids[b],
                    "attention_mask_b": [1] * len(ids[b]),
                }
                for a, b in pairs
            ]
            if self.text_featurizer is not None:
                for row, features in zip(rows, self.text_featurizer(pairs).tolist()):
                    row["text_features"] = features
            return rows
        pieces = dict(zip(unique, layout.text_ids(unique)))
        rows = []
        for a, b in pairs:
            input_ids, type_ids = layout.join(pieces[a], pieces[b])
            row = {"input_ids": input_ids, "attention_mask": [1] * len(input_ids)}
            if self._pass_token_type_ids:
                row["token_type_ids"] = type_ids
            rows.append(row)
        return rows

    def encode_pairs(
        self, pairs: Sequence[Pair], padding: bool = True, return_tensors: str | None = "pt"
    ) -> BatchEncoding:
        """Tokenizes pairs exactly as :meth:`predict_proba` does, for training loops.

        Cross-encoder keys: ``input_ids``, ``attention_mask`` and ``token_type_ids`` (when the backbone
        takes them). Bi-encoder keys: ``input_ids``/``attention_mask`` for text a and
        ``input_ids_b``/``attention_mask_b`` for text b. Pass the result to ``clf(**batch, labels=...)``.

        Args:
            pairs: ``(a, b)`` text pairs.
            padding: Right-pad to the longest example (needed for tensors). With ``False``, returns lists
                per example; collate them later with :meth:`pad`.
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

    def pad(
        self, features: Sequence[dict[str, list[int]]], return_tensors: str | None = "pt"
    ) -> BatchEncoding:
        """Collates unpadded examples (from ``encode_pairs(..., padding=False)``) into a padded batch.

        Extra keys such as ``labels`` are kept and stacked.
        """
        features = list(features)
        model_keys = {"input_ids", "attention_mask", "token_type_ids", "input_ids_b", "attention_mask_b"}
        model_keys.add("text_features")
        batch = pad_batch(
            [{k: v for k, v in f.items() if k in model_keys} for f in features],
            self.pad_token_id,
            return_tensors,
        )
        for key in features[0]:
            if key not in model_keys:
                values = [f[key] for f in features]
                batch[key] = torch.tensor(values) if return_tensors == "pt" else values
        return batch

    # ----------------------------------------------------------------------------------------------
    # Model

    def _pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor, mean: bool = False) -> torch.Tensor:
        if self.config.pooling == "cls" and not mean:
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    @property
    def embedding_size(self) -> int:
        """Values in one bi-encoder embedding: the hidden size, twice that with ``opening_tokens``."""
        hidden = self.backbone.config.hidden_size
        return 2 * hidden if self.config.opening_tokens is not None else hidden

    def embed_inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled bi-encoder embeddings of tokenized texts, shape (batch, :attr:`embedding_size`).

        With ``config.opening_tokens`` set, each row is the text's embedding followed by the mean of its
        first ``opening_tokens`` positions (the opening), from the same encoder pass.
        """
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self._pool(hidden, attention_mask)
        if self.config.opening_tokens is None:
            return pooled
        # Cumulative count of real tokens, so the opening is the first k of them whatever the padding side.
        opening = attention_mask.bool() & (attention_mask.cumsum(-1) <= self.config.opening_tokens)
        return torch.cat([pooled, self._pool(hidden, opening, mean=True)], dim=-1)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        input_ids_b: torch.Tensor | None = None,
        attention_mask_b: torch.Tensor | None = None,
        text_features: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput:
        """Logits of (different, equivalent) for a batch from :meth:`encode_pairs`.

        Args:
            input_ids: Pair inputs (cross-encoder) or text-a inputs (bi-encoder).
            attention_mask: Mask of ``input_ids``.
            token_type_ids: Segment ids (cross-encoder backbones that take them).
            labels: Optional class ids (``config.equivalent_label`` means equivalent); adds a
                cross-entropy ``loss``.
            input_ids_b: Bi-encoder only: text-b inputs.
            attention_mask_b: Bi-encoder only: mask of ``input_ids_b``.
            text_features: Bi-encoder with ``config.text_features`` only: standardized pair features
                (from :meth:`encode_pairs`), shape (batch, number of features).
            **kwargs: Passed to a cross-encoder backbone.

        Returns:
            A ``SequenceClassifierOutput`` with ``logits`` of shape (batch, 2) and ``loss`` when labels
            are given.
        """
        if input_ids is None:
            raise ValueError("forward needs input_ids; build a batch with clf.encode_pairs(pairs).")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if self.config.architecture == "cross_encoder":
            if token_type_ids is not None and self._pass_token_type_ids:
                kwargs["token_type_ids"] = token_type_ids
            kwargs.pop("return_dict", None)
            logits = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **kwargs).logits
        else:
            if input_ids_b is None:
                raise ValueError(
                    "A bi-encoder forward needs input_ids_b (text b); use clf.encode_pairs(pairs)."
                )
            if attention_mask_b is None:
                attention_mask_b = torch.ones_like(input_ids_b)
            u = self.embed_inputs(input_ids, attention_mask)
            v = self.embed_inputs(input_ids_b, attention_mask_b)
            logits = self.head(u, v, text_features)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.float(), labels.to(logits.device).long())
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, BiEncoderHead):
            init.normal_(module.dense.weight, mean=0.0, std=0.02)
            init.zeros_(module.dense.bias)
            init.zeros_(module.out.weight)
            init.zeros_(module.out.bias)
            init.constant_(module.cos_scale, 10.0)
            init.constant_(module.cos_bias, -5.0)
            if module.text_weights is not None:
                init.zeros_(module.text_weights.weight)
            if module.opening_scale is not None:
                init.zeros_(module.opening_scale)
        elif isinstance(module, TextFeatures):
            for name in ("word_df", "char_df", "n_docs", "mean"):
                init.zeros_(getattr(module, name))
            init.ones_(module.std)

    # ----------------------------------------------------------------------------------------------
    # Inference

    def _batches(self, rows: list[dict[str, list[int]]], batch_size: int, show_progress: bool, desc: str):
        # Longest first, so each batch pads to similar lengths; callers restore input order.
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i]["input_ids"]))
        for start in tqdm(range(0, len(order), batch_size), desc=desc, disable=not show_progress):
            index = order[start : start + batch_size]
            batch = pad_batch([rows[i] for i in index], self.pad_token_id).to(self.device)
            yield index, batch

    @torch.no_grad()
    def predict_proba(
        self,
        pairs: Sequence[Pair],
        batch_size: int = 32,
        show_progress: bool = False,
        embeddings: MutableMapping[str, torch.Tensor] | None = None,
    ) -> list[float]:
        """P(equivalent) for each ``(a, b)`` pair, in input order.

        Batched, without gradients, on the model's device; pairs are sorted by length to cut padding.
        A bi-encoder encodes each distinct text once. Texts longer than ``max_tokens_per_text`` tokens
        are truncated; empty texts are fine.

        Args:
            pairs: ``(a, b)`` pairs of strings.
            batch_size: Sequences per forward pass.
            show_progress: Show a progress bar.
            embeddings: Bi-encoder only: a text -> embedding mapping to reuse and fill in (texts found
                in it are not encoded again, new ones are added). The classifier's weights must not
                change while a mapping is reused. Ignored by a cross-encoder.

        Returns:
            One probability per pair (``[]`` for no pairs).

        Raises:
            TypeError: If an item is not a string (the message names its index).
            ValueError: If a pair is not two texts, or ``batch_size`` < 1.
        """
        pairs = check_pairs(pairs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        if not pairs:
            return []
        was_training = self.training
        self.eval()
        try:
            if self.config.architecture == "bi_encoder":
                logits = self._bi_encoder_logits(pairs, batch_size, show_progress, embeddings)
            else:
                rows = self._rows(pairs)
                logits = torch.empty(len(rows), 2)
                for index, batch in self._batches(rows, batch_size, show_progress, "pairs"):
                    logits[index] = self(**batch).logits.float().cpu()
        finally:
            self.train(was_training)
        return logits.softmax(-1)[:, self.config.equivalent_label].tolist()

    @torch.no_grad()
    def embed(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> torch.Tensor:
        """Bi-encoder embeddings of ``texts`` (each truncated to ``max_tokens_per_text``), on CPU.

        Shape ``(len(texts), clf.embedding_size)``: with ``config.opening_tokens``, each row holds the
        text's embedding and then its opening's.

        Raises:
            ValueError: For a cross-encoder, which has no per-text embedding.
        """
        if self.config.architecture != "bi_encoder":
            raise ValueError("embed() needs a bi-encoder; a cross-encoder only scores pairs.")
        texts = check_texts(texts)
        ids = self.layout.singles(texts)
        rows = [{"input_ids": row, "attention_mask": [1] * len(row)} for row in ids]
        out = torch.empty(len(rows), self.embedding_size)
        for index, batch in self._batches(rows, batch_size, show_progress, "texts"):
            out[index] = self.embed_inputs(batch["input_ids"], batch["attention_mask"]).float().cpu()
        return out

    def _bi_encoder_logits(
        self,
        pairs: list[Pair],
        batch_size: int,
        show_progress: bool,
        known: MutableMapping[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        known = {} if known is None else known
        self._embed_missing([text for pair in pairs for text in pair], known, batch_size, show_progress)
        return self._head_logits(pairs, known).float().cpu()

    def _embed_missing(
        self,
        texts: Sequence[str],
        known: MutableMapping[str, torch.Tensor],
        batch_size: int,
        show_progress: bool,
    ) -> None:
        """Adds to ``known`` the embeddings of those ``texts`` it lacks (each distinct text encoded once)."""
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            known.update(
                zip(missing, self.embed(missing, batch_size=batch_size, show_progress=show_progress))
            )

    def _head_logits(self, pairs: Sequence[Pair], embeddings: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Bi-encoder head logits of ``pairs`` from embeddings by text (text features computed here)."""
        u = torch.stack([embeddings[a] for a, _ in pairs]).to(self.device, self.dtype)
        v = torch.stack([embeddings[b] for _, b in pairs]).to(self.device, self.dtype)
        features = self.text_featurizer(pairs).to(self.device) if self.text_featurizer is not None else None
        return self.head(u, v, features)

    def fit_text_features(self, pairs: Sequence[Pair]) -> None:
        """Fits the surface-feature statistics (document frequencies, feature mean and spread) on ``pairs``.

        Only for a bi-encoder built with ``text_features``; the trainers call it on their training
        pairs when the statistics are not fitted yet. Labels are not used.

        Raises:
            ValueError: If this classifier has no text features, or ``pairs`` is empty or malformed.
        """
        if self.text_featurizer is None:
            raise ValueError(
                "This classifier has no text features; build it with "
                "PartitionClassifier.from_encoder(..., architecture='bi_encoder', text_features=[...])."
            )
        self.text_featurizer.fit(check_pairs(pairs))

    def as_judge(
        self, threshold: float | None = None, batch_size: int = 32, show_progress: bool = False
    ) -> ClassifierJudge:
        """This classifier as a judge for :func:`darling.partition` (threshold from the config by default)."""
        return ClassifierJudge(self, threshold=threshold, batch_size=batch_size, show_progress=show_progress)

    def partition(
        self, texts: Sequence[str], mode: str = "all_pairs", short_text_rule: str | None = None
    ) -> list[int]:
        """Class labels of ``texts`` (numbered in order of first occurrence) under this classifier.

        Args:
            texts: One group of texts.
            mode: ``"all_pairs"`` (union-find over pairs, DARLING training) or ``"greedy"`` (NoveltyBench).
            short_text_rule: Overrides ``config.short_text_rule`` when given.
        """
        from darling.partition.algorithms import partition

        return partition(texts, self.as_judge(), mode=mode, short_text_rule=short_text_rule)

    # ----------------------------------------------------------------------------------------------
    # Loading and saving

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *model_args: Any,
        tokenizer: Any = None,
        pair_layout: str | None = None,
        pair_template: str | None = None,
        threshold: float | None = None,
        max_tokens_per_text: int | None = None,
        short_text_rule: str | None = None,
        **kwargs: Any,
    ) -> PartitionClassifier:
        """Loads a darling checkpoint or wraps a plain two-label sequence-classification checkpoint.

        A plain checkpoint (ModernBERT, DeBERTa-v2/v3, Qwen3, BERT-style ``*ForSequenceClassification``
        with two labels) gives the same P(equivalent) as ``AutoModelForSequenceClassification`` fed the
        reference layout. Unset settings take the published values for the released checkpoints
        (``RELEASED_CLASSIFIERS``) or per-family defaults (``FAMILY_DEFAULTS``).

        Args:
            pretrained_model_name_or_path: Hub id or local directory.
            *model_args: Passed to ``PreTrainedModel.from_pretrained``.
            tokenizer: A tokenizer, or where to load it from (default: the checkpoint itself).
            pair_layout: Overrides the pair layout (``"cls_sep"``, ``"chatml"``, ``"tokenizer"``, ``"template"``).
            pair_template: Template for ``pair_layout="template"``.
            threshold: Overrides the decision threshold.
            max_tokens_per_text: Overrides the per-text truncation length.
            short_text_rule: Overrides the short-text rule.
            **kwargs: Passed to ``from_pretrained`` of the model (``dtype``, ``device_map``, ``revision``, ...).

        Returns:
            A :class:`PartitionClassifier` in eval mode with its tokenizer.

        Raises:
            ValueError: If the checkpoint is not a two-label sequence classifier, its weights do not fit,
                or the layout does not fit its tokenizer.
        """
        hub_kwargs = {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}
        overrides = {
            key: value
            for key, value in dict(
                pair_layout=pair_layout,
                pair_template=pair_template,
                threshold=threshold,
                max_tokens_per_text=max_tokens_per_text,
                short_text_rule=short_text_rule,
            ).items()
            if value is not None
        }
        if pair_template is not None and pair_layout is None:
            overrides["pair_layout"] = "template"
        config = kwargs.pop("config", None)
        if config is None:
            config = AutoConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs)
        if isinstance(config, PartitionClassifierConfig):
            for key, value in overrides.items():
                setattr(config, key, value)
            config.check()
            model = super().from_pretrained(
                pretrained_model_name_or_path, *model_args, config=config, **kwargs
            )
            loaded = load_tokenizer(tokenizer, hub_kwargs, pretrained_model_name_or_path)
            check_tokenizer(loaded, model.backbone.config, str(pretrained_model_name_or_path))
            model.tokenizer = loaded
        else:
            model = cls._wrap_sequence_classifier(
                pretrained_model_name_or_path, config, tokenizer, overrides, kwargs
            )
        return model.eval()

    @classmethod
    def _wrap_sequence_classifier(
        cls, path: Any, config: Any, tokenizer: Any, overrides: dict[str, Any], kwargs: dict[str, Any]
    ) -> PartitionClassifier:
        backbone, pc_config, tokenizer = sequence_classifier_parts(path, config, tokenizer, overrides, kwargs)
        return cls(pc_config, backbone=backbone, tokenizer=tokenizer)

    @classmethod
    def from_encoder(
        cls,
        encoder_name_or_path: str | os.PathLike,
        architecture: str = "cross_encoder",
        tokenizer: Any = None,
        model_kwargs: dict[str, Any] | None = None,
        **config_kwargs: Any,
    ) -> PartitionClassifier:
        """Starts a new (untrained) classifier from any encoder checkpoint.

        Args:
            encoder_name_or_path: Hub id or path, e.g. ``"answerdotai/ModernBERT-base"`` or
                ``darling.testing.minilm_path()``.
            architecture: ``"cross_encoder"`` (a fresh 2-label head on the encoder) or ``"bi_encoder"``.
            tokenizer: A tokenizer or where to load it from (default: the encoder checkpoint).
            model_kwargs: Passed to the encoder's ``from_pretrained`` (``dtype``, ``revision``, ...).
            **config_kwargs: :class:`PartitionClassifierConfig` fields (``threshold``, ``pair_layout``,
                ``max_tokens_per_text``, ``base_model``, ...).

        Returns:
            A :class:`PartitionClassifier` with random head weights, ready to train.
        """
        backbone, config, tokenizer = encoder_parts(
            encoder_name_or_path, architecture, tokenizer, dict(model_kwargs or {}), config_kwargs
        )
        return cls(config, backbone=backbone, tokenizer=tokenizer)

    def save_pretrained(
        self, save_directory: str | os.PathLike, *args: Any, model_id: str | None = None, **kwargs: Any
    ) -> None:
        """Saves config, safetensors weights, the tokenizer and a generated model card (README.md).

        Everything is written to a staging folder beside ``save_directory`` first and moved in at the
        end, so an error or an interruption during the save leaves an earlier checkpoint there whole.

        Args:
            save_directory: Target directory.
            *args: Passed to ``PreTrainedModel.save_pretrained``.
            model_id: Hub id shown in the card's usage snippet (default: ``save_directory``).
            **kwargs: Passed to ``PreTrainedModel.save_pretrained``.
        """
        from darling.partition.classifier.card import write_model_card

        push = kwargs.pop("push_to_hub", False)
        with staged_save(save_directory) as staging:
            super().save_pretrained(staging, *args, **kwargs)
            if self._tokenizer is not None:
                self._tokenizer.save_pretrained(staging)
            write_model_card(self, staging, model_id=model_id or str(save_directory))
        if push:
            self.push_to_hub(kwargs.get("repo_id") or os.path.basename(os.path.normpath(save_directory)))

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
        from huggingface_hub import HfApi

        api = HfApi()
        repo_id = api.create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as tmp_dir:
            self.save_pretrained(tmp_dir, model_id=repo_id, **kwargs)
            return api.upload_folder(
                repo_id=repo_id,
                folder_path=tmp_dir,
                commit_message=commit_message,
                token=token,
                revision=revision,
                create_pr=create_pr,
            )
