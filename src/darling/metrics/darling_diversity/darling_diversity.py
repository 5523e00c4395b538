"""Mean DARLING diversity of partitioned groups as a Hugging Face ``evaluate`` measurement (darling)."""

import datasets
import evaluate

from darling.evaluation.diversity import darling_diversity

_CITATION = """\
@article{li2025darling,
  title={Jointly Reinforcing Diversity and Quality in Language Model Generations},
  author={Li, Tianjian and others},
  journal={arXiv preprint arXiv:2509.02534},
  year={2025}
}
"""

_DESCRIPTION = """\
Mean DARLING diversity of partitioned groups: each generation gets (n - |C|) / (n - 1), the share
of the other generations of its group outside its class C (floored at `floor`); the mean over the
group, then over groups.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): the class label of each generation of each group.
    floor (`float`, default 0.0): lower bound of each generation's diversity (DARLING training: 0.1).
Returns:
    `dict`: {"darling_diversity": mean over groups}.
Examples:
    >>> measurement = evaluate.load(darling.metrics.path("darling_diversity"))
    >>> measurement.compute(predictions=[[0, 0, 1, 2]])
    {'darling_diversity': 0.8333333333333333}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DarlingDiversity(evaluate.Measurement):
    def _info(self):
        return evaluate.MeasurementInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("int64"))}),
        )

    def _compute(self, predictions, floor=0.0):
        values = [darling_diversity(group, floor=floor) for group in predictions]
        return {"darling_diversity": sum(values) / len(values)}
