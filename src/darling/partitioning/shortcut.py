"""The short-text rule the references apply before asking a model.

Both DARLING's training code and NoveltyBench settle a pair of short texts (at most five
whitespace-separated words each) without a model: they are equivalent iff twice the number of
shared lowercase unigrams is at least the length of the longer text. Later NoveltyBench versions
replaced the overlap test with exact string equality, because overlap merges "do it" and
"do not do it".
"""

from __future__ import annotations

from typing import Literal

ShortTextRule = Literal["overlap", "exact", "off"]
SHORT_TEXT_RULES: tuple[str, ...] = ("overlap", "exact", "off")
SHORT_TEXT_MAX_WORDS = 5


def check_short_text_rule(rule: str) -> str:
    """Validates a short-text rule name and returns it."""
    if rule not in SHORT_TEXT_RULES:
        raise ValueError(f"Unknown short_text_rule {rule!r}; choose one of {', '.join(SHORT_TEXT_RULES)}.")
    return rule


def short_text_equivalent(
    a: str, b: str, rule: str = "overlap", max_words: int = SHORT_TEXT_MAX_WORDS
) -> bool | None:
    """Settles a pair of short texts without a model.

    Args:
        a: First text.
        b: Second text.
        rule: ``"overlap"`` (the references' unigram rule), ``"exact"`` (string equality after
            stripping) or ``"off"``.
        max_words: Both texts must have at most this many whitespace words for the rule to apply.

    Returns:
        ``True`` or ``False`` when the rule decides the pair, ``None`` when the pair needs a judge.

    Example:
        >>> short_text_equivalent("Paris", "paris")
        True
        >>> short_text_equivalent("do it", "do not do it")
        True
        >>> short_text_equivalent("do it", "do not do it", rule="exact") is False
        True
    """
    if rule == "off":
        return None
    words_a = a.strip().lower().split()
    words_b = b.strip().lower().split()
    longest = max(len(words_a), len(words_b))
    if longest > max_words:
        return None
    if rule == "exact":
        return a.strip() == b.strip()
    if rule == "overlap":
        return 2 * len(set(words_a) & set(words_b)) >= longest
    raise ValueError(f"Unknown short_text_rule {rule!r}; choose one of {', '.join(SHORT_TEXT_RULES)}.")
