"""DarlingGRPOTrainer: GRPO whose reward is quality x semantic diversity."""

from __future__ import annotations

import contextlib
import copy
import os
import textwrap
import warnings
from typing import Any, ClassVar

import torch
from trl import GRPOConfig, GRPOTrainer

from darling.rewards.diversity import AsyncDiversityRewardFunction, DiversityRewardFunction
from darling.trainer.config import DarlingConfig
from darling.trainer.fusion import fuse_rewards, weighted_quality
from darling.trainer.prompt_filter import drop_long_prompts

_CITATION = textwrap.dedent("""\
    @article{li2025jointly,
        title        = {{Jointly Reinforcing Diversity and Quality in Language Model Generations}},
        author       = {Tianjian Li and Yiming Zhang and Ping Yu and Swarnadeep Saha and Daniel Khashabi and Jason Weston and Jack Lanchantin and Tianlu Wang},
        year         = 2025,
        eprint       = {arXiv:2509.02534},
    }""")


@contextlib.contextmanager
def full_weights_under_zero3():
    """Loads models with all their weights on this process even when DeepSpeed ZeRO-3 is active.

    Under ZeRO-3, ``from_pretrained`` partitions a model's parameters across processes, which only
    works for a model the DeepSpeed engine wraps. The partition classifier is not trained and each
    process runs its own copy, so it is loaded outside ZeRO-3's init context. A no-op without
    DeepSpeed.
    """
    from transformers.integrations import deepspeed

    reference = getattr(deepspeed, "_hf_deepspeed_config_weak_ref", None)
    config = reference() if reference is not None else None
    if config is None:
        yield
        return
    deepspeed.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        deepspeed.set_hf_deepspeed_config(config)


def _is_diversity_reward(func: Any) -> bool:
    return isinstance(func, DiversityRewardFunction)


def _describe_judge(reward: DiversityRewardFunction, fallback: str | None = None) -> str:
    """A short human-readable name of the judge behind a diversity reward (for the model card)."""
    if fallback or reward.classifier_id:
        return str(fallback or reward.classifier_id)
    return type(reward.classifier).__name__ if reward.classifier is not None else repr(reward.judge)


