"""Turning text pairs into model inputs: per-text truncation, the pair layout, padding.

Each text is tokenized on its own without special tokens and cut to ``max_tokens_per_text`` tokens,
so a very long text never crowds out the other one (and never raises). The pieces are then joined
by the layout template, exactly as the reference implementations build their inputs by hand.
"""

from __future__ import annotations

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
    """Builds token ids for text pairs (cross-encoder) or single texts (bi-encoder).

    Args:
        tokenizer: A ``transformers`` tokenizer.
        template: Layout template (``{a}``, ``{b}``, ``{cls}``, ``{sep}`` and literal text), or ``None``
            for the tokenizer's own pair encoding (needs a fast tokenizer).
        max_tokens_per_text: Tokens kept from each text.

    Raises:
        ValueError: If the template needs a token the tokenizer lacks, or a literal special token of the
            template (such as ``<|im_start|>``) is not a single token of this tokenizer.
    """

    def __init__(self, tokenizer: Any, template: str | None, max_tokens_per_text: int) -> None:
        self.tokenizer = tokenizer
        self.template = template
        self.max_tokens_per_text = max_tokens_per_text
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
        """Each text tokenized without special tokens and cut to ``max_tokens_per_text``.

        Returns lists of token ids (or ``tokenizers.Encoding`` objects for the tokenizer's own pair
        encoding); pass them to :meth:`join`.
        """
        if not texts:
            return []
        if self.template is None:
            backend = self.tokenizer.backend_tokenizer
            # A tokenizer.json may carry its own truncation/padding settings; per-text truncation is ours.
            if backend.truncation is not None:
                backend.no_truncation()
            if backend.padding is not None:
                backend.no_padding()
            encodings = backend.encode_batch(list(texts), add_special_tokens=False)
            for encoding in encodings:
                encoding.truncate(self.max_tokens_per_text)
            return encodings
        # Truncating in the tokenizer keeps exactly the first max_tokens_per_text tokens of each text.
        return self.tokenizer(
            list(texts), add_special_tokens=False, truncation=True, max_length=self.max_tokens_per_text
        )["input_ids"]

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

    def singles(self, texts: Sequence[str]) -> list[list[int]]:
        """Input ids of each text alone with the tokenizer's own special tokens (bi-encoder inputs)."""
        if not texts:
            return []
        max_length = self.max_tokens_per_text + self.tokenizer.num_special_tokens_to_add(pair=False)
        return self.tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


def pad_batch(
    rows: Sequence[dict[str, list[int]]], pad_token_id: int, return_tensors: str | None = "pt"
) -> BatchEncoding:
    """Right-pads a list of per-example features to the longest in the batch.

    Keys ending in ``input_ids`` are padded with ``pad_token_id``; their ``attention_mask`` (and
    ``token_type_ids``) partners with 0. Bi-encoder rows carry ``input_ids_b``/``attention_mask_b`` too,
    and may carry ``text_features`` (floats of a fixed length, stacked unpadded).

    Args:
        rows: Features of each example, as lists of ints.
        pad_token_id: Id used to pad input ids.
        return_tensors: ``"pt"`` for tensors, ``None`` for padded lists.

    Returns:
        A ``BatchEncoding``.
    """
    if not rows:
        raise ValueError("pad_batch needs at least one example.")
    keys = list(rows[0].keys())
    out: dict[str, Any] = {}
    for suffix in ("", "_b"):
        ids_key = f"input_ids{suffix}"
        if ids_key not in rows[0]:
            continue
        width = max(len(row[ids_key]) for row in rows)
        for key in [k for k in keys if k.endswith(suffix) and (suffix or not k.endswith("_b"))]:
            if key == "text_features":
                continue
            value = pad_token_id if key == ids_key else 0
            out[key] = [list(row[key]) + [value] * (width - len(row[key])) for row in rows]
    if "text_features" in rows[0]:
        out["text_features"] = [list(row["text_features"]) for row in rows]
    if return_tensors == "pt":
        out = {
            key: torch.tensor(value, dtype=torch.float32 if key == "text_features" else torch.long)
            for key, value in out.items()
        }
    elif return_tensors is not None:
        raise ValueError(f"return_tensors must be 'pt' or None, got {return_tensors!r}.")
    return BatchEncoding(out)
