"""The two NoveltyBench v1.1 judges, through any OpenAI-compatible chat endpoint.

- :class:`SetLevelPartitioner`: one call a prompt shows every distinct response (exact duplicates
  are merged first) and reads back ``{"groups": [[...], ...]}``.
- :class:`HeadScorer`: one call a class head reads back ``{"score": 1..10}``.

Both send their requests through :class:`~darling.serving.ServerPool` (spread over the servers,
bounded, retried on connection errors and 5xx answers, timed out), the machinery of
:class:`~darling.serving.ServedLLMJudge`; ``api_key`` adds a bearer token for a provider's API.
An answer that does not parse is asked again (``attempts`` in all); a judge that declines
(``finish_reason == "content_filter"`` or a ``refusal``) leaves the prompt ``unscored``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from darling.evaluation.novelty_prompts import JudgePrompts
from darling.evaluation.novelty_v11 import (
    METRIC_VERSION,
    InvalidJudgeAnswer,
    answer_json,
    canonical,
    exact_classes,
    fold_groups,
    heads,
    parse_groups,
    shuffled_order,
    unscored_fields,
    utility_fields,
)


def _groups_schema(n: int) -> dict[str, Any]:
    """The JSON schema of a partition of ``n`` shown responses.

    Bounded (indices 0..n-1, at most ``n`` groups of at most ``n``): with an unbounded schema a weak
    model held to it by structured outputs can list integers until ``max_tokens`` (seen with a real
    vLLM server), which is never a partition.
    """
    index = {"type": "integer", "minimum": 0, "maximum": n - 1}
    group = {"type": "array", "items": index, "minItems": 1, "maxItems": n}
    return {
        "type": "object",
        "properties": {"groups": {"type": "array", "items": group, "minItems": 1, "maxItems": n}},
        "required": ["groups"],
        "additionalProperties": False,
    }


_SCORE_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 10}},
    "required": ["score"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ChatAnswer:
    """One chat completion: its text, why it stopped, and whether the model declined."""

    content: str
    finish_reason: str | None
    refused: bool


def _keyed_pool(urls: Sequence[str] | str, api_key: str | None, **options: Any) -> Any:
    """A :class:`~darling.serving.ServerPool` whose requests carry ``Authorization: Bearer <key>``."""
    from darling.serving.pool import ServerPool  # on first use: darling.evaluation imports quickly

    class KeyedPool(ServerPool):
        def _session_options(self) -> dict[str, Any]:
            session = super()._session_options()
            if api_key:
                session["headers"] = {"Authorization": f"Bearer {api_key}"}
            return session

    return KeyedPool(urls, **options)


class ChatEndpoint:
    """A judge model behind OpenAI-compatible ``/v1/chat/completions`` servers.

    Args:
        urls: Server base URLs (``http://node1:8000``; a provider's ``https://api.example.com``).
        model: The model name requests carry.
        api_key: Bearer token for a provider's API (``None`` for a local vLLM/SGLang server).
        max_tokens: Most tokens an answer may take (reasoning judges need room to think).
        temperature: Sampling temperature; ``None`` leaves the server's default, as upstream does.
        structured: Ask for JSON that follows the answer's schema (``response_format`` json_schema,
            which vLLM, SGLang and OpenAI honour); the answer is parsed either way.
        max_in_flight: Most requests open at once.
        timeout: Seconds a request may take.
        retries: Retries of a request that failed to arrive (connection error, 5xx), each on the next server.
    """

    def __init__(
        self,
        urls: Sequence[str] | str,
        model: str,
        *,
        api_key: str | None = None,
        max_tokens: int = 8192,
        temperature: float | None = None,
        structured: bool = True,
        max_in_flight: int = 16,
        timeout: float = 600.0,
        retries: int = 3,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError(f"A judge needs a model name, got {model!r}.")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"`max_tokens` must be a positive int, got {max_tokens!r}.")
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.structured = structured
        self.pool = _keyed_pool(
            urls, api_key, max_in_flight=max_in_flight, timeout=timeout, retries=retries,
            not_found_hint="Point the judge at an OpenAI-compatible chat server (vllm serve MODEL, or a provider's API).",
        )  # fmt: skip

    def payload(self, system: str, user: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """The request body of one judge call."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": self.max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            }
        return body

    def complete(self, payloads: Sequence[dict[str, Any]]) -> list[ChatAnswer]:
        """The answer to each payload, in input order."""
        from darling.serving.llm_judge import CHAT_PATH

        return self.pool.post(CHAT_PATH, list(payloads), self._parse)

    def _parse(self, answer: Any, url: str, payload: dict[str, Any]) -> ChatAnswer:
        from darling.serving.llm_judge import CHAT_PATH
        from darling.serving.pool import ServedJudgeError

        try:
            choice = answer["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise ServedJudgeError(
                f"{url}{CHAT_PATH} answered without choices[0].message ({str(answer)[:200]}); is it an "
                "OpenAI-compatible chat server?"
            ) from None
        reason = choice.get("finish_reason")
        refused = reason == "content_filter" or bool(message.get("refusal"))
        return ChatAnswer(message.get("content") or "", reason, refused)

    def __repr__(self) -> str:
        return f"ChatEndpoint({self.model!r}, urls={self.pool.urls})"


