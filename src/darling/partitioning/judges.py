"""Judges: things that say whether two texts are semantically equivalent.

A judge answers for a whole batch of pairs at once, so partition algorithms can send every pair a
round needs in one call. Model-backed judges score pairs and compare the score with a threshold;
cheap judges (exact match, n-gram overlap, any Python callable) answer directly.

Every judge is also callable on a single pair: ``judge("a", "b") -> bool``.
"""

from __future__ import annotations

import numbers
import re
import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from darling.partitioning._validation import check_number, check_pairs
from darling.partitioning.shortcut import check_short_text_rule

Pair = tuple[str, str]


def check_threshold(threshold: float) -> float:
    """Returns ``threshold`` as a float, raising a clear error unless it is a number in [0, 1]."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}.")
    return float(threshold)


class Judge(ABC):
    """Base class of all judges.

    Subclasses implement :meth:`equivalent`. ``short_text_rule`` is the short-text shortcut that
    :func:`darling.partition` applies before asking this judge, unless the caller overrides it;
    ``uses_model`` tells the partition statistics whether a call costs a model forward pass.
    """

    name: str = "judge"
    short_text_rule: str = "overlap"
    uses_model: bool = False

    @abstractmethod
    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        """Returns, for each ``(a, b)`` pair, whether the two texts are equivalent."""

    def __call__(self, a: str, b: str) -> bool:
        return self.equivalent([(a, b)])[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ScoreJudge(Judge):
    """A judge that scores pairs and calls a pair equivalent when its score is above ``threshold``.

    Subclasses implement :meth:`scores` (higher means more alike).
    """

    threshold: float = 0.5

    @abstractmethod
    def scores(self, pairs: Sequence[Pair]) -> list[float]:
        """Returns a similarity score (for classifiers, P(equivalent)) for each pair."""

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        return [score > self.threshold for score in self.scores(pairs)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold})"


def _is_boolean(answer: Any) -> bool:
    """True for a bool, a 0/1 int, or a one-element boolean array or tensor (numpy, torch)."""
    if isinstance(answer, bool) or (isinstance(answer, numbers.Integral) and answer in (0, 1)):
        return True
    dtype = getattr(answer, "dtype", None)
    return dtype is not None and str(dtype) in ("bool", "torch.bool")


class CallableJudge(Judge):
    """Wraps any Python callable ``(a: str, b: str) -> bool`` as a judge.

    Example:
        >>> judge = CallableJudge(lambda a, b: a[:1] == b[:1])
        >>> judge.equivalent([("apple", "avocado"), ("apple", "banana")])
        [True, False]
    """

    def __init__(self, fn: Callable[[str, str], bool], short_text_rule: str = "overlap") -> None:
        if not callable(fn):
            raise TypeError(f"CallableJudge needs a callable (a, b) -> bool, got {type(fn).__name__}.")
        self.fn = fn
        self.short_text_rule = check_short_text_rule(short_text_rule)
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        out = []
        for index, (a, b) in enumerate(check_pairs(pairs)):
            answer = self.fn(a, b)
            if not _is_boolean(answer):
                hint = (
                    "did the function forget `return`?"
                    if answer is None
                    else "for a similarity score, compare it with a threshold (lambda a, b: score(a, b) > 0.5) "
                    "or use a ScoreJudge"
                )
                raise TypeError(
                    f"Judge {self.name!r} returned {answer!r:.80} ({type(answer).__name__}) for pair {index}; a judge "
                    f"returns a bool ({hint})."
                )
            out.append(bool(answer))
        return out

    def __repr__(self) -> str:
        return f"CallableJudge({self.name})"


_PUNCT_TABLE = str.maketrans("", "", string.punctuation)


def normalize_text(text: str) -> str:
    """Lower-cases, drops ASCII punctuation and collapses whitespace.

    Example:
        >>> normalize_text("  Hello,   World! ")
        'hello world'
    """
    return " ".join(text.lower().translate(_PUNCT_TABLE).split())


class ExactMatchJudge(Judge):
    """Equivalent iff the texts are equal, optionally after :func:`normalize_text`.

    Args:
        normalize: Compare normalized texts (case, punctuation and whitespace ignored).
    """

    def __init__(self, normalize: bool = True) -> None:
        self.normalize = normalize
        self.name = "normalized_match" if normalize else "exact_match"
        # The short-text overlap rule would merge texts this judge keeps apart.
        self.short_text_rule = "off"

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        if self.normalize:
            return [normalize_text(a) == normalize_text(b) for a, b in check_pairs(pairs)]
        return [a == b for a, b in check_pairs(pairs)]

    def __repr__(self) -> str:
        return f"ExactMatchJudge(normalize={self.normalize})"


_WORD = re.compile(r"\w+", re.UNICODE)


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """Lower-cased word n-grams of ``text`` (words are ``\\w+`` runs, so any script works)."""
    words = _WORD.findall(text.lower())
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def ngram_f1(a: str, b: str, n: int = 1) -> float:
    """F1 overlap of the multisets of word n-grams of two texts (ROUGE-n F-measure style).

    Two texts with no n-grams at all (empty, or shorter than ``n`` words) score 1.0 when equal
    after lower-casing and 0.0 otherwise.
    """
    grams_a, grams_b = ngrams(a, n), ngrams(b, n)
    if not grams_a or not grams_b:
        return 1.0 if a.strip().lower() == b.strip().lower() else 0.0
    counts: dict[tuple[str, ...], int] = {}
    for gram in grams_a:
        counts[gram] = counts.get(gram, 0) + 1
    overlap = 0
    for gram in grams_b:
        if counts.get(gram, 0) > 0:
            counts[gram] -= 1
            overlap += 1
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(grams_b), overlap / len(grams_a)
    return 2 * precision * recall / (precision + recall)


class LexicalJudge(ScoreJudge):
    """Equivalent when the word n-gram F1 overlap of two texts is above ``threshold``.

    The default (unigrams, 0.458) is the unigram-overlap baseline threshold NoveltyBench tuned on
    its human labels.

    Args:
        n: n-gram order.
        threshold: Overlap above which a pair is equivalent.
    """

    def __init__(self, n: int = 1, threshold: float = 0.458) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"LexicalJudge needs n >= 1, got n={n!r}.")
        self.n = n
        self.threshold = check_threshold(threshold)
        self.name = f"lexical_{n}gram"

    def scores(self, pairs: Sequence[Pair]) -> list[float]:
        return [ngram_f1(a, b, self.n) for a, b in check_pairs(pairs)]

    def __repr__(self) -> str:
        return f"LexicalJudge(n={self.n}, threshold={self.threshold})"


def check_fast_judge(fast: Any) -> ScoreJudge:
    """Returns ``fast`` if it can be a cascade's fast judge (it scores pairs), else raises a clear TypeError."""
    if not isinstance(fast, ScoreJudge):
        raise TypeError(
            "The fast judge of a cascade must score pairs (a ScoreJudge such as EmbeddingJudge or "
            f"LexicalJudge), got {type(fast).__name__}."
        )
    return fast


