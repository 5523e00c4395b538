"""Cheap diversity measures of a group of generations (higher means more diverse, except self-BLEU).

- :func:`distinct_n`: unique n-grams / all n-grams over the group (Li et al. 2016; Distinct-4 is n=4).
- :func:`self_bleu`: mean BLEU of each text against the others as references (Zhu et al. 2018,
  Texygen); lower means more diverse.
- :func:`embedding_diversity`: mean pairwise cosine distance of sentence embeddings.
- :func:`darling_diversity`: mean DARLING diversity of a partitioned group.

Texts are split into tokens with ``tokenizer`` (default: lower-cased whitespace split), so the
numbers depend on that choice; use the same one when comparing models.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from darling.partitioning import diversity_scores
from darling.partitioning._validation import check_texts

Tokenizer = Callable[[str], Sequence[str]]


def whitespace_tokenize(text: str) -> list[str]:
    """Lower-cased whitespace tokens: the default tokenizer of the lexical measures."""
    return text.lower().split()


def _ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def distinct_n(texts: Sequence[str], n: int = 4, tokenizer: Tokenizer | None = None) -> float:
    """Share of the group's n-grams that are unique (Distinct-n).

    Args:
        texts: The group's generations.
        n: n-gram order (Distinct-4: ``n=4``).
        tokenizer: ``str -> list[str]``; lower-cased whitespace split by default.

    Returns:
        ``|unique n-grams| / |n-grams|`` over all texts, in [0, 1]; 0.0 when no text has n tokens.

    Example:
        >>> distinct_n(["a b a b", "a b c"], n=2)  # ab ba ab | ab bc -> 3 unique of 5
        0.6
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"distinct_n needs an int n >= 1, got n={n!r}.")
    tokenize = tokenizer or whitespace_tokenize
    counts: Counter = Counter()
    for text in check_texts(texts):
        counts.update(_ngram_counts(tokenize(text), n))
    total = sum(counts.values())
    return len(counts) / total if total else 0.0


def self_bleu(
    texts: Sequence[str],
    max_order: int = 4,
    tokenizer: Tokenizer | None = None,
    epsilon: float = 0.1,
) -> float:
    """Mean BLEU of each text against all the other texts of the group as references.

    BLEU here is sentence BLEU with uniform weights over orders 1..``max_order``, clipped n-gram
    precisions (each n-gram's count is clipped to its largest count in any one reference) and the
    brevity penalty ``exp(1 - r/c)`` with ``r`` the reference length closest to the hypothesis
    length ``c`` (the shorter on a tie). Smoothing: a precision with no matching n-gram counts
    ``epsilon`` matches instead of 0 (NLTK's ``SmoothingFunction().method1``, which Texygen's
    self-BLEU uses); a hypothesis with no matching unigram scores 0.

    Args:
        texts: The group's generations (at least two).
        max_order: Highest n-gram order (BLEU-4: 4).
        tokenizer: ``str -> list[str]``; lower-cased whitespace split by default.
        epsilon: Smoothing count of a precision with no match.

    Returns:
        Mean self-BLEU in [0, 1]; lower means a more diverse group.

    Raises:
        ValueError: With fewer than two texts, ``max_order`` not a positive int, or ``epsilon``
            outside (0, 1].

    Example:
        >>> self_bleu(["the cat sat down", "the cat sat down"])
        1.0
    """
    texts = check_texts(texts)
    if len(texts) < 2:
        raise ValueError(f"self-BLEU needs at least two texts to compare, got {len(texts)}.")
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ValueError(f"`max_order` must be an int >= 1, got {max_order!r}.")
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon <= 1:
        raise ValueError(
            f"`epsilon` must be in (0, 1] (the match count an order without any match gets; 0 would make its "
            f"log precision infinite), got {epsilon!r}."
        )
    tokenize = tokenizer or whitespace_tokenize
    tokens = [list(tokenize(t)) for t in texts]
    counts = [[_ngram_counts(tok, n) for n in range(1, max_order + 1)] for tok in tokens]
    # For each n-gram, its two largest counts over texts (and which text holds the largest): the
    # clipping count against "all texts but i" is then the largest unless text i holds it.
    top: list[dict[tuple, tuple[int, int, int]]] = [{} for _ in range(max_order)]
    for index, per_order in enumerate(counts):
        for order, counter in enumerate(per_order):
            table = top[order]
            for gram, count in counter.items():
                best, best_at, second = table.get(gram, (0, -1, 0))
                if count > best:
                    table[gram] = (count, index, best)
                else:
                    table[gram] = (best, best_at, max(second, count))
    lengths = [len(tok) for tok in tokens]
    scores = []
    for index, per_order in enumerate(counts):
        c = lengths[index]
        if c == 0:
            scores.append(0.0)
            continue
        log_precision = 0.0
        for order, counter in enumerate(per_order):
            total = sum(counter.values())
            matched = 0
            for gram, count in counter.items():
                best, best_at, second = top[order][gram]
                matched += min(count, second if best_at == index else best)
            if order == 0 and matched == 0:
                log_precision = -math.inf
                break
            log_precision += math.log((matched or epsilon) / max(total, 1)) / max_order
        if log_precision == -math.inf:
            scores.append(0.0)
            continue
        others = lengths[:index] + lengths[index + 1 :]
        r = min(others, key=lambda length: (abs(length - c), length))
        brevity = 1.0 if c > r else math.exp(1 - r / c)
        scores.append(brevity * math.exp(log_precision))
    return sum(scores) / len(scores)


