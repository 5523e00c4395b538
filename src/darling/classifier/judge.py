"""ClassifierJudge: a PartitionClassifier seen as a judge for the partition algorithms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from darling.partitioning.judges import ScoreJudge, check_threshold

if TYPE_CHECKING:
    from darling.classifier.modeling import PartitionClassifier


class ClassifierJudge(ScoreJudge):
    """Scores pairs with a :class:`~darling.classifier.PartitionClassifier`.

    A pair is equivalent when P(equivalent) > ``threshold`` (the classifier's own unless given).

    Args:
        classifier: The classifier.
        threshold: Overrides the classifier's threshold.
        batch_size: Pairs per forward pass.
        show_progress: Show a progress bar on long calls.

    Example:
        ```python
        # doc: no-run
        from darling import partition

        judge = clf.as_judge(threshold=0.3)
        partition(["a long answer ...", "another answer ..."], judge)
        ```
    """

    uses_model = True

    def __init__(
        self,
        classifier: PartitionClassifier,
        threshold: float | None = None,
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> None:
        if not hasattr(classifier, "predict_proba"):
            raise TypeError(f"ClassifierJudge needs a PartitionClassifier, got {type(classifier).__name__}.")
        self.classifier = classifier
        self.threshold = check_threshold(classifier.threshold if threshold is None else threshold)
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.name = "partition_classifier"

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(equivalent) of each pair."""
        return self.classifier.predict_proba(
            pairs, batch_size=self.batch_size, show_progress=self.show_progress
        )
