"""The bi-encoder's pair head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BiEncoderHead(nn.Module):
    """Symmetric pair head: an MLP over (u, v, |u-v|, u*v), averaged over both orders, plus a cosine term.

    The learned cosine term (``scale * cos(u, v) + bias`` added to the "equivalent" logit) starts the
    untrained classifier as a cosine-similarity judge (P = 0.5 at cosine 0.5); the MLP's output layer
    starts at zero and learns what cosine misses.

    With ``num_text_features > 0``, a linear term over standardized surface features of the pair (see
    :mod:`darling.partition.classifier.text_features`) is added to the "equivalent" logit too; its
    weights start at zero.

    With ``opening=True``, each embedding is the concatenation of the text's embedding and the
    embedding of its opening tokens (see ``PartitionClassifierConfig.opening_tokens``); the MLP and
    the cosine term read the first half, and ``opening_scale`` times the cosine of the two openings
    (starting at zero) is added to the "equivalent" logit.
    """

    def __init__(
        self,
        hidden_size: int,
        head_hidden_size: int,
        equivalent_label: int,
        num_text_features: int = 0,
        opening: bool = False,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.dense = nn.Linear(4 * hidden_size, head_hidden_size)
        self.out = nn.Linear(head_hidden_size, 2)
        self.cos_scale = nn.Parameter(torch.tensor(10.0))
        self.cos_bias = nn.Parameter(torch.tensor(-5.0))
        self.text_weights = nn.Linear(num_text_features, 1, bias=False) if num_text_features else None
        self.opening_scale = nn.Parameter(torch.tensor(0.0)) if opening else None
        self.equivalent_label = equivalent_label

    def forward(
        self, u: torch.Tensor, v: torch.Tensor, text_features: torch.Tensor | None = None
    ) -> torch.Tensor:
        def one_order(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            features = torch.cat([x, y, (x - y).abs(), x * y], dim=-1)
            return self.out(F.gelu(self.dense(features)))

        openings = None
        if self.opening_scale is not None:
            if u.shape[-1] != 2 * self.hidden_size or v.shape[-1] != 2 * self.hidden_size:
                raise ValueError(
                    f"This head takes text and opening embeddings concatenated ({2 * self.hidden_size} "
                    f"values a text), got {u.shape[-1]} and {v.shape[-1]}; embed with clf.embed(texts)."
                )
            openings = F.cosine_similarity(
                u[..., self.hidden_size :].float(), v[..., self.hidden_size :].float(), dim=-1
            )
            u, v = u[..., : self.hidden_size], v[..., : self.hidden_size]
        logits = (one_order(u, v) + one_order(v, u)) / 2
        cosine = F.cosine_similarity(u.float(), v.float(), dim=-1).to(logits.dtype)
        evidence = torch.zeros_like(logits)
        evidence[:, self.equivalent_label] = self.cos_scale * cosine + self.cos_bias
        if self.text_weights is not None:
            if text_features is None:
                raise ValueError("This head takes text features; build batches with clf.encode_pairs(pairs).")
            features = text_features.to(device=logits.device, dtype=self.text_weights.weight.dtype)
            evidence[:, self.equivalent_label] += self.text_weights(features).squeeze(-1).to(logits.dtype)
        if openings is not None:
            evidence[:, self.equivalent_label] += (self.opening_scale * openings).to(logits.dtype)
        return logits + evidence
