"""Turning text pairs into model inputs: per-text truncation, the pair layout, padding.

Each text is tokenized on its own without special tokens and cut to ``max_tokens_per_text`` tokens,
so a very long text never crowds out the other one (and never raises). The pieces are then joined
by the layout template, exactly as the reference implementations build their inputs by hand.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import torch
from transformers import BatchEncoding

_PLACEHOLDER = re.compile(r"(\{a\}|\{b\}|\{cls\}|\{sep\})")


def _token_id(tokenizer: Any, token: str | None, what: str) -> int:
    token_id = getattr(tokenizer, f"{what}_token_id", None)
    if token is None or token_id is None:
        raise ValueError(
            f"The pair layout uses {{{what}}} but the tokenizer has no {what} token; choose a layout that "
            "fits it (pair_layout='chatml' for Qwen-style tokenizers, 'tokenizer' for its own pair encoding, or "
            "'template' with pair_template)."
        )
    return token_id


class PairLayout:
    """Builds the token ids of text pairs: each text cut to ``max_tokens_per_text``, then joined.

    Args:
        tokenizer: A ``transformers`` tokenizer.
        template: Layout template (``{a}``, ``{b}``, ``{cls}``, ``{sep}`` and literal text), or ``None``
            for the tokenizer's own pair encoding (needs a fast tokenizer).
        max_tokens_per_text: Tokens kept from each text.
        cache_size: The token ids of this many most recent texts are kept (``functools.lru_cache``), so
            a text asked about in several partition rounds is tokenized once; 0 turns the cache off.

    Raises:
        ValueError: If the template needs a token the tokenizer lacks, or a literal special token of the
            template (such as ``<|im_start|>``) is not a single token of this tokenizer.
    """

    def __init__(
        self, tokenizer: Any, template: str | None, max_tokens_per_text: int, cache_size: int = 4096
    ) -> None:
        self.tokenizer = tokenizer
        self.template = template
        self.max_tokens_per_text = max_tokens_per_text
        self.cache_size = cache_size
        self._one_text = functools.lru_cache(maxsize=cache_size)(self._tokenize_one)
        self.pieces: list[str | list[int]] = []
        if template is not None:
            for part in _PLACEHOLDER.split(template):
                if part in ("{a}", "{b}"):
                    self.pieces.append(part)
                elif part == "{cls}":
                    self.pieces.append([_token_id(tokenizer, tokenizer.cls_token, "cls")])
                elif part == "{sep}":
                    self.pieces.append([_token_id(tokenizer, tokenizer.sep_token, "sep")])
                elif part:
                    self.pieces.append(self._literal_ids(part))
        elif getattr(tokenizer, "backend_tokenizer", None) is None:
            raise ValueError(
                "pair_layout='tokenizer' needs a fast tokenizer (with `backend_tokenizer`); use pair_layout="
                "'cls_sep', 'chatml' or 'template' instead."
            )

    def __getstate__(self) -> dict[str, Any]:
        # The cache is rebuilt empty after unpickling (reward functions are pickled by TRL/accelerate).
        return {key: value for key, value in self.__dict__.items() if key != "_one_text"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._one_text = functools.lru_cache(maxsize=self.cache_size)(self._tokenize_one)

    def _literal_ids(self, text: str) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        specials = re.findall(r"<\|[^|]+\|>", text)
        unk = getattr(self.tokenizer, "unk_token_id", None)
        for special in specials:
            special_id = self.tokenizer.convert_tokens_to_ids(special)
            if special_id is None or special_id == unk or special_id not in ids:
                raise ValueError(
                    f"The pair layout uses {special!r}, which is not a token of this tokenizer; choose a layout "
                    "that fits it (pair_layout='cls_sep' for BERT-style tokenizers, 'tokenizer' for its own pair "
                    "encoding, or 'template' with pair_template)."
                )
        return ids

    def text_ids(self, texts: Sequence[str]) -> list[Any]:
        """Each text tokenized without special tokens and cut to ``max_tokens_per_text`` (cached).

        Returns lists of token ids (or ``tokenizers.Encoding`` objects for the tokenizer's own pair
        encoding); pass them to :meth:`join`, which does not modify them.
        """
        return [self._one_text(text) for text in texts]

    def _tokenize_one(self, text: str) -> Any:
        if self.template is None:
            backend = self.tokenizer.backend_tokenizer
            # A tokenizer.json may carry its own truncation/padding settings; per-text truncation is ours.
            if backend.truncation is not None:
                backend.no_truncation()
            if backend.padding is not None:
                backend.no_padding()
            encoding = backend.encode(text, add_special_tokens=False)
            encoding.truncate(self.max_tokens_per_text)
            return encoding
        # Truncating in the tokenizer keeps exactly the first max_tokens_per_text tokens of the text.
        return self.tokenizer(
            text, add_special_tokens=False, truncation=True, max_length=self.max_tokens_per_text
        )["input_ids"]

    def encode(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
        """Input ids and token type ids of each pair; each distinct text is tokenized once.

        Example:
            >>> from darling.tiny_models import train_tiny_tokenizer
            >>> layout = PairLayout(train_tiny_tokenizer(), "{cls}{a}{sep}{b}{sep}", max_tokens_per_text=2)
            >>> ids, types = layout.encode([("the quick brown fox", "a dog")])[0]
            >>> len(ids), types  # [CLS] the quick [SEP] a dog [SEP]: each text cut to 2 tokens
            (7, [0, 0, 0, 0, 1, 1, 1])
        """
        unique = list(dict.fromkeys(text for pair in pairs for text in pair))
        pieces = dict(zip(unique, self.text_ids(unique)))
        return [self.join(pieces[a], pieces[b]) for a, b in pairs]

    def join(self, text_a: Any, text_b: Any) -> tuple[list[int], list[int]]:
        """Input ids and token type ids of one pair (type 0 before text b, 1 from text b on)."""
        if self.template is None:
            processor = self.tokenizer.backend_tokenizer.post_processor
            if processor is None:
                return list(text_a.ids) + list(text_b.ids), [0] * len(text_a.ids) + [1] * len(text_b.ids)
            merged = processor.process(text_a, text_b, add_special_tokens=True)
            return list(merged.ids), list(merged.type_ids)
        input_ids: list[int] = []
        type_ids: list[int] = []
        segment = 0
        for piece in self.pieces:
            if piece == "{b}":
                segment = 1
            tokens = text_a if piece == "{a}" else text_b if piece == "{b}" else piece
            input_ids.extend(tokens)
            type_ids.extend([segment] * len(tokens))
        return input_ids, type_ids


def pad_batch(
    rows: Sequence[dict[str, list[int]]], pad_token_id: int, return_tensors: str | None = "pt"
) -> BatchEncoding:
    """Right-pads a list of per-pair features to the longest in the batch.

    ``input_ids`` are padded with ``pad_token_id``; ``attention_mask`` and ``token_type_ids`` with 0.

    Args:
        rows: Features of each pair, as lists of ints.
        pad_token_id: Id used to pad input ids.
        return_tensors: ``"pt"`` for tensors, ``None`` for padded lists.

    Returns:
        A ``BatchEncoding``.

    Example:
        >>> pad_batch([{"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1]}, {"input_ids": [5], "attention_mask": [1]}],
        ...           pad_token_id=0, return_tensors=None)["input_ids"]
        [[5, 6, 7], [5, 0, 0]]
    """
    if not rows:
        raise ValueError("pad_batch needs at least one example.")
    width = max(len(row["input_ids"]) for row in rows)
    out: dict[str, Any] = {}
    for key in rows[0]:
        value = pad_token_id if key == "input_ids" else 0
        out[key] = [list(row[key]) + [value] * (width - len(row[key])) for row in rows]
    if return_tensors == "pt":
        out = {key: torch.tensor(value, dtype=torch.long) for key, value in out.items()}
    elif return_tensors is not None:
        raise ValueError(f"return_tensors must be 'pt' or None, got {return_tensors!r}.")
    return BatchEncoding(out)
