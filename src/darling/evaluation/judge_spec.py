"""Judges named by a short string, as the command line takes them (``--judge lexical``)."""

from __future__ import annotations

from darling.evaluation.novelty import PROTOCOL_MAX_TOKENS_PER_TEXT, check_protocol
from darling.partitioning import EmbeddingJudge, ExactMatchJudge, Judge, LexicalJudge

JUDGE_SPECS: tuple[str, ...] = (
    "classifier:PATH_OR_HUB_ID",
    "embedding:MODEL",
    "lexical",
    "exact",
    "normalized",
)


def load_judge(
    spec: str,
    threshold: float | None = None,
    max_tokens_per_text: int | None = None,
    protocol: str | None = None,
) -> Judge:
    """Builds a judge from a spec string.

    Specs:

    - ``classifier:PATH_OR_HUB_ID``: a :class:`~darling.classifier.PartitionClassifier`
      (local directory or hub id; its own threshold and per-text token limit unless given).
    - ``embedding:MODEL``: an :class:`~darling.partitioning.EmbeddingJudge` with a sentence-transformers
      model name or path (cosine threshold 0.8 unless given).
    - ``lexical``: a :class:`~darling.partitioning.LexicalJudge` (unigram F1 above 0.458 unless given).
    - ``exact`` / ``normalized``: an :class:`~darling.partitioning.ExactMatchJudge`, raw or after
      lower-casing and dropping punctuation.

    Args:
        spec: The spec string.
        threshold: Overrides the judge's threshold (not for ``exact``/``normalized``).
        max_tokens_per_text: Tokens of each text a ``classifier:`` judge reads; wins over ``protocol``.
        protocol: A NoveltyBench protocol (``"upstream"``: 128 tokens, ``"darling"``: 512); a
            ``classifier:`` judge reads its token limit unless ``max_tokens_per_text`` is given.
            Other judges read whole texts and ignore it.

    Returns:
        A :class:`~darling.partitioning.Judge`.

    Raises:
        ValueError: For an unknown spec or protocol, a threshold on a judge without one, or a
            token limit on a judge that is not a classifier.

    Example:
        >>> load_judge("lexical", threshold=0.5)
        LexicalJudge(n=1, threshold=0.5)
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"A judge spec must be a non-empty string; use one of: {', '.join(JUDGE_SPECS)}.")
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if protocol is not None:
        check_protocol(protocol)
    if max_tokens_per_text is not None and kind != "classifier":
        raise ValueError(
            f"`max_tokens_per_text` (--max-tokens-per-text) applies to classifier judges only; judge {spec!r} "
            "reads whole texts."
        )
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
        from darling.classifier import PartitionClassifier

        if max_tokens_per_text is None and protocol is not None:
            max_tokens_per_text = PROTOCOL_MAX_TOKENS_PER_TEXT[protocol]
        classifier = PartitionClassifier.from_pretrained(arg, max_tokens_per_text=max_tokens_per_text)
        return classifier.as_judge(threshold=threshold)
    raise ValueError(f"Unknown judge {spec!r}; use one of: {', '.join(JUDGE_SPECS)}.")
