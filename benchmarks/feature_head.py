"""The features recipe (benchmarks only): frozen MiniLM cosines + surface text features -> logistic regression.

What darling 0.1 shipped as "the MiniLM head recipe", re-implemented with scikit-learn:

- every distinct text is embedded once by a frozen sentence-transformers encoder (all-MiniLM-L6-v2,
  256 tokens a text); the same pass gives its *opening*, the mean of its first 32 token states;
- a pair's columns are the cosine of the two embeddings, the cosine of the two openings and the
  eleven surface :mod:`text_features` of the whole texts (TF-IDF fitted on the training texts);
- the head is ``StandardScaler`` + ``LogisticRegression(class_weight="balanced")`` over them, so its
  decision point is P = 0.5 (the class-balanced loss puts it there).

The recipe was chosen on the 1,000 pairs it was cross-validated on; the held-out measurement in
docs/benchmarks/classifier-quality.md is what it is worth on pairs nobody tuned to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from text_features import SIMILARITY_FEATURES, TEXT_FEATURES, TextFeatures

Pair = tuple[str, str]
MAX_SEQ_LENGTH = 256
OPENING_TOKENS = 32

# (name, opening cosine?, text features): the rows the benchmark compares.
FEATURE_SETS: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    ("cosine only", False, ()),
    ("cosine + 6 similarity features", False, SIMILARITY_FEATURES[:6]),
    ("cosine + opening cosine + 11 text features (the recipe)", True, TEXT_FEATURES),
)
RECIPE = FEATURE_SETS[-1][0]


def load_encoder(name_or_path: str = "minilm", max_seq_length: int = MAX_SEQ_LENGTH):
    """A sentence-transformers encoder on the CPU (``"minilm"``: the offline all-MiniLM-L6-v2)."""
    from sentence_transformers import SentenceTransformer

    from darling.partitioning.embedding import resolve_model_name

    model = SentenceTransformer(resolve_model_name(name_or_path), device="cpu")
    model.max_seq_length = max_seq_length
    return model


def embed(
    model,
    texts: Sequence[str],
    opening_tokens: int = OPENING_TOKENS,
    batch_size: int = 32,
    show_progress: bool = False,
) -> dict[str, np.ndarray]:
    """Each distinct text's unit embedding and unit opening embedding, from one encoder pass.

    Returns:
        ``{text: array of shape (2, dim)}``: row 0 the sentence embedding (what the model's
        ``encode`` gives), row 1 the mean of the first ``opening_tokens`` real token states.
    """
    from tqdm.auto import tqdm

    texts = list(dict.fromkeys(texts))
    out = {}
    for start in tqdm(range(0, len(texts), batch_size), desc="embedding", disable=not show_progress):
        chunk = texts[start : start + batch_size]
        for text, row in zip(chunk, model.encode(chunk, batch_size=batch_size, output_value=None)):
            mask = row["attention_mask"].bool()
            opening = row["token_embeddings"][mask][:opening_tokens].float().mean(0)
            vectors = np.stack([row["sentence_embedding"].float().numpy(), opening.numpy()])
            out[text] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return out


def cosines(pairs: Sequence[Pair], vectors: Mapping[str, np.ndarray], which: int = 0) -> np.ndarray:
    """Cosine of each pair's embeddings (``which=0``) or openings (``which=1``)."""
    a = np.stack([vectors[a][which] for a, _ in pairs])
    b = np.stack([vectors[b][which] for _, b in pairs])
    return (a * b).sum(-1)


class FeatureHead:
    """A class-weighted logistic regression over a pair's cosine, opening cosine and text features.

    Args:
        vectors: :func:`embed`'s output for every text the head will see.
        opening: Use the opening cosine.
        features: Text feature names (:data:`text_features.TEXT_FEATURES` for the recipe).
        C: Inverse regularization strength of the logistic regression (on standardized columns).

    Example:
        ```python
        head = FeatureHead(embed(load_encoder(), texts)).fit(train_pairs, train_labels)
        probs = head.predict_proba(test_pairs)  # equivalent when > 0.5
        ```
    """

    def __init__(
        self,
        vectors: Mapping[str, np.ndarray],
        opening: bool = True,
        features: Sequence[str] = TEXT_FEATURES,
        C: float = 1.0,
    ) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.vectors = vectors
        self.opening = opening
        self.text_features = TextFeatures(features) if features else None
        self.model = make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", C=C, max_iter=1000)
        )

    def columns(self, pairs: Sequence[Pair]) -> np.ndarray:
        """The head's input: cosine, then opening cosine, then the raw text features."""
        parts = [cosines(pairs, self.vectors, 0)[:, None]]
        if self.opening:
            parts.append(cosines(pairs, self.vectors, 1)[:, None])
        if self.text_features is not None:
            parts.append(self.text_features.transform(pairs))
        return np.hstack(parts)

    def fit(self, pairs: Sequence[Pair], labels: Sequence[int]) -> FeatureHead:
        """Fits the TF-IDF document frequencies, the standardization and the regression on ``pairs``."""
        pairs, labels = list(pairs), np.asarray(labels, dtype=int)
        if len(set(labels.tolist())) < 2:
            raise ValueError("FeatureHead.fit needs both equivalent (1) and different (0) pairs.")
        if self.text_features is not None:
            self.text_features.fit(pairs)
        self.model.fit(self.columns(pairs), labels)
        return self

    def predict_proba(self, pairs: Sequence[Pair]) -> np.ndarray:
        """P(equivalent) of each pair."""
        return self.model.predict_proba(self.columns(list(pairs)))[:, 1]
