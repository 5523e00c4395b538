"""Running NoveltyBench v1.1 on an eval folder, in upstream's layout, every stage resumable.

An eval folder holds one split's run (upstream's ``--eval-dir``)::

    <eval-dir>/
      generations.jsonl          id, prompt, model, generations
      v1.1/partitions.jsonl      + partition, distinct, partition_key, partition_config
      v1.1/scores.jsonl          + generation_scores, partition_scores, utility, score_key, score_config
      v1.1/summary.json          version, mean_distinct, mean_utility (+ unscored, n_scored)

Each judged row carries a key: the SHA-256 of its prompt, model, generations, partition and the
stage's settings, as upstream computes it. A rerun keeps every row whose key still matches and
judges the rest; rows are appended to ``<file>.partial`` (synced) as they are judged, so an
interrupted stage loses nothing, and the final file is written atomically once all are done.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from darling.evaluation.io import append_jsonl, atomic_output, recover_jsonl
from darling.evaluation.novelty_v11 import METRIC_VERSION, summarize

GENERATIONS_FILE = "generations.jsonl"
PARTITIONS_FILE = "partitions.jsonl"
SCORES_FILE = "scores.jsonl"
SUMMARY_FILE = "summary.json"
INPUT_FIELDS: tuple[str, ...] = ("id", "prompt", "generations", "model", "prompt_paraphrases")


def version_dir(eval_dir: str | Path, version: str = METRIC_VERSION) -> Path:
    """``<eval_dir>/v<version>`` (created)."""
    path = Path(eval_dir) / f"v{version}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def evaluation_key(row: dict[str, Any], config: dict[str, Any]) -> str:
    """The cache key of a row under a stage's settings (upstream's fields, so its caches agree)."""
    payload = {
        "prompt": row["prompt"],
        "model": row.get("model"),
        "generations": row.get("generations"),
        "prompt_paraphrases": row.get("prompt_paraphrases"),
        "partition": row.get("partition"),
        "config": config,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _rows_by_id(path: Path) -> dict[str, dict[str, Any]]:
    """Rows of a (possibly interrupted) file by id; a later row of an id wins."""
    return {row["id"]: row for row in recover_jsonl(path) if isinstance(row, dict) and "id" in row}


def run_stage(
    rows: Sequence[dict[str, Any]],
    output: str | Path,
    key_field: str,
    config: dict[str, Any],
    compute: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    *,
    chunk_size: int = 32,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Runs one judged stage over ``rows``, reusing every row whose key still matches.

    Args:
        rows: Input rows (each with a unique ``id``), in output order.
        output: The stage's output file.
        key_field: ``"partition_key"`` or ``"score_key"``; ``<stage>_config`` is written beside it.
        config: The stage's settings (part of the key).
        compute: ``rows -> new fields of each``, called on chunks of ``chunk_size`` rows.
        chunk_size: Rows judged (and journaled) together.
        progress: Show a progress bar.

    Returns:
        The output rows, in input order.
    """
    output = Path(output)
    journal = output.with_name(output.name + ".partial")
    existing = _rows_by_id(output) | _rows_by_id(journal)
    keys = {row["id"]: evaluation_key(row, config) for row in rows}
    todo = [row for row in rows if existing.get(row["id"], {}).get(key_field) != keys[row["id"]]]
    config_field = key_field.removesuffix("_key") + "_config"
    if todo:
        with (
            journal.open("a", encoding="utf-8") as f,
            tqdm(
                total=len(rows), initial=len(rows) - len(todo), desc=config.get("stage"), disable=not progress
            ) as bar,
        ):
            for start in range(0, len(todo), chunk_size):
                chunk = todo[start : start + chunk_size]
                for row, fields in zip(chunk, compute(chunk), strict=True):
                    done = {**row, **fields, key_field: keys[row["id"]], config_field: config}
                    append_jsonl(f, done)
                    existing[row["id"]] = done
                bar.update(len(chunk))
    finished = [existing[row["id"]] for row in rows]
    if todo or not output.exists():
        with atomic_output(output) as f:
            for row in finished:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        journal.unlink(missing_ok=True)
    return finished


def read_generations(eval_dir: str | Path) -> list[dict[str, Any]]:
    """The input rows of an eval folder's ``generations.jsonl`` (upstream's input fields only).

    Raises:
        FileNotFoundError: When the folder has no ``generations.jsonl``.
        ValueError: For a row without an ``id``, a ``prompt`` or a ``generations`` list of texts,
            or a repeated id.
    """
    path = Path(eval_dir) / GENERATIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist; an eval folder holds the responses there (one row a prompt: id, prompt, "
            "generations), as `darling evaluate --protocol v1.1` or upstream's inference writes them."
        )
    rows, seen = [], set()
    for number, row in enumerate(recover_jsonl(path), start=1):
        gens = row.get("generations") if isinstance(row, dict) else None
        if not isinstance(gens, list) or not gens or not all(isinstance(g, str) for g in gens):
            raise ValueError(f"{path} row {number}: needs a non-empty `generations` list of texts.")
        if not isinstance(row.get("id"), str) or not isinstance(row.get("prompt"), str):
            raise ValueError(f"{path} row {number}: needs a text `id` and a text `prompt`.")
        if row["id"] in seen:
            raise ValueError(f"{path} row {number}: repeats the id {row['id']!r}; ids must be unique.")
        seen.add(row["id"])
        rows.append({k: row[k] for k in INPUT_FIELDS if k in row})
    if not rows:
        raise ValueError(f"{path} has no rows.")
    return rows


def run_v11(
    eval_dir: str | Path,
    partitioner: Any,
    scorer: Any,
    *,
    chunk_size: int = 32,
    progress: bool = True,
) -> dict[str, Any]:
    """Partitions, scores and summarizes an eval folder under metric v1.1 (each stage resumable).

    Args:
        eval_dir: A folder with ``generations.jsonl``.
        partitioner: A :class:`~darling.evaluation.novelty_judges.SetLevelPartitioner` (anything with
            ``config()`` and ``partition(rows)``).
        scorer: A :class:`~darling.evaluation.novelty_judges.HeadScorer` (``config()``, ``score(rows)``).
        chunk_size: Prompts judged together (and journaled together).
        progress: Show progress bars.

    Returns:
        The summary (also written to ``v1.1/summary.json``).
    """
    out = version_dir(eval_dir)
    rows = read_generations(eval_dir)
    partitioned = run_stage(
        rows, out / PARTITIONS_FILE, "partition_key", partitioner.config(), partitioner.partition,
        chunk_size=chunk_size, progress=progress,
    )  # fmt: skip
    scored = run_stage(
        partitioned, out / SCORES_FILE, "score_key", scorer.config(), scorer.score,
        chunk_size=chunk_size, progress=progress,
    )  # fmt: skip
    summary = summarize(scored)
    with atomic_output(out / SUMMARY_FILE) as f:
        f.write(json.dumps(summary, indent=2) + "\n")
    return summary


def summarize_dir(eval_dir: str | Path) -> dict[str, Any]:
    """Recomputes ``v1.1/summary.json`` from ``v1.1/scores.jsonl`` alone (slim files suffice)."""
    path = Path(eval_dir) / f"v{METRIC_VERSION}" / SCORES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; score the folder first.")
    summary = summarize(recover_jsonl(path))
    with atomic_output(path.with_name(SUMMARY_FILE)) as f:
        f.write(json.dumps(summary, indent=2) + "\n")
    return summary
