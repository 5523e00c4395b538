"""Saving the diversity reward to a folder, pushing it to the Hub and loading it back, judge included.

A saved reward is a folder holding ``darling_reward.json`` (its settings and a description of its
judge) and, when the judge is copied, the judge's own checkpoint in ``judge/``. A served judge is
saved as what it serves (checkpoint, served model name, engine), never with its URLs: they are
named again at load time. Only darling's own judges and quality rewards are rebuilt from a file,
by name from a fixed table: nothing in a downloaded folder is imported or run.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from darling.partitioning.embedding import EmbeddingJudge
from darling.partitioning.judges import ExactMatchJudge, LexicalJudge
from darling.rewards.math import MathAccuracyReward

REWARD_FILE = "darling_reward.json"
JUDGE_FOLDER = "judge"
FORMAT_VERSION = 1
SAVEABLE_JUDGES = (
    "a PartitionClassifier (copied, or referenced by hub id), an EmbeddingJudge, a ServedClassifierJudge, an "
    "ExactMatchJudge or a LexicalJudge"
)
# The settings of DiversityRewardFunction a saved reward restores (the judge's threshold is the judge's).
SETTING_NAMES = ("mode", "floor", "short_text_rule", "correctness_threshold", "batch_size", "gather")
# darling's quality rewards that a saved DarlingReward rebuilds: name -> (class, its init attributes).
SAVEABLE_REWARDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "MathAccuracyReward": (MathAccuracyReward, ("answer_column",)),
}


def reward_spec(func: Any) -> dict[str, Any]:
    """How a quality (or correctness) reward function is saved: rebuildable, or by name only."""
    name = getattr(func, "__name__", type(func).__name__)
    for kind, (klass, attributes) in SAVEABLE_REWARDS.items():
        if type(func) is klass:
            return {"name": name, "class": kind, "kwargs": {key: getattr(func, key) for key in attributes}}
    return {"name": name, "class": None}


def build_reward(spec: dict[str, Any]) -> Any:
    """The reward function a saved spec names, or ``None`` for one saved by name only."""
    if spec.get("class") is None:
        return None
    if spec["class"] not in SAVEABLE_REWARDS:
        raise ValueError(
            f"The saved reward names {spec['class']!r}, which this darling version cannot rebuild (it rebuilds "
            f"{', '.join(SAVEABLE_REWARDS)}); pass that reward function yourself."
        )
    return SAVEABLE_REWARDS[spec["class"]][0](**spec["kwargs"])


def _served_judge_class():
    from darling.serving import ServedClassifierJudge

    return ServedClassifierJudge


def _judge_spec(reward: Any, folder: Path, judge_mode: str) -> dict[str, Any]:
    """Describes the reward's judge for ``darling_reward.json``, writing its files into ``folder/judge``."""
    if judge_mode not in ("copy", "reference"):
        raise ValueError(f"`judge` must be 'copy' or 'reference', got {judge_mode!r}.")
    target = folder / JUDGE_FOLDER
    if reward.classifier is not None:
        classifier = reward.classifier
        if judge_mode == "copy":
            classifier.save_pretrained(target)
            return {"type": "partition_classifier", "path": JUDGE_FOLDER}
        name = classifier.name_or_path
        if not name or os.path.exists(name):
            raise ValueError(
                f"judge='reference' records the classifier's hub id, but this classifier was loaded from "
                f"{name or 'memory'!r}, which only this machine can read; save a copy (judge='copy') or push the "
                "classifier first and load it from its hub id."
            )
        revision = getattr(classifier.model.config, "_commit_hash", None)
        return {
            "type": "partition_classifier",
            "hub_id": name,
            "revision": revision,
            "threshold": classifier.threshold,
        }
    judge = reward.judge
    if type(judge).__name__ == "ServedClassifierJudge" and isinstance(judge, _served_judge_class()):
        checkpoint: str | None = judge.checkpoint
        spec: dict[str, Any] = {"type": "served_classifier", "hub_id": checkpoint}
        if os.path.isdir(checkpoint):
            if judge_mode == "reference":
                raise ValueError(
                    f"judge='reference' records the served checkpoint's hub id, but the servers serve the local "
                    f"folder {checkpoint!r}, which only this machine can read; save a copy (judge='copy')."
                )
            # A local checkpoint travels with the reward: its settings and tokenizer build the requests.
            shutil.copytree(checkpoint, target)
            spec = {"type": "served_classifier", "path": JUDGE_FOLDER}
        pool = judge.pool
        return {
            **spec,
            "model": judge.model,
            "engine": judge.engine,
            "threshold": judge.threshold,
            "max_tokens_per_text": judge.settings.max_tokens_per_text,
            "pairs_per_request": judge.pairs_per_request,
            "max_in_flight": pool.max_in_flight,
            "timeout": pool.timeout,
            "retries": pool.retries,
            "backoff": pool.backoff,
        }
    if judge_mode == "reference":
        raise ValueError(
            f"judge='reference' is for a classifier loaded from (or served from) the Hub; this reward's judge is "
            f"{type(judge).__name__}: save it with judge='copy'."
        )
    if isinstance(judge, EmbeddingJudge):
        judge.save_pretrained(target)
        return {"type": "embedding", "path": JUDGE_FOLDER}
    if isinstance(judge, ExactMatchJudge):
        return {"type": "exact_match", "normalize": judge.normalize}
    if isinstance(judge, LexicalJudge):
        return {"type": "lexical", "n": judge.n, "threshold": judge.threshold}
    raise TypeError(
        f"This reward's judge ({type(judge).__name__}) cannot be saved: a saved reward holds {SAVEABLE_JUDGES}. "
        "Build the reward with one of those, or save your judge yourself and rebuild the reward around it."
    )


