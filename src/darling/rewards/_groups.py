"""Rollout texts and groups: what every group-level reward function needs from TRL's arguments.

TRL passes completions as plain strings (standard prompts) or as lists of chat messages
(conversational prompts). A group is the ``num_generations`` consecutive rollouts of one prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from darling.partitioning._validation import check_positive_int


def _content_text(content: Any, where: str) -> str:
    if content is None:
        # An assistant turn that only calls tools has no text.
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # Multimodal content blocks: keep the text parts.
        return "".join(
            block.get("text") or ""
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    raise TypeError(
        f"{where} has content of type {type(content).__name__}; expected a str, None or content blocks."
    )


def completion_text(completion: Any, index: int = 0) -> str:
    """The assistant text of one completion.

    Args:
        completion: A ``str`` (standard prompts) or a list of chat messages (conversational
            prompts). For messages, the contents of the ``assistant`` messages are concatenated;
            tool messages are skipped and an assistant message with ``content=None`` (a pure tool
            call) counts as empty text.
        index: Position of the completion in its batch, for error messages.

    Returns:
        The completion's text.

    Raises:
        TypeError: If the completion is ``None`` or of an unsupported type.

    Example:
        >>> completion_text([{"role": "assistant", "content": "Hi"}])
        'Hi'
    """
    if isinstance(completion, str):
        return completion
    if completion is None:
        raise TypeError(
            f"`completions[{index}]` is None; a reward function needs a str or a list of chat messages "
            "(use '' for an empty generation)."
        )
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        parts = []
        for turn, message in enumerate(completion):
            if not isinstance(message, dict):
                raise TypeError(
                    f"`completions[{index}][{turn}]` must be a chat message dict, got {type(message).__name__}."
                )
            if message.get("role", "assistant") == "assistant":
                parts.append(_content_text(message.get("content"), f"`completions[{index}][{turn}]`"))
        return "".join(parts)
    raise TypeError(
        f"`completions[{index}]` must be a str or a list of chat messages, got {type(completion).__name__}."
    )


def completion_texts(prompts: Sequence[Any] | None, completions: Sequence[Any]) -> list[str]:
    """The texts of a batch of completions, checking it lines up with its prompts.

    Raises:
        ValueError: If ``prompts`` and ``completions`` differ in length.
        TypeError: If a completion is ``None`` or malformed (the message names its index).
    """
    if isinstance(completions, str):
        raise TypeError("`completions` must be a list of completions, got a single str.")
    completions = list(completions)
    if prompts is not None and len(prompts) != len(completions):
        raise ValueError(
            f"Got {len(prompts)} prompts but {len(completions)} completions; a reward function needs one prompt "
            "per completion (TRL repeats each prompt once per generation)."
        )
    return [completion_text(c, i) for i, c in enumerate(completions)]


def _prompt_text(prompt: Any) -> str:
    """The text of a prompt: roles and text parts of chat messages; other content blocks (an image) by type."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (list, tuple)) and all(isinstance(m, dict) for m in prompt):
        parts = []
        for message in prompt:
            content = message.get("content")
            if isinstance(content, list):
                content = "".join(
                    (block.get("text") or "") if block.get("type") == "text" else f"<{block.get('type')}>"
                    for block in content
                    if isinstance(block, dict)
                )
            parts.append(f"{message.get('role')}: {content}")
        return "\n".join(parts)
    return repr(prompt)


def prompt_key(prompt: Any) -> str | None:
    """A short digest that is equal for equal prompts in every process (``None`` stays ``None``).

    Rows carry it instead of the prompt itself, so gathering groups across processes stays cheap. It
    is made from the prompt's text (images and other non-text blocks count by their type only, as
    two loads of one image are different objects).

    Example:
        >>> prompt_key("What is 2 + 2?") == prompt_key("What is 2 + 2?") != prompt_key("What is 3 + 3?")
        True
    """
    if prompt is None:
        return None
    return hashlib.blake2b(_prompt_text(prompt).encode(), digest_size=8).hexdigest()


def group_bounds(
    total: int, num_generations: int | None, prompts: Sequence[Any] | None = None
) -> list[range]:
    """Splits ``total`` consecutive rollouts into groups.

    Args:
        total: Number of rollouts (all processes together).
        num_generations: Rollouts per prompt. When ``None``, groups are runs of consecutive equal
            prompts (a dataset that repeats a prompt back-to-back would merge two groups).
        prompts: The prompts of the rollouts (or their :func:`prompt_key`), needed when
            ``num_generations`` is ``None``; with ``num_generations`` they check that every group
            holds one prompt.

    Returns:
        One ``range`` of row indices per group, in order.

    Raises:
        ValueError: If ``total`` is not a multiple of ``num_generations``, a group of
            ``num_generations`` rollouts holds several prompts, or neither ``num_generations`` nor
            ``prompts`` is given.
    """
    if num_generations is not None:
        check_positive_int(num_generations, "num_generations")
        if total % num_generations:
            raise ValueError(
                f"Got {total} rollouts in total, which is not a multiple of num_generations={num_generations}; "
                "pass the trainer's num_generations (rollouts per prompt), or None to group consecutive equal prompts."
            )
        bounds = [range(start, start + num_generations) for start in range(0, total, num_generations)]
        if prompts is not None and len(prompts) == total:
            for index, group in enumerate(bounds):
                if len({prompts[i] for i in group}) > 1:
                    raise ValueError(
                        f"Group {index} of num_generations={num_generations} rollouts (rows {group.start} to "
                        f"{group.stop - 1}) holds rollouts of different prompts: num_generations is not the number "
                        "of rollouts per prompt of this batch. Set it to the trainer's num_generations (and to "
                        "num_generations_eval when evaluating with another group size), or to None to group "
                        "consecutive equal prompts."
                    )
        return bounds
    if prompts is None:
        raise ValueError("Pass `num_generations` or the prompts to find the groups.")
    if len(prompts) != total:
        raise ValueError(f"Got {len(prompts)} prompts for {total} rollouts.")
    bounds, start = [], 0
    for i in range(1, total + 1):
        if i == total or prompts[i] != prompts[start]:
            bounds.append(range(start, i))
            start = i
    return bounds


def overlapping_groups(bounds: Sequence[range], start: int, stop: int) -> list[range]:
    """The groups that hold at least one of the rows ``start`` to ``stop - 1`` (a process's slice).

    A process only needs the scores of its own rows, so it partitions only these groups (whole);
    with many processes this avoids every process scoring every group.
    """
    return [b for b in bounds if b.start < stop and b.stop > start]
