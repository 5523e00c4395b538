"""A reward model (scalar-head sequence classifier or Athene-style value head) as a TRL reward function.

The model scores each prompt + completion conversation with a single number. Unlike passing the
model itself to TRL, this wrapper applies the reward model's own chat template (TRL concatenates
raw text for standard prompts), runs on its own device and batches with its own batch size.

Two checkpoint formats are accepted, told apart from the checkpoint itself (never from its name):

- a ``*ForSequenceClassification`` model with one label (e.g. Skywork-Reward), scored at the last
  token of the chat-templated conversation;
- the Athene format (``Nexusflow/Athene-RM-8B``): a Llama body plus a bias-free ``v_head``, scored
  at the last CLS token appended to the chat-templated conversation (see
  :class:`~darling.rewards.athene.AtheneRewardModel`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from darling.partitioning._validation import check_location, check_positive_int
from darling.rewards._groups import completion_text
from darling.rewards.athene import (
    HUB_KWARGS,
    V_HEAD_WEIGHT,
    AtheneRewardModel,
    checkpoint_weight_names,
    is_athene_checkpoint,
)

logger = logging.getLogger(__name__)

_ACCEPTED = (
    "a *ForSequenceClassification model with a scalar head (num_labels=1, e.g. Skywork-Reward) or an "
    f"Athene-style checkpoint (a Llama body `model.*` plus a bias-free `{V_HEAD_WEIGHT}`, e.g. "
    "Nexusflow/Athene-RM-8B)"
)


def load_reward_model(path: str | os.PathLike, **model_kwargs: Any) -> Any:
    """Loads a reward model in whichever supported format its checkpoint has.

    A checkpoint whose weights include ``v_head.weight`` (or, without safetensors files, whose
    config's ``architectures`` name ``AtheneForSequenceClassification``) loads as an
    :class:`~darling.rewards.athene.AtheneRewardModel`; one whose config has ``num_labels=1`` loads
    with ``AutoModelForSequenceClassification``.

    Args:
        path: A local directory or hub id.
        **model_kwargs: Passed to ``from_pretrained`` (e.g. ``dtype=torch.bfloat16``, ``revision``).

    Returns:
        The loaded model.

    Raises:
        ValueError: If the checkpoint is neither format, or an Athene-format checkpoint has a
            non-Llama body or its ``v_head`` weights did not load.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    hub_kwargs = {k: v for k, v in model_kwargs.items() if k in (*HUB_KWARGS, "trust_remote_code")}
    config = AutoConfig.from_pretrained(path, **hub_kwargs)
    weight_names = checkpoint_weight_names(path, **hub_kwargs)
    if is_athene_checkpoint(config, weight_names):
        if config.model_type != "llama":
            raise ValueError(
                f"Reward model {str(path)!r} has an Athene-style `{V_HEAD_WEIGHT}` but a {config.model_type!r} "
                "body; only Llama bodies are supported in that format."
            )
        model, info = AtheneRewardModel.from_pretrained(path, output_loading_info=True, **model_kwargs)
        missing = sorted(info.get("missing_keys", ()))
        if missing:
            raise ValueError(
                f"Reward model {str(path)!r} looks Athene-style but these weights were not found in the "
                f"checkpoint: {', '.join(missing[:5])}; scoring with them would use random weights."
            )
        return model
    if getattr(config, "num_labels", None) == 1:
        return AutoModelForSequenceClassification.from_pretrained(path, **model_kwargs)
    found = "no safetensors weights to inspect" if weight_names is None else f"no `{V_HEAD_WEIGHT}` weights"
    raise ValueError(
        f"Reward model {str(path)!r} has neither supported head: found {config.num_labels} labels "
        f"(architectures {getattr(config, 'architectures', None)}) and {found}. RewardModelReward accepts "
        f"{_ACCEPTED}."
    )


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


def _check_model(model: Any) -> None:
    if isinstance(model, AtheneRewardModel):
        return
    num_labels = getattr(getattr(model, "config", None), "num_labels", None)
    if num_labels != 1:
        raise ValueError(
            f"RewardModelReward needs a scalar reward head: got a {type(model).__name__} with "
            f"num_labels={num_labels}. It accepts {_ACCEPTED}; load an Athene-format checkpoint with "
            "AtheneRewardModel.from_pretrained(path) or pass its path."
        )


def _athene_cls_id(tokenizer: Any) -> int:
    cls_token, cls_id = getattr(tokenizer, "cls_token", None), getattr(tokenizer, "cls_token_id", None)
    if cls_token is None or cls_id is None:
        raise ValueError(
            "An Athene-format reward model is read at the tokenizer's CLS token, but the tokenizer has no "
            "`cls_token`; use the reward model's own tokenizer (Athene-RM-8B's CLS is id 128003) or set "
            "`tokenizer.cls_token`."
        )
    if tokenizer(cls_token, add_special_tokens=False)["input_ids"] != [cls_id]:
        raise ValueError(
            f"The tokenizer's cls_token {cls_token!r} does not encode to its id {cls_id} alone; it must be a "
            "special token of the reward model's vocabulary."
        )
    return cls_id


class RewardModelReward:
    """Scores completions with a reward model: a scalar-head sequence classifier or Athene-style.

    Standard prompts become a user message and completions an assistant message; the reward
    model tokenizer's chat template turns the conversation into text, tokenized with no further
    special tokens. Scores are computed in batches without gradients on ``device``:

    - a scalar-head ``*ForSequenceClassification`` model (``num_labels=1``) gives its single logit;
    - an Athene-format model (a checkpoint with ``v_head.weight``, e.g. ``Nexusflow/Athene-RM-8B``,
      loaded as :class:`~darling.rewards.athene.AtheneRewardModel`) is scored as the official
      DARLING code does: the tokenizer's CLS token is appended to the templated text and the score
      is the value head at the last CLS position. Batches are padded on the right. A conversation
      longer than ``max_length`` tokens is cut from the right and keeps the CLS token as its last
      token (the official code, which cuts the CLS token off too, fails on such a conversation);
      a warning says when that happens.

    Args:
        model: A model (a scalar-head sequence classifier or an ``AtheneRewardModel``), or a
            path/hub id to load one from; the format is read from the checkpoint (see
            :func:`load_reward_model`).
        tokenizer: The reward model's tokenizer (must have a chat template, and a CLS token for an
            Athene-format model), or a path/hub id to load it from; loaded from ``model``'s path when
            ``None``.
        batch_size: Conversations per forward pass.
        device: Where the reward model runs; by default this process's GPU (``LOCAL_RANK``) when
            one is available, else the CPU.
        max_length: Token limit of a conversation (longer ones are truncated from the right).
        model_kwargs: Extra arguments for ``from_pretrained`` when ``model`` is a path (e.g.
            ``{"dtype": torch.bfloat16}``; the official runs scored Athene-RM-8B in bfloat16).

    Raises:
        ValueError: If the model is neither format, the tokenizer has no chat template, an
            Athene-format model's tokenizer has no CLS token, or ``model_kwargs`` come with an
            in-memory model.
        FileNotFoundError: If ``model`` is a local path that does not exist.

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
        from transformers import AutoTokenizer

        check_positive_int(batch_size, "batch_size")
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2:
            raise ValueError(f"`max_length` must be an int of at least 2, got {max_length!r}.")
        if isinstance(model, (str, os.PathLike)):
            model = check_location(model, "reward model")
            model_kwargs = dict(model_kwargs or {})
            if tokenizer is None:
                hub = {k: v for k, v in model_kwargs.items() if k in (*HUB_KWARGS, "trust_remote_code")}
                tokenizer = AutoTokenizer.from_pretrained(model, **hub)
            model = load_reward_model(model, **model_kwargs)
        elif model_kwargs:
            raise ValueError(
                "`model_kwargs` apply when `model` is a path or hub id; an in-memory model is used as it is "
                "(convert it yourself, e.g. model.to(torch.bfloat16))."
            )
        if tokenizer is None:
            raise ValueError("Pass the reward model's `tokenizer` when `model` is an in-memory model.")
        if isinstance(tokenizer, (str, os.PathLike)):
            tokenizer = AutoTokenizer.from_pretrained(check_location(tokenizer, "tokenizer"))
        _check_model(model)
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "The reward model's tokenizer has no chat template; set `tokenizer.chat_template`."
            )
        self.is_athene = isinstance(model, AtheneRewardModel)
        self.cls_token_id = _athene_cls_id(tokenizer) if self.is_athene else None
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if not self.is_athene and model.config.pad_token_id is None:
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
        self._warned_truncation = False

    def conversation_texts(self, prompts: Sequence[Any], completions: Sequence[Any]) -> list[str]:
        """The chat-templated texts the reward model scores (ending with the CLS token for Athene).

        Raises:
            ValueError: If ``prompts`` and ``completions`` differ in length.
        """
        if len(prompts) != len(completions):
            raise ValueError(f"Got {len(prompts)} prompts but {len(completions)} completions.")
        suffix = self.tokenizer.cls_token if self.is_athene else ""
        return [
            self.tokenizer.apply_chat_template(_as_messages(p, c, i), tokenize=False) + suffix
            for i, (p, c) in enumerate(zip(prompts, completions))
        ]

    def _athene_batch(self, texts: Sequence[str], offset: int) -> dict[str, torch.Tensor]:
        rows = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        cut = 0
        for i, ids in enumerate(rows):
            if not ids or ids[-1] != self.cls_token_id:
                raise ValueError(
                    f"texts[{offset + i}] does not end with the CLS token {self.tokenizer.cls_token!r}; build "
                    "the texts with `conversation_texts`."
                )
            if len(ids) > self.max_length:
                rows[i], cut = [*ids[: self.max_length - 1], self.cls_token_id], cut + 1
        if cut and not self._warned_truncation:
            self._warned_truncation = True
            logger.warning(
                "%d conversation(s) exceed max_length=%d tokens: they are cut from the right and scored at the CLS "
                "token kept at their end; raise `max_length` to score them whole.",
                cut,
                self.max_length,
            )
        width = max(len(ids) for ids in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, ids in enumerate(rows):  # right padding: each row keeps positions 0..len-1
            input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[i, : len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    @torch.no_grad()
    def score_texts(self, texts: Sequence[str], progress: bool = False) -> list[float]:
        """Reward-model scores of texts as :meth:`conversation_texts` returns them, in batches.

        Raises:
            ValueError: For an Athene-format model, if a text does not end with the CLS token.
        """
        scores: list[float] = []
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="reward model", disable=not progress):
            chunk = list(texts[start : start + self.batch_size])
            if self.is_athene:
                batch = self._athene_batch(chunk, start)
                output = self.model(
                    **{k: v.to(self.device) for k, v in batch.items()}, cls_token_id=self.cls_token_id
                )
            else:
                batch = self.tokenizer(
                    chunk,
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    add_special_tokens=False,  # the chat template already holds the special tokens
                ).to(self.device)
                output = self.model(**batch)
            scores.extend(output.logits[:, 0].float().cpu().tolist())
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
        kind = "athene" if self.is_athene else "scalar"
        return f"RewardModelReward({name!r}, head={kind!r}, device={str(self.device)!r}, batch_size={self.batch_size})"
