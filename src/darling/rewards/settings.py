"""DiversitySettings: the diversity reward's settings, typed, documented and checked in one place."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from darling.partitioning._validation import check_number, check_positive_int
from darling.partitioning.algorithms import check_mode
from darling.partitioning.shortcut import check_short_text_rule


@dataclass
class DiversitySettings:
    """Settings of a :class:`~darling.rewards.DiversityRewardFunction` built from a classifier.

    ``DarlingConfig.diversity_kwargs`` holds them as a dict (a YAML mapping in a recipe, a JSON
    object on the command line); :attr:`DarlingConfig.diversity_settings` is this typed view. Each
    value is checked when the settings are built (``threshold`` when the classifier loads).

    Example:
        >>> DiversitySettings.from_value({"threshold": 0.32, "floor": 0.2}).floor
        0.2
        >>> DiversitySettings.from_value('{"mode": "greedy"}').mode
        'greedy'
    """

    threshold: float | None = field(
        default=None,
        metadata={
            "help": "Decision threshold on P(equivalent); None keeps the one saved with the classifier (0.32 for "
            "the chat classifier, 0.5 for the math one)."
        },
    )
    mode: str = field(
        default="all_pairs",
        metadata={
            "help": "'all_pairs' (union-find over all pairs, DARLING training) or 'greedy' (NoveltyBench)."
        },
    )
    floor: float = field(
        default=0.1,
        metadata={"help": "Lower bound of every diversity score, in [0, 1] (0.1 in the official code)."},
    )
    short_text_rule: str | None = field(
        default=None,
        metadata={
            "help": "How pairs of texts of at most 5 words are settled before the classifier: 'overlap' (the "
            "official rule), 'exact', 'off', or None for the judge's own."
        },
    )
    correctness_threshold: float = field(
        default=0.0,
        metadata={
            "help": "With a correctness_reward (partition_correct), a rollout is correct when its reward is above this."
        },
    )
    batch_size: int = field(default=32, metadata={"help": "Pairs per classifier forward pass."})
    gather: bool = field(
        default=True,
        metadata={
            "help": "Gather rollouts across processes so groups split between processes are scored whole."
        },
    )
    model_kwargs: dict[str, Any] | None = field(
        default=None,
        metadata={
            "help": "Arguments of PartitionClassifier.from_pretrained (dtype, device_map, ...); not with servers."
        },
    )
    server_options: dict[str, Any] | None = field(
        default=None,
        metadata={
            "help": "Arguments of darling.serving.ServedClassifierJudge (model, engine, timeout, retries, ...) "
            "when DarlingConfig.diversity_servers is set."
        },
    )

    def __post_init__(self) -> None:
        self.mode = check_mode(self.mode)
        self.floor = check_number(self.floor, "floor", 0.0, 1.0)
        if self.short_text_rule is not None:
            self.short_text_rule = check_short_text_rule(self.short_text_rule)
        self.correctness_threshold = check_number(self.correctness_threshold, "correctness_threshold")
        self.batch_size = check_positive_int(self.batch_size, "batch_size")
        if not isinstance(self.gather, bool):
            raise TypeError(f"`gather` must be True or False, got {self.gather!r}.")
        for name in ("model_kwargs", "server_options"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"`{name}` must be a dict of keyword arguments, got {type(value).__name__}.")

    @classmethod
    def from_value(cls, value: DiversitySettings | dict[str, Any] | str | None) -> DiversitySettings:
        """Builds the settings from a dict, a JSON object string, ``None`` (defaults) or settings.

        Raises:
            ValueError: On a string that is not a JSON object, or on keys that are not settings
                (the message lists the valid ones).
            TypeError: On another type.
        """
        if isinstance(value, cls):
            return value
        return cls(**cls.mapping(value))

    @classmethod
    def mapping(cls, value: dict[str, Any] | str | None) -> dict[str, Any]:
        """The settings a dict or JSON object string names, as a dict; its keys are checked, not its values.

        Raises:
            ValueError: On a string that is not a JSON object, another type, or keys that are not
                settings (the message lists the valid ones).
        """
        if value is None:
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"diversity_kwargs must be a JSON object such as '{{\"threshold\": 0.32}}', got {value!r} ({err})."
                ) from None
        if not isinstance(value, dict):
            raise ValueError(f"diversity_kwargs must be a dict, got {type(value).__name__}.")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(
                f"diversity_kwargs has unknown setting(s) {', '.join(map(repr, unknown))}; the settings are "
                f"{', '.join(names)}."
            )
        return dict(value)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (JSON-serialisable when the nested dicts are)."""
        return asdict(self)

    def reward_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`DiversityRewardFunction.from_pretrained` for these settings."""
        kwargs = self.to_dict()
        return {k: v for k, v in kwargs.items() if v is not None or k == "short_text_rule"}