class DarlingGRPOTrainer(GRPOTrainer):
    """GRPO trainer for DARLING (Diversity-Aware RL, arXiv 2509.02534).

    Each rollout's reward is ``quality x diversity``, where quality is the weighted sum of every
    reward function except the diversity one (``reward_weights``, with TRL's ``nansum``) and
    diversity comes from a :class:`~darling.rewards.DiversityRewardFunction` that partitions each
    prompt's rollouts into semantic-equivalence classes. The advantage is ``reward - group mean``
    (no std division with the default ``scale_rewards="none"``).

    The only change w.r.t. ``GRPOTrainer`` is ``_calculate_rewards``: it calls TRL's version, fuses
    quality and diversity on the gathered ``(N, K)`` rewards and returns them with one extra column
    holding the fused reward; the trainer's reward weights are ``0`` for the ``K`` raw columns and
    ``1`` for the fused one, so TRL's weighted sum, its advantages and its ``reward`` metric all use
    the fused reward while ``rewards/<func>/mean`` still logs each raw reward. Logged in addition:
    ``darling/quality_mean``, ``darling/diversity_mean``, ``darling/fused_reward_mean`` and
    ``darling/fused_reward_std``.

    A diversity reward built from ``args.diversity_classifier`` loads the classifier on each
    process's own device (in bf16 when training in bf16); every process partitions whole groups.

    A rollout whose quality rewards are all ``None`` (or whose diversity is ``None``) is unscorable:
    it is left out of its group's mean and gets advantage 0, as in TRL.

    Args:
        model: The policy, as in ``GRPOTrainer``.
        reward_funcs: Quality reward functions, optionally with one ``DiversityRewardFunction``
            (its own judge and settings are kept; its ``num_generations`` is set from ``args``).
            Without one, it is built from ``args.diversity_classifier``.
        args: A :class:`~darling.trainer.DarlingConfig`.
        **kwargs: Everything else ``GRPOTrainer`` accepts (``train_dataset``, ``processing_class``, ...).

    Raises:
        TypeError: If ``args`` is not a ``DarlingConfig``.
        ValueError: If there is no quality reward, more than one diversity reward, neither a
            diversity reward nor ``args.diversity_classifier``, or reward weights that do not fit.

    Example:
        ```python
        # doc: no-run
        from darling import DarlingConfig, DarlingGRPOTrainer, DiversityRewardFunction, MathAccuracyReward

        diversity = DiversityRewardFunction.from_pretrained("dogtooth/qwen3-4b-emb-finetuned-step-70-hf")
        trainer = DarlingGRPOTrainer(
            model="Qwen/Qwen3-4B-Base",
            reward_funcs=[MathAccuracyReward(), diversity],
            args=DarlingConfig(output_dir="qwen3-4b-darling"),
            train_dataset=dataset,
        )
        trainer.train()
        ```
    """

    _tag_names: ClassVar[list[str]] = ["trl", "grpo", "darling"]
    _name = "DARLING"
    _paper: ClassVar[dict[str, str]] = {
        "title": "Jointly Reinforcing Diversity and Quality in Language Model Generations",
        "id": "2509.02534",
        "citation": _CITATION,
    }

    def __init__(self, model, reward_funcs=None, args: DarlingConfig | None = None, **kwargs):
        if args is None:
            name = (
                model
                if isinstance(model, str)
                else getattr(getattr(model, "config", None), "_name_or_path", "")
            )
            args = DarlingConfig(f"{str(name).split('/')[-1] or 'model'}-DARLING")
        elif not isinstance(args, DarlingConfig):
            kind = "a GRPOConfig" if isinstance(args, GRPOConfig) else type(args).__name__
            raise TypeError(
                f"DarlingGRPOTrainer needs a DarlingConfig, got {kind}; DarlingConfig takes every GRPOConfig "
                "field, so build a DarlingConfig(output_dir=..., ...) with the same settings instead."
            )
        funcs = (
            []
            if reward_funcs is None
            else list(reward_funcs)
            if isinstance(reward_funcs, list)
            else [reward_funcs]
        )
        diversity_positions = [i for i, func in enumerate(funcs) if _is_diversity_reward(func)]
        if len(diversity_positions) > 1:
            raise ValueError(
                f"reward_funcs holds {len(diversity_positions)} DiversityRewardFunctions (positions "
                f"{diversity_positions}); DARLING multiplies quality by one diversity score, keep exactly one."
            )
        if len(funcs) == len(diversity_positions):
            raise ValueError(
                "DarlingGRPOTrainer needs at least one quality reward function (e.g. darling.rewards."
                "MathAccuracyReward or RewardModelReward) in reward_funcs; diversity alone has nothing to multiply."
            )
        if diversity_positions:
            self._diversity_index = diversity_positions[0]
            ignored = [
                f"{name}={getattr(args, name)!r}"
                for name in ("diversity_classifier", "diversity_servers", "diversity_kwargs")
                if getattr(args, name)
            ]
            if ignored:
                warnings.warn(
                    f"{', '.join(ignored)} ignored: reward_funcs already holds a DiversityRewardFunction, which keeps "
                    "its own judge and settings (set them on it, or drop it from reward_funcs).",
                    UserWarning,
                    stacklevel=2,
                )
        else:
            funcs.append(self._build_diversity_reward(args))
            self._diversity_index = len(funcs) - 1
            if args.reward_weights is not None and len(args.reward_weights) == len(funcs) - 1:
                # The user weighted only the quality functions; the built diversity function gets a neutral 1.0.
                args = copy.copy(args)
                args.reward_weights = [*args.reward_weights, 1.0]
        self._check_diversity_weight(args, len(funcs))
        self.diversity_reward = funcs[self._diversity_index]
        self.diversity_reward.num_generations = args.num_generations
        self._warned_negative_quality = False

        super().__init__(model, reward_funcs=funcs, args=args, **kwargs)

        # Quality = weighted sum of every raw column but the diversity one; TRL's own weights then select
        # only the fused column that _calculate_rewards appends.
        quality_weights = self.reward_weights.clone()
        quality_weights[self._diversity_index] = 0.0
        self.quality_weights = quality_weights
        self.reward_weights = torch.cat([torch.zeros_like(quality_weights), torch.ones(1)])
        if args.max_prompt_length is not None:
            self._drop_long_prompts(args.max_prompt_length)

    def _drop_long_prompts(self, max_length: int) -> None:
        """Applies ``DarlingConfig.max_prompt_length`` to the train and eval datasets (verl's prompt filter)."""
        if getattr(self, "environment_factories", None) is not None:
            raise ValueError(
                "max_prompt_length cannot count prompt tokens when environment_factories are set (each "
                "environment renders its own tools); filter the dataset yourself and set max_prompt_length=None."
            )

        def count_tokens(prompts):
            # TRL's own prompt tokenization: chat template, tools and chat_template_kwargs included.
            return [len(ids) for ids in self._tokenize_prompts(list(prompts))[0]]

        show = self.is_world_process_zero()
        self.train_dataset = drop_long_prompts(
            self.train_dataset, count_tokens, max_length, "train", show_progress=show
        )
        self.eval_dataset = drop_long_prompts(
            self.eval_dataset, count_tokens, max_length, "eval", show_progress=show
        )

    @staticmethod
    def _build_diversity_reward(args: DarlingConfig):
        if not args.diversity_classifier:
            raise ValueError(
                "DarlingGRPOTrainer needs a diversity reward: add a darling.rewards.DiversityRewardFunction to "
                "reward_funcs, or set DarlingConfig.diversity_classifier to a PartitionClassifier path or hub id "
                "(e.g. 'dogtooth/similarity-classifier-f168-hf')."
            )
        options = dict(args.diversity_kwargs or {})
        if args.diversity_servers:
            # Served: no weights here; the async reward lets TRL await the servers next to other async rewards.
            builder, loading = (
                AsyncDiversityRewardFunction.from_pretrained,
                {"servers": args.diversity_servers},
            )
        else:
            builder, loading = (
                DiversityRewardFunction.from_pretrained,
                {"model_kwargs": options.pop("model_kwargs", {})},
            )
            device = args.device
            if device.type != "cpu":
                # Each process scores whole groups with its own copy, on its own accelerator.
                loading["model_kwargs"] = {"device_map": {"": str(device)}, **loading["model_kwargs"]}
                if args.bf16:
                    loading["model_kwargs"].setdefault("dtype", torch.bfloat16)
        with full_weights_under_zero3():
            try:
                return builder(args.diversity_classifier, **loading, **options)
            except TypeError as err:
                if "unexpected keyword argument" not in str(err):
                    raise
                raise ValueError(
                    f"DarlingConfig.diversity_kwargs={args.diversity_kwargs!r} holds an argument that "
                    f"DiversityRewardFunction.from_pretrained does not take ({err}); use threshold, mode, floor, "
                    "short_text_rule, batch_size, correctness_threshold, model_kwargs or server_options."
                ) from None

    def _check_diversity_weight(self, args: DarlingConfig, num_funcs: int) -> None:
        weights = args.reward_weights
        if weights is None:
            return
        if len(weights) != num_funcs:
            raise ValueError(
                f"reward_weights has {len(weights)} entries for {num_funcs} reward functions (the diversity "
                "function included); give one weight per reward function."
            )
        if float(weights[self._diversity_index]) != 1.0:
            raise ValueError(
                f"reward_weights gives the diversity function weight {weights[self._diversity_index]}, but DARLING "
                "does not sum it: set that entry to 1.0 and use fusion='additive' with diversity_weight to weight "
                "diversity."
            )
        if all(float(w) == 0.0 for i, w in enumerate(weights) if i != self._diversity_index):
            raise ValueError(
                "reward_weights gives every quality function weight 0; give at least one a weight."
            )

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        mode = "train" if self.model.training else "eval"
        num_generations = self.num_generations if mode == "train" else self.num_generations_eval
        self.diversity_reward.num_generations = num_generations
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)

        quality = weighted_quality(rewards_per_func, self.quality_weights)
        diversity = rewards_per_func[:, self._diversity_index]
        multiplies_raw = self.args.fusion == "multiplicative" and self.args.negative_quality == "allow"
        if multiplies_raw and not self._warned_negative_quality and bool((quality < 0).any()):
            self._warned_negative_quality = True
            warnings.warn(
                f"Quality rewards are negative (minimum {quality[quality < 0].min().item():.4g}) and are multiplied "
                "by diversity as they are (negative_quality='allow', as the official DARLING runs did), which "
                "punishes the more diverse of two rollouts with the same negative score. Set "
                "DarlingConfig.negative_quality='shift' (the official add_bias: subtract each group's minimum "
                "quality first) or 'shift_if_negative' to avoid it. This warning is shown once.",
                UserWarning,
                stacklevel=2,
            )
        fused = fuse_rewards(
            quality,
            diversity,
            fusion=self.args.fusion,
            weight=self.args.diversity_weight,
            negative_quality=self.args.negative_quality,
            num_generations=num_generations,
        )
        metrics = self._metrics[mode]
        metrics["darling/quality_mean"].append(torch.nanmean(quality).item())
        metrics["darling/diversity_mean"].append(torch.nanmean(diversity).item())
        metrics["darling/fused_reward_mean"].append(torch.nanmean(fused).item())
        valid = fused[~torch.isnan(fused)]
        metrics["darling/fused_reward_std"].append(valid.std().item() if valid.numel() > 1 else 0.0)

        combined = torch.cat([rewards_per_func, fused.unsqueeze(1)], dim=1)
        # An unscorable row must be all-NaN for TRL to leave it out of the baseline and zero its advantage.
        combined[torch.isnan(fused)] = torch.nan
        return combined

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        """Writes TRL's model card, plus a DARLING section naming the diversity classifier and settings."""
        super().create_model_card(model_name=model_name, dataset_name=dataset_name, tags=tags)
        if not self.is_world_process_zero():
            return
        path = os.path.join(self.args.output_dir, "README.md")
        if not os.path.isfile(path):
            return
        args = self.args
        reward = self.diversity_reward
        has_classifier = args.diversity_classifier or reward.classifier is not None
        label = "Diversity classifier" if has_classifier else "Diversity judge"
        threshold = getattr(reward.judge, "threshold", None)
        threshold = f" (threshold {threshold})" if threshold is not None else ""
        weight = f" (weight {args.diversity_weight})" if args.fusion == "additive" else ""
        quality = [n for i, n in enumerate(self.reward_func_names) if i != self._diversity_index]
        section = [
            "",
            "",
            "## DARLING settings",
            "",
            f"- {label}: `{_describe_judge(reward, args.diversity_classifier)}`{threshold}",
            f"- Partition mode: `{reward.mode}`, diversity floor {reward.floor}",
            f"- Fusion: `{args.fusion}`{weight}, negative quality: `{args.negative_quality}`",
            f"- Quality rewards: {', '.join(quality)}",
            f"- Rollouts per prompt: {args.num_generations}, advantage scaling: `{args.scale_rewards}`",
            "",
        ]
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(section))
