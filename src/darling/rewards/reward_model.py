"""A sequence-classification reward model (Athene-RM, Skywork-Reward style) as a TRL reward function.

The model scores each prompt + completion conversation with a single logit. Unlike passing the
model itself to TRL, this wrapper applies the reward model's own chat template (TRL concatenates
raw text for standard prompts), runs on its own device and batches with its own batch size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from darling.rewards._groups import completion_text


def _as_messages(prompt: Any, completion: Any, index: int) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    elif isinstance(prompt, (list, tuple)):
        messages = [dict(m) for m in prompt]
    else:
        raise TypeError(
            f"`prompts[{index}]` must be a str or a list of chat messages, got {type(prompt).__name__}."
        )
    messages.append({"role": "assistant", "content": completion_text(completion, index)})
    return messages


class RewardModelReward:
    """Scores completions with a scalar-head sequence-classification reward model.

    Standard prompts become a user message and completions an assistant message; the reward
    model tokenizer's chat template turns the conversation into text. Scores are the model's
    single logit, computed in batches without gradients on ``device``.

    Args:
        model: A ``*ForSequenceClassification`` model with ``num_labels=1``, or a path/hub id to
            load one from (e.g. ``"Nexusflow/Athene-RM-8B"``).
        tokenizer: The reward model's tokenizer (must have a chat template); loaded from ``model``'s
            path when ``None``.
        batch_size: Conversations per forward pass.
        device: Where the reward model runs; by default this process's GPU (``LOCAL_RANK``) when
            one is available, else the CPU.
        max_length: Token limit of a conversation (longer ones are truncated).
        model_kwargs: Extra arguments for ``from_pretrained`` when ``model`` is a path (e.g.
            ``{"dtype": torch.bfloat16}``).

    Raises:
        ValueError: If the model has more than one output label, or the tokenizer no chat template.

    Example:
        ```python
        # doc: no-run
        quality = RewardModelReward("Nexusflow/Athene-RM-8B", model_kwargs={"dtype": "bfloat16"})
        ```
    """

    __name__ = "reward_model"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        batch_size: int = 8,
        device: str | torch.device | None = None,
        max_length: int = 4096,
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}.")
        if isinstance(model, str):
            if tokenizer is None:
                tokenizer = AutoTokenizer.from_pretrained(model)
            model = AutoModelForSequenceClassification.from_pretrained(model, **(model_kwargs or {}))
        if tokenizer is None:
            raise ValueError("Pass the reward model's `tokenizer` when `model` is an in-memory model.")
        if getattr(model.config, "num_labels", 1) != 1:
            raise ValueError(
                f"RewardModelReward needs a scalar reward head (num_labels=1), got num_labels={model.config.num_labels}."
            )
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "The reward model's tokenizer has no chat template; set `tokenizer.chat_template`."
            )
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if model.config.pad_token_id is None:
            # Sequence-classification heads find each row's last token through the pad id.
            model.config.pad_token_id = tokenizer.pad_token_id
        if device is None:
            # Under torchrun/accelerate every process holds its own copy, on its own GPU.
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length

    def conversation_texts(self, prompts: Sequence[Any], completions: Sequence[Any]) -> list[str]:
        """The chat-templated texts the reward model scores.

        Raises:
            ValueError: If ``prompts`` and ``completions`` differ in length.
        """
        if len(prompts) != len(completions):
            raise ValueError(f"Got {len(prompts)} prompts but {len(completions)} completions.")
        return [
            self.tokenizer.apply_chat_template(_as_messages(p, c, i), tokenize=False)
            for i, (p, c) in enumerate(zip(prompts, completions))
        ]

    @torch.no_grad()
    def score_texts(self, texts: Sequence[str], progress: bool = False) -> list[float]:
        """Reward-model scores of already templated texts, in batches of ``batch_size``."""
        scores: list[float] = []
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="reward model", disable=not progress):
            batch = self.tokenizer(
                list(texts[start : start + self.batch_size]),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_length,
                add_special_tokens=False,  # the chat template already holds the special tokens
            ).to(self.device)
            logits = self.model(**batch).logits
            scores.extend(logits[:, 0].float().cpu().tolist())
        return scores

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        """Scores each (prompt, completion) conversation.

        Raises:
            ValueError: On mismatched lengths.
            TypeError: On a ``None`` or malformed completion or prompt.
        """
        return self.score_texts(self.conversation_texts(prompts, completions))

    def __repr__(self) -> str:
        name = getattr(self.model.config, "_name_or_path", "") or type(self.model).__name__
        return f"RewardModelReward({name!r}, device={str(self.device)!r}, batch_size={self.batch_size})"
