"""Surface-text pair features (benchmarks only): word, name and character overlap, and format.

Human "are these two generations the same?" labels depend a lot on shared names, phrases and
wording, which a mean-pooled sentence embedding of the first few hundred tokens blurs. These features
are read off the whole raw texts (no truncation):

- ``word_jaccard``: Jaccard overlap of the lower-cased word sets.
- ``word_bigram_jaccard``: Jaccard overlap of the word-bigram sets.
- ``capitalized_jaccard``: Jaccard overlap of capitalized words (names, titles, places).
- ``word_tfidf``: cosine of sublinear TF-IDF word vectors.
- ``char_tfidf``: cosine of sublinear TF-IDF vectors of character 3-5-grams within words.
- ``length_ratio``: shorter / longer word count.
- ``bold_jaccard``: Jaccard overlap of the lower-cased ``**bold**`` phrases (1 when neither has any).

Format features say what kind of text the pair is, not how alike the two are (1 when both texts
have the trait, else 0): ``both_digits``, ``both_bold``, ``both_lists`` (a line starting with ``-``,
``*``, ``•`` or ``1.``/``1)``) and ``both_headings`` (a line starting with ``#``).

They were chosen on the 1,000 NoveltyBench pairs they are cross-validated on, which is why they live
here and not in the package (see docs/benchmarks/classifier-quality.md for the held-out measurement).
The TF-IDF document frequencies are fitted on training texts with scikit-learn (hashed n-gram counts,
``TfidfTransformer`` with ``sublinear_tf``, smoothed IDF, l2 norm).

Example:
    >>> features = TextFeatures(["word_jaccard", "length_ratio"]).fit([("a b", "b c")])
    >>> features.transform([("the cat", "the cat sat")]).round(3).tolist()
    [[0.667, 0.667]]
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
"""All eleven features, in the order the features recipe uses."""

_WORD = re.compile(r"\w+")
_CAPITALIZED = re.compile(r"\b[A-Z][a-z]+\b")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_HEADING_LINE = re.compile(r"^#+\s", re.MULTILINE)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class TextStats:
    """What the overlap and format features need from one text."""

    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    capitalized: frozenset[str]
    n_words: int
    bold: frozenset[str]
    traits: tuple[bool, bool, bool, bool]
    """Has digits, bold, list lines, headings (the order of :data:`FORMAT_FEATURES`)."""


@functools.lru_cache(maxsize=16384)
def text_stats(text: str) -> TextStats:
    """Word, bigram, capitalized-word, bold-phrase and format statistics of ``text`` (cached)."""
    words = _WORD.findall(text.lower())
    bold = _BOLD.findall(text)
    return TextStats(
        words=frozenset(words),
        bigrams=frozenset(itertools.pairwise(words)),
        capitalized=frozenset(_CAPITALIZED.findall(text)),
        n_words=len(words),
        bold=frozenset(" ".join(phrase.lower().split()) for phrase in bold),
        traits=(
            _DIGIT.search(text) is not None,
            bool(bold),
            _LIST_LINE.search(text) is not None,
            _HEADING_LINE.search(text) is not None,
        ),
    )


def jaccard(a: frozenset, b: frozenset) -> float:
    """``|a & b| / |a | b|``, and 1 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


@functools.cache
def _vectorizer(kind: str):
    from sklearn.feature_extraction.text import HashingVectorizer

    # Counts hashed into 2**20 slots: a word never seen in training keeps the highest IDF.
    common = dict(alternate_sign=False, norm=None, lowercase=True)
    if kind == "word":
        return HashingVectorizer(token_pattern=r"\w+", **common)
    return HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)


@functools.lru_cache(maxsize=16384)
def _hashed_counts(text: str, kind: str):
    """One text's hashed word (``kind="word"``) or character n-gram counts, a 1-row sparse matrix (cached)."""
    return _vectorizer(kind).transform([text])


