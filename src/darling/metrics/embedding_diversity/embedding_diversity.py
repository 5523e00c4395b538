"""Embedding diversity of groups of generations as a Hugging Face ``evaluate`` measurement (darling)."""

import datasets
import evaluate

from darling.evaluation.diversity import embedding_diversity

_CITATION = """\
@inproceedings{reimers2019sentence,
  title={Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks},
  author={Reimers, Nils and Gurevych, Iryna},
  booktitle={EMNLP},
  year={2019}
}
"""

_DESCRIPTION = """\
Embedding diversity: the mean pairwise cosine distance (1 - cosine similarity) of the
sentence-transformers embeddings of a group's generations, averaged over groups.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): the generations of each group (at least two a group).
    model (`str` or `SentenceTransformer`, default "sentence-transformers/all-MiniLM-L6-v2"): the
        encoder, a hub name, a local path or a loaded model.
    batch_size (`int`, default 32): encoding batch size.
Returns:
    `dict`: {"embedding_diversity": mean over groups}.
Examples:
    >>> measurement = evaluate.load(darling.metrics.path("embedding_diversity"))
    >>> measurement.compute(predictions=[["a cat", "a cat"]], model=darling.partitioning.embedding.minilm_path())
    {'embedding_diversity': 0.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class EmbeddingDiversity(evaluate.Measurement):
    def _info(self):
        return evaluate.MeasurementInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("string"))}),
        )

    def _compute(self, predictions, model="sentence-transformers/all-MiniLM-L6-v2", batch_size=32):
        values = [embedding_diversity(group, model, batch_size=batch_size) for group in predictions]
        return {"embedding_diversity": sum(values) / len(values)}
