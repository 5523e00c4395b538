"""Unbiased pass@k as a Hugging Face ``evaluate`` metric (darling)."""

import datasets
import evaluate

from darling.evaluation.passk import mean_pass_at_k

_CITATION = """\
@article{chen2021codex,
  title={Evaluating Large Language Models Trained on Code},
  author={Chen, Mark and others},
  journal={arXiv preprint arXiv:2107.03374},
  year={2021}
}
"""

_DESCRIPTION = """\
Unbiased pass@k (Chen et al. 2021): for each problem with n samples of which c are correct,
1 - C(n - c, k) / C(n, k), computed stably as 1 - prod_{i=n-c+1..n} (1 - k/i), then averaged over
problems. The samples' correctness is judged beforehand (for example with math-verify).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): for each problem, the correctness (1 or 0) of each of
        its samples. Problems may have different numbers of samples.
    k (`int` or `list` of `int`, default [1]): the k values; each must be <= every problem's samples.
Returns:
    `dict`: {"pass@k": mean pass@k over problems} for each k.
Examples:
    >>> metric = evaluate.load(darling.metrics.path("pass_at_k"))
    >>> metric.compute(predictions=[[1, 0, 0, 0], [0, 0, 0, 0]], k=[1, 2])
    {'pass@1': 0.125, 'pass@2': 0.25}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class PassAtK(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("int64"))}),
            reference_urls=["https://arxiv.org/abs/2107.03374"],
        )

    def _compute(self, predictions, k=(1,)):
        num_samples = [len(p) for p in predictions]
        num_correct = [sum(1 for x in p if x) for p in predictions]
        return mean_pass_at_k(num_samples, num_correct, k)
