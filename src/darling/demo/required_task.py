"""The demo's exploration task: digit sums that must use a required digit.

RL trains on the plain prompts of the ``sums`` task, ``"13="``, each with many correct answers.
The held-out prompts add a requirement: ``"13:1="`` asks for a sum of two or three digits from 1
to 9 that adds up to 13 *and uses a 1* (``"1+3+9"``, ``"4+1+8"``...). Each held-out prompt has
only one to three correct answers: those of the target's many answers that contain the digit. The
warm-up (the policy's "pre-training") covers both kinds of prompt; RL then only sees plain ones.
A policy that RL narrowed onto a few preferred answers per target no longer produces the answers
a requirement calls for, while a policy that kept several answers per target still does.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cached_property

from darling.demo.task import SumTask, canonical_sum

_PROMPT = re.compile(r"(\d+)(?::([1-9]))?=?")


@dataclass(frozen=True)
class RequiredDigitTask:
    """Plain and digit-constrained prompts of the digit-sum task, with its split.

    A *target* is the prompt without its final ``=``: ``"13"`` (plain) or ``"13:1"`` (must use a 1).

    Args:
        sums: The plain task (targets and number of terms).
        max_held_out_answers: A constrained prompt is held out when it has at most this many
            correct answers (and at least one).
        name: The task's name in reports.

    Example:
        >>> task = RequiredDigitTask()
        >>> task.valid_answers("20:3")
        ('3+8+9',)
        >>> task.is_correct("20:3=", "8+3+9"), task.is_correct("20:3=", "4+7+9"), task.is_correct("20=", "4+7+9")
        (True, False, True)
    """

    sums: SumTask = field(default_factory=SumTask)
    max_held_out_answers: int = 3
    name: str = "required_digit"

    def __post_init__(self) -> None:
        if self.max_held_out_answers < 1:
            raise ValueError(f"max_held_out_answers must be at least 1, got {self.max_held_out_answers}.")

    @property
    def min_terms(self) -> int:
        return self.sums.min_terms

    @property
    def max_terms(self) -> int:
        return self.sums.max_terms

    @property
    def alphabet(self) -> str:
        """Characters of prompts and answers: digits, ``+``, ``=`` and the ``:`` before a required digit."""
        return "0123456789+=:"

    @cached_property
    def train_targets(self) -> tuple[str, ...]:
        """The plain prompts, RL's only prompts: every target of ``sums``."""
        return tuple(str(t) for t in self.sums.targets)

    @cached_property
    def constrained_targets(self) -> tuple[str, ...]:
        """Every constrained prompt with at least one correct answer."""
        return tuple(
            f"{t}:{d}" for t in self.sums.targets for d in range(1, 10) if self.valid_answers(f"{t}:{d}")
        )

    @cached_property
    def held_out(self) -> tuple[str, ...]:
        """The constrained prompts with one to ``max_held_out_answers`` correct answers."""
        return tuple(
            t for t in self.constrained_targets if len(self.valid_answers(t)) <= self.max_held_out_answers
        )

    @property
    def targets(self) -> tuple[str, ...]:
        """Every prompt: plain and constrained."""
        return self.train_targets + self.constrained_targets

    @cached_property
    def warmup_targets(self) -> tuple[str, ...]:
        """What the warm-up draws from: every prompt, the plain ones repeated so they make about half."""
        repeat = max(1, round(len(self.constrained_targets) / len(self.train_targets)))
        return self.train_targets * repeat + self.constrained_targets

    @property
    def train_eval_targets(self) -> tuple[str, ...]:
        """Training prompts evaluated beside the held-out ones: all plain prompts."""
        return self.train_targets

    def prompt(self, target: str) -> str:
        """The prompt text of ``target``."""
        return f"{target}="

    def parse(self, target: str) -> tuple[int, int | None]:
        """``(target number, required digit or None)`` of a target or prompt.

        Raises:
            ValueError: If it is neither ``"<number>"`` nor ``"<number>:<digit>"`` (with or without ``=``).
        """
        match = _PROMPT.fullmatch(str(target))
        if not match:
            raise ValueError(f"Not a task prompt: {target!r}; prompts look like '13=' or '13:1='.")
        return int(match.group(1)), int(match.group(2)) if match.group(2) else None

    def canonical(self, answer: str) -> str:
        """Sorted terms for a well-formed sum, else the stripped text (equal forms = same answer)."""
        return canonical_sum(answer)

    def is_correct(self, prompt: str, answer: str) -> bool:
        """Whether ``answer`` adds up to the target (and uses the required digit, if any)."""
        return self.canonical(answer) in self.valid_answers(prompt)

    def valid_answers(self, target: str) -> tuple[str, ...]:
        """Canonical forms of every correct answer, sorted."""
        number, digit = self.parse(target)
        answers = self.sums.valid_answers(number)
        return answers if digit is None else tuple(a for a in answers if str(digit) in a.split("+"))

    def sample_answer(self, target: str, rng: random.Random) -> str:
        """A correct answer drawn uniformly over canonical answers, with its terms in random order."""
        parts = rng.choice(self.valid_answers(target)).split("+")
        rng.shuffle(parts)
        return "+".join(parts)

    def same_answer(self, a: str, b: str) -> bool:
        """The rule-based equivalence judge: equal canonical forms."""
        return self.canonical(a) == self.canonical(b)

    def describe(self) -> dict:
        """The task's settings and split, for the results JSON."""
        return {
            "name": self.name,
            "prompt_example": self.prompt(self.held_out[0]),
            "min_terms": self.min_terms,
            "max_terms": self.max_terms,
            "train_targets": list(self.train_targets),
            "train_eval_targets": list(self.train_eval_targets),
            "num_constrained_targets": len(self.constrained_targets),
            "held_out_targets": list(self.held_out),
            "valid_answers_per_held_out_target": {t: len(self.valid_answers(t)) for t in self.held_out},
        }
