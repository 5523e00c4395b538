"""Judges named by a short string, as the command line takes them (``--judge lexical``)."""

from __future__ import annotations

from darling.evaluation.novelty import PROTOCOL_MAX_TOKENS_PER_TEXT, check_protocol
from darling.partitioning import EmbeddingJudge, ExactMatchJudge, Judge, LexicalJudge

JUDGE_SPECS: tuple[str, ...] = (
    "classifier:PATH_OR_HUB_ID",
    "served:PATH_OR_HUB_ID@URL[,URL...][;model=NAME][;engine=vllm|sglang]",
    "llm:MODEL@URL[,URL...][;task=open|math]",
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
    - ``served:PATH_OR_HUB_ID@URL[,URL...]``: a :class:`~darling.serving.ServedClassifierJudge`: that
      classifier served by vLLM/SGLang at the URLs; options after ``;``: ``model=NAME`` (the served
      model name), ``engine=sglang``.
    - ``llm:MODEL@URL[,URL...]``: a :class:`~darling.serving.ServedLLMJudge` asking the instruct model
      MODEL on OpenAI-compatible servers; option ``;task=math`` for solution strategies.
    - ``embedding:MODEL``: an :class:`~darling.partitioning.EmbeddingJudge` with a sentence-transformers
      model name or path, or a folder saved by ``EmbeddingJudge.save_pretrained`` (its fitted
      threshold; 0.8 for a plain model) unless a threshold is given.
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
    if max_tokens_per_text is not None and kind not in ("classifier", "served"):
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
        return EmbeddingJudge.from_pretrained(arg, **({} if threshold is None else {"threshold": threshold}))
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
    if kind in ("served", "llm"):
        return _served_judge(kind, arg, spec, threshold, max_tokens_per_text, protocol)
    raise ValueError(f"Unknown judge {spec!r}; use one of: {', '.join(JUDGE_SPECS)}.")


def _served_judge(kind: str, arg: str, spec: str, threshold, max_tokens_per_text, protocol) -> Judge:
    """``served:CKPT@URLS;k=v`` / ``llm:MODEL@URLS;k=v`` -> the served judge."""
    from darling.serving import ServedClassifierJudge, ServedLLMJudge

    target, _, rest = arg.partition("@")
    urls, *options = rest.split(";")
    if not target or not urls.strip():
        example = (
            "served:my/classifier@http://node1:8000,http://node1:8001"
            if kind == "served"
            else ("llm:Qwen/Qwen2.5-7B-Instruct@http://node1:9000")
        )
        raise ValueError(f"Judge {kind!r} needs a model and server URLs, e.g. {example}; got {spec!r}.")
    settings = {}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq or key.strip() not in (("model", "engine") if kind == "served" else ("task",)):
            allowed = "model=NAME, engine=vllm|sglang" if kind == "served" else "task=open|math"
            raise ValueError(f"Unknown option {option!r} in judge {spec!r}; {kind!r} takes {allowed}.")
        settings[key.strip()] = value.strip()
    if kind == "llm":
        if threshold is not None:
            raise ValueError("Judge 'llm' gives verdicts, not scores: drop --threshold.")
        return ServedLLMJudge(urls, target, **settings)
    if max_tokens_per_text is None and protocol is not None:
        max_tokens_per_text = PROTOCOL_MAX_TOKENS_PER_TEXT[protocol]
    return ServedClassifierJudge(
        target, urls, threshold=threshold, max_tokens_per_text=max_tokens_per_text, **settings
    )