def render_responses(prompt: str, responses: Sequence[str]) -> str:
    """The partition judge's user message: the prompt, then each response tagged with its index."""
    parts = [f"<prompt>\n{prompt}\n</prompt>"]
    parts += [f'<response index="{i}">\n{text}\n</response>' for i, text in enumerate(responses)]
    return "\n\n".join(parts)


def render_response(prompt: str, response: str) -> str:
    """The utility judge's user message: the prompt and one response."""
    return f"<prompt>\n{prompt}\n</prompt>\n\n<response>\n{response}\n</response>"


def _check_attempts(attempts: int) -> int:
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"`attempts` must be a positive int, got {attempts!r}.")
    return attempts


class SetLevelPartitioner:
    """Partitions each prompt's responses with one set-level judge call (metric v1.1).

    Args:
        judge: The partition judge's endpoint.
        prompts: The judge prompts (:func:`~darling.evaluation.load_judge_prompts`).
        seed: Shuffle the order responses are shown in (upstream's ``--seed``, for stability checks).
        attempts: Calls a prompt gets for an answer that is a partition.
        lenient: After ``attempts`` invalid answers, fold the last one as upstream's last resort does
            (a response left out stands alone); by default the prompt is left unscored with the error.
    """

    def __init__(
        self,
        judge: ChatEndpoint,
        prompts: JudgePrompts,
        *,
        seed: int | None = None,
        attempts: int = 3,
        lenient: bool = False,
    ) -> None:
        self.judge = judge
        self.prompts = prompts
        self.seed = seed
        self.attempts = _check_attempts(attempts)
        self.lenient = lenient

    def config(self) -> dict[str, Any]:
        """What shapes a partition (part of each row's cache key), in upstream's fields."""
        config = {
            "stage": "partition",
            "version": METRIC_VERSION,
            "alg": "llm",
            "judge_model": self.judge.model,
            "seed": self.seed,
        }
        if self.lenient:  # only when on, so default keys stay upstream's; turning it on re-judges
            config["lenient"] = True
        return config

    def partition(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The partition fields of each row (``partition``, ``distinct``; ``unscored`` when it failed).

        Args:
            rows: Records with ``prompt`` and ``generations``.
        """
        out: list[dict[str, Any] | None] = [None] * len(rows)
        plans = {}
        for index, row in enumerate(rows):
            generations = row["generations"]
            unique, label_of = exact_classes(generations)
            if len(unique) <= 1:  # nothing left for the judge to tell apart
                out[index] = {"partition": [0] * len(generations), "distinct": min(1, len(generations))}
                continue
            order = shuffled_order(row["prompt"], len(unique), self.seed)
            shown = [generations[unique[position]] for position in order]
            body = self.judge.payload(
                self.prompts.partition_system,
                render_responses(row["prompt"], shown),
                "partition",
                _groups_schema(len(shown)),
            )
            plans[index] = (unique, label_of, order, body)
        errors: dict[int, str] = {}
        last: dict[int, list[list[int]]] = {}
        pending = list(plans)
        for _ in range(self.attempts):
            if not pending:
                break
            answers = self.judge.complete([plans[i][3] for i in pending])
            retry = []
            for index, answer in zip(pending, answers):
                unique, label_of, order, _ = plans[index]
                if answer.refused:
                    out[index] = {"partition": None, "distinct": None, "unscored": "judge_refusal"}
                    continue
                try:
                    groups = parse_groups(answer.content)
                    last[index] = groups
                    labels = fold_groups(groups, len(unique), order)
                except InvalidJudgeAnswer as err:
                    errors[index] = f"{err} (finish_reason={answer.finish_reason})"
                    retry.append(index)
                    continue
                out[index] = _expand(labels, label_of)
            pending = retry
        for index in pending:
            unique, label_of, order, _ = plans[index]
            if self.lenient and index in last:
                out[index] = _expand(fold_groups(last[index], len(unique), order, lenient=True), label_of)
            else:
                out[index] = {
                    "partition": None,
                    "distinct": None,
                    "unscored": "invalid_partition",
                    "judge_error": f"{self.attempts} answers, none a partition; last: {errors[index]}",
                }
        return out  # type: ignore[return-value]


def _expand(labels: list[int], label_of: list[int]) -> dict[str, Any]:
    partition = canonical([labels[u] for u in label_of])
    return {"partition": partition, "distinct": len(set(partition))}


class HeadScorer:
    """Scores the first response of each class 1-10 with an LLM judge (metric v1.1 utility).

    Args:
        judge: The utility judge's endpoint.
        prompts: The judge prompts (:func:`~darling.evaluation.load_judge_prompts`).
        patience: Weight decay per position of the utility (upstream: 0.8).
        fallback: A second judge asked for the heads the first declines (upstream: another
            provider's model); a head both decline leaves the prompt unscored.
        attempts: Calls a head gets for an answer with a score in 1-10.
    """

    def __init__(
        self,
        judge: ChatEndpoint,
        prompts: JudgePrompts,
        *,
        patience: float = 0.8,
        fallback: ChatEndpoint | None = None,
        attempts: int = 3,
    ) -> None:
        from darling.evaluation.novelty_v11 import check_patience

        self.judge = judge
        self.prompts = prompts
        self.patience = check_patience(patience)
        self.fallback = fallback
        self.attempts = _check_attempts(attempts)

    def config(self) -> dict[str, Any]:
        """What shapes a score (part of each row's cache key), in upstream's fields."""
        return {
            "stage": "score",
            "version": METRIC_VERSION,
            "scorer": "llm",
            "judge_model": self.judge.model,
            "patience": self.patience,
        }

    def score(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The score fields of each partitioned row (``generation_scores``, ``partition_scores``, ``utility``...)."""
        calls: list[tuple[int, int]] = []  # (row, response position) of each class head
        for index, row in enumerate(rows):
            if row.get("partition") is not None and not row.get("unscored"):
                calls += [(index, i) for i in heads(row["partition"])]
        bodies = [
            self.judge.payload(
                self.prompts.score_system,
                render_response(rows[r]["prompt"], rows[r]["generations"][i]),
                "score",
                _SCORE_SCHEMA,
            )
            for r, i in calls
        ]
        results = self._judge_all(self.judge, bodies)
        declined = [k for k, result in enumerate(results) if result == "judge_refusal"]
        if declined and self.fallback is not None:
            again = self._judge_all(
                self.fallback, [{**bodies[k], "model": self.fallback.model} for k in declined]
            )
            for k, result in zip(declined, again):
                results[k] = result
        scores: dict[int, dict[int, Any]] = {}
        for (r, i), result in zip(calls, results):
            scores.setdefault(r, {})[i] = result
        out = []
        for index, row in enumerate(rows):
            n = len(row["generations"])
            if row.get("partition") is None or row.get("unscored"):
                out.append(unscored_fields(n, row.get("partition"), row.get("unscored") or "no_partition"))
                continue
            found = scores.get(index, {})
            problem = next((v for v in found.values() if isinstance(v, str)), None)
            if problem is not None:
                fields = unscored_fields(n, row["partition"], problem.split(":", 1)[0])
                if ":" in problem:
                    fields["judge_error"] = problem.split(":", 1)[1].strip()
                out.append(fields)
                continue
            per_response = [found.get(i) for i in range(n)]
            out.append(utility_fields(per_response, row["partition"], self.patience))
        return out

    def _judge_all(self, judge: ChatEndpoint, bodies: list[dict[str, Any]]) -> list[Any]:
        """Each body's score, or ``"judge_refusal"`` / ``"invalid_score: why"``."""
        results: list[Any] = [None] * len(bodies)
        errors: dict[int, str] = {}
        pending = list(range(len(bodies)))
        for _ in range(self.attempts):
            if not pending:
                break
            answers = judge.complete([bodies[k] for k in pending])
            retry = []
            for k, answer in zip(pending, answers):
                if answer.refused:
                    results[k] = "judge_refusal"
                    continue
                try:
                    results[k] = _parse_score(answer.content)
                except InvalidJudgeAnswer as err:
                    errors[k] = f"{err} (finish_reason={answer.finish_reason})"
                    retry.append(k)
            pending = retry
        for k in pending:
            results[k] = f"invalid_score: {self.attempts} answers without a 1-10 score; last: {errors[k]}"
        return results


def _parse_score(content: str) -> int:
    value = answer_json(content)
    score = value.get("score") if isinstance(value, dict) else None
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 10:
        raise InvalidJudgeAnswer(f'expected {{"score": 1..10}}, got {str(value)[:200]}')
    return score
