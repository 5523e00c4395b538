"""ClassifierJudge: a PartitionClassifier seen as a judge for the partition algorithms."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from darling.partition._lru import keep_recent
from darling.partition.judges import ScoreJudge

if TYPE_CHECKING:
    from darling.partition.classifier.modeling import PartitionClassifier


class ClassifierJudge(ScoreJudge):
    """Scores pairs with a :class:`~darling.partition.classifier.PartitionClassifier`.

    A pair is equivalent when P(equivalent) > ``threshold``. Threshold and short-text rule come from
    the classifier's config unless given.

    Args:
        classifier: The classifier.
        threshold: Overrides ``classifier.config.threshold``.
        batch_size: Pairs per forward pass.
        show_progress: Show a progress bar on long calls.
        cache_size: Bi-encoder only: embeddings of this many most recent texts are kept, so the
            rounds of one partition encode each text once; 0 disables the cache. The classifier is
            assumed frozen while the judge is used: call :meth:`clear_cache` after changing its weights.

    Example:
        >>> from darling.partition import partition
        >>> judge = clf.as_judge(threshold=0.3)  # doctest: +SKIP
        >>> partition(["a long answer ...", "another answer ..."], judge)  # doctest: +SKIP
    """

    uses_model = True

    def __init__(
        self,
        classifier: PartitionClassifier,
        threshold: float | None = None,
        batch_size: int = 32,
        show_progress: bool = False,
        cache_size: int = 4096,
    ) -> None:
        if not hasattr(classifier, "predict_proba"):
            raise TypeError(f"ClassifierJudge needs a PartitionClassifier, got {type(classifier).__name__}.")
        threshold = classifier.config.threshold if threshold is None else threshold
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}.")
        self.classifier = classifier
        self.threshold = float(threshold)
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.short_text_rule = classifier.config.short_text_rule
        self.name = "partition_classifier"
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def clear_cache(self) -> None:
        """Forgets the cached bi-encoder embeddings (after the classifier's weights changed)."""
        self._cache.clear()

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(equivalent) of each pair."""
        use_cache = self.cache_size > 0 and self.classifier.config.architecture == "bi_encoder"
        probs = self.classifier.predict_proba(
            pairs,
            batch_size=self.batch_size,
            show_progress=self.show_progress,
            embeddings=self._cache if use_cache else None,
        )
        if use_cache:
            keep_recent(self._cache, dict.fromkeys(t for pair in pairs for t in pair), self.cache_size)
        return probs
