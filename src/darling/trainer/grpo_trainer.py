"""DarlingGRPOTrainer: TRL's GRPOTrainer with DARLING's fused reward and the paper's defaults."""

from __future__ import annotations

import contextlib
import copy
import os
import textwrap
import warnings
from typing import Any, ClassVar

import torch
from trl import GRPOConfig, GRPOTrainer
from trl.data_utils import is_conversational

from darling.rewards.diversity import AsyncDiversityRewardFunction, DiversityRewardFunction
from darling.rewards.fused import DarlingReward
from darling.trainer.config import DarlingConfig
from darling.trainer.prompt_filter import drop_long_prompts
from darling.trainer.run_files import reproduce_section, save_run_files

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


def _describe_judge(reward: DiversityRewardFunction, fallback: str | None = None) -> str:
    """A short human-readable name of the judge behind a diversity reward (for the model card)."""
    if fallback or reward.classifier_id:
        return str(fallback or reward.classifier_id)
    return type(reward.classifier).__name__ if reward.classifier is not None else repr(reward.judge)


class DarlingGRPOTrainer(GRPOTrainer):
    """GRPO trainer for DARLING (Diversity-Aware RL, arXiv 2509.02534).

    A thin ``trl.GRPOTrainer``: it turns ``reward_funcs`` into one
    :class:`~darling.rewards.DarlingReward` (quality x diversity per rollout, where quality is the
    weighted sum of every reward function except the diversity one) and trains on it with
    :class:`~darling.trainer.DarlingConfig`'s defaults (``scale_rewards="none"``: the advantage is
    ``reward - group mean``). Everything else is TRL's own training loop, unchanged, so
    ``trl.GRPOTrainer(reward_funcs=[DarlingReward(...)], args=GRPOConfig(scale_rewards="none", ...))``
    trains the same model.

    TRL logs the fused reward as ``rewards/darling/mean`` and ``reward``; the fused reward logs
    ``darling/quality_mean``, ``darling/diversity_mean``, ``darling/fused_reward_mean``,
    ``darling/quality/<name>_mean``, ``darling/collapsed_groups`` and its other diversity metrics,
    and puts each rollout's class id, diversity and quality in TRL's completions table.

    A diversity reward built from ``args.diversity_classifier`` loads the classifier on each
    process's own device (in bf16 when training in bf16); every process partitions whole groups.
    A rollout whose quality rewards are all ``None`` is unscorable: it is left out of its group's
    mean and gets advantage 0, as in TRL.

    Args:
        model: The policy, as in ``GRPOTrainer``.
        reward_funcs: Quality reward functions, optionally with one ``DiversityRewardFunction``
            (its own judge and settings are kept; its ``num_generations`` is set from ``args``), or
            one ready-made ``DarlingReward`` (used as it is). Without a diversity reward, one is
            built from ``args.diversity_classifier`` and ``args.diversity_kwargs``.
        args: A :class:`~darling.trainer.DarlingConfig`; its ``reward_weights`` weight the quality
            functions (one entry per reward function; the diversity function's entry, if given, is 1.0).
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
        if len(funcs) == 1 and isinstance(funcs[0], DarlingReward):
            self.darling_reward = funcs[0]
            self._warn_ignored(
                args,
                ("diversity_classifier", "diversity_servers", "diversity_kwargs", "reward_weights"),
                "DarlingReward",
            )
            reward = self.darling_reward
            if (reward.fusion, reward.diversity_weight, reward.negative_quality) != (
                args.fusion,
                args.diversity_weight,
                args.negative_quality,
            ):
                warnings.warn(
                    f"The DarlingReward in reward_funcs keeps its own fusion={reward.fusion!r}, diversity_weight="
                    f"{reward.diversity_weight!r} and negative_quality={reward.negative_quality!r}; the config's "
                    f"({args.fusion!r}, {args.diversity_weight!r}, {args.negative_quality!r}) are ignored.",
                    UserWarning,
                    stacklevel=2,
                )
        else:
            self.darling_reward = self._build_darling_reward(funcs, args)
        self.darling_reward.num_generations = args.num_generations
        self.diversity_reward = self.darling_reward.diversity
        self.recipe_args = args  # as given: the recipe saved with the policy records its reward_weights
        if args.reward_weights is not None:
            # The weights now live in the fused reward; TRL sees one reward function of weight 1.
            args = copy.copy(args)
            args.reward_weights = None

        super().__init__(model, reward_funcs=[self.darling_reward], args=args, **kwargs)

        if args.max_prompt_length is not None:
            self.train_dataset = self._drop_long_prompts(self.train_dataset, args.max_prompt_length, "train")
            self.eval_dataset = self._drop_long_prompts(self.eval_dataset, args.max_prompt_length, "eval")

    @staticmethod
    def _warn_ignored(args: DarlingConfig, names: tuple[str, ...], holder: str) -> None:
        ignored = [f"{name}={getattr(args, name)!r}" for name in names if getattr(args, name)]
        if ignored:
            warnings.warn(
                f"{', '.join(ignored)} ignored: reward_funcs already holds a {holder}, which keeps its own settings "
                "(set them on it, or drop it from reward_funcs).",
                UserWarning,
                stacklevel=3,
            )

    @classmethod
    def _build_darling_reward(cls, funcs: list[Any], args: DarlingConfig) -> DarlingReward:
        """The fused reward of ``reward_funcs`` and ``args``: quality functions, their weights and the diversity."""
        if any(isinstance(func, DarlingReward) for func in funcs):
            raise ValueError(
                "A DarlingReward already fuses quality and diversity: pass it alone as reward_funcs=[darling_reward], "
                "or pass its quality functions and diversity reward instead."
            )
        positions = [i for i, func in enumerate(funcs) if isinstance(func, DiversityRewardFunction)]
        if len(positions) > 1:
            raise ValueError(
                f"reward_funcs holds {len(positions)} DiversityRewardFunctions (positions {positions}); DARLING "
                "multiplies quality by one diversity score, keep exactly one."
            )
        if len(funcs) == len(positions):
            raise ValueError(
                "DarlingGRPOTrainer needs at least one quality reward function (e.g. darling.rewards."
                "MathAccuracyReward or RewardModelReward) in reward_funcs; diversity alone has nothing to multiply."
            )
        weights = args.reward_weights
        if positions:
            cls._warn_ignored(
                args,
                ("diversity_classifier", "diversity_servers", "diversity_kwargs"),
                "DiversityRewardFunction",
            )
            diversity = funcs[positions[0]]
            if weights is not None:
                cls._check_weights(weights, len(funcs), positions[0])
                weights = [w for i, w in enumerate(weights) if i != positions[0]]
        else:
            if weights is not None and len(weights) == len(funcs) + 1:
                # Weights given for the quality functions and the diversity function built here.
                cls._check_weights(weights, len(weights), len(funcs))
                weights = weights[:-1]
            elif weights is not None and len(weights) != len(funcs):
                raise ValueError(
                    f"reward_weights has {len(weights)} entries for {len(funcs)} quality reward functions; give one "
                    "weight per reward function."
                )
            diversity = cls._build_diversity_reward(args)
        quality = [func for i, func in enumerate(funcs) if i not in positions]
        return DarlingReward(
            quality,
            diversity,
            fusion=args.fusion,
            diversity_weight=args.diversity_weight,
            negative_quality=args.negative_quality,
            quality_weights=None if weights is None else [float(w) for w in weights],
        )

    @staticmethod
    def _check_weights(weights: list[float], num_funcs: int, diversity_index: int) -> None:
        if len(weights) != num_funcs:
            raise ValueError(
                f"reward_weights has {len(weights)} entries for {num_funcs} reward functions (the diversity "
                "function included); give one weight per reward function."
            )
        if float(weights[diversity_index]) != 1.0:
            raise ValueError(
                f"reward_weights gives the diversity function weight {weights[diversity_index]}, but DARLING "
                "does not sum it: set that entry to 1.0 and use fusion='additive' with diversity_weight to weight "
                "diversity."
            )

    @staticmethod
    def _build_diversity_reward(args: DarlingConfig) -> DiversityRewardFunction:
        if not args.diversity_classifier:
            raise ValueError(
                "DarlingGRPOTrainer needs a diversity reward: add a darling.rewards.DiversityRewardFunction to "
                "reward_funcs, or set DarlingConfig.diversity_classifier to a PartitionClassifier path or hub id "
                "(e.g. 'dogtooth/similarity-classifier-f168-hf')."
            )
        options = args.diversity_settings.reward_kwargs()
        if args.diversity_servers:
            # Served: no weights here; the pairs go to the servers.
            return AsyncDiversityRewardFunction.from_pretrained(
                args.diversity_classifier, servers=args.diversity_servers, **options
            )
        model_kwargs = options.pop("model_kwargs", None) or {}
        device = args.device
        if device.type != "cpu":
            # Each process scores whole groups with its own copy, on its own accelerator.
            model_kwargs = {"device_map": {"": str(device)}, **model_kwargs}
            if args.bf16:
                model_kwargs.setdefault("dtype", torch.bfloat16)
        with full_weights_under_zero3():
            return DiversityRewardFunction.from_pretrained(
                args.diversity_classifier, model_kwargs=model_kwargs, **options
            )

    def _drop_long_prompts(self, dataset: Any, max_length: int, what: str = "train") -> Any:
        """Drops the prompts of ``dataset`` longer than ``max_length`` tokens (verl's prompt filter).

        Tokens are counted as the trainer renders prompts: its processing class, chat template,
        tools and ``chat_template_kwargs``. Applied to the train and eval datasets when
        ``DarlingConfig.max_prompt_length`` is set.
        """
        if getattr(self, "environment_factories", None) is not None:
            raise ValueError(
                "max_prompt_length cannot count prompt tokens when environment_factories are set (each "
                "environment renders its own tools); filter the dataset yourself and set max_prompt_length=None."
            )

        def count_tokens(prompts):
            prompts = list(prompts)
            if is_conversational({"prompt": prompts[0]}):
                tokenized = self.processing_class.apply_chat_template(
                    conversation=prompts,
                    tools=getattr(self, "tools", None) or None,
                    chat_template=getattr(self, "chat_template", None),
                    add_generation_prompt=True,
                    tokenize=True,
                    return_dict=True,
                    **(self.args.chat_template_kwargs or {}),
                )
            else:
                tokenized = self.processing_class(text=prompts)
            return [len(ids) for ids in tokenized["input_ids"]]

        return drop_long_prompts(
            dataset, count_tokens, max_length, what, show_progress=self.is_world_process_zero()
        )

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        """``GRPOTrainer.evaluate``, with the fused reward grouping ``num_generations_eval`` rollouts a prompt."""
        train_size = self.darling_reward.num_generations
        self.darling_reward.num_generations = self.num_generations_eval
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            self.darling_reward.num_generations = train_size

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Saves the policy as TRL does, plus the run's recipe (``darling_config.yaml``) and reward (``darling_reward/``).

        Checkpoints and ``push_to_hub`` then carry what reproduces the run; a diversity classifier
        loaded from the Hub is saved as a reference (hub id and revision), any other as a copy.
        """
        super().save_model(output_dir, _internal_call=_internal_call)
        if self.args.should_save:
            save_run_files(self.recipe_args, self.darling_reward, output_dir or self.args.output_dir)

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        """Writes TRL's model card, plus DARLING's settings and how to reproduce the run from the saved recipe."""
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
        fused = self.darling_reward
        weight = f" (weight {fused.diversity_weight})" if fused.fusion == "additive" else ""
        quality = fused.quality_names
        section = [
            "",
            "",
            "## DARLING settings",
            "",
            f"- {label}: `{_describe_judge(reward, args.diversity_classifier)}`{threshold}",
            f"- Partition mode: `{reward.mode}`, diversity floor {reward.floor}",
            f"- Fusion: `{fused.fusion}`{weight}, negative quality: `{fused.negative_quality}`",
            f"- Quality rewards: {', '.join(quality)}",
            f"- Rollouts per prompt: {args.num_generations}, advantage scaling: `{args.scale_rewards}`",
            "",
        ]
        base_model = getattr(getattr(self.model, "config", None), "_name_or_path", None)
        section += reproduce_section(
            self.recipe_args,
            fused,
            base_model if base_model and not os.path.isdir(base_model) else None,
            dataset_name,
            self.hub_model_id or model_name or os.path.basename(os.path.abspath(args.output_dir)),
        )
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(section))
