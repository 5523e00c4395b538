"""An embedded, offline demo of DARLING against GRPO that runs on a laptop CPU.

``python -m darling.demo`` (or ``make demo``) warms up a tiny policy on a digit-sum task with many
correct answers per prompt, trains it once with quality-only GRPO and once with DARLING, and
compares the three policies on held-out targets.
"""

from darling.demo.evaluate import EvalSettings, evaluate_policy, score_samples
from darling.demo.policy import WarmupConfig, build_policy, char_tokenizer, sample, warm_up
from darling.demo.run import DemoConfig, run_demo, run_seed, train
from darling.demo.task import CanonicalFormJudge, SumCorrectnessReward, SumTask

__all__ = [
    "CanonicalFormJudge",
    "DemoConfig",
    "EvalSettings",
    "SumCorrectnessReward",
    "SumTask",
    "WarmupConfig",
    "build_policy",
    "char_tokenizer",
    "evaluate_policy",
    "run_demo",
    "run_seed",
    "sample",
    "score_samples",
    "train",
    "warm_up",
]
