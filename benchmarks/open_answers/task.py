"""The open-answers task: prompts with a closed set of correct answers, the answer-extraction rule, metrics.

- **Prompts.** ``Name a <category>.`` for each of :data:`~open_answers.categories.CATEGORIES`
  (45 categories), split by category into training and held-out ones (:func:`split_categories`,
  fixed seed); plus held-out *constrained* prompts, ``Name a <category> whose name starts with the
  letter <L>.``, each with one to three correct answers.
- **Extraction rule** (:func:`extract_item`): the answer of a response is the item of the prompt's
  category whose name (or alias) occurs earliest in the response, as a whole word; capitalised names
  match case-sensitively, others case-insensitively; at equal positions the longer name wins. A
  response that names no item of the category has no answer.
- **Quality** (:class:`OpenAnswerReward`): 1 when the extracted answer is a correct answer of the
  prompt (for a constrained prompt: an item that starts with its letter), else 0.

The training judge of DARLING never sees this rule: it compares whole responses (an embedding or
classifier judge), so the evaluation (distinct valid answers, by the rule) is independent of it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

from open_answers.categories import CATEGORIES

SPLIT_SEED = 0
NUM_HELD_OUT_CATEGORIES = 15
CONSTRAINED_PER_SPLIT = 20
INSTRUCTION = "Answer with the name only."


@dataclass(frozen=True)
class Prompt:
    """One prompt of the task.

    Args:
        category: Its key in ``CATEGORIES``.
        letter: The required first letter (constrained prompts), else ``None``.
    """

    category: str
    letter: str | None = None

    @property
    def text(self) -> str:
        noun = CATEGORIES[self.category][0]
        article = "an" if noun[0].lower() in "aeiou" else "a"
        constraint = f" whose name starts with the letter {self.letter}" if self.letter else ""
        return f"Name {article} {noun}{constraint}. {INSTRUCTION}"

    @property
    def valid(self) -> list[str]:
        """The canonical names of the correct answers."""
        items = CATEGORIES[self.category][1]
        return [item[0] for item in items if self.letter is None or _starts_with(item, self.letter)]

    def row(self) -> dict:
        """A dataset row: a conversational prompt and the columns the reward reads."""
        return {
            "prompt": [{"role": "user", "content": self.text}],
            "category": self.category,
            "letter": self.letter or "",
        }


def _starts_with(item: tuple[str, ...], letter: str) -> bool:
    return any(name[0].upper() == letter for name in item)


def split_categories(seed: int = SPLIT_SEED) -> tuple[list[str], list[str]]:
    """(training, held-out) category keys: a seeded shuffle of the sorted keys, the last 15 held out."""
    keys = sorted(CATEGORIES)
    random.Random(seed).shuffle(keys)
    return sorted(keys[:-NUM_HELD_OUT_CATEGORIES]), sorted(keys[-NUM_HELD_OUT_CATEGORIES:])


def constrained_prompts(categories: list[str], count: int, seed: int = SPLIT_SEED) -> list[Prompt]:
    """``count`` prompts ``<category> whose name starts with <L>`` with one to three correct answers.

    Categories whose names are numbers have no such prompts.
    """
    candidates = []
    for category in categories:
        items = CATEGORIES[category][1]
        if items[0][0][0].isdigit():
            continue
        letters = sorted({name[0].upper() for item in items for name in item})
        for letter in letters:
            if 1 <= sum(_starts_with(item, letter) for item in items) <= 3:
                candidates.append(Prompt(category, letter))
    rng = random.Random(seed)
    return sorted(rng.sample(candidates, min(count, len(candidates))), key=lambda p: (p.category, p.letter))


@dataclass(frozen=True)
class Split:
    """The task's prompts, split before any run looked at them."""

    train: list[Prompt]
    held_out_open: list[Prompt]
    held_out_constrained: list[Prompt]


def task_split() -> Split:
    """Training prompts (one open prompt a training category), held-out open and constrained prompts.

    Constrained prompts come from both the training categories and the held-out ones
    (:data:`CONSTRAINED_PER_SPLIT` each): all are prompts no policy was trained on.
    """
    train, held_out = split_categories()
    constrained = constrained_prompts(train, CONSTRAINED_PER_SPLIT, SPLIT_SEED) + constrained_prompts(
        held_out, CONSTRAINED_PER_SPLIT, SPLIT_SEED + 1
    )
    return Split([Prompt(c) for c in train], [Prompt(c) for c in held_out], constrained)


@cache
def _patterns(category: str) -> list[tuple[re.Pattern, str, int]]:
    patterns = []
    for item in CATEGORIES[category][1]:
        for name in item:
            flags = 0 if name[0].isupper() else re.IGNORECASE
            pattern = re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", flags)
            patterns.append((pattern, item[0], len(name)))
    return patterns


def extract_item(category: str, response: str) -> str | None:
    """The canonical name of the item of ``category`` named earliest in ``response``, or ``None``."""
    best = None
    for pattern, canonical, length in _patterns(category):
        match = pattern.search(response)
        if match and (best is None or (match.start(), -length) < best[0]):
            best = ((match.start(), -length), canonical)
    return best[1] if best else None


def is_valid(prompt: Prompt, response: str) -> bool:
    """Whether the response's extracted answer is a correct answer of ``prompt``."""
    return extract_item(prompt.category, response) in prompt.valid


def _text(completion) -> str:
    return completion if isinstance(completion, str) else completion[-1]["content"]


class OpenAnswerReward:
    """Quality reward for TRL: 1.0 when a completion names a correct answer of its prompt, else 0.0.

    Reads the dataset columns ``category`` and ``letter`` (empty for an open prompt).
    """

    __name__ = "open_answer"

    def __call__(self, completions: list, category: list[str], letter: list[str], **kwargs) -> list[float]:
        return [
            float(is_valid(Prompt(c, let or None), _text(completion)))
            for completion, c, let in zip(completions, category, letter, strict=True)
        ]
