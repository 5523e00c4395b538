"""The demo pipeline: warm up a tiny policy, train it with GRPO and with DARLING, compare.

For each seed: build the policy, warm it up (the *base* policy), then train two copies of it with
the same steps, prompts, rollouts and seed: one with quality-only ``trl.GRPOTrainer`` (quality =
correctness), one with :class:`~darling.trainer.DarlingGRPOTrainer` and a
:class:`~darling.rewards.DiversityRewardFunction` (reward = correctness x diversity). All three are
evaluated on held-out targets.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import random
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import torch
from tqdm.auto import tqdm
from transformers import TrainerCallback

from darling.demo.evaluate import EvalSettings, evaluate_policy
from darling.demo.policy import WarmupConfig, build_policy, warm_up
from darling.demo.task import CanonicalFormJudge, SumCorrectnessReward, SumTask

METHODS = ("base", "grpo", "darling")
JUDGES = ("rule", "classifier")


@dataclass
class DemoConfig:
    """Settings of the demo (every field is a command-line flag: ``python -m darling.demo --help``)."""

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


def rl_dataset(task: SumTask, config: DemoConfig, seed: int):
    """The RL prompts, in a fixed seeded order: ``prompts_per_step`` training targets a step."""
    from datasets import Dataset

    rng = random.Random(seed)
    targets: list[int] = []
    needed = config.rl_steps * config.prompts_per_step
    while len(targets) < needed:
        block = list(task.train_targets)
        rng.shuffle(block)
        targets.extend(block)
    targets = targets[:needed]
    return Dataset.from_dict({"prompt": [task.prompt(t) for t in targets], "target": targets})


def _rl_args(config: DemoConfig, seed: int, output_dir: str, darling: bool):
    common = dict(
        output_dir=output_dir,
        use_cpu=True,
        bf16=False,
        report_to="none",
        max_steps=config.rl_steps,
        per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        num_generations=config.num_generations,
        max_completion_length=8,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=0,
        beta=0.0,
        temperature=config.temperature,
        top_k=0,
        top_p=1.0,
        seed=seed,
        data_seed=seed,
        shuffle_dataset=False,
        save_strategy="no",
        logging_steps=max(1, config.rl_steps // 10),
        # The trainer's own bar prints every log dict; _StepProgress shows a quiet bar instead.
        disable_tqdm=True,
    )
    if darling:
        from darling.trainer import DarlingConfig

        return DarlingConfig(**common, diversity_floor=config.diversity_floor)
    from trl import GRPOConfig

    return GRPOConfig(**common, scale_rewards=config.grpo_scale_rewards)


def train(
    method: str, base_model, tokenizer, task: SumTask, config: DemoConfig, seed: int, judge=None, workdir="."
):
    """Trains a copy of ``base_model`` with ``"grpo"`` or ``"darling"``; returns it and the training log.

    Args:
        method: ``"grpo"`` (``trl.GRPOTrainer``, correctness reward) or ``"darling"``
            (``DarlingGRPOTrainer``, correctness x diversity).
        base_model: The warmed-up policy; it is copied, never changed.
        tokenizer: Its tokenizer.
        task: The task.
        config: Demo settings.
        seed: Training seed.
        judge: The equivalence judge of the diversity reward (``"darling"`` only).
        workdir: Scratch directory for the trainer's output.

    Returns:
        ``(model, log_history)``.
    """
    model = copy.deepcopy(base_model)
    dataset = rl_dataset(task, config, seed)
    quality = SumCorrectnessReward(task)
    args = _rl_args(config, seed, os.path.join(workdir, method), darling=method == "darling")
    if method == "grpo":
        from trl import GRPOTrainer

        trainer = GRPOTrainer(
            model=model, reward_funcs=[quality], args=args, train_dataset=dataset, processing_class=tokenizer
        )
    elif method == "darling":
        from darling.rewards import DiversityRewardFunction
        from darling.trainer import DarlingGRPOTrainer

        diversity = DiversityRewardFunction(
            judge=judge, floor=config.diversity_floor, num_generations=config.num_generations
        )
        trainer = DarlingGRPOTrainer(
            model=model,
            reward_funcs=[quality, diversity],
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
        )
    else:
        raise ValueError(f"Unknown method {method!r}; choose 'grpo' or 'darling'.")
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    curve: list[dict] = []
    if config.eval_every:
        trainer.add_callback(_Curve(model, tokenizer, task, config, seed, curve))
    trainer.add_callback(
        _StepProgress(f"{'GRPO' if method == 'grpo' else 'DARLING'} (seed {seed})", config.progress)
    )
    trainer.train()
    model.eval()
    return model, trainer.state.log_history + curve


class _Curve(TrainerCallback):
    """Evaluates the policy every ``eval_every`` steps without touching the training RNG stream."""

    def __init__(self, model, tokenizer, task, config: DemoConfig, seed: int, out: list[dict]) -> None:
        self.model, self.tokenizer, self.task, self.config, self.out = model, tokenizer, task, config, out
        self.settings = EvalSettings(
            config.eval_samples, config.k_max, config.temperature, seed=10_000 + seed
        )

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.config.eval_every:
            return
        rng = torch.get_rng_state()
        entry = {"curve_step": state.global_step}
        for name, targets in (("held_out", None), ("train", self.task.train_targets)):
            metrics = evaluate_policy(self.model, self.tokenizer, self.task, self.settings, targets=targets)
            entry.update({f"{name}/{k}": metrics[k] for k in ("accuracy", "distinct_correct", "coverage")})
            entry[f"{name}/pass@{self.config.k_max}"] = metrics["pass@k"][-1]
        self.out.append(entry)
        self.model.train()
        torch.set_rng_state(rng)


class _StepProgress(TrainerCallback):
    """A progress bar over RL steps that shows the latest mean reward instead of printing log dicts."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self.desc, self.enabled, self.bar = desc, enabled, None

    def on_train_begin(self, args, state, control, **kwargs):
        self.bar = tqdm(total=state.max_steps, desc=self.desc, disable=not self.enabled, leave=False)

    def on_step_end(self, args, state, control, **kwargs):
        self.bar.update(1)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "reward" in logs:
            self.bar.set_postfix(reward=f"{float(logs['reward']):.3f}")

    def on_train_end(self, args, state, control, **kwargs):
        self.bar.close()


