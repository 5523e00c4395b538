"""Surface-text pair features for the bi-encoder head: word, name and character overlap, and format.

Human "are these two generations the same?" labels depend a lot on shared names, phrases and wording,
which a mean-pooled sentence embedding of the first few hundred tokens blurs. These features are read
off the whole raw text (no truncation) in plain Python and fed, standardized, to a linear term of the
bi-encoder head next to the embedding cosine:

- ``word_jaccard``: Jaccard overlap of the lower-cased word sets.
- ``word_bigram_jaccard``: Jaccard overlap of the word-bigram sets.
- ``capitalized_jaccard``: Jaccard overlap of capitalized words (names, titles, places).
- ``word_tfidf``: cosine of sublinear TF-IDF word vectors.
- ``char_tfidf``: cosine of sublinear TF-IDF vectors of character 3-5-grams within words.
- ``length_ratio``: shorter / longer word count.
- ``bold_jaccard``: Jaccard overlap of the lower-cased ``**bold**`` phrases (the key points or
  titles of a Markdown answer; 1 when neither text has any).

Format features say what kind of text the pair is, not how alike the two are (1 when both texts have
the trait, else 0): ``both_digits``, ``both_bold``, ``both_lists`` (a line starting with ``-``, ``*``,
``•`` or ``1.``/``1)``) and ``both_headings`` (a line starting with ``#``). Human labellers judge a
pair of Markdown lists differently from a pair of stories with the same overlap, and these let the
head shift its decision by kind (measured in ``docs/benchmarks/classifier-quality.md``).

The TF-IDF document frequencies are fitted on the training texts and stored, hashed into
``buckets`` slots, as buffers of :class:`TextFeatures`, so they are saved and loaded with the model.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from darling.partitioning._lru import keep_recent

SIMILARITY_FEATURES: tuple[str, ...] = (
    "word_jaccard",
    "word_bigram_jaccard",
    "capitalized_jaccard",
    "word_tfidf",
    "char_tfidf",
    "length_ratio",
    "bold_jaccard",
)
"""Similarity features: each is 1 for two identical texts."""

FORMAT_FEATURES: tuple[str, ...] = ("both_digits", "both_bold", "both_lists", "both_headings")
"""Format features: 1 when both texts have the trait (digits, bold, list lines, headings), else 0."""

TEXT_FEATURES: tuple[str, ...] = SIMILARITY_FEATURES + FORMAT_FEATURES
"""Names accepted in ``PartitionClassifierConfig.text_features`` (``--text_features all`` takes them all)."""

_WORD = re.compile(r"\w+")
_CAPITALIZED = re.compile(r"\b[A-Z][a-z]+\b")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_HEADING_LINE = re.compile(r"^#+\s", re.MULTILINE)
_DIGIT = re.compile(r"\d")
_CHAR_SIZES = (3, 4, 5)
_CACHE_SIZE = 8192


@dataclass(frozen=True)
class TextStats:
    """What the pair features need from one text, computed once per text."""

    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    capitalized: frozenset[str]
    n_words: int
    word_counts: dict[int, int]
    char_counts: dict[int, int]
    bold: frozenset[str]
    traits: tuple[bool, bool, bool, bool]
    """Has digits, bold, list lines, headings (the order of :data:`FORMAT_FEATURES`)."""


# Statistics of recently seen texts, shared by every featurizer in the process (they depend only on
# the text and the number of buckets).
_CACHE: OrderedDict[tuple[str, int], TextStats] = OrderedDict()


def clear_cache() -> None:
    """Forgets the per-text statistics cached in this process (e.g. before timing a fresh run)."""
    _CACHE.clear()


def _bucket(token: str, buckets: int) -> int:
    # crc32 is stable across processes (Python's str hash is salted), so saved IDF tables stay valid.
    return zlib.crc32(token.encode("utf-8")) % buckets


def analyze(text: str, buckets: int) -> TextStats:
    """Word, bigram, capitalized-word, bold-phrase and hashed word / character n-gram counts of ``text``."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    grams: Counter[str] = Counter()
    for word in lowered.split():
        padded = f" {word} "
        for size in _CHAR_SIZES:
            grams.update(padded[i : i + size] for i in range(len(padded) - size + 1))
    bold = _BOLD.findall(text)
    char_counts: Counter[int] = Counter()
    for gram, count in grams.items():  # hash each distinct n-gram once
        char_counts[_bucket(gram, buckets)] += count
    return TextStats(
        words=frozenset(words),
        bigrams=frozenset(itertools.pairwise(words)),
        capitalized=frozenset(_CAPITALIZED.findall(text)),
        n_words=len(words),
        word_counts=dict(Counter(_bucket(word, buckets) for word in words)),
        char_counts=dict(char_counts),
        bold=frozenset(" ".join(phrase.lower().split()) for phrase in bold),
        traits=(
            _DIGIT.search(text) is not None,
            bool(bold),
            _LIST_LINE.search(text) is not None,
            _HEADING_LINE.search(text) is not None,
        ),
    )


def _jaccard(a: frozenset, b: frozenset) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _tfidf(counts: dict[int, int], idf: np.ndarray) -> dict[int, float]:
    if not counts:
        return {}
    keys = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    weights = (1.0 + np.log(tf)) * idf[keys]
    norm = float(np.sqrt((weights * weights).sum()))
    return dict(zip(keys.tolist(), (weights / norm).tolist())) if norm else {}


def _cosine(a: dict[int, float], b: dict[int, float]) -> float:
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(key, 0.0) for key, w in a.items())