def hashed_counts(texts: Sequence[str], kind: str):
    """The hashed counts of ``texts``, one row each."""
    import scipy.sparse

    return scipy.sparse.vstack([_hashed_counts(text, kind) for text in texts], format="csr")


class TextFeatures:
    """The surface features of text pairs, with TF-IDF document frequencies fitted on training texts.

    Args:
        names: Feature names, a subset of :data:`TEXT_FEATURES`, in column order.

    Raises:
        ValueError: On an unknown or repeated name.
    """

    def __init__(self, names: Sequence[str] = TEXT_FEATURES) -> None:
        unknown = [name for name in names if name not in TEXT_FEATURES]
        if unknown or len(set(names)) != len(names):
            raise ValueError(
                f"TextFeatures takes distinct names among {', '.join(TEXT_FEATURES)}; got {list(names)}."
            )
        self.names = tuple(names)
        self._tfidf: dict = {}

    @property
    def needs_fit(self) -> bool:
        """Whether a TF-IDF feature is asked for (they need document frequencies)."""
        return any(name in ("word_tfidf", "char_tfidf") for name in self.names)

    def fit(self, pairs: Sequence[tuple[str, str]]) -> TextFeatures:
        """Fits the document frequencies on the distinct texts of ``pairs`` (the training pairs)."""
        from sklearn.feature_extraction.text import TfidfTransformer

        texts = list(dict.fromkeys(text for pair in pairs for text in pair))
        if not texts:
            raise ValueError("TextFeatures.fit needs at least one training pair.")
        self._tfidf = {
            kind: TfidfTransformer(sublinear_tf=True).fit(hashed_counts(texts, kind))
            for kind in ("word", "char")
        }
        return self

    def _tfidf_cosines(self, pairs: Sequence[tuple[str, str]], kind: str) -> np.ndarray:
        if not self._tfidf:
            raise RuntimeError("Fit the document frequencies first: TextFeatures(...).fit(train_pairs).")
        texts = list(dict.fromkeys(text for pair in pairs for text in pair))
        row = {text: index for index, text in enumerate(texts)}
        vectors = self._tfidf[kind].transform(hashed_counts(texts, kind)).tocsr()
        a = vectors[[row[a] for a, _ in pairs]]
        b = vectors[[row[b] for _, b in pairs]]
        cosine = np.asarray(a.multiply(b).sum(axis=1)).ravel()
        # Two texts without any token are identical; one empty text shares nothing with the other.
        empty_a, empty_b = np.diff(a.indptr) == 0, np.diff(b.indptr) == 0
        return np.where(empty_a & empty_b, 1.0, cosine)

    def transform(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Raw (unstandardized) features of each pair, shape ``(len(pairs), len(names))``."""
        pairs = list(pairs)
        columns = {}
        for kind in ("word", "char"):
            if f"{kind}_tfidf" in self.names:
                columns[f"{kind}_tfidf"] = self._tfidf_cosines(pairs, kind)
        rows = []
        for a, b in pairs:
            sa, sb = text_stats(a), text_stats(b)
            longer = max(sa.n_words, sb.n_words)
            values = {
                "word_jaccard": jaccard(sa.words, sb.words),
                "word_bigram_jaccard": jaccard(sa.bigrams, sb.bigrams),
                "capitalized_jaccard": jaccard(sa.capitalized, sb.capitalized),
                "length_ratio": min(sa.n_words, sb.n_words) / longer if longer else 1.0,
                "bold_jaccard": jaccard(sa.bold, sb.bold),
            }
            for trait, name in enumerate(FORMAT_FEATURES):
                values[name] = float(sa.traits[trait] and sb.traits[trait])
            rows.append([values.get(name, 0.0) for name in self.names])
        out = np.array(rows, dtype=float).reshape(len(pairs), len(self.names))
        for name, values in columns.items():
            out[:, self.names.index(name)] = values
        return out