def embedding_diversity(texts: Sequence[str], model: Any, batch_size: int = 32) -> float:
    """Mean pairwise cosine distance ``1 - cos(e_i, e_j)`` of sentence embeddings, over pairs i < j.

    Args:
        texts: The group's generations (at least two).
        model: A ``sentence_transformers.SentenceTransformer``, a model name/path, or an
            :class:`~darling.partitioning.EmbeddingJudge`.
        batch_size: Encoding batch size.

    Returns:
        Mean cosine distance, in [0, 2] (0 for identical texts).

    Raises:
        ValueError: With fewer than two texts.
    """
    texts = check_texts(texts)
    if len(texts) < 2:
        raise ValueError(f"Embedding diversity needs at least two texts, got {len(texts)}.")
    encoder = load_sentence_encoder(model)
    emb = encoder.encode(
        list(texts),
        batch_size=batch_size,
        convert_to_tensor=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    ).float()
    sims = emb @ emb.T
    n = len(texts)
    off_diagonal = sims.sum() - sims.diagonal().sum()
    return float(1.0 - off_diagonal / (n * (n - 1)))


def load_sentence_encoder(model: Any):
    """A ``SentenceTransformer`` from a model, a name/path, or an ``EmbeddingJudge`` (loaded once per name)."""
    if isinstance(model, str):
        if model not in _ENCODERS:
            from sentence_transformers import SentenceTransformer

            _ENCODERS[model] = SentenceTransformer(model)
        return _ENCODERS[model]
    if hasattr(model, "model") and hasattr(model.model, "encode"):
        return model.model
    if hasattr(model, "encode"):
        return model
    raise TypeError(
        f"Embedding diversity needs a SentenceTransformer, a model name/path or an EmbeddingJudge, got "
        f"{type(model).__name__}."
    )


_ENCODERS: dict[str, Any] = {}


def darling_diversity(labels: Sequence[int], floor: float = 0.0) -> float:
    """Mean DARLING diversity ``(n - |C_i|) / (n - 1)`` of a partitioned group.

    Args:
        labels: Class label of each generation.
        floor: Lower bound of each generation's diversity (DARLING training uses 0.1).

    Returns:
        The mean over the group (1.0 for a group of one, 0.0 for no generations).

    Example:
        >>> darling_diversity([0, 0, 1, 2])  # (2/3 + 2/3 + 1 + 1) / 4
        0.8333333333333333
    """
    scores = diversity_scores(list(labels), floor=floor)
    return sum(scores) / len(scores) if scores else 0.0
