"""One way to push any darling piece to the Hub: save it to a temporary folder, upload that folder in one commit."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any


def push_saved_folder(
    save: Callable[[str, str], None],
    repo_id: str,
    *,
    commit_message: str,
    private: bool | None = None,
    token: str | bool | None = None,
    revision: str | None = None,
    create_pr: bool = False,
) -> Any:
    """Creates ``repo_id`` if missing, calls ``save(folder, repo_id)`` and uploads the folder in one commit.

    Args:
        save: Writes the piece into ``folder``; gets the final repo id (e.g. ``user/name``) for its card.
        repo_id: Target repository.
        commit_message: Commit message.
        private: Create the repository private.
        token: Hub token (default: the stored login).
        revision: Branch to push to.
        create_pr: Open a pull request instead of committing.

    Returns:
        The ``huggingface_hub`` commit info.
    """
    from huggingface_hub import HfApi

    api = HfApi()
    repo_id = api.create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
    with tempfile.TemporaryDirectory() as tmp_dir:
        save(tmp_dir, repo_id)
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=tmp_dir,
            commit_message=commit_message,
            token=token,
            revision=revision,
            create_pr=create_pr,
        )
