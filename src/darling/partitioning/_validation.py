"""Input checks shared by darling's packages (kept tiny and dependency-free)."""

from __future__ import annotations

import math
import os
import re
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


def check_groups(groups: Sequence[Sequence[str]], what: str = "groups") -> list[list[str]]:
    """Returns ``groups`` (any iterable of groups of texts) as lists, raising a clear error on a flat list.

    Raises:
        TypeError: If ``groups`` or one of its groups is a bare string (a flat list of texts passed
            where a list of groups was expected), or a text is not a ``str``.
    """
    if isinstance(groups, (str, bytes)):
        raise TypeError(
            f"`{what}` must be a list of groups (each a list of texts), got a single {type(groups).__name__}."
        )
    groups = list(groups)
    for index, group in enumerate(groups):
        if isinstance(group, (str, bytes)):
            raise TypeError(
                f"`{what}[{index}]` is a single {type(group).__name__}: `{what}` is a list of groups, each a list "
                "of texts (pass [texts] for one group)."
            )
    return [check_texts(group, what=f"{what}[{index}]") for index, group in enumerate(groups)]


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


def check_number(value: object, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    """Returns ``value`` as a float, raising a clear error unless it is a real number in ``[low, high]``.

    Example:
        >>> check_number(0.1, "floor", 0.0, 1.0)
        0.1
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"`{name}` must be a number, got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"`{name}` must be in [{low:g}, {high:g}], got {value!r}.")
    return float(value)


# What the Hub accepts as a repo id: "name" or "namespace/name" of word characters, dots and dashes.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def check_location(name_or_path: str | os.PathLike, what: str = "checkpoint") -> str:
    """Returns ``name_or_path`` as a string if it is an existing local path or could be a hub id.

    A local path that does not exist would otherwise reach the Hub and fail with a message about
    repo ids; this names the missing folder instead.

    Raises:
        FileNotFoundError: If it is neither an existing path nor shaped like a hub id (``org/name``).

    Example:
        >>> check_location("dogtooth/similarity-classifier-f168-hf")
        'dogtooth/similarity-classifier-f168-hf'
    """
    location = os.fspath(name_or_path)
    if os.path.exists(location):
        return location
    if (
        isinstance(name_or_path, os.PathLike)
        or not _HUB_ID.match(location)
        or ".." in location
        or "--" in location
    ):
        raise FileNotFoundError(
            f"No {what} at {location!r}: it is not an existing local path, nor a hub id such as 'org/name'. "
            "Check the path."
        )
    return location


def check_positive_int(value: object, name: str, allow_none: bool = False, hint: str = "") -> int | None:
    """Returns ``value`` unchanged if it is a positive ``int`` (not a ``bool``), or ``None`` when allowed.

    ``hint`` is appended to the error message (say what a usual value is).

    Example:
        >>> check_positive_int(4, "num_generations")
        4
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        suffix = " or None" if allow_none else ""
        raise ValueError(
            f"`{name}` must be a positive int{suffix}, got {value!r}.{' ' + hint if hint else ''}"
        )
    return value


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Returns ``value`` if it is one of ``choices``, else raises an error listing them.

    Example:
        >>> check_choice("shift", "negative_quality", ("allow", "shift"))
        'shift'
    """
    if value not in choices:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(choices)}.")
    return value  # type: ignore[return-value]
