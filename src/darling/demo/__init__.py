"""An embedded, offline demo of DARLING against GRPO that runs on a laptop CPU.

``python -m darling.demo`` (or ``make demo``) warms up a tiny policy on a digit-sum task, trains it
once with quality-only GRPO and once with DARLING, and compares the three policies on held-out
targets. ``--task sums`` (the default) has many correct answers per prompt; ``--task required_digit``
holds out prompts that also require a digit, with one to three correct answers each.
"""

from darling.demo.config import DemoConfig
from darling.demo.required_task import RequiredDigitTask
from darling.demo.run import run_demo
from darling.demo.task import SumTask
from darling.demo.tasks import TASKS, get_task

# What a user calls; the pieces behind them (policy, training, evaluation, report) stay in their modules.
__all__ = ["TASKS", "DemoConfig", "RequiredDigitTask", "SumTask", "get_task", "run_demo"]
