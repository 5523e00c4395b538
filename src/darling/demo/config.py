"""The demo's settings: every one is a command-line flag of ``python -m darling.demo``."""

from __future__ import annotations

from dataclasses import dataclass, field

from darling.demo.evaluate import EvalSettings
from darling.demo.tasks import TASKS

JUDGES = ("rule", "classifier")


@dataclass
class DemoConfig:
    """Settings of the demo (every field is a command-line flag: ``python -m darling.demo --help``)."""

    task: str = field(
        default="sums",
        metadata={
            "help": "Built-in task: 'sums' (many correct answers per target: how many different ones each method "
            "keeps) or 'required_digit' (held-out prompts that also require a digit, with one to three correct "
            "answers each: whether the narrowed policy can still reach them)."
        },
    )
    seeds: int = field(
        default=1, metadata={"help": "Number of seeds (seed, seed+1, ...); >1 reports mean and spread."}
    )
    seed: int = field(default=0, metadata={"help": "First seed."})
    output_dir: str = field(default="outputs/demo", metadata={"help": "Where the table, PNG and JSON go."})
    judge: str = field(
        default="rule",
        metadata={
            "help": "Equivalence judge of the DARLING reward: 'rule' (canonical form, exact) or 'classifier' (first "
            "train a PartitionClassifier on answer pairs of the task, then use it)."
        },
    )
    fast: bool = field(
        default=False, metadata={"help": "A few steps of everything: checks the pipeline, not the result."}
    )
    warmup_steps: int = field(default=600, metadata={"help": "Supervised warm-up steps."})
    rl_steps: int = field(default=600, metadata={"help": "RL steps of each of GRPO and DARLING."})
    learning_rate: float = field(default=5e-4, metadata={"help": "RL learning rate."})
    lr_scheduler_type: str = field(
        default="constant",
        metadata={"help": "RL learning-rate schedule ('constant', 'cosine', 'linear', ...)."},
    )
    num_generations: int = field(default=8, metadata={"help": "Rollouts per prompt (group size)."})
    prompts_per_step: int = field(default=4, metadata={"help": "Prompts per RL step."})
    temperature: float = field(
        default=1.0, metadata={"help": "Sampling temperature for rollouts and evaluation."}
    )
    diversity_floor: float = field(default=0.1, metadata={"help": "DARLING's diversity floor."})
    grpo_scale_rewards: str = field(
        default="none",
        metadata={
            "help": "Advantage scaling of the GRPO baseline: 'group' (trl.GRPOConfig's default, standard GRPO) or "
            "'none' (the same advantages as DARLING, so only the reward differs)."
        },
    )
    eval_every: int = field(
        default=100,
        metadata={"help": "Also evaluate every this many RL steps (training curves in the JSON); 0 = off."},
    )
    eval_samples: int = field(default=32, metadata={"help": "Samples per held-out prompt."})
    k_max: int = field(default=16, metadata={"help": "pass@k is reported for k = 1..k_max."})
    hidden_size: int = field(default=64, metadata={"help": "Hidden size of the tiny policy."})
    num_layers: int = field(default=2, metadata={"help": "Layers of the tiny policy."})
    threads: int = field(
        default=1,
        metadata={"help": "torch CPU threads; 1 is fastest for this tiny policy, 0 keeps torch's default."},
    )
    progress: bool = field(default=True, metadata={"help": "Show progress bars."})

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}.")
        if self.judge not in JUDGES:
            raise ValueError(f"--judge must be one of {', '.join(JUDGES)}, got {self.judge!r}.")
        if self.grpo_scale_rewards not in ("group", "batch", "none"):
            raise ValueError(
                f"--grpo_scale_rewards must be 'group', 'batch' or 'none', got {self.grpo_scale_rewards!r}."
            )
        if self.seeds < 1:
            raise ValueError(f"--seeds must be at least 1, got {self.seeds}.")
        if self.num_generations < 2:
            raise ValueError(f"--num_generations must be at least 2 (a group), got {self.num_generations}.")
        if self.fast:
            self.warmup_steps = min(self.warmup_steps, 20)
            self.rl_steps = min(self.rl_steps, 2)
            self.eval_every = min(self.eval_every, 1)
            self.eval_samples = min(self.eval_samples, 16)
            self.num_generations = min(self.num_generations, 4)
            self.prompts_per_step = min(self.prompts_per_step, 2)
        EvalSettings(self.eval_samples, self.k_max)  # validates the evaluation sizes early
