"""Save, push and load for :class:`~darling.rewards.DarlingReward`: fusion settings, quality rewards, diversity."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from darling.rewards.hub import (
    FORMAT_VERSION,
    PushToHubMixin,
    reward_spec,
    save_diversity,
    write_card,
    write_description,
)

DIVERSITY_FOLDER = "diversity"


class DarlingRewardHub(PushToHubMixin):
    """Save, push and load for :class:`~darling.rewards.DarlingReward` (which inherits them).

    A saved DARLING reward is a folder with ``darling_reward.json`` (fusion, diversity weight,
    negative-quality mode, quality weights and a description of each quality reward) and the
    diversity reward's own folder in ``diversity/``. darling's own quality rewards
    (``MathAccuracyReward``) are rebuilt from their saved arguments; any other quality function is
    code, so it is saved by name only and passed again at load time (``quality=[...]``).
    """

    def save_pretrained(
        self, save_directory: str | os.PathLike, *, judge: str = "copy", repo_id: str | None = None
    ) -> None:
        """Saves the fused reward to a folder (its diversity reward in ``diversity/``) with a model card.

        Args:
            save_directory: Target folder.
            judge: How the diversity reward's judge is saved, as in
                :meth:`DiversityRewardFunction.save_pretrained <darling.rewards.DiversityRewardFunction.save_pretrained>`.
            repo_id: Hub id shown in the model card (default: ``save_directory``).

        Raises:
            TypeError: For a diversity judge that cannot be saved.
        """
        from darling.classifier._staging import staged_save

        quality = [reward_spec(func) for func in self.quality_funcs]
        with staged_save(save_directory) as staging:
            folder = Path(staging)
            save_diversity(self.diversity, folder / DIVERSITY_FOLDER, judge=judge, repo_id=None, card=False)
            write_description(
                folder,
                {
                    "darling_reward_format": FORMAT_VERSION,
                    "type": "DarlingReward",
                    "fusion": self.fusion,
                    "diversity_weight": self.diversity_weight,
                    "negative_quality": self.negative_quality,
                    "quality_weights": self.quality_weights,
                    "quality": quality,
                    "diversity": DIVERSITY_FOLDER,
                },
            )
            unsaved = [spec["name"] for spec in quality if spec["class"] is None]
            notes = [
                f"- Fusion: `{self.fusion}`, negative quality: `{self.negative_quality}`",
                f"- Quality rewards: {', '.join(self.quality_names)} (weights {self.quality_weights})",
            ]
            if unsaved:
                notes.append(
                    f"- Pass these quality rewards again when loading: {', '.join(unsaved)} (`quality=[...]`)"
                )
            write_card(folder, "DarlingReward", repo_id or str(save_directory), notes)

    @classmethod
    def from_pretrained(
        cls,
        path_or_hub_id: str | os.PathLike,
        *,
        quality: Any = None,
        revision: str | None = None,
        token: str | bool | None = None,
        **diversity_options: Any,
    ) -> Any:
        """Loads a reward saved by :meth:`save_pretrained` from a folder or a Hub repository.

        Args:
            path_or_hub_id: Local folder or hub id.
            quality: The quality reward functions, in the saved order; required when the saved ones
                are not darling's own (they are code, saved by name only). Replaces the saved ones.
            revision: Branch, tag or commit of a hub repository.
            token: Hub token for a private or gated repository, and for a judge the reward names by hub id
                (``None``: the logged-in user's, or ``HF_TOKEN``).
            **diversity_options: Passed to
                :meth:`DiversityRewardFunction.from_pretrained <darling.rewards.DiversityRewardFunction.from_pretrained>`
                for the diversity reward (``servers=`` for a served judge, ``model_kwargs``, ``threshold``, ...).

        Returns:
            The fused reward.

        Raises:
            ValueError: When a quality reward must be passed again (the message names them) or the
                folder holds another kind of reward.
        """
        from darling.rewards.hub_loading import load_darling

        return load_darling(
            cls,
            path_or_hub_id,
            quality=quality,
            revision=revision,
            token=token,
            diversity_options=diversity_options,
        )
