"""ServedClassifierJudge: a partition classifier served by vLLM or SGLang, shared by every training process.

The judge reads the classifier's settings and tokenizer from its checkpoint (no weights), builds
each pair's **token ids** with the classifier's own pair layout, so the served model sees
byte-for-byte what the in-process :class:`~darling.classifier.PartitionClassifier` sees, and posts
them to the engines' ``/classify`` endpoint: ``{"model": ..., "input": [...]}`` answered with
``data[i].probs``. P(equivalent) is ``probs[equivalent_label]`` and a pair is equivalent when it
is above the classifier's threshold.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

from darling.partitioning._validation import check_pairs
from darling.partitioning.judges import Pair, ScoreJudge, check_threshold
from darling.serving.pool import ServedJudgeError, ServerPool

# Engine -> (endpoint path, whether one request may carry many token-id inputs).
ENGINES: dict[str, tuple[str, bool]] = {"vllm": ("/classify", True), "sglang": ("/v1/classify", False)}
NOT_FOUND_HINT = (
    "Start the classifier with an engine that has the classification endpoint: vLLM >= 0.15 for token-id input "
    "(`vllm serve CKPT --runner pooling --convert classify --served-model-name NAME`; /classify), or SGLang >= 0.5.4 "
    "(`python -m sglang.launch_server --model-path CKPT --served-model-name NAME`; /v1/classify, pass "
    "engine='sglang'; not for Qwen2/Qwen3 classifiers, sglang issue #38768)."
)
TOKEN_IDS_HINT = (
    "The server takes only text on its classification endpoint: vLLM 0.9 to 0.14 are text-only on /classify "
    "(token-id input arrived in vLLM 0.15), so upgrade the server to vLLM >= 0.15, or serve with SGLang >= 0.5.4 "
    "(/v1/classify, engine='sglang'). darling sends token ids so the served model sees exactly the in-process "
    "input; it does not fall back to text."
)


def refused_hint(message: str) -> str | None:
    """The fix for a 400 whose message says the input had to be a string (an engine without token-id input)."""
    lowered = message.lower()
    return TOKEN_IDS_HINT if "valid string" in lowered or "string_type" in lowered else None


# SGLang builds these families' score head with a bias that HF checkpoints lack: a random bias stays.
SGLANG_BIASED_HEADS = ("qwen2", "qwen3")
# Families SGLang (up to 0.5.23) has no sequence-classification model for.
SGLANG_UNSERVED = ("modernbert", "bert")


def check_sglang_head(config: Any, name: str) -> None:
    """Raises for a Qwen2/Qwen3 classifier: SGLang serves them with silently wrong probabilities.

    SGLang (up to at least 0.5.23) builds the score head of ``Qwen2ForSequenceClassification`` and
    ``Qwen3ForSequenceClassification`` as a linear layer *with* a bias; the checkpoints have none,
    so the bias keeps its random initial values and every probability is off (sglang issue #38768,
    fix proposed in PR #38777).

    Warns for a ModernBERT or BERT classifier, which SGLang does not serve (a custom server may).

    Raises:
        ValueError: For a Qwen2/Qwen3 checkpoint, naming the issue and the workaround.
    """
    model_type = getattr(config, "model_type", "")
    if model_type in SGLANG_UNSERVED:
        warnings.warn(
            f"{name} is a {model_type} classifier, which SGLang (up to 0.5.23) does not serve; serve it with vLLM "
            "(engine='vllm') unless your server supports it.",
            UserWarning,
            stacklevel=3,
        )
    if model_type in SGLANG_BIASED_HEADS:
        raise ValueError(
            f"{name} is a {model_type} classifier, which SGLang (up to at least 0.5.23) serves with silently "
            "wrong probabilities: it adds a score-head bias the checkpoint does not have and leaves it random "
            "(sglang issue #38768, fix proposed in PR #38777). Serve it with vLLM instead (engine='vllm': `vllm "
            "serve CKPT --runner pooling --convert classify`), or, once your SGLang has the fix, pass "
            "sglang_qwen_fixed=True after checking with `darling check-server URL --classifier CKPT --engine "
            "sglang` that its probabilities equal the in-process ones."
        )


# Architectures no engine serves today (vLLM up to 0.34, SGLang 0.5.x); a custom server may.
UNSERVED_ARCHITECTURES = ("DebertaV2ForSequenceClassification",)


def check_servable(config: Any, name: str) -> None:
    """Raises when a /classify server fed token ids cannot see what the classifier sees in-process.

    Token-id input carries no segment ids, so a classifier that uses token type ids (BERT-style,
    ``type_vocab_size > 1``) would see every token as segment 0. Warns for an architecture that the
    engines do not serve (the judge still works with a server that does, e.g. the stand-in).

    Raises:
        ValueError: For a classifier that uses token type ids.
    """
    if getattr(config, "type_vocab_size", 0) > 1:
        raise ValueError(
            f"{name} uses token type (segment) ids (type_vocab_size={config.type_vocab_size}); the /classify "
            "endpoints take token ids without them, so a served copy would not see what the classifier sees. "
            "Score it in-process (PartitionClassifier / DiversityRewardFunction(classifier=...)), or train a "
            "classifier on an encoder without segment embeddings (ModernBERT, Qwen3) to serve it."
        )
    unserved = [
        arch for arch in getattr(config, "architectures", None) or [] if arch in UNSERVED_ARCHITECTURES
    ]
    if unserved:
        warnings.warn(
            f"{name} is a {unserved[0]}, which vLLM and SGLang do not serve (as of vLLM 0.34 / SGLang 0.5); run "
            "it in-process unless your server supports it.",
            UserWarning,
            stacklevel=3,
        )


class ServedClassifierJudge(ScoreJudge):
    """Scores pairs with a partition classifier served by a pool of vLLM or SGLang servers.

    Args:
        checkpoint: The classifier checkpoint the servers serve (local folder or hub id): its settings
            (pair layout, threshold, tokens per text, equivalent label) and tokenizer are read from it,
            its weights are not loaded.
        urls: Server base URLs, e.g. ``["http://node1:8000", "http://node1:8001"]``.
        model: The servers' ``--served-model-name`` (``None`` leaves it out: the server's only model).
        engine: ``"vllm"`` (``POST /classify``, many pairs a request) or ``"sglang"``
            (``POST /v1/classify``, one pair a request: it takes one token list per request).
        threshold: Overrides the classifier's threshold.
        max_tokens_per_text: Overrides the classifier's per-text token limit.
        pairs_per_request: Pairs batched into one vLLM request.
        tokenizer: Overrides the checkpoint's tokenizer (a tokenizer or where to load it from).
        sglang_qwen_fixed: Serve a Qwen2/Qwen3 classifier with SGLang anyway: only for an SGLang that
            has the fix for its random score-head bias (sglang issue #38768); refused otherwise.
        max_in_flight: Most requests open at once.
        timeout: Seconds a request may take.
        retries: Retries of a failed request, each on the next server, with exponential backoff.
        backoff: Seconds before the first retry.
        **hub_kwargs: ``revision``, ``token``, ... for reading the checkpoint.

    Raises:
        ValueError: For a checkpoint that is not a two-label classifier or that uses token type ids,
            a Qwen2/Qwen3 classifier with ``engine="sglang"`` (SGLang serves them with wrong
            probabilities, sglang issue #38768), an unknown engine, or bad pool settings.

    Example:
        ```python
        # doc: no-run
        judge = ServedClassifierJudge(
            "dogtooth/qwen3-4b-emb-finetuned-step-70-hf",
            urls=[f"http://classifier-node:{8000 + i}" for i in range(8)],
            model="partition-classifier",
        )
        reward = DiversityRewardFunction(judge=judge)
        ```
    """

    uses_model = True

    def __init__(
        self,
        checkpoint: str | os.PathLike,
        urls: Sequence[str] | str,
        *,
        model: str | None = None,
        engine: str = "vllm",
        threshold: float | None = None,
        max_tokens_per_text: int | None = None,
        pairs_per_request: int = 64,
        tokenizer: Any = None,
        sglang_qwen_fixed: bool = False,
        max_in_flight: int = 16,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        **hub_kwargs: Any,
    ) -> None:
        from darling.classifier.layout import PairLayout
        from darling.classifier.loading import weightless_parts

        if engine not in ENGINES:
            raise ValueError(f"Unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
        if (
            isinstance(pairs_per_request, bool)
            or not isinstance(pairs_per_request, int)
            or pairs_per_request < 1
        ):
            raise ValueError(f"`pairs_per_request` must be a positive int, got {pairs_per_request!r}.")
        # The pool settings are checked before the checkpoint is read.
        self.pool = ServerPool(
            urls, max_in_flight=max_in_flight, timeout=timeout, retries=retries, backoff=backoff,
            not_found_hint=NOT_FOUND_HINT, refused_hint=refused_hint,
        )  # fmt: skip
        config, tokenizer, settings = weightless_parts(
            checkpoint,
            tokenizer,
            {"threshold": threshold, "max_tokens_per_text": max_tokens_per_text},
            hub_kwargs,
        )
        check_servable(config, str(checkpoint))
        if engine == "sglang" and not sglang_qwen_fixed:
            check_sglang_head(config, str(checkpoint))
        self.checkpoint = str(checkpoint)
        self.settings = settings
        self.threshold = check_threshold(settings.threshold)
        self.layout = PairLayout(tokenizer, settings.template, settings.max_tokens_per_text)
        self.model = model
        self.engine = engine
        self.path, self.batched = ENGINES[engine]
        self.pairs_per_request = pairs_per_request if self.batched else 1
        self.name = "served_classifier"

    def token_ids(self, pairs: Sequence[Pair]) -> list[list[int]]:
        """The input ids each pair is sent as (exactly what the in-process classifier feeds its model)."""
        return [ids for ids, _ in self.layout.encode(check_pairs(pairs))]

    def payloads(self, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
        """The request bodies for ``pairs``: chunks of ``pairs_per_request`` (vLLM) or one pair each (SGLang).

        Pairs are grouped longest first, so each request pads its inputs to similar lengths (as the
        in-process classifier batches them); :meth:`scores` puts the answers back in input order.
        """
        return self._requests(pairs)[0]

    def _requests(self, pairs: Sequence[Pair]) -> tuple[list[dict[str, Any]], list[int]]:
        ids = self.token_ids(pairs)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # stable: equal lengths keep their order
        ordered = [ids[i] for i in order]
        size = self.pairs_per_request
        bodies = [
            {"input": ordered[i : i + size] if self.batched else ordered[i]}
            for i in range(0, len(ordered), size)
        ]
        if self.model is not None:
            for body in bodies:
                body["model"] = self.model
        return bodies, order

    def _parse(self, answer: Any, url: str, payload: dict[str, Any]) -> list[float]:
        expected = len(payload["input"]) if self.batched else 1
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list):
            detail = (answer.get("message") or answer.get("error")) if isinstance(answer, dict) else answer
            raise ServedJudgeError(
                f"{url}{self.path} answered without a `data` list ({str(detail)[:200]}); it is not serving a "
                "classification model. Start it as a classifier (see ServedClassifierJudge's docs for the flags)."
            )
        if len(data) != expected:
            raise ServedJudgeError(f"{url}{self.path} answered {len(data)} results for {expected} inputs.")
        probabilities = [0.0] * expected
        for position, item in enumerate(data):
            index = item.get("index", position) if isinstance(item, dict) else None
            probs = item.get("probs") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < expected or not isinstance(probs, list):
                raise ServedJudgeError(f"{url}{self.path} answered a malformed result: {str(item)[:200]}.")
            if len(probs) != 2:
                raise ServedJudgeError(
                    f"{url}{self.path} answered {len(probs)} classes; a partition classifier has 2 (label "
                    f"{self.settings.equivalent_label} = equivalent). Serve the two-label checkpoint {self.checkpoint} "
                    "with its own config (num_labels=2)."
                )
            probabilities[index] = _probability(probs, self.settings.equivalent_label)
        return probabilities

    def scores(self, pairs: Sequence[Pair]) -> list[float]:
        """P(equivalent) of each pair, from the servers, in input order."""
        bodies, order = self._requests(pairs) if pairs else ([], [])
        return _in_input_order(order, self.pool.post(self.path, bodies, self._parse))

    async def ascores(self, pairs: Sequence[Pair]) -> list[float]:
        """:meth:`scores` as a coroutine, for callers that run an event loop."""
        bodies, order = self._requests(pairs) if pairs else ([], [])
        return _in_input_order(order, await self.pool.apost(self.path, bodies, self._parse))

    async def aequivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        """:meth:`equivalent` as a coroutine."""
        return [score > self.threshold for score in await self.ascores(pairs)]

    def __repr__(self) -> str:
        return (
            f"ServedClassifierJudge({self.checkpoint!r}, urls={self.pool.urls}, threshold={self.threshold})"
        )


def _in_input_order(order: list[int], answers: list[list[float]]) -> list[float]:
    """The answers of requests made in ``order`` (input positions), back in input order."""
    scores = [0.0] * len(order)
    for index, probability in zip(order, (p for answer in answers for p in answer)):
        scores[index] = probability
    return scores


def _probability(probs: list[float], label: int) -> float:
    """``probs[label]``, softmaxed first when the server returned logits (vLLM 0.9.0 did for BERT-style heads)."""
    values = [float(p) for p in probs]
    if all(0.0 <= v <= 1.0 for v in values) and abs(sum(values) - 1.0) < 1e-3:
        return values[label]
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return exps[label] / sum(exps)