def write_card(folder: Path, kind: str, repo_id: str, lines: list[str]) -> None:
    """A short model card: what the reward is and how to load it."""
    card = [
        "---",
        "library_name: darling",
        "tags:",
        "- darling",
        "- reward",
        "- trl",
        "---",
        "",
        f"# {kind}",
        "",
        "A DARLING (arXiv 2509.02534) reward function for TRL, saved with "
        "[darling](https://github.com/darling-rl/darling).",
        "",
        *lines,
        "",
        "```python",
        f"from darling.rewards import {kind}",
        "",
        f'reward = {kind}.from_pretrained("{repo_id}")',
        "```",
        "",
    ]
    (folder / "README.md").write_text("\n".join(card), encoding="utf-8")


def diversity_description(reward: Any, folder: Path, judge_mode: str) -> dict[str, Any]:
    """The ``darling_reward.json`` content of a diversity reward (writing its judge's files into ``folder``)."""
    correctness = reward.correctness_reward
    return {
        "darling_reward_format": FORMAT_VERSION,
        "type": type(reward).__name__,
        "settings": {name: getattr(reward, name) for name in SETTING_NAMES},
        "num_generations": reward.num_generations,
        "judge": _judge_spec(reward, folder, judge_mode),
        "correctness_reward": None if correctness is None else reward_spec(correctness),
    }


def save_diversity(
    reward: Any, save_directory: str | os.PathLike, *, judge: str, repo_id: str | None, card: bool = True
) -> None:
    """Writes a diversity reward's folder (staged, so an interrupted save leaves the old one whole).

    ``card=False`` leaves out the model card (for the diversity part of a saved DarlingReward).
    """
    from darling.classifier._staging import staged_save

    with staged_save(save_directory) as staging:
        description = diversity_description(reward, Path(staging), judge)
        write_description(Path(staging), description)
        spec = description["judge"]
        if not card:
            return
        write_card(
            Path(staging),
            "DiversityRewardFunction",
            repo_id or str(save_directory),
            [f"- Judge: `{spec['type']}`" + (f" (`{spec['hub_id']}`)" if spec.get("hub_id") else ""),
             *(f"- {name}: `{value}`" for name, value in description["settings"].items())],
        )  # fmt: skip


def write_description(folder: Path, description: dict[str, Any]) -> None:
    (folder / REWARD_FILE).write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")


def hub_download_kwargs(revision: str | None, token: str | bool | None) -> dict[str, Any]:
    """``revision=`` and ``token=`` for a Hub download, leaving out those not given."""
    return {name: value for name, value in (("revision", revision), ("token", token)) if value is not None}


def read_description(
    path: str | os.PathLike, revision: str | None = None, token: str | bool | None = None
) -> tuple[Path, dict[str, Any]] | None:
    """The local folder and ``darling_reward.json`` of a saved reward, or ``None`` when ``path`` holds none.

    A hub repository is downloaded whole (the judge's checkpoint with it) only once its
    ``darling_reward.json`` is found, so a repository holding only a classifier loads as before.
    """
    location = os.fspath(path)
    if os.path.isdir(location):
        folder = Path(location)
        if not (folder / REWARD_FILE).is_file():
            return None
    else:
        from huggingface_hub import snapshot_download
        from transformers.utils import cached_file

        try:
            found = cached_file(
                location,
                REWARD_FILE,
                revision=revision,
                token=token,
                _raise_exceptions_for_missing_entries=False,
                _raise_exceptions_for_connection_errors=False,
            )
        except OSError:  # no such repo (or no access): the classifier loader says so in its own words
            found = None
        if not found:
            return None
        folder = Path(snapshot_download(location, revision=revision, token=token))
    description = json.loads((folder / REWARD_FILE).read_text(encoding="utf-8"))
    version = description.get("darling_reward_format")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{location!r} holds a reward saved in format {version!r}; this darling version reads format "
            f"{FORMAT_VERSION} and older: upgrade darling."
        )
    return folder, description


