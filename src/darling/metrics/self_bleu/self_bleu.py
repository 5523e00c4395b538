"""Self-BLEU of groups of generations as a Hugging Face ``evaluate`` measurement (darling)."""

import datasets
import evaluate

from darling.evaluation.diversity import self_bleu

_CITATION = """\
@inproceedings{zhu2018texygen,
  title={Texygen: A Benchmarking Platform for Text Generation Models},
  author={Zhu, Yaoming and others},
  booktitle={SIGIR},
  year={2018}
}
"""

_DESCRIPTION = """\
Self-BLEU: the BLEU of each generation against the other generations of its group as references,
averaged over the group and then over groups; lower means more diverse. Sentence BLEU with uniform
weights over n-gram orders 1..max_order, clipped precisions, the brevity penalty against the
closest reference length, lower-cased whitespace tokens, and NLTK's method1 smoothing (a precision
with no match counts epsilon = 0.1 matches).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): the generations of each group (at least two a group).
    max_order (`int`, default 4): highest n-gram order.
Returns:
    `dict`: {"self_bleu": mean over groups}.
Examples:
    >>> measurement = evaluate.load(darling.metrics.path("self_bleu"))
    >>> measurement.compute(predictions=[["the cat sat down", "the cat sat down"]])
    {'self_bleu': 1.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SelfBleu(evaluate.Measurement):
    def _info(self):
        return evaluate.MeasurementInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("string"))}),
        )

    def _compute(self, predictions, max_order=4):
        values = [self_bleu(group, max_order=max_order) for group in predictions]
        return {"self_bleu": sum(values) / len(values)}