class TextFeatures(nn.Module):
    """Computes the configured surface pair features, standardized with the training statistics.

    Holds, as persistent buffers: the hashed document frequencies of words and character n-grams, the
    number of training documents, and the mean and standard deviation of each feature over the training
    pairs. :meth:`fit` sets them; until then :attr:`fitted` is ``False``.

    Args:
        names: Feature names, a subset of :data:`TEXT_FEATURES`, in the head's order.
        buckets: Hash slots for the document-frequency tables.
    """

    def __init__(self, names: Sequence[str], buckets: int) -> None:
        super().__init__()
        self.names = tuple(names)
        self.buckets = int(buckets)
        # Integer counts: casting the model to a low-precision float dtype leaves them exact.
        self.register_buffer("word_df", torch.zeros(self.buckets, dtype=torch.int32))
        self.register_buffer("char_df", torch.zeros(self.buckets, dtype=torch.int32))
        self.register_buffer("n_docs", torch.zeros((), dtype=torch.int32))
        self.register_buffer("mean", torch.zeros(len(self.names)))
        self.register_buffer("std", torch.ones(len(self.names)))
        self._idf: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` has set the document frequencies and feature statistics."""
        return bool(int(self.n_docs) > 0)

    def analyze(self, texts: Sequence[str]) -> dict[str, TextStats]:
        """Per-text statistics of the distinct ``texts`` (the last few thousand are cached, per process)."""
        out = {}
        for text in dict.fromkeys(texts):
            key = (text, self.buckets)
            if key not in _CACHE:
                _CACHE[key] = analyze(text, self.buckets)
            out[text] = _CACHE[key]
        keep_recent(_CACHE, ((text, self.buckets) for text in out), _CACHE_SIZE)
        return out

    def _idf_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        # Smoothed IDF, log((1 + N) / (1 + df)) + 1; fit() and loading a state dict drop the cached copy.
        if self._idf is None:
            docs = float(int(self.n_docs))
            self._idf = tuple(
                np.log((1.0 + docs) / (1.0 + df.cpu().numpy().astype(np.float64))) + 1.0
                for df in (self.word_df, self.char_df)
            )
        return self._idf

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        self._idf = None
        super()._load_from_state_dict(*args, **kwargs)

    def raw(
        self, pairs: Sequence[tuple[str, str]], stats: dict[str, TextStats] | None = None
    ) -> torch.Tensor:
        """Unstandardized features of each pair, shape ``(len(pairs), len(names))``."""
        stats = stats if stats is not None else self.analyze([t for pair in pairs for t in pair])
        word_idf, char_idf = self._idf_arrays()
        vectors: dict[tuple[str, str], dict[int, float]] = {}

        def vector(text: str, kind: str) -> dict[int, float]:
            key = (text, kind)
            if key not in vectors:
                counts = stats[text].word_counts if kind == "word" else stats[text].char_counts
                vectors[key] = _tfidf(counts, word_idf if kind == "word" else char_idf)
            return vectors[key]

        rows = []
        for a, b in pairs:
            sa, sb = stats[a], stats[b]
            row = []
            for name in self.names:
                if name == "word_jaccard":
                    row.append(_jaccard(sa.words, sb.words))
                elif name == "word_bigram_jaccard":
                    row.append(_jaccard(sa.bigrams, sb.bigrams))
                elif name == "capitalized_jaccard":
                    row.append(_jaccard(sa.capitalized, sb.capitalized))
                elif name == "word_tfidf":
                    row.append(_cosine(vector(a, "word"), vector(b, "word")))
                elif name == "char_tfidf":
                    row.append(_cosine(vector(a, "char"), vector(b, "char")))
                elif name == "length_ratio":
                    longer = max(sa.n_words, sb.n_words)
                    row.append(min(sa.n_words, sb.n_words) / longer if longer else 1.0)
                elif name == "bold_jaccard":
                    row.append(_jaccard(sa.bold, sb.bold))
                else:  # a format feature: both texts have the trait
                    trait = FORMAT_FEATURES.index(name)
                    row.append(float(sa.traits[trait] and sb.traits[trait]))
            rows.append(row)
        return torch.tensor(rows, dtype=torch.float32).reshape(len(pairs), len(self.names))

    def forward(self, pairs: Sequence[tuple[str, str]]) -> torch.Tensor:
        """Standardized features of each pair (what the head takes), shape ``(len(pairs), len(names))``.

        Raises:
            RuntimeError: If the statistics were never fitted.
        """
        if not self.fitted:
            raise RuntimeError(
                "The text features of this classifier are not fitted; call clf.fit_text_features(train_pairs) "
                "(PartitionClassifierTrainer and train_bi_encoder_head do it for you)."
            )
        features = self.raw(pairs)
        return (features - self.mean.cpu()) / self.std.cpu()

    @torch.no_grad()
    def fit(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Fits document frequencies on the distinct texts of ``pairs``, then the feature statistics.

        Args:
            pairs: The training pairs.

        Raises:
            ValueError: If ``pairs`` is empty.
        """
        if not pairs:
            raise ValueError("fit_text_features needs at least one training pair.")
        stats = self.analyze([t for pair in pairs for t in pair])
        word_df = torch.zeros(self.buckets, dtype=torch.int32)
        char_df = torch.zeros(self.buckets, dtype=torch.int32)
        for item in stats.values():
            word_df[list(item.word_counts)] += 1
            char_df[list(item.char_counts)] += 1
        self.word_df.copy_(word_df)
        self.char_df.copy_(char_df)
        self.n_docs.fill_(len(stats))
        self._idf = None
        features = self.raw(pairs, stats)
        self.mean.copy_(features.mean(0))
        std = features.std(0, unbiased=False) if len(pairs) > 1 else torch.ones(len(self.names))
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))
