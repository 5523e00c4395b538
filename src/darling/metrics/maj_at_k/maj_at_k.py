"""maj@k (majority voting over k samples) as a Hugging Face ``evaluate`` metric (darling)."""

import datasets
import evaluate

from darling.evaluation.majority import DEFAULT_RESAMPLES, answer_classes, mean_maj_at_k

_CITATION = """\
@article{wang2022selfconsistency,
  title={Self-Consistency Improves Chain of Thought Reasoning in Language Models},
  author={Wang, Xuezhi and others},
  journal={arXiv preprint arXiv:2203.11171},
  year={2022}
}
"""

_DESCRIPTION = """\
maj@k: a problem scores 1 when the most common final answer among k samples is correct (ties go to
the answer seen first), averaged over problems. As the DARLING authors' math evaluation, the vote is
averaged over `resamples` draws of k samples with replacement (30 there), or taken once over the
first k samples when `resamples` is None. Answers are grouped when math-verify calls them equal
(`match="math_verify"`) or only when identical (`match="exact"`, the official grouping); a missing
answer (None) votes for "no answer", which is never correct.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): for each problem, the extracted final answer of each
        sample (None when the sample gave none), e.g. from `darling.evaluation.extract_answer`.
    correct (`list` of `list` of `int`): for each problem, the correctness (1 or 0) of each sample.
    k (`int` or `list` of `int`, default [1]): the k values; each must be <= every problem's samples.
    resamples (`int` or None, default 30): draws of k samples with replacement; None: the first k.
    seed (`int`, default 0): seed of the draws.
    match (`str`, default "math_verify"): "math_verify" or "exact" answer grouping.
Returns:
    `dict`: {"maj@k": mean maj@k over problems} for each k.
Examples:
    >>> metric = evaluate.load(darling.metrics.path("maj_at_k"))
    >>> metric.compute(predictions=[["4", "4", "5"]], correct=[[1, 1, 0]], k=[3], resamples=None)
    {'maj@3': 1.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MajAtK(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("string"))}),
            reference_urls=["https://github.com/facebookresearch/darling"],
        )

    def _compute(
        self, predictions, correct=None, k=(1,), resamples=DEFAULT_RESAMPLES, seed=0, match="math_verify"
    ):
        if correct is None:
            raise ValueError(
                "maj_at_k needs `correct`: the correctness (1/0) of each sample of each problem."
            )
        labels = [answer_classes(answers, match=match) for answers in predictions]
        return mean_maj_at_k(labels, correct, k, resamples=resamples, seed=seed)
