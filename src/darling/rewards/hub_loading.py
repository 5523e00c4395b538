"""Loading a saved diversity or DARLING reward: its settings, its judge, and what must be named again."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darling.partitioning.embedding import EmbeddingJudge
from darling.partitioning.judges import ExactMatchJudge, LexicalJudge
from darling.rewards.hub import REWARD_FILE, build_reward, hub_download_kwargs, read_description

_SERVED_OPTIONS = (
    "model",
    "engine",
    "max_tokens_per_text",
    "pairs_per_request",
    "max_in_flight",
    "timeout",
    "retries",
    "backoff",
)


def _reward_classes() -> dict[str, type]:
    # Imported on use: diversity.py imports this package's hub module.
    from darling.rewards.diversity import AsyncDiversityRewardFunction, DiversityRewardFunction

    return {klass.__name__: klass for klass in (DiversityRewardFunction, AsyncDiversityRewardFunction)}


def _load_classifier_judge(spec, source, threshold, model_kwargs, servers, server_options, hub_kwargs):
    """``(classifier, None)`` loaded here, or ``(None, served judge)`` when servers serve it."""
    threshold = threshold if threshold is not None else spec.get("threshold")
    if spec["type"] == "served_classifier" or servers is not None:
        if servers is None:
            raise ValueError(
                f"This reward's judge is a classifier served by {spec['engine']} (served model {spec['model']!r}, "
                f"checkpoint {spec.get('hub_id') or 'saved in judge/'}); a saved reward holds no server URLs: name "
                "them again with servers=['http://host:port', ...]."
            )
        if model_kwargs:
            raise ValueError("model_kwargs load weights in this process; with `servers` none are loaded.")
        from darling.serving import ServedClassifierJudge

        options = {name: spec[name] for name in _SERVED_OPTIONS if name in spec}
        options.update(server_options or {})
        return None, ServedClassifierJudge(source, servers, threshold=threshold, **{**hub_kwargs, **options})
    if server_options:
        raise ValueError("server_options configure the served judge: pass `servers` too, or drop them.")
    from darling.classifier import PartitionClassifier

    classifier = PartitionClassifier.from_pretrained(
        source, threshold=threshold, **{**hub_kwargs, **(model_kwargs or {})}
    )
    return classifier, None


def load_judge(
    spec: dict[str, Any],
    folder: Path,
    *,
    threshold: float | None,
    model_kwargs: dict[str, Any] | None,
    servers: Sequence[str] | str | None,
    server_options: dict[str, Any] | None,
    token: str | bool | None = None,
) -> tuple[Any, Any]:
    """``(classifier, judge)`` of a saved reward (one of them ``None``), loaded as ``spec`` describes."""
    kind = spec.get("type")
    source = str(folder / spec["path"]) if spec.get("path") else spec.get("hub_id")
    # A judge named by hub id is downloaded at its pinned revision, with the caller's token.
    hub_kwargs = {} if spec.get("path") else hub_download_kwargs(spec.get("revision"), token)
    if kind in ("partition_classifier", "served_classifier"):
        return _load_classifier_judge(
            spec, source, threshold, model_kwargs, servers, server_options, hub_kwargs
        )
    given = [name for name, value in (("servers", servers), ("server_options", server_options)) if value]
    given += ["model_kwargs"] if model_kwargs else []
    if given:
        raise ValueError(
            f"{', '.join(given)} apply to a partition classifier; this reward's judge is saved as {kind!r}."
        )
    if kind == "embedding":
        return None, EmbeddingJudge.from_pretrained(
            source, token=hub_kwargs.get("token"), **({} if threshold is None else {"threshold": threshold})
        )
    if kind == "lexical":
        return None, LexicalJudge(
            n=spec["n"], threshold=spec["threshold"] if threshold is None else threshold
        )
    if kind == "exact_match":
        if threshold is not None:
            raise ValueError(
                "This reward's judge is an ExactMatchJudge, which has no threshold; drop `threshold`."
            )
        return None, ExactMatchJudge(normalize=spec["normalize"])
    raise ValueError(
        f"The saved reward's judge type {kind!r} is unknown to this darling version: upgrade darling."
    )


def load_diversity(
    cls: type,
    path: str | os.PathLike,
    *,
    revision: str | None,
    token: str | bool | None = None,
    threshold: float | None,
    model_kwargs: dict[str, Any] | None,
    servers: Sequence[str] | str | None,
    server_options: dict[str, Any] | None,
    overrides: dict[str, Any],
) -> Any:
    """The diversity reward saved at ``path`` (``None`` when ``path`` holds no saved reward)."""
    found = read_description(path, revision, token)
    if found is None:
        return None
    folder, description = found
    classes = _reward_classes()
    if description.get("type") not in classes:
        raise ValueError(
            f"{os.fspath(path)!r} holds a saved {description.get('type')}: load it with "
            f"{description.get('type')}.from_pretrained."
        )
    saved_class = classes[description["type"]]
    klass = saved_class if issubclass(saved_class, cls) else cls
    settings = {**description["settings"], "num_generations": description.get("num_generations")}
    spec = description.get("correctness_reward")
    if spec is not None and "correctness_reward" not in overrides:
        settings["correctness_reward"] = build_reward(spec)
        if settings["correctness_reward"] is None:
            raise ValueError(
                f"This reward was saved with the correctness reward {spec['name']!r} (partition_correct), which "
                "darling cannot rebuild from a file: pass it again as correctness_reward=..."
            )
    settings.update(overrides)
    classifier, judge = load_judge(
        description["judge"],
        folder,
        threshold=threshold,
        model_kwargs=model_kwargs,
        servers=servers,
        server_options=server_options,
        token=token,
    )
    reward = klass(classifier=classifier, judge=judge, **settings)
    spec = description["judge"]
    if classifier is None and spec.get("type") in ("partition_classifier", "served_classifier"):
        # Served: the checkpoint it serves names the classifier (for the trainer's model card).
        reward.classifier_id = spec.get("hub_id") or str(folder / spec["path"])
    return reward


def load_darling(
    cls: type,
    path: str | os.PathLike,
    *,
    quality: Any,
    revision: str | None,
    token: str | bool | None = None,
    diversity_options: dict[str, Any],
) -> Any:
    """The DarlingReward saved at ``path``; ``quality`` replaces the saved quality rewards (in their order)."""
    found = read_description(path, revision, token)
    if found is None:
        raise ValueError(
            f"{os.fspath(path)!r} holds no saved reward ({REWARD_FILE}); save one with DarlingReward.save_pretrained."
        )
    folder, description = found
    if description.get("type") != "DarlingReward":
        raise ValueError(
            f"{os.fspath(path)!r} holds a saved {description.get('type')}: load it with "
            f"{description.get('type')}.from_pretrained, and build the DarlingReward around it."
        )
    specs = description["quality"]
    names = [spec["name"] for spec in specs]
    if quality is None:
        funcs = [build_reward(spec) for spec in specs]
        missing = [name for name, func in zip(names, funcs) if func is None]
        if missing:
            raise ValueError(
                f"This DarlingReward was saved with the quality reward(s) {missing}, which darling cannot rebuild "
                f"from a file; pass every quality reward with quality=[...] in the saved order: {names}."
            )
    else:
        funcs = list(quality) if isinstance(quality, (list, tuple)) else [quality]
        if len(funcs) != len(specs):
            raise ValueError(
                f"quality holds {len(funcs)} reward function(s), but the saved reward weights {len(specs)} ({names}); "
                "pass one per saved quality reward, in that order."
            )
    diversity = _reward_classes()["DiversityRewardFunction"].from_pretrained(
        folder / description["diversity"], token=token, **diversity_options
    )
    return cls(
        funcs,
        diversity,
        fusion=description["fusion"],
        diversity_weight=description["diversity_weight"],
        negative_quality=description["negative_quality"],
        quality_weights=description["quality_weights"],
    )