class CascadeJudge(Judge):
    """An approximate judge: a cheap scorer settles clear-cut pairs, an exact judge the rest.

    Pairs the ``fast`` judge scores at or below ``low`` are different, above ``high`` equivalent;
    only the pairs in between go to ``exact``. With ``low``/``high`` chosen on sample groups this
    trades a small share of changed partitions for fewer expensive model calls:
    :func:`~darling.partitioning.calibration.calibrate_cascade` chooses them for a target agreement.

    Args:
        fast: A :class:`ScoreJudge` (typically an :class:`~darling.partitioning.EmbeddingJudge`).
        exact: The judge whose answers the cascade approximates (typically a classifier).
        low: Fast score at or below which a pair is settled as different.
        high: Fast score above which a pair is settled as equivalent.

    Attributes:
        last_exact_pairs: Pairs the last call sent to ``exact``.
        exact_pairs_total: Pairs sent to ``exact`` over all calls (set it to 0 to restart the count).
        calibration: What :func:`~darling.partitioning.calibration.calibrate_cascade` measured when it
            chose the cut-offs (``None`` for hand-set ones).
    """

    uses_model = True

    def __init__(self, fast: ScoreJudge, exact: Any, low: float, high: float) -> None:
        check_fast_judge(fast)
        for name, value in (("low", low), ("high", high)):
            check_number(value, name)  # a fast-judge score
        if low > high:
            raise ValueError(f"CascadeJudge needs low <= high, got low={low}, high={high}.")
        self.fast = fast
        self.exact = as_judge(exact)
        self.low = low
        self.high = high
        self.short_text_rule = self.exact.short_text_rule
        self.name = f"cascade({fast.name}->{self.exact.name})"
        self.last_exact_pairs = 0
        self.exact_pairs_total = 0
        self.calibration: Any = None

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        pairs = check_pairs(pairs)
        scores = self.fast.scores(pairs)
        answers: list[bool | None] = [
            False if s <= self.low else True if s > self.high else None for s in scores
        ]
        unsure = [i for i, a in enumerate(answers) if a is None]
        self.last_exact_pairs = len(unsure)
        self.exact_pairs_total += len(unsure)
        if unsure:
            for i, answer in zip(unsure, self.exact.equivalent([pairs[i] for i in unsure])):
                answers[i] = answer
        return [bool(a) for a in answers]

    def __repr__(self) -> str:
        return f"CascadeJudge(fast={self.fast!r}, exact={self.exact!r}, low={self.low}, high={self.high})"


def as_judge(obj: Any) -> Judge:
    """Turns anything judge-like into a :class:`Judge`.

    Accepts a :class:`Judge`; any object with an ``as_judge()`` method, such as a
    :class:`~darling.classifier.PartitionClassifier`; a ``SentenceTransformer`` (wrapped
    in an :class:`~darling.partitioning.EmbeddingJudge`); or a plain callable ``(a, b) -> bool``.

    Raises:
        TypeError: For anything else, saying what is accepted.
    """
    if isinstance(obj, Judge):
        return obj
    from darling.partitioning.embedding import EmbeddingJudge

    if callable(getattr(obj, "as_judge", None)):
        return obj.as_judge()
    if type(obj).__name__ == "SentenceTransformer" and hasattr(obj, "encode"):
        return EmbeddingJudge(obj)
    if callable(obj):
        return CallableJudge(obj)
    raise TypeError(
        f"Cannot use {type(obj).__name__} as a judge: pass a darling Judge, a PartitionClassifier, a "
        "SentenceTransformer, or a callable (a: str, b: str) -> bool."
    )
