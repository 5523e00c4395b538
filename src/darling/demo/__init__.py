"""An embedded, offline demo of DARLING against GRPO that runs on a laptop CPU.

``python -m darling.demo`` (or ``make demo``) warms up a tiny policy on a digit-sum task, trains it
once with quality-only GRPO and once with DARLING, and compares the three policies on held-out
targets. ``--task sums`` (the default) has many correct answers per prompt; ``--task required_digit``
holds out prompts that also require a digit, with one to three correct answers each.
"""

from darling.demo.config import DemoConfig
from darling.demo.evaluate import EvalSettings, evaluate_policy, score_samples
from darling.demo.policy import WarmupConfig, build_policy, char_tokenizer, sample, warm_up
from darling.demo.required_task import RequiredDigitTask
from darling.demo.run import run_demo, run_seed
from darling.demo.task import CanonicalFormJudge, SumCorrectnessReward, SumTask
from darling.demo.tasks import TASKS, get_task
from darling.demo.training import train

__all__ = [
    "TASKS",
    "CanonicalFormJudge",
    "DemoConfig",
    "EvalSettings",
    "RequiredDigitTask",
    "SumCorrectnessReward",
    "SumTask",
    "WarmupConfig",
    "build_policy",
    "char_tokenizer",
    "evaluate_policy",
    "get_task",
    "run_demo",
    "run_seed",
    "sample",
    "score_samples",
    "train",
    "warm_up",
]
