"""Athene-style reward models: a Llama body with a bias-free value head read at the last CLS token.

``Nexusflow/Athene-RM-8B`` (the quality model of the DARLING paper) is not a
``LlamaForSequenceClassification``: its checkpoint holds a ``LlamaModel`` body (weights ``model.*``)
and a ``v_head`` (``Linear(hidden_size, 1, bias=False)``, weight ``v_head.weight``). Its score is the
value head applied to the last layer's hidden state (after the final norm) at the **last** position
of the tokenizer's CLS token, which the caller appends to the chat-templated conversation. The hub
config does not describe that head (it names no labels), so ``AutoModelForSequenceClassification``
would drop ``v_head.weight`` and build a fresh random two-label head. :class:`AtheneRewardModel`
loads that layout with ``from_pretrained`` instead, and :func:`is_athene_checkpoint` recognises it
from the checkpoint itself (its weight names, else its config's ``architectures``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from torch import nn
from transformers import LlamaConfig, LlamaModel, LlamaPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutputWithPast

V_HEAD_WEIGHT = "v_head.weight"
# Class names that a config.json of this layout may carry: the model card's and ours.
ATHENE_ARCHITECTURES = ("AtheneForSequenceClassification", "AtheneRewardModel")
# from_pretrained arguments that locate files (they also apply to config and weight-name look-ups).
HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "proxies", "revision", "subfolder", "token")


class AtheneRewardModel(LlamaPreTrainedModel):
    """A Llama body plus a bias-free scalar value head ``v_head``, read at the last CLS token.

    The weight layout is Athene-RM's (``model.*`` and ``v_head.weight``), so ``from_pretrained``
    loads ``Nexusflow/Athene-RM-8B`` as it is. The forward pass returns a
    ``SequenceClassifierOutputWithPast`` whose ``logits`` (shape ``(batch, 1)``) hold each row's
    score, like a scalar-head ``*ForSequenceClassification`` model.

    Rows are read at the last position holding ``cls_token_id`` (among positions the attention mask
    keeps), as the official DARLING code does; the CLS id is the tokenizer's ``cls_token_id``
    (128003 for Athene-RM-8B), passed to ``forward`` or set as ``config.cls_token_id``.

    Example:
        ```python
        # doc: no-run
        import torch
        from transformers import AutoTokenizer

        from darling.rewards import AtheneRewardModel

        tokenizer = AutoTokenizer.from_pretrained("Nexusflow/Athene-RM-8B")
        model = AtheneRewardModel.from_pretrained("Nexusflow/Athene-RM-8B", dtype=torch.bfloat16)
        conversation = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
        text = tokenizer.apply_chat_template(conversation, tokenize=False) + tokenizer.cls_token
        batch = tokenizer(text, add_special_tokens=False, return_tensors="pt")
        score = model(**batch, cls_token_id=tokenizer.cls_token_id).logits[0, 0]
        ```
    """

    config_class = LlamaConfig
    base_model_prefix = "model"

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__(config)
        self.model = LlamaModel(config)
        self.v_head = nn.Linear(config.hidden_size, 1, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cls_token_id: int | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutputWithPast:
        """Scores each row at its last CLS token.

        Args:
            input_ids: Token ids, shape ``(batch, length)``; each row must hold the CLS token.
            attention_mask: 1 for real tokens, 0 for padding (pad on the right).
            position_ids: Optional position ids for the Llama body.
            cls_token_id: The CLS token id; ``config.cls_token_id`` when ``None``.
            **kwargs: Passed on to the Llama body.

        Returns:
            ``SequenceClassifierOutputWithPast`` with ``logits`` of shape ``(batch, 1)``.

        Raises:
            ValueError: If no CLS id is known or a row holds no CLS token.
        """
        cls_token_id = (
            cls_token_id if cls_token_id is not None else getattr(self.config, "cls_token_id", None)
        )
        if cls_token_id is None:
            raise ValueError(
                "AtheneRewardModel needs the CLS token id: pass `cls_token_id=tokenizer.cls_token_id` or set "
                "`model.config.cls_token_id`."
            )
        kwargs.pop("use_cache", None)
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=False,
            **kwargs,
        )
        hidden = outputs.last_hidden_state  # the last layer's output after the final norm
        is_cls = input_ids == cls_token_id
        if attention_mask is not None:
            is_cls &= attention_mask.bool()
        missing = (~is_cls.any(dim=1)).nonzero().flatten().tolist()
        if missing:
            raise ValueError(
                f"Rows {missing} hold no CLS token (id {cls_token_id}); append `tokenizer.cls_token` to each "
                "chat-templated conversation."
            )
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        last_cls = torch.where(is_cls, positions, -1).max(dim=1).values
        pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), last_cls]
        return SequenceClassifierOutputWithPast(logits=self.v_head(pooled))


def checkpoint_weight_names(path: str | os.PathLike, **hub_kwargs: Any) -> set[str] | None:
    """Names of the tensors stored in a checkpoint's safetensors files, read without loading them.

    Reads ``model.safetensors.index.json`` (sharded checkpoints) or the header of
    ``model.safetensors``, from a local directory or a hub repo (honouring offline mode).

    Args:
        path: A local directory or hub id.
        **hub_kwargs: ``revision``, ``subfolder``, ``cache_dir``, ``token``, ... (other keys are ignored).

    Returns:
        The set of weight names, or ``None`` when the checkpoint has no safetensors files.
    """
    from safetensors import safe_open
    from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, cached_file

    kwargs = {k: v for k, v in hub_kwargs.items() if k in HUB_KWARGS}
    index = cached_file(
        str(path), SAFE_WEIGHTS_INDEX_NAME, _raise_exceptions_for_missing_entries=False, **kwargs
    )
    if index is not None:
        with open(index, encoding="utf-8") as f:
            return set(json.load(f)["weight_map"])
    single = cached_file(str(path), SAFE_WEIGHTS_NAME, _raise_exceptions_for_missing_entries=False, **kwargs)
    if single is None:
        return None
    with safe_open(single, framework="pt") as f:
        return set(f.keys())


def is_athene_checkpoint(config: Any, weight_names: set[str] | None) -> bool:
    """Whether a checkpoint has the Athene layout (a body plus a bias-free ``v_head``).

    Decided from the checkpoint, never from its name: ``v_head.weight`` among its weight names, or,
    when the weight names are unknown (no safetensors files), an Athene class in the config's
    ``architectures``.

    Args:
        config: The checkpoint's ``transformers`` config.
        weight_names: Its weight names (see :func:`checkpoint_weight_names`), or ``None``.

    Returns:
        ``True`` for the Athene layout.
    """
    if weight_names is not None:
        return V_HEAD_WEIGHT in weight_names
    return any(arch in ATHENE_ARCHITECTURES for arch in (getattr(config, "architectures", None) or []))
