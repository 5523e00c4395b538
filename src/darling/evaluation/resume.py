"""Resuming ``darling evaluate``: the finished records of an output folder and the settings they were made with.

``samples.jsonl`` holds one record a finished prompt; ``run_config.json`` holds the settings that
shaped those samples. It is written when the first record is, so a run that fails before sampling
anything (a mistyped path, a bad option) leaves nothing that stops the corrected command; and a
``run_config.json`` beside no records is replaced rather than enforced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from darling.evaluation.io import JsonlError, atomic_output, recover_jsonl_lines

CONFIG_FILE = "run_config.json"


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """The finished records of ``samples.jsonl`` by id ({} when the file does not exist).

    An unfinished last line (a crash mid-write) is removed from the file
    (:func:`~darling.evaluation.io.recover_jsonl_lines`).

    Raises:
        JsonlError: If a line is malformed, not a JSON object, or lacks a text ``id`` or a
            ``generations`` list (the message names the file and line).
    """
    records: dict[str, dict[str, Any]] = {}
    # One read: the unfinished last line is dropped and every other line checked as it is parsed.
    for number, record in recover_jsonl_lines(path):
        where = f"{path}:{number}"
        if not isinstance(record, dict):
            problem = f"expected a JSON object, got {type(record).__name__}"
        elif not isinstance(record.get("id"), str):
            problem = "a record with " + (
                "no 'id'" if "id" not in record else f"a non-text 'id' {record['id']!r}"
            )
        elif not isinstance(record.get("generations"), list):
            problem = f"the record {record['id']!r} has no 'generations' list"
        else:
            records[record["id"]] = record
            continue
        raise JsonlError(
            f"{where}: {problem}; every line must be a record darling evaluate wrote. "
            "Fix or remove that line to resume (a removed record is sampled again)."
        )
    return records


def check_run_config(out: Path, fingerprint: dict[str, Any], has_records: bool) -> None:
    """Refuses to continue a run made with other settings.

    Args:
        out: The output folder.
        fingerprint: The settings of this run that shape the samples.
        has_records: Whether ``samples.jsonl`` holds records; without any, an old (or damaged)
            ``run_config.json`` is left to be replaced when this run writes its first record.

    Raises:
        ValueError: If ``run_config.json`` differs from ``fingerprint`` or is not a JSON object.
    """
    path = out / CONFIG_FILE
    if not has_records or not path.exists():
        return
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        detail = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8 text"
        previous, problem = None, f"is not valid JSON ({detail})"
    else:
        problem = f"holds a {type(previous).__name__}, not a JSON object of settings"
    if not isinstance(previous, dict):
        raise ValueError(
            f"{path} {problem}; restore it, or delete it to resume without checking that the settings "
            "match, or use a new --output-dir to start afresh."
        )
    changed = {k: (previous.get(k), v) for k, v in fingerprint.items() if previous.get(k) != v}
    if changed:
        details = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise ValueError(
            f"{out} holds a run with other settings ({details}); rerun with the earlier values to "
            "continue it, or use a new --output-dir to start afresh."
        )


def write_run_config(out: Path, fingerprint: dict[str, Any]) -> None:
    """Writes ``run_config.json`` atomically: a crash leaves the old file or the new one, never half of one."""
    with atomic_output(out / CONFIG_FILE) as f:
        f.write(json.dumps(fingerprint, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
