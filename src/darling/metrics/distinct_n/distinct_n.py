"""Distinct-n of groups of generations as a Hugging Face ``evaluate`` measurement (darling)."""

import datasets
import evaluate

from darling.evaluation.diversity import distinct_n

_CITATION = """\
@inproceedings{li2016diversity,
  title={A Diversity-Promoting Objective Function for Neural Conversation Models},
  author={Li, Jiwei and Galley, Michel and Brockett, Chris and Gao, Jianfeng and Dolan, Bill},
  booktitle={NAACL},
  year={2016}
}
"""

_DESCRIPTION = """\
Distinct-n: the number of unique n-grams divided by the number of n-grams over a group of
generations (lower-cased whitespace tokens), averaged over groups. Distinct-4 is n = 4.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): the generations of each group (for example of each prompt).
    n (`int`, default 4): n-gram order.
Returns:
    `dict`: {"distinct_n": mean over groups}.
Examples:
    >>> measurement = evaluate.load(darling.metrics.path("distinct_n"))
    >>> measurement.compute(predictions=[["a b a b", "a b c"]], n=2)
    {'distinct_n': 0.6}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DistinctN(evaluate.Measurement):
    def _info(self):
        return evaluate.MeasurementInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("string"))}),
        )

    def _compute(self, predictions, n=4):
        values = [distinct_n(group, n=n) for group in predictions]
        return {"distinct_n": sum(values) / len(values)}
