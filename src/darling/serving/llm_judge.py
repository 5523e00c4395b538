"""ServedLLMJudge: an instruct model behind an OpenAI-compatible chat endpoint decides equivalence.

The official code's LM-judge variant and NoveltyBench's GPT-4o judge ask a language model whether
two responses are equivalent. This judge does the same through ``POST /v1/chat/completions`` of a
vLLM or SGLang server (any OpenAI-compatible endpoint), with greedy decoding, on the same pool
machinery as the served classifier (spread over servers, bounded, retried, timed out). The
verdict is the last ``[[EQUIVALENT]]`` or ``[[DIFFERENT]]`` in the answer; an answer without one
is an error, never a silent default. Pairs of short texts are settled by the short-text rule
before any request, as for every judge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from darling.partitioning._validation import check_pairs
from darling.partitioning.judges import Judge, Pair
from darling.serving.pool import ServedJudgeError, ServerPool

CHAT_PATH = "/v1/chat/completions"
_VERDICT = re.compile(r"\[\[\s*(EQUIVALENT|DIFFERENT)\s*\]\]", re.IGNORECASE)

# darling's own wording. Open-ended text: would a reader who saw one response gain anything from the
# other (NoveltyBench's notion of a distinct generation). Math: do they take the same strategy.
PROMPTS: dict[str, str] = {
    "open": (
        "You compare two responses to the same request and decide whether they are equivalent: a reader who "
        "has already seen one would gain nothing new from the other. Wording, length, order and formatting do "
        "not matter; what matters is whether they offer different content: different ideas, answers, "
        "stories, items, arguments or facts.\n\n"
        "Response A:\n<<<\n{a}\n>>>\n\nResponse B:\n<<<\n{b}\n>>>\n\n"
        "Think briefly, then end your answer with exactly one verdict: [[EQUIVALENT]] if they offer the same "
        "content, [[DIFFERENT]] if they do not."
    ),
    "math": (
        "You compare two solutions to the same math problem and decide whether they use the same strategy. "
        "Solutions use the same strategy when they rely on the same key idea and the same main steps, even if "
        "the wording, the notation, the order of minor steps or the final answer differ. They use different "
        "strategies when the method, a key step or the underlying concept differs.\n\n"
        "Solution A:\n<<<\n{a}\n>>>\n\nSolution B:\n<<<\n{b}\n>>>\n\n"
        "Think briefly, then end your answer with exactly one verdict: [[EQUIVALENT]] if they use the same "
        "strategy, [[DIFFERENT]] if they do not."
    ),
}


def parse_verdict(text: str) -> bool | None:
    """The last ``[[EQUIVALENT]]`` / ``[[DIFFERENT]]`` in ``text`` (``None`` when there is none).

    Example:
        >>> parse_verdict("A is a poem about rain, B too... [[Different]]? no: [[EQUIVALENT]]")
        True
        >>> parse_verdict("They differ.") is None
        True
    """
    found = _VERDICT.findall(text or "")
    return None if not found else found[-1].upper() == "EQUIVALENT"


class ServedLLMJudge(Judge):
    """Asks an instruct model served behind OpenAI-compatible chat endpoints whether two texts are equivalent.

    Args:
        urls: Server base URLs (vLLM or SGLang serving any instruct model).
        model: The served model name (the ``model`` field of the chat request).
        task: ``"open"`` (open-ended text: same content?) or ``"math"`` (same solution strategy?);
            picks one of :data:`PROMPTS`.
        prompt: Your own template with ``{a}`` and ``{b}``, ending in the verdict instruction;
            overrides ``task``.
        max_tokens: Most tokens the model may write (bounds a rambling judge).
        short_text_rule: Short-text shortcut applied before the model (``"overlap"``, ``"exact"``, ``"off"``).
        max_in_flight: Most requests open at once.
        timeout: Seconds a request may take.
        retries: Retries of a failed request, each on the next server.
        backoff: Seconds before the first retry.

    Raises:
        ValueError: For an unknown task or a prompt without ``{a}`` and ``{b}``.

    Example:
        ```python
        # doc: no-run
        judge = ServedLLMJudge(["http://judge-node:9000"], model="Qwen/Qwen2.5-7B-Instruct", task="math")
        reward = DiversityRewardFunction(judge=judge)
        ```
    """

    uses_model = True

    def __init__(
        self,
        urls: Sequence[str] | str,
        model: str,
        *,
        task: str = "open",
        prompt: str | None = None,
        max_tokens: int = 512,
        short_text_rule: str = "overlap",
        max_in_flight: int = 16,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        from darling.partitioning.shortcut import check_short_text_rule

        if prompt is None:
            if task not in PROMPTS:
                raise ValueError(
                    f"Unknown task {task!r}; choose one of {', '.join(PROMPTS)} or pass prompt=."
                )
            prompt = PROMPTS[task]
        if "{a}" not in prompt or "{b}" not in prompt:
            raise ValueError("An LLM-judge prompt must hold '{a}' and '{b}' where the two texts go.")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"`max_tokens` must be a positive int, got {max_tokens!r}.")
        self.model = model
        self.task = task
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.short_text_rule = check_short_text_rule(short_text_rule)
        self.pool = ServerPool(
            urls,
            max_in_flight=max_in_flight,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            not_found_hint="Point the judge at an OpenAI-compatible server (vllm serve MODEL / sglang.launch_server).",
        )
        self.name = "served_llm"

    def payloads(self, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
        """One greedy chat request a pair."""
        return [
            {
                "model": self.model,
                "messages": [{"role": "user", "content": self.prompt.replace("{a}", a).replace("{b}", b)}],
                "temperature": 0.0,
                "max_tokens": self.max_tokens,
                "seed": 0,
            }
            for a, b in check_pairs(pairs)
        ]

    def _parse(self, answer: Any, url: str, payload: dict[str, Any]) -> bool:
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ServedJudgeError(
                f"{url}{CHAT_PATH} answered without choices[0].message.content ({str(answer)[:200]}); is it an "
                "OpenAI-compatible chat server?"
            ) from None
        verdict = parse_verdict(content)
        if verdict is None:
            raise ServedJudgeError(
                f"{url}{CHAT_PATH} ({self.model}) answered without a [[EQUIVALENT]] or [[DIFFERENT]] verdict: "
                f"{str(content)[-200:]!r}. Raise max_tokens (now {self.max_tokens}) if it was cut off, or use a "
                "model that follows the instruction."
            )
        return verdict

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        """The served model's verdict on each pair, in input order."""
        return self.pool.post(CHAT_PATH, self.payloads(pairs), self._parse) if pairs else []

    async def aequivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        """:meth:`equivalent` as a coroutine."""
        return await self.pool.apost(CHAT_PATH, self.payloads(pairs), self._parse) if pairs else []

    def __repr__(self) -> str:
        return f"ServedLLMJudge({self.model!r}, urls={self.pool.urls}, task={self.task!r})"
