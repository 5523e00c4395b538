"""Math accuracy with ``math-verify``: 1.0 when a completion's final answer equals the gold answer.

``math-verify`` enforces its timeouts with ``signal.alarm``, which only works in the main thread;
outside it (a reward function run from a worker thread) the timeouts are disabled instead of
crashing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from darling.rewards._groups import completion_texts

DEFAULT_ANSWER_COLUMNS: tuple[str, ...] = ("solution", "answer")
# A bare gold answer worth retrying inside \boxed{}: it has LaTeX or math syntax, not just words.
_MATHY = re.compile(r"[\\^_{}0-9=+\-*/()\[\]]")
# A word of prose (not a LaTeX command): three of them make a gold answer a solution text, not a bare answer.
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")


def _import_math_verify():
    try:
        import math_verify
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Math rewards need `math-verify`: `pip install math-verify` (or `pip install darling-rl[math]`)."
        ) from err
    return math_verify


def _timeouts() -> tuple[int | None, int | None]:
    """(parsing, verification) timeouts in seconds: signal-based, so only in the main thread."""
    if threading.current_thread() is threading.main_thread():
        return 5, 5
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    return None, None


def parse_gold(gold: str) -> list:
    """Parses a gold answer: a full solution (``\\boxed{}``/``$...$``/prose) or a bare answer such as ``2^{10}``.

    A bare answer is parsed as ``\\boxed{gold}`` first: parsed as it is, math-verify would read only its
    first number (``2`` from ``2^{10}``, ``3`` from ``3\\sqrt{2}``).

    Returns:
        ``math_verify.parse``'s result; empty when the gold answer has no parsable math.

    Example:
        >>> str(parse_gold("2^{10}")[0])
        '2**10'
    """
    mv = _import_math_verify()
    parsing_timeout, _ = _timeouts()
    boxed = "\\boxed{" + gold + "}"
    bare = _MATHY.search(gold) and "\\boxed" not in gold and "$" not in gold
    if not bare or len(_PROSE_WORD.findall(gold)) >= 3:
        parsed = mv.parse(gold, parsing_timeout=parsing_timeout)
        if not parsed and _MATHY.search(gold):
            parsed = mv.parse(boxed, parsing_timeout=parsing_timeout)
        return parsed
    return mv.parse(boxed, parsing_timeout=parsing_timeout) or mv.parse(gold, parsing_timeout=parsing_timeout)


def verify_math_answer(completion: str, gold: str) -> float | None:
    """Whether a completion's final answer is mathematically equal to the gold answer.

    Args:
        completion: The model's text (the answer is best given in ``\\boxed{}``).
        gold: The reference answer or solution.

    Returns:
        1.0 if equal, 0.0 if not (or if no answer can be read from the completion), ``None`` when
        the gold answer cannot be parsed (TRL then skips the rollout instead of scoring it 0).

    Raises:
        TypeError: If an argument is not a string.

    Example:
        >>> verify_math_answer("So the answer is $\\\\boxed{\\\\frac{2}{6}}$.", "\\\\frac{1}{3}")
        1.0
    """
    if not isinstance(completion, str) or not isinstance(gold, str):
        raise TypeError(
            f"verify_math_answer needs two strings, got {type(completion).__name__} and {type(gold).__name__}."
        )
    mv = _import_math_verify()
    gold_parsed = parse_gold(gold)
    if not gold_parsed:
        return None
    parsing_timeout, verify_timeout = _timeouts()
    answer = mv.parse(completion, parsing_timeout=parsing_timeout)
    if not answer:
        return 0.0
    return float(mv.verify(gold_parsed, answer, timeout_seconds=verify_timeout))


class MathAccuracyReward:
    """1.0 for a correct final answer, 0.0 otherwise, ``None`` when the gold answer is unparsable.

    The gold answer comes from a dataset column, which TRL passes to reward functions as a
    keyword argument with one value per completion.

    Args:
        answer_column: The column holding the gold answer; ``None`` uses the first of ``solution``
            and ``answer`` present.

    Example:
        >>> reward = MathAccuracyReward()
        >>> reward(prompts=["1+1?", "1+1?"], completions=["\\\\boxed{2}", "\\\\boxed{3}"], answer=["2", "2"])
        [1.0, 0.0]
    """

    __name__ = "math_accuracy"

    def __init__(self, answer_column: str | None = None) -> None:
        if answer_column is not None and not isinstance(answer_column, str):
            raise TypeError(
                f"`answer_column` must be a column name (str), got {type(answer_column).__name__}."
            )
        self.answer_column = answer_column

    def _gold(self, kwargs: dict[str, Any]) -> Sequence[Any]:
        candidates = (self.answer_column,) if self.answer_column else DEFAULT_ANSWER_COLUMNS
        for column in candidates:
            if column in kwargs:
                return kwargs[column]
        columns = sorted(
            k for k in kwargs if k not in ("trainer_state", "log_extra", "log_metric", "environments")
        )
        raise ValueError(
            f"MathAccuracyReward found no gold-answer column {' or '.join(map(repr, candidates))} among the "
            f"dataset columns {columns}; pass MathAccuracyReward(answer_column=...)."
        )

    def __call__(
        self,
        prompts: Sequence[Any] | None,
        completions: Sequence[Any],
        log_metric: Callable[[str, float], None] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        """Scores each completion against the gold answer of its row.

        Raises:
            ValueError: If the gold column is missing or its length differs from ``completions``.
            TypeError: If the gold column is a single value instead of one answer per completion.
        """
        texts = completion_texts(prompts, completions)
        gold = self._gold(kwargs)
        if gold is None or isinstance(gold, (str, bytes, int, float)):
            raise TypeError(
                f"The gold answers must be a list with one per completion (TRL passes each dataset column as "
                f"a list), got a single {type(gold).__name__}: {gold!r:.80}."
            )
        gold = list(gold)
        if len(gold) != len(texts):
            raise ValueError(f"Got {len(gold)} gold answers for {len(texts)} completions.")
        rewards = []
        for index, (text, answer) in enumerate(zip(texts, gold)):
            if answer is None:
                rewards.append(None)
                continue
            if not isinstance(answer, str):
                answer = str(answer)
            try:
                rewards.append(verify_math_answer(text, answer))
            except Exception as err:  # math-verify raises on pathological inputs; never crash a run
                logging.getLogger(__name__).warning("math-verify failed on completion %d: %s", index, err)
                rewards.append(0.0)
        if log_metric is not None:
            scored = [r for r in rewards if r is not None]
            if scored:
                log_metric("darling/math_accuracy", sum(scored) / len(scored))
        return rewards

    def __repr__(self) -> str:
        return f"MathAccuracyReward(answer_column={self.answer_column!r})"
