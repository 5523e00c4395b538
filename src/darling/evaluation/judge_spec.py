"""Judges named by a short string, as the command line takes them (``--judge lexical``)."""

from __future__ import annotations

from darling.partition import EmbeddingJudge, ExactMatchJudge, Judge, LexicalJudge

JUDGE_SPECS: tuple[str, ...] = (
    "classifier:PATH_OR_HUB_ID",
    "embedding:MODEL",
    "lexical",
    "exact",
    "normalized",
)


def load_judge(spec: str, threshold: float | None = None) -> Judge:
    """Builds a judge from a spec string.

    Specs:

    - ``classifier:PATH_OR_HUB_ID``: a :class:`~darling.partition.classifier.PartitionClassifier`
      (local directory or hub id; its own threshold unless ``threshold`` is given).
    - ``embedding:MODEL``: an :class:`~darling.partition.EmbeddingJudge` with a sentence-transformers
      model name or path (cosine threshold 0.8 unless given).
    - ``lexical``: a :class:`~darling.partition.LexicalJudge` (unigram F1 above 0.458 unless given).
    - ``exact`` / ``normalized``: an :class:`~darling.partition.ExactMatchJudge`, raw or after
      lower-casing and dropping punctuation.

    Args:
        spec: The spec string.
        threshold: Overrides the judge's threshold (not for ``exact``/``normalized``).

    Returns:
        A :class:`~darling.partition.Judge`.

    Raises:
        ValueError: For an unknown spec or a threshold on a judge without one.

    Example:
        >>> load_judge("lexical", threshold=0.5)
        LexicalJudge(n=1, threshold=0.5)
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"A judge spec must be a non-empty string; use one of: {', '.join(JUDGE_SPECS)}.")
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind in ("exact", "normalized"):
        if arg:
            raise ValueError(f"Judge {kind!r} takes no argument, got {spec!r}.")
        if threshold is not None:
            raise ValueError(f"Judge {kind!r} has no threshold; drop --threshold or pick a scoring judge.")
        return ExactMatchJudge(normalize=kind == "normalized")
    if kind == "lexical":
        n = int(arg) if arg.isdigit() else 1
        if arg and not arg.isdigit():
            raise ValueError(f"Judge 'lexical' takes an optional n-gram order (lexical:2), got {spec!r}.")
        return LexicalJudge(n=n) if threshold is None else LexicalJudge(n=n, threshold=threshold)
    if kind == "embedding":
        if not arg:
            raise ValueError(
                "Judge 'embedding' needs a model: embedding:sentence-transformers/all-MiniLM-L6-v2."
            )
        return EmbeddingJudge(arg) if threshold is None else EmbeddingJudge(arg, threshold=threshold)
    if kind == "classifier":
        if not arg:
            raise ValueError(
                "Judge 'classifier' needs a path or hub id: classifier:dogtooth/similarity-classifier-f168-hf."
            )
        from darling.partition.classifier import PartitionClassifier

        return PartitionClassifier.from_pretrained(arg).as_judge(threshold=threshold)
    raise ValueError(f"Unknown judge {spec!r}; use one of: {', '.join(JUDGE_SPECS)}.")
