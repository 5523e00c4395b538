"""A NoveltyBench leaderboard submission: the slim folder for the pull request, the full files for the Hub.

A run folder holds one eval folder per split, each as :mod:`~darling.evaluation.novelty_v11_run`
writes it::

    <run>/nb-curated/{generations.jsonl, v1.1/partitions.jsonl, v1.1/scores.jsonl, v1.1/summary.json}
    <run>/nb-wildchat/...

:func:`write_submission` copies it into ``evaluation/<date>_<name>/`` of a NoveltyBench fork as
upstream asks: ``partitions.jsonl`` and ``scores.jsonl`` without the response text (every metric
field kept), ``summary.json`` as is, and ``generations.jsonl`` for the curated split only.
:func:`push_results` uploads the full files (response text included) to a Hub dataset under
``results/<run>/``, upstream's layout, so every number can be checked against the responses.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from darling.evaluation.io import atomic_output, recover_jsonl
from darling.evaluation.novelty_v11 import METRIC_VERSION, slim_row
from darling.evaluation.novelty_v11_run import (
    GENERATIONS_FILE,
    PARTITIONS_FILE,
    SCORES_FILE,
    SUMMARY_FILE,
)

# Submission folder name -> the split of upstream's dataset it evaluates.
SPLITS: dict[str, str] = {"nb-curated": "curated", "nb-wildchat": "wildchat"}
NOVELTYBENCH_DATASET = "yimingzhang/novelty-bench"  # upstream's prompts (splits: curated, wildchat)
RESULTS_PREFIX = "results"
# What a results dataset keeps: inputs, both judged stages and the summary (as upstream publishes).
PUSH_PATTERNS: tuple[str, ...] = (
    "*/generations.jsonl",
    "*/v*/partitions.jsonl",
    "*/v*/scores.jsonl",
    "*/v*/summary.json",
)


def _split_dirs(run_dir: Path) -> list[Path]:
    found = [run_dir / name for name in SPLITS if (run_dir / name).is_dir()]
    if not found:
        raise FileNotFoundError(
            f"{run_dir} holds no split folder ({', '.join(SPLITS)}); run `darling evaluate --protocol v1.1 "
            f"--output-dir {run_dir}/nb-curated ...` (and nb-wildchat) first."
        )
    return found


def write_submission(
    run_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    version: str = METRIC_VERSION,
    generations_for: tuple[str, ...] = ("nb-curated",),
) -> list[Path]:
    """Writes the slim leaderboard folder of a run.

    Args:
        run_dir: The run folder (``nb-curated/``, ``nb-wildchat/`` eval folders with full files).
        out_dir: The submission folder, e.g. ``novelty-bench/evaluation/2026-12-07_my-model``.
        version: The metric version folder to submit.
        generations_for: Splits whose ``generations.jsonl`` is committed too (upstream: curated).

    Returns:
        The files written.

    Raises:
        FileNotFoundError: When a split lacks its scores or summary (the message names it).
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    written = []
    for split_dir in _split_dirs(run_dir):
        source = split_dir / f"v{version}"
        target = out_dir / split_dir.name / f"v{version}"
        for name in (PARTITIONS_FILE, SCORES_FILE, SUMMARY_FILE):
            if not (source / name).is_file():
                raise FileNotFoundError(
                    f"{source / name} does not exist; finish the v{version} run of {split_dir} before submitting."
                )
        for name in (PARTITIONS_FILE, SCORES_FILE):
            with atomic_output(target / name) as f:
                for row in recover_jsonl(source / name):
                    f.write(json.dumps(slim_row(row), ensure_ascii=False) + "\n")
            written.append(target / name)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / SUMMARY_FILE, target / SUMMARY_FILE)
        written.append(target / SUMMARY_FILE)
        if split_dir.name in generations_for and (split_dir / GENERATIONS_FILE).is_file():
            shutil.copyfile(split_dir / GENERATIONS_FILE, out_dir / split_dir.name / GENERATIONS_FILE)
            written.append(out_dir / split_dir.name / GENERATIONS_FILE)
    return written


def push_results(
    run_dir: str | os.PathLike,
    repo_id: str,
    *,
    run_name: str | None = None,
    token: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
) -> Any:
    """Uploads a run's full files to a Hub dataset under ``results/<run_name>/`` (upstream's layout).

    Args:
        run_dir: The run folder (``nb-curated/``, ``nb-wildchat/``).
        repo_id: The dataset repository, created when missing.
        run_name: The run's name in the dataset (default: the folder's name, e.g. ``2026-12-07_my-model``).
        token: A Hub write token (default: the logged-in one).
        private: Create the dataset private (only when it does not exist yet).
        commit_message: The commit message (default: ``add <run_name> evaluation results``).

    Returns:
        The commit information ``huggingface_hub`` returns.
    """
    from huggingface_hub import HfApi

    run_dir = Path(run_dir)
    _split_dirs(run_dir)
    name = run_name or run_dir.resolve().name
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    return api.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=str(run_dir),
        path_in_repo=f"{RESULTS_PREFIX}/{name}",
        allow_patterns=list(PUSH_PATTERNS),
        commit_message=commit_message or f"add {name} evaluation results",
    )
