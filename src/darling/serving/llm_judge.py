"""ServedLLMJudge: an instruct model behind an OpenAI-compatible chat endpoint decides equivalence.

The official code's LM-judge variant and NoveltyBench's GPT-4o judge ask a language model whether
two responses are equivalent. This judge does the same through ``POST /v1/chat/completions`` of a
vLLM or SGLang server (any OpenAI-compatible endpoint), with greedy decoding, on the same pool
machinery as the served classifier (spread over servers, bounded, retried, timed out). The
verdict is the last ``[[EQUIVALENT]]`` or ``[[DIFFERENT]]`` in the answer once any
``<think>...</think>`` reasoning is removed (a reasoning model may weigh both verdicts while it
thinks); an answer without one is an error, never a silent default. An answer cut off at
``max_tokens`` (``finish_reason == "length"``) is never read: it is asked again with twice the
tokens (``length_retries`` times) and is an error after that. Pairs of short texts are settled by
the short-text rule before any request, as for every judge.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from typing import Any

from darling.partitioning._validation import check_pairs
from darling.partitioning.judges import Judge, Pair
from darling.serving.pool import ServedJudgeError, ServerPool

CHAT_PATH = "/v1/chat/completions"
_VERDICT = re.compile(r"\[\[\s*(EQUIVALENT|DIFFERENT)\s*\]\]", re.IGNORECASE)
# A closed reasoning block, or an unclosed one running to the end (its verdicts are not answers).
_THINK = re.compile(r"<think>.*?(</think>|\Z)", re.IGNORECASE | re.DOTALL)
_CUT_OFF = object()  # _parse's answer for a reply cut off at max_tokens

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


def strip_reasoning(text: str) -> str:
    """``text`` without its ``<think>...</think>`` blocks (an unclosed one runs to the end).

    Example:
        >>> strip_reasoning("<think>maybe [[DIFFERENT]]...</think>Same story. [[EQUIVALENT]]")
        'Same story. [[EQUIVALENT]]'
    """
    return _THINK.sub("", text or "").strip()


def parse_verdict(text: str) -> bool | None:
    """The last ``[[EQUIVALENT]]`` / ``[[DIFFERENT]]`` outside ``<think>`` blocks (``None`` when there is none).

    Example:
        >>> parse_verdict("A is a poem about rain, B too... [[Different]]? no: [[EQUIVALENT]]")
        True
        >>> parse_verdict("<think>[[EQUIVALENT]]? no...</think>They differ.") is None
        True
    """
    found = _VERDICT.findall(strip_reasoning(text))
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
        length_retries: Times an answer cut off at ``max_tokens`` is asked again, each time with twice
            the tokens, before it is an error (0: at once).
        enable_thinking: ``False`` (or ``True``) sends ``chat_template_kwargs={"enable_thinking": ...}``,
            the switch of Qwen3-style chat templates (vLLM and SGLang pass it to the template);
            ``None`` sends nothing.
        extra_body: More fields for every request, e.g. vLLM's
            ``{"structured_outputs": {"choice": ["[[EQUIVALENT]]", "[[DIFFERENT]]"]}}`` to make a
            weak model answer with a verdict only.
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
        length_retries: int = 1,
        enable_thinking: bool | None = None,
        extra_body: dict[str, Any] | None = None,
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
        for name, value, low in (("max_tokens", max_tokens, 1), ("length_retries", length_retries, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{name}` must be an int >= {low}, got {value!r}.")
        if enable_thinking is not None and not isinstance(enable_thinking, bool):
            raise ValueError(f"`enable_thinking` must be True, False or None, got {enable_thinking!r}.")
        if extra_body is not None and not isinstance(extra_body, dict):
            raise TypeError(
                f"`extra_body` must be a dict of request fields, got {type(extra_body).__name__}."
            )
        self.model = model
        self.task = task
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.length_retries = length_retries
        self.enable_thinking = enable_thinking
        self.extra_body = dict(extra_body or {})
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

    def payloads(self, pairs: Sequence[Pair], max_tokens: int | None = None) -> list[dict[str, Any]]:
        """One greedy chat request a pair (``max_tokens`` overrides the judge's)."""
        extra = dict(self.extra_body)
        if self.enable_thinking is not None:
            extra["chat_template_kwargs"] = {
                **extra.get("chat_template_kwargs", {}),
                "enable_thinking": self.enable_thinking,
            }
        return [
            {
                "model": self.model,
                "messages": [{"role": "user", "content": self.prompt.replace("{a}", a).replace("{b}", b)}],
                "temperature": 0.0,
                "max_tokens": max_tokens or self.max_tokens,
                "seed": 0,
                **extra,
            }
            for a, b in check_pairs(pairs)
        ]

    def _parse(self, answer: Any, url: str, payload: dict[str, Any]) -> Any:
        try:
            choice = answer["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ServedJudgeError(
                f"{url}{CHAT_PATH} answered without choices[0].message.content ({str(answer)[:200]}); is it an "
                "OpenAI-compatible chat server?"
            ) from None
        if choice.get("finish_reason") == "length":
            return _CUT_OFF  # a verdict in a cut-off answer may be a thought, not the answer
        verdict = parse_verdict(content)
        if verdict is None:
            raise ServedJudgeError(
                f"{url}{CHAT_PATH} ({self.model}) answered without a [[EQUIVALENT]] or [[DIFFERENT]] verdict "
                f"outside <think> blocks: {str(content)[-200:]!r}. Use a model that follows the instruction, "
                "or constrain its answer (extra_body, e.g. vLLM's structured_outputs choice)."
            )
        return verdict

    def _rounds(self, pairs: Sequence[Pair]) -> Generator[list[dict[str, Any]], list[Any], list[bool]]:
        """Yields the requests of each round and receives their answers: every pair first, then the cut-off
        ones again with twice the tokens, ``length_retries`` times at most; returns the verdicts."""
        verdicts: list[Any] = [_CUT_OFF] * len(pairs)
        pending, max_tokens = list(range(len(pairs))), self.max_tokens
        for attempt in range(self.length_retries + 1):
            if attempt:
                max_tokens *= 2
            answers = yield self.payloads([pairs[i] for i in pending], max_tokens)
            for index, verdict in zip(pending, answers):
                verdicts[index] = verdict
            pending = [i for i in pending if verdicts[i] is _CUT_OFF]
            if not pending:
                return verdicts
        raise ServedJudgeError(
            f"{len(pending)} of {len(pairs)} answers of {self.model} on {CHAT_PATH} were cut off at max_tokens "
            f"(finish_reason 'length', last at {max_tokens} tokens), so their verdicts were not read: a "
            "reasoning model may name both verdicts while it thinks. Raise max_tokens (or length_retries), "
            "or turn thinking off (enable_thinking=False)."
        )

    def equivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        """The served model's verdict on each pair, in input order."""
        if not pairs:
            return []
        rounds = self._rounds(list(pairs))
        payloads = next(rounds)
        while True:
            try:
                payloads = rounds.send(self.pool.post(CHAT_PATH, payloads, self._parse))
            except StopIteration as done:
                return done.value

    async def aequivalent(self, pairs: Sequence[Pair]) -> list[bool]:
        """:meth:`equivalent` as a coroutine."""
        if not pairs:
            return []
        rounds = self._rounds(list(pairs))
        payloads = next(rounds)
        while True:
            try:
                payloads = rounds.send(await self.pool.apost(CHAT_PATH, payloads, self._parse))
            except StopIteration as done:
                return done.value

    def __repr__(self) -> str:
        return f"ServedLLMJudge({self.model!r}, urls={self.pool.urls}, task={self.task!r})"
