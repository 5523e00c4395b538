"""DarlingConfig: GRPOConfig with the DARLING settings and the paper's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from trl import GRPOConfig

from darling.partitioning._validation import check_positive_int
from darling.rewards.fusion import check_fusion_settings
from darling.rewards.settings import DiversitySettings
from darling.trainer.recipe import RecipeMixin


def _has_accelerator() -> bool:
    if torch.cuda.is_available():
        return True
    xpu = getattr(torch, "xpu", None)
    return bool(xpu is not None and xpu.is_available())


@dataclass
class DarlingConfig(RecipeMixin, GRPOConfig):
    """Configuration of :class:`~darling.trainer.DarlingGRPOTrainer`.

    A `trl.GRPOConfig` that adds the DARLING settings and takes the official recipe's defaults:
    multiplicative fusion of the raw quality, no std normalization of advantages
    (``scale_rewards="none"``), ``beta=0.0``, and the optimiser settings of
    the official verl scripts (constant learning rate, weight decay 0.01, gradient clipping 1.0),
    and the official actor's loss: dual-clip c = 3 for negative advantages (``delta=3.0``), a KL
    loss (when ``beta > 0``) not multiplied by the policy ratio (``use_bias_correction_kl=False``),
    and no importance weights between vLLM and the trainer (``vllm_importance_sampling_correction=False``).
    With these, TRL's loss and gradient equal the official ones on one micro-batch (verl takes the
    token mean per micro-batch, TRL's ``loss_type="dapo"`` per batch). Every other field is
    GRPOConfig's. Only the fields below differ; docs/concepts.md has the table of every setting
    that matters: paper, official code, darling default, how to change it.

    Raw reward-model scores can be negative, and multiplying a negative quality by a larger
    diversity punishes the more diverse rollout. The official runs multiplied the raw score anyway
    (``negative_quality="allow"``, the default, with a one-time warning when it happens); their
    opt-in per-group min shift (``add_bias``) is ``negative_quality="shift"``.

    ``bf16`` defaults to ``True`` when a CUDA or XPU device is present and to ``False`` otherwise
    (GRPOConfig's unconditional ``bf16=True`` fails on CPU-only machines); an explicit value wins.

    The diversity reward's own settings (threshold, partition mode, floor, ...) are a
    :class:`~darling.rewards.DiversitySettings`: pass a ``DiversityRewardFunction`` in
    ``reward_funcs``, or name a classifier in ``diversity_classifier`` and its settings in
    ``diversity_kwargs`` (a dict, checked when the config is built; typed as
    :attr:`diversity_settings`).

    A config saves as a recipe file, ``darling_config.yaml`` (:meth:`save_recipe`,
    :meth:`push_recipe_to_hub`), that ``--config`` and :meth:`from_recipe` read back into an equal
    config; :class:`~darling.trainer.DarlingGRPOTrainer` saves it beside the policy.

    Example:
        >>> config = DarlingConfig(output_dir="out", use_cpu=True, diversity_classifier="path/to/classifier",
        ...                        diversity_kwargs={"threshold": 0.32, "floor": 0.1})
        >>> config.fusion, config.scale_rewards, config.negative_quality
        ('multiplicative', 'none', 'allow')
        >>> config.lr_scheduler_type.value, config.weight_decay, config.max_grad_norm
        ('constant', 0.01, 1.0)
        >>> config.delta, config.use_bias_correction_kl, config.vllm_importance_sampling_correction
        (3.0, False, False)
    """

    # Paper defaults that differ from GRPOConfig.
    scale_rewards: str = field(
        default="none",
        metadata={
            "help": "Scaling of the advantages: 'none' (DARLING: advantage = fused reward - group mean, no division "
            "by the group std), 'group' or 'batch' (GRPO's std normalization; the paper's ablation shows it "
            "hurts diversity)."
        },
    )
    beta: float = field(
        default=0.0,
        metadata={"help": "KL coefficient. The paper uses 0.0 for math and 0.001 for non-verifiable tasks."},
    )
    lr_scheduler_type: str = field(
        default="constant",
        metadata={
            "help": "Learning-rate schedule. The official DARLING runs keep the learning rate constant (verl's "
            "warmup_style=constant, no warm-up); GRPOConfig's default is 'linear' decay."
        },
    )
    weight_decay: float = field(
        default=0.01,
        metadata={
            "help": "AdamW weight decay; 0.01 in the official DARLING runs (GRPOConfig's default is 0)."
        },
    )
    max_grad_norm: float = field(
        default=1.0, metadata={"help": "Gradient clipping norm; 1.0 in the official DARLING runs."}
    )
    delta: float | None = field(
        default=3.0,
        metadata={
            "help": "Dual-clip bound c for negative advantages: a token's ratio term is capped at c, so a token "
            "that became far more likely off-policy cannot dominate the update. The official DARLING actor always "
            "applies dual-clip with c = 3 (verl's clip_ratio_c); with it TRL's loss and gradient equal the "
            "official ones. None turns it off (GRPOConfig's default)."
        },
    )
    vllm_importance_sampling_correction: bool = field(
        default=False,
        metadata={
            "help": "Reweight the loss by the ratio between the trainer's and vLLM's probabilities of the sampled "
            "tokens when use_vllm is set. The official DARLING trainer has no such term, so it is off by default "
            "(GRPOConfig turns it on); set True to ask for it."
        },
    )
    use_bias_correction_kl: bool = field(
        default=False,
        metadata={
            "help": "Multiply the per-token KL term by the policy ratio. The official DARLING actor adds its "
            "low_var_kl (k3) loss to the policy loss without the ratio, so it is off by default (used only when "
            "beta > 0)."
        },
    )
    max_prompt_length: int | None = field(
        default=None,
        metadata={
            "help": "Drop prompts of the train and eval datasets given to the trainer that are longer than this many "
            "tokens, counted on the chat-templated prompt, when the trainer is built, as the official runs did (512 "
            "chat, 1024 math; verl's filter_overlong_prompts); a dataset passed later to trainer.evaluate() is used "
            "as it is. TRL has no prompt-length filter of its own. None keeps every prompt."
        },
    )
    bf16: bool | None = field(
        default=None,
        metadata={
            "help": "Use bf16 mixed precision. Defaults to True when a CUDA/XPU device is present and False "
            "otherwise (GRPOConfig's unconditional True fails on CPU-only machines)."
        },
    )

    # DARLING settings.
    diversity_classifier: str | None = field(
        default=None,
        metadata={
            "help": "Local path or hub id of the PartitionClassifier used to build the diversity reward when "
            "reward_funcs holds no DiversityRewardFunction, e.g. 'dogtooth/similarity-classifier-f168-hf' "
            "(chat, threshold 0.32) or 'dogtooth/qwen3-4b-emb-finetuned-step-70-hf' (math, threshold 0.5)."
        },
    )
    diversity_servers: list[str] | None = field(
        default=None,
        metadata={
            "help": "URLs of vLLM/SGLang servers serving diversity_classifier (e.g. http://node1:8000): every process "
            "sends its pairs there instead of loading the classifier, through an async diversity reward. Server "
            "options (model, engine, timeout, ...) go in diversity_kwargs['server_options']."
        },
    )
    diversity_kwargs: dict | str | None = field(
        default=None,
        metadata={
            "help": "Settings of the diversity reward built from diversity_classifier (a darling.rewards."
            "DiversitySettings as a dict), e.g. {'threshold': 0.32, 'mode': 'all_pairs', 'floor': 0.1}: threshold, "
            "mode, floor, short_text_rule, correctness_threshold, batch_size, gather, model_kwargs, server_options. "
            "A JSON object on the command line."
        },
    )
    fusion: str = field(
        default="multiplicative",
        metadata={
            "help": "How quality and diversity combine: 'multiplicative' (quality * diversity, the paper's) or "
            "'additive' (quality + diversity_weight * diversity)."
        },
    )
    diversity_weight: float | None = field(
        default=None,
        metadata={"help": "Weight of the diversity term; required by fusion='additive', unused otherwise."},
    )
    negative_quality: str = field(
        default="allow",
        metadata={
            "help": "What multiplicative fusion does with negative quality rewards: 'allow' (multiply the raw scores, "
            "as the official runs did; the trainer warns once when a negative score is multiplied), 'shift' "
            "(subtract each group's minimum quality first: the official code's opt-in add_bias), "
            "'shift_if_negative' (the shift only in groups that contain a negative quality), 'clip' (negatives "
            "become 0) or 'error' (raise)."
        },
    )

    def __post_init__(self):
        self._record_given()
        if self.bf16 is None and not self.fp16 and (self.use_cpu or not _has_accelerator()):
            self.bf16 = False
        super().__post_init__()
        self._check_darling_settings()
        self._record_resolved()

    @property
    def diversity_settings(self) -> DiversitySettings:
        """``diversity_kwargs`` as typed :class:`~darling.rewards.DiversitySettings` (defaults when unset)."""
        return DiversitySettings.from_value(self.diversity_kwargs)

    def _check_darling_settings(self) -> None:
        if self.diversity_kwargs is not None:
            # Checked (keys, then each value) by DiversitySettings; kept as the plain dict given, so the config
            # stays JSON-serialisable and a recipe round-trips as written.
            given = DiversitySettings.mapping(self.diversity_kwargs)
            settings = DiversitySettings(**given)
            self.diversity_kwargs = {name: getattr(settings, name) for name in given}
        served = self.diversity_kwargs is not None and self.diversity_kwargs.get("server_options") is not None
        if served and not self.diversity_servers:
            raise ValueError(
                "diversity_kwargs['server_options'] configure served classifiers, but diversity_servers is not set: "
                "name the servers (--diversity_servers http://host:port,... or DarlingConfig.from_recipe(..., "
                "diversity_servers=[...])), or drop server_options to load the classifier in every process."
            )
        if self.diversity_servers is not None:
            if isinstance(self.diversity_servers, str):  # "http://a:8000,http://b:8000" from a flag or a file
                self.diversity_servers = [url for url in self.diversity_servers.split(",") if url.strip()]
            if not self.diversity_servers:
                raise ValueError(
                    "diversity_servers is empty; give the URLs of the servers that serve diversity_classifier, or "
                    "leave it unset (None) to load the classifier in every process."
                )
            # The URLs themselves are checked where they are used, by the served judge's ServerPool.
            if not self.diversity_classifier:
                raise ValueError(
                    "diversity_servers name the servers of a classifier: set diversity_classifier to the checkpoint "
                    "they serve (its pair layout and tokenizer build the requests)."
                )
        self.fusion, self.diversity_weight, self.negative_quality = check_fusion_settings(
            self.fusion, self.diversity_weight, self.negative_quality
        )
        check_positive_int(
            self.max_prompt_length,
            "max_prompt_length",
            allow_none=True,
            hint="It counts prompt tokens; the official runs used 512 (chat) and 1024 (math).",
        )
        if self.multi_objective_aggregation != "sum_then_normalize":
            raise ValueError(
                "DARLING fuses quality and diversity before computing advantages, which needs "
                "multi_objective_aggregation='sum_then_normalize' (the default); remove the "
                f"multi_objective_aggregation={self.multi_objective_aggregation!r} setting."
            )