def rule_judge(task: SumTask):
    """The default judge: equal canonical forms (the short-text rule is off; the form is exact)."""
    from darling.partitioning import CallableJudge

    return CallableJudge(CanonicalFormJudge(task), short_text_rule="off")


def run_seed(task: SumTask, config: DemoConfig, seed: int, judge, workdir: str) -> dict:
    """Everything for one seed: base, GRPO and DARLING policies, their metrics and timings."""
    settings = EvalSettings(config.eval_samples, config.k_max, config.temperature, seed=10_000 + seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model, tokenizer = build_policy(seed, hidden_size=config.hidden_size, num_layers=config.num_layers)
    warm = WarmupConfig(steps=config.warmup_steps)
    warm_loss = warm_up(model, tokenizer, task, warm, seed=seed, progress=config.progress)
    timings["warmup_s"] = time.perf_counter() - start
    results = {"seed": seed, "warmup_loss": warm_loss, "metrics": {}, "train_metrics": {}, "logs": {}}
    results["metrics"]["base"] = evaluate_policy(model, tokenizer, task, settings)
    results["train_metrics"]["base"] = evaluate_policy(
        model, tokenizer, task, settings, targets=task.train_targets
    )
    for method in ("grpo", "darling"):
        start = time.perf_counter()
        trained, log = train(method, model, tokenizer, task, config, seed, judge=judge, workdir=workdir)
        timings[f"{method}_s"] = time.perf_counter() - start
        results["metrics"][method] = evaluate_policy(trained, tokenizer, task, settings)
        results["train_metrics"][method] = evaluate_policy(
            trained, tokenizer, task, settings, targets=task.train_targets
        )
        results["logs"][method] = log
    results["timings"] = timings
    return results


_QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
_QUIET_LOGGERS = ("transformers", "trl", "accelerate", "datasets")


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silences library chatter that would drown the demo's output, for the ``with`` block only.

    Inside the block: warnings are ignored, the libraries' loggers show errors only, and the offline
    environment variables are set (unless already set). Everything is restored on exit.
    """
    from transformers.utils import logging as hf_logging

    saved_env = {key: os.environ.get(key) for key in _QUIET_ENV}
    saved_levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    saved_verbosity = hf_logging.get_verbosity()
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore")
            for name in _QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
            hf_logging.set_verbosity_error()
            yield
    finally:
        hf_logging.set_verbosity(saved_verbosity)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(config: DemoConfig) -> dict:
    """Runs the whole demo and writes its table, PNG and JSON to ``config.output_dir``.

    Args:
        config: Demo settings.

    Returns:
        The results dict that is also written as ``results.json``.
    """
    with quiet_libraries():
        return _run_demo(config)


def _run_demo(config: DemoConfig) -> dict:
    from darling.demo.report import write_report

    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    task = SumTask()
    start = time.perf_counter()
    seeds = [config.seed + i for i in range(config.seeds)]
    runs = []
    classifier_metrics = None
    try:
        with tempfile.TemporaryDirectory(prefix="darling-demo-") as workdir:
            judge = rule_judge(task)
            if config.judge == "classifier":
                from darling.demo.classifier import train_task_classifier

                judge = train_task_classifier(
                    task, seed=config.seed, fast=config.fast, workdir=workdir, progress=config.progress
                )
                classifier_metrics = {"threshold": judge.config.threshold, **(judge.config.metrics or {})}
            for seed in tqdm(seeds, desc="seeds", disable=not config.progress or len(seeds) == 1):
                runs.append(run_seed(task, config, seed, judge, workdir))
    finally:
        torch.set_num_threads(threads)
    results = {"config": asdict(config), "task": _describe_task(task), "runs": runs}
    if classifier_metrics is not None:
        results["classifier"] = classifier_metrics
    results["elapsed_s"] = time.perf_counter() - start
    write_report(results, config.output_dir)
    return results


def _describe_task(task: SumTask) -> dict:
    return {
        "name": "digit sums",
        "prompt_example": task.prompt(13),
        "min_terms": task.min_terms,
        "max_terms": task.max_terms,
        "train_targets": list(task.train_targets),
        "held_out_targets": list(task.held_out),
        "valid_answers_per_held_out_target": {t: len(task.valid_answers(t)) for t in task.held_out},
    }
