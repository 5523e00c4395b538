"""Input checks shared by the partition code (kept tiny and dependency-free)."""

from __future__ import annotations

from collections.abc import Sequence


def check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    """Returns ``texts`` as a list, raising a clear error on anything that is not a string.

    Args:
        texts: The texts to check.
        what: How the caller names the sequence in error messages.

    Raises:
        TypeError: If ``texts`` is a bare string or an item is ``None`` or not a ``str``; the message
            names the first bad index.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"`{what}` must be a sequence of strings, got a single {type(texts).__name__}.")
    texts = list(texts)
    for index, text in enumerate(texts):
        if text is None:
            raise TypeError(f"`{what}[{index}]` is None; pass an empty string for an empty generation.")
        if not isinstance(text, str):
            raise TypeError(f"`{what}[{index}]` must be a str, got {type(text).__name__}: {text!r:.80}.")
    return texts


def check_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Returns ``pairs`` as a list of 2-tuples of strings, naming the first bad index on error."""
    out = []
    for index, pair in enumerate(pairs):
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"`pairs[{index}]` must be a pair (a, b) of two strings, got {pair!r:.80}.")
        a, b = pair
        for side, text in (("0", a), ("1", b)):
            if not isinstance(text, str):
                raise TypeError(
                    f"`pairs[{index}][{side}]` must be a str, got {type(text).__name__}: {text!r:.80}."
                )
        out.append((a, b))
    return out