class PushToHubMixin:
    """``push_to_hub`` for a reward that has ``save_pretrained(folder, judge=..., repo_id=...)``."""

    _hub_commit_message = "Upload DARLING reward"

    def push_to_hub(self, repo_id: str, *, judge: str = "copy", **hub_kwargs: Any) -> Any:
        """Uploads what :meth:`save_pretrained` writes to a Hub repository (created if missing), in one commit.

        Args:
            repo_id: Target repository.
            judge: As in :meth:`save_pretrained`.
            **hub_kwargs: ``commit_message``, ``private``, ``token``, ``revision``, ``create_pr``.

        Returns:
            The ``huggingface_hub`` commit info.
        """
        from darling.partitioning._hub import push_saved_folder

        hub_kwargs.setdefault("commit_message", self._hub_commit_message)
        return push_saved_folder(
            lambda folder, repo: self.save_pretrained(folder, judge=judge, repo_id=repo),
            repo_id,
            **hub_kwargs,
        )


class DiversityRewardHub(PushToHubMixin):
    """Save, push and load for :class:`~darling.rewards.DiversityRewardFunction` (which inherits them)."""

    _hub_commit_message = "Upload DARLING diversity reward"

    @classmethod
    def from_pretrained(
        cls,
        path_or_hub_id: str | os.PathLike,
        *,
        threshold: float | None = None,
        model_kwargs: dict[str, Any] | None = None,
        servers: Sequence[str] | str | None = None,
        server_options: dict[str, Any] | None = None,
        revision: str | None = None,
        token: str | bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Loads a reward saved by :meth:`save_pretrained`, or builds one around a partition classifier.

        A folder or hub repository holding ``darling_reward.json`` gives back the whole saved reward
        (settings and judge); one holding only a classifier checkpoint gives a reward with default
        settings around it. Either way the arguments below override what was saved.

        Args:
            path_or_hub_id: Local directory or hub id of a saved reward or of a partition classifier.
            threshold: Overrides the judge's decision threshold.
            model_kwargs: Passed to ``PartitionClassifier.from_pretrained`` (``dtype``, ``device_map``, ...);
                not used with ``servers``.
            servers: URLs of vLLM/SGLang servers serving that classifier: the pairs go there (a
                :class:`~darling.serving.ServedClassifierJudge`) and no weights are loaded here. Required
                for a reward saved with a served judge (saved rewards hold no URLs).
            server_options: Arguments of :class:`~darling.serving.ServedClassifierJudge` (``model``,
                ``engine``, ``pairs_per_request``, ``max_in_flight``, ``timeout``, ``retries``, ...).
            revision: Branch, tag or commit of a hub repository.
            token: Hub token for a private or gated repository, and for a judge the reward names by hub id
                (``None``: the logged-in user's, or ``HF_TOKEN``).
            **kwargs: Arguments of :class:`DiversityRewardFunction` (``mode``, ``floor``, ``batch_size``, ...).

        Returns:
            The reward function.

        Example:
            ```python
            # doc: no-run
            reward = DiversityRewardFunction.from_pretrained("dogtooth/similarity-classifier-f168-hf", floor=0.1)
            served = AsyncDiversityRewardFunction.from_pretrained(
                "dogtooth/qwen3-4b-emb-finetuned-step-70-hf", servers=["http://node1:8000", "http://node1:8001"]
            )
            ```
        """
        from darling.rewards.hub_loading import load_diversity

        options = dict(
            threshold=threshold, model_kwargs=model_kwargs, servers=servers, server_options=server_options
        )
        saved = load_diversity(
            cls, path_or_hub_id, revision=revision, token=token, overrides=kwargs, **options
        )
        if saved is not None:
            return saved
        hub_kwargs = hub_download_kwargs(revision, token)
        if servers is not None:
            if model_kwargs:
                raise ValueError("model_kwargs load weights in this process; with `servers` none are loaded.")
            from darling.serving import ServedClassifierJudge

            judge = ServedClassifierJudge(
                path_or_hub_id, servers, threshold=threshold, **{**hub_kwargs, **(server_options or {})}
            )
            reward = cls(judge=judge, **kwargs)
            reward.classifier_id = str(path_or_hub_id)
            return reward
        if server_options:
            raise ValueError("server_options configure the served judge: pass `servers` too, or drop them.")
        from darling.classifier import PartitionClassifier

        classifier = PartitionClassifier.from_pretrained(
            path_or_hub_id, threshold=threshold, **{**hub_kwargs, **(model_kwargs or {})}
        )
        return cls(classifier=classifier, **kwargs)

    def save_pretrained(
        self, save_directory: str | os.PathLike, *, judge: str = "copy", repo_id: str | None = None
    ) -> None:
        """Saves the reward to a folder: ``darling_reward.json`` (settings, judge), the judge, a model card.

        Args:
            save_directory: Target folder.
            judge: ``"copy"`` saves the judge beside the settings (``judge/``); ``"reference"`` records
                the hub id and revision of a classifier loaded from the Hub instead. A served judge is
                saved as what it serves (checkpoint, served model name, engine), never with its URLs.
            repo_id: Hub id shown in the model card (default: ``save_directory``).

        Raises:
            TypeError: For a judge that cannot be saved (a plain callable, a cascade); the message
                names those that can.
        """
        from darling.rewards.hub import save_diversity

        save_diversity(self, save_directory, judge=judge, repo_id=repo_id)
