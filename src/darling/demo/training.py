"""RL training of the demo policy: quality-only GRPO and DARLING, with the same pinned settings.

Every setting that changes what training does is set here explicitly (:data:`PINNED_SETTINGS`
and :func:`rl_args`), for the GRPO run and the DARLING run alike, so a change of a default in
``trl.GRPOConfig``, ``transformers.TrainingArguments`` or :class:`~darling.DarlingConfig` cannot
move the demo's numbers. The only difference between the two runs is the reward.
"""

from __future__ import annotations

import copy
import os
import random

import torch
from tqdm.auto import tqdm
from transformers import TrainerCallback

from darling.demo.config import DemoConfig
from darling.demo.evaluate import EvalSettings, evaluate_policy
from darling.demo.task import SumCorrectnessReward, SumTask

PINNED_SETTINGS: dict[str, object] = {
    # Optimizer and schedule (learning rate and schedule type come from DemoConfig).
    "optim": "adamw_torch_fused",
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "warmup_steps": 0,
    "gradient_accumulation_steps": 1,
    # One optimizer step per generation batch, each batch used once.
    "steps_per_generation": 1,
    "num_iterations": 1,
    # The GRPO loss.
    "beta": 0.0,
    "epsilon": 0.2,
    "epsilon_high": 0.2,
    "delta": None,
    # No effect here (beta 0, no vLLM), pinned so both runs share them: DarlingConfig's defaults differ from TRL's.
    "use_bias_correction_kl": False,
    "vllm_importance_sampling_correction": False,
    "loss_type": "dapo",
    "importance_sampling_level": "token",
    "mask_truncated_completions": False,
    "top_entropy_quantile": 1.0,
    "entropy_coef": 0.0,
    "multi_objective_aggregation": "sum_then_normalize",
    # Sampling (temperature comes from DemoConfig).
    "top_k": 0,
    "top_p": 1.0,
    "min_p": None,
    "repetition_penalty": 1.0,
    "max_completion_length": 8,
    # Model and precision.
    "disable_dropout": False,
    "cast_lm_head_to_fp32": False,
    "use_cpu": True,
    "bf16": False,
    "fp16": False,
    "torch_compile": False,
    "use_liger_kernel": False,
    "use_vllm": False,
    # Data order.
    "shuffle_dataset": False,
}
"""Training settings the demo sets itself rather than inheriting library defaults."""

DARLING_SETTINGS: dict[str, object] = {"fusion": "multiplicative", "negative_quality": "allow"}
"""DARLING-only settings of :class:`~darling.DarlingConfig` the demo pins (quality is 0/1, never negative)."""


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


def rl_args(config: DemoConfig, seed: int, output_dir: str, darling: bool):
    """The ``trl.GRPOConfig`` (GRPO) or :class:`~darling.DarlingConfig` (DARLING) of one RL run.

    Both get :data:`PINNED_SETTINGS` and the demo's own settings; the DARLING one adds
    :data:`DARLING_SETTINGS` and a weight for the diversity reward.
    """
    settings = dict(
        PINNED_SETTINGS,
        output_dir=output_dir,
        report_to="none",
        max_steps=config.rl_steps,
        per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        num_generations=config.num_generations,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        temperature=config.temperature,
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        logging_steps=max(1, config.rl_steps // 10),
        # The trainer's own bar prints every log dict; _StepProgress shows a quiet bar instead.
        disable_tqdm=True,
    )
    if darling:
        from darling import DarlingConfig

        return DarlingConfig(**settings, **DARLING_SETTINGS, scale_rewards="none", reward_weights=[1.0, 1.0])
    from trl import GRPOConfig

    return GRPOConfig(**settings, scale_rewards=config.grpo_scale_rewards, reward_weights=[1.0])


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
    args = rl_args(config, seed, os.path.join(workdir, method), darling=method == "darling")
    if method == "grpo":
        from trl import GRPOTrainer

        trainer = GRPOTrainer(
            model=model, reward_funcs=[quality], args=args, train_dataset=dataset, processing_class=tokenizer
        )
    elif method == "darling":
        from darling import DarlingGRPOTrainer
        from darling.rewards import DiversityRewardFunction

        diversity = DiversityRewardFunction(
            judge=judge,
            mode="all_pairs",
            floor=config.diversity_floor,
            # Answers are a few characters: the short-text word-overlap rule would decide every pair.
            short_text_rule="off",
            num_generations=config.num_generations,
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
        for name, targets in (("held_out", None), ("train", self.task.train_eval_targets)):
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
