"""Fast training of a bi-encoder's head on a frozen encoder: each text is embedded once.

Fine-tuning a transformer on a few hundred pairs is slow on a CPU and, measured on the NoveltyBench
pairs, did not beat the untrained encoder's cosine similarity. With the encoder frozen, training only
needs one forward pass per distinct text; the head (cosine scale and bias, the opening-cosine
scale, the surface-feature weights and optionally the MLP) is then fitted in seconds with L-BFGS on
the class-weighted cross-entropy. See ``docs/benchmarks/classifier-quality.md`` for what this reaches.

Example:
    ```python
    # doc: no-run
    from darling.partition.classifier import TEXT_FEATURES, PartitionClassifier, train_bi_encoder_head
    from darling.testing import minilm_path

    clf = PartitionClassifier.from_encoder(
        minilm_path(), architecture="bi_encoder", text_features=list(TEXT_FEATURES)
    )
    metrics = train_bi_encoder_head(clf, train_pairs, train_labels, dev_pairs, dev_labels)
    clf.save_pretrained("minilm-partition-classifier")
    ```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from darling.partition._validation import check_pairs
from darling.partition.classifier.modeling import PartitionClassifier
from darling.partition.classifier.pair_metrics import choose_threshold, pair_metrics
from darling.partition.classifier.training import class_indices, class_weights, weighted_cross_entropy

Pair = tuple[str, str]


def _check_labels(labels: Sequence[int], pairs: Sequence[Pair], what: str) -> np.ndarray:
    values = np.asarray(list(labels))
    if len(values) != len(pairs):
        raise ValueError(f"{what}: {len(pairs)} pairs but {len(values)} labels.")
    bad = [i for i, v in enumerate(values.tolist()) if v not in (0, 1)]
    if bad:
        raise ValueError(f"{what}: label {values[bad[0]]!r} at index {bad[0]} is not 0 or 1.")
    return values.astype(int)


def embed_texts(
    clf: PartitionClassifier,
    texts: Sequence[str],
    embeddings: Mapping[str, torch.Tensor] | None = None,
    batch_size: int = 32,
    show_progress: bool = True,
) -> dict[str, torch.Tensor]:
    """Bi-encoder embeddings of the distinct ``texts``, reusing those already in ``embeddings``."""
    known = dict(embeddings or {})
    clf._embed_missing(texts, known, batch_size, show_progress)
    return known


def head_logits(
    clf: PartitionClassifier, pairs: Sequence[Pair], embeddings: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Head logits of ``pairs`` from precomputed embeddings (with gradients through the head only)."""
    return clf._head_logits(pairs, embeddings).float()


def head_probabilities(
    clf: PartitionClassifier, pairs: Sequence[Pair], embeddings: Mapping[str, torch.Tensor]
) -> np.ndarray:
    """P(equivalent) of ``pairs`` from precomputed embeddings; equals ``clf.predict_proba(pairs)``."""
    with torch.no_grad():
        logits = head_logits(clf, pairs, embeddings)
    return logits.softmax(-1)[:, clf.config.equivalent_label].cpu().numpy()


