"""The demo's digit-sum task: write a target number as a sum of digits.

A prompt is ``"13="``; a correct answer is two or three digits from 1 to 9 joined by ``+`` that add
up to the target, such as ``"4+9"`` or ``"2+5+6"``. The order of the terms does not matter:
``"4+9"`` and ``"9+4"`` are the same answer. That is what the canonical form (the sorted terms)
captures, and what the rule-based judge compares.

This module holds the ``sums`` task: targets 5 to 22, every one with many correct answers, four
of them held out of RL. :mod:`darling.demo.required_task` builds the ``required_digit`` task on it.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

_ANSWER = re.compile(r"^[1-9](\+[1-9])*$")


@dataclass(frozen=True)
class SumTask:
    """Targets, answer shape and the train / held-out split of the digit-sum task.

    Args:
        min_terms: Fewest terms in a correct answer.
        max_terms: Most terms in a correct answer.
        targets: Every target of the task (all of them are in the warm-up).
        held_out: Targets kept out of RL training, used for evaluation.
        name: The task's name in reports.

    Example:
        >>> task = SumTask()
        >>> task.prompt(13), task.is_correct("13=", "9+4")
        ('13=', True)
        >>> task.canonical("9+4") == task.canonical("4+9")
        True
    """

    min_terms: int = 2
    max_terms: int = 3
    targets: tuple[int, ...] = tuple(range(5, 23))
    held_out: tuple[int, ...] = (7, 11, 14, 18)
    name: str = "sums"
    _digits: tuple[int, ...] = field(default=tuple(range(1, 10)), repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.min_terms <= self.max_terms:
            raise ValueError(
                f"SumTask needs 1 <= min_terms <= max_terms, got {self.min_terms}, {self.max_terms}."
            )
        missing = [t for t in self.held_out if t not in self.targets]
        if missing:
            raise ValueError(f"held_out targets {missing} are not in targets; add them to `targets`.")
        empty = [t for t in self.targets if not self.valid_answers(t)]
        if empty:
            raise ValueError(
                f"Targets {empty} have no answer with {self.min_terms}-{self.max_terms} digits from 1 to 9; "
                "drop them or change the number of terms."
            )

    @property
    def train_targets(self) -> tuple[int, ...]:
        """Targets of RL training."""
        return tuple(t for t in self.targets if t not in self.held_out)

    @property
    def warmup_targets(self) -> tuple[int, ...]:
        """Targets of the warm-up: all of them (it plays pre-training, which has seen every target)."""
        return self.targets

    @property
    def train_eval_targets(self) -> tuple[int, ...]:
        """Training targets evaluated beside the held-out ones: all of them."""
        return self.train_targets

    @property
    def alphabet(self) -> str:
        """Characters of prompts and answers (the policy's tokenizer is built from them)."""
        return "0123456789+="

    def describe(self) -> dict:
        """The task's settings and split, for the results JSON."""
        return {
            "name": self.name,
            "prompt_example": self.prompt(13),
            "min_terms": self.min_terms,
            "max_terms": self.max_terms,
            "train_targets": list(self.train_targets),
            "train_eval_targets": list(self.train_eval_targets),
            "held_out_targets": list(self.held_out),
            "valid_answers_per_held_out_target": {t: len(self.valid_answers(t)) for t in self.held_out},
        }

    def prompt(self, target: int) -> str:
        """The prompt text for ``target``."""
        return f"{target}="

    def target_of(self, prompt: str) -> int:
        """Reads the target back from a prompt.

        Raises:
            ValueError: If ``prompt`` is not of the form ``"<number>="``.
        """
        if not re.fullmatch(r"\d+=", prompt):
            raise ValueError(f"Not a task prompt: {prompt!r}; prompts look like '13='.")
        return int(prompt[:-1])

    def terms(self, answer: str) -> tuple[int, ...] | None:
        """The digits of a well-formed answer, or ``None`` if it is malformed."""
        answer = answer.strip()
        if not _ANSWER.match(answer):
            return None
        parts = tuple(int(p) for p in answer.split("+"))
        return parts if self.min_terms <= len(parts) <= self.max_terms else None

    def canonical(self, answer: str) -> str:
        """The canonical form: sorted terms for a well-formed answer of ``min_terms`` to ``max_terms``
        terms, else the stripped text.

        Two answers are the same exactly when their canonical forms are equal.
        """
        parts = self.terms(answer)
        return answer.strip() if parts is None else "+".join(map(str, sorted(parts)))

    def is_correct(self, prompt: str | int, answer: str) -> bool:
        """Whether ``answer`` is a correct answer to ``prompt`` (a prompt text or a target)."""
        target = prompt if isinstance(prompt, int) else self.target_of(prompt)
        parts = self.terms(answer)
        return parts is not None and sum(parts) == target

    def valid_answers(self, target: int) -> tuple[str, ...]:
        """Canonical forms of every correct answer to ``target``, sorted."""
        return _valid_answers(target, self.min_terms, self.max_terms)

    def sample_answer(self, target: int, rng: random.Random) -> str:
        """A correct answer drawn uniformly over canonical answers, with its terms in random order."""
        parts = [int(p) for p in rng.choice(self.valid_answers(target)).split("+")]
        rng.shuffle(parts)
        return "+".join(map(str, parts))

    def same_answer(self, a: str, b: str) -> bool:
        """The rule-based equivalence judge: equal canonical forms."""
        return self.canonical(a) == self.canonical(b)


def canonical_sum(answer: str) -> str:
    """Sorted terms of a well-formed sum of digits 1-9 (``"9+4"`` -> ``"4+9"``), else the stripped text."""
    answer = answer.strip()
    if not _ANSWER.match(answer):
        return answer
    return "+".join(sorted(answer.split("+"), key=int))


@cache
def _valid_answers(target: int, min_terms: int, max_terms: int) -> tuple[str, ...]:
    found = set()
    for n in range(min_terms, max_terms + 1):
        for combo in itertools.combinations_with_replacement(range(1, 10), n):
            if sum(combo) == target:
                found.add("+".join(map(str, combo)))
    return tuple(sorted(found))


class CanonicalFormJudge:
    """A picklable ``(a, b) -> bool`` callable: two answers are the same when their canonical forms are.

    Wrap it in :class:`darling.partitioning.CallableJudge` to use it as a judge.

    Args:
        task: The task whose canonical form to compare.
    """

    __name__ = "canonical_form"

    def __init__(self, task: SumTask) -> None:
        self.task = task

    def __call__(self, a: str, b: str) -> bool:
        return self.task.same_answer(a, b)


class SumCorrectnessReward:
    """TRL reward function: 1.0 for a correct answer, 0.0 otherwise (the quality reward).

    Args:
        task: The task to check answers against.
    """

    __name__ = "correctness"

    def __init__(self, task: SumTask) -> None:
        self.task = task

    def __call__(self, prompts: Sequence[str], completions: Sequence[str], **kwargs) -> list[float]:
        if len(prompts) != len(completions):
            raise ValueError(
                f"Got {len(prompts)} prompts but {len(completions)} completions; they must match."
            )
        return [float(self.task.is_correct(p, c)) for p, c in zip(prompts, completions)]
