"""NoveltyBench ``distinct`` and ``utility`` as a Hugging Face ``evaluate`` metric (darling)."""

import datasets
import evaluate

from darling.evaluation.novelty import noveltybench_summary

_CITATION = """\
@article{zhang2025noveltybench,
  title={NoveltyBench: Evaluating Language Models for Humanlike Diversity},
  author={Zhang, Yiming and others},
  journal={arXiv preprint arXiv:2504.05228},
  year={2025}
}
"""

_DESCRIPTION = """\
NoveltyBench metrics of partitioned generations, under one of two protocols. `distinct` is the
number of equivalence classes among a prompt's generations. A generation's quality score (1-10) is
credited only if it is the first of its class (0 otherwise). Protocol "upstream" (NoveltyBench):
`utility` = average of the credited scores weighted by patience**i at position i (patience 0.8).
Protocol "darling" (the DARLING paper's fork of NoveltyBench): `utility` = sum of the credited
scores / number of generations, and `quality` = mean score of all generations. Every number is
averaged over prompts.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): the class label of each generation of each prompt,
        in generation order (for example from `darling.partition(..., mode="greedy")`).
    scores (`list` of `list` of `float`, optional): the quality score of each generation. Without
        scores only `mean_distinct` is returned.
    patience (`float`, optional): "upstream" utility patience (default 0.8).
    protocol (`str`, default "upstream"): "upstream" or "darling".
Returns:
    `dict`: {"mean_distinct": ..., "mean_utility": ...}, plus "mean_quality" under "darling".
Examples:
    >>> metric = evaluate.load(darling.metrics.path("noveltybench"))
    >>> metric.compute(predictions=[[0, 0, 1]], scores=[[10, 10, 5]], patience=0.5)
    {'mean_distinct': 2.0, 'mean_utility': 6.428571428571429}
    >>> metric.compute(predictions=[[0, 0, 1]], scores=[[10, 10, 5]], protocol="darling")
    {'mean_distinct': 2.0, 'mean_utility': 5.0, 'mean_quality': 8.333333333333334}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class NoveltyBench(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("int64"))}),
            reference_urls=["https://github.com/novelty-bench/novelty-bench"],
        )

    def _compute(self, predictions, scores=None, patience=None, protocol="upstream"):
        return noveltybench_summary(predictions, scores, patience=patience, protocol=protocol)