def train_bi_encoder_head(
    clf: PartitionClassifier,
    train_pairs: Sequence[Pair],
    train_labels: Sequence[int],
    dev_pairs: Sequence[Pair] | None = None,
    dev_labels: Sequence[int] | None = None,
    *,
    l2: float = 1e-3,
    max_iter: int = 200,
    train_mlp: bool = False,
    embeddings: Mapping[str, torch.Tensor] | None = None,
    batch_size: int = 32,
    show_progress: bool = True,
    threshold: float | None = None,
) -> dict[str, float]:
    """Fits a bi-encoder classifier's head on labelled pairs with its encoder frozen.

    Steps: fit the text-feature statistics on the training pairs (when the classifier has text
    features); embed every distinct text once; minimize the class-weighted (balanced) cross-entropy
    plus ``l2`` times the squared feature (and MLP) weights with full-batch L-BFGS; choose the
    decision threshold that maximizes balanced accuracy on the dev pairs, or keep 0.5 (the balanced
    decision point) without them or when ``threshold=0.5`` is passed. The dev metrics go into ``clf.config.metrics`` for the model card.

    Args:
        clf: A bi-encoder :class:`PartitionClassifier` (e.g. ``from_encoder(..., architecture="bi_encoder")``).
        train_pairs: ``(a, b)`` training pairs.
        train_labels: 1 = equivalent, 0 = different, per training pair.
        dev_pairs: Optional held-out pairs for the threshold.
        dev_labels: Their labels.
        l2: Weight of the squared-weight penalty on the mean loss.
        max_iter: L-BFGS iterations.
        train_mlp: Also fit the head's MLP over the two embeddings (it overfits a few hundred pairs;
            off by default, so the head is a logistic regression over cosine and text features).
        embeddings: Already computed embeddings by text (skips re-embedding them, e.g. across folds).
        batch_size: Texts per encoder forward pass.
        show_progress: Show a progress bar while embedding.
        threshold: The decision threshold to keep. ``None`` (default) chooses it on the dev pairs
            (0.5 without them); ``0.5`` is where the class-balanced loss puts the decision, which
            beat a threshold chosen on 100 dev pairs in the NoveltyBench benchmark.

    Returns:
        The dev metrics at the threshold (accuracy, balanced accuracy, ROC AUC) plus the threshold, or
        the training metrics when no dev pairs are given.

    Raises:
        ValueError: For a cross-encoder, mismatched or non-0/1 labels, or a training set with one class.
    """
    if clf.config.architecture != "bi_encoder":
        raise ValueError(
            "train_bi_encoder_head trains a bi-encoder's head; for a cross-encoder use PartitionClassifierTrainer."
        )
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in [0, 1] or None, got {threshold!r}.")
    train_pairs = check_pairs(train_pairs)
    y = _check_labels(train_labels, train_pairs, "train")
    if y.min() == y.max():
        raise ValueError("The training pairs hold a single class; the head needs both labels.")
    if (dev_pairs is None) != (dev_labels is None):
        raise ValueError("Pass dev_pairs and dev_labels together.")
    dev_pairs = check_pairs(dev_pairs) if dev_pairs is not None else []
    y_dev = _check_labels(dev_labels, dev_pairs, "dev") if dev_labels is not None else None

    if clf.text_featurizer is not None:
        clf.fit_text_features(train_pairs)
    clf.eval()
    texts = [t for pair in list(train_pairs) + list(dev_pairs) for t in pair]
    embeddings = embed_texts(clf, texts, embeddings, batch_size, show_progress)

    head = clf.head
    params = [head.cos_scale, head.cos_bias]
    if head.opening_scale is not None:
        params.append(head.opening_scale)
    penalized = []
    if head.text_weights is not None:
        penalized.append(head.text_weights.weight)
    if train_mlp:
        penalized += list(head.dense.parameters()) + list(head.out.parameters())
    trainable = {param: param.requires_grad for param in clf.parameters()}
    for param in clf.parameters():
        param.requires_grad_(False)
    for param in params + penalized:
        param.requires_grad_(True)

    classes = class_indices(y.tolist(), clf.config.equivalent_label)
    target = torch.tensor(classes, device=clf.device)
    weights = class_weights(classes)
    optimizer = torch.optim.LBFGS(params + penalized, max_iter=max_iter, line_search_fn="strong_wolfe")

    with torch.no_grad():
        fixed = None
        if clf.text_featurizer is not None:
            fixed = clf.text_featurizer(train_pairs).to(clf.device)
        u = torch.stack([embeddings[a] for a, _ in train_pairs]).to(clf.device, clf.dtype)
        v = torch.stack([embeddings[b] for _, b in train_pairs]).to(clf.device, clf.dtype)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = head(u, v, fixed).float()
        loss = weighted_cross_entropy(logits, target, weights)
        loss = loss + l2 * sum((p.float() ** 2).sum() for p in penalized)
        loss.backward()
        return loss

    try:
        optimizer.step(closure)
    finally:
        for param, flag in trainable.items():
            param.requires_grad_(flag)

    if y_dev is not None and len(dev_pairs) and 0 < y_dev.sum() < len(y_dev):
        probs = head_probabilities(clf, dev_pairs, embeddings)
        if threshold is None:
            threshold = choose_threshold(probs, y_dev)
        metrics = pair_metrics(probs, y_dev, threshold)
        metrics["dev_pairs"] = len(dev_pairs)
    else:
        threshold = 0.5 if threshold is None else threshold
        metrics = pair_metrics(head_probabilities(clf, train_pairs, embeddings), y, threshold)
        metrics["train_pairs"] = len(train_pairs)
    clf.config.threshold = threshold
    metrics = {
        key: value if isinstance(value, int) else round(float(value), 4) for key, value in metrics.items()
    }
    clf.config.metrics = {**(clf.config.metrics or {}), **metrics}
    return {**metrics, "threshold": threshold}
