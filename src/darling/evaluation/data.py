"""Loading evaluation prompts from a local file or a hub dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darling.evaluation.io import check_file, read_jsonl

PROMPT_FIELDS: tuple[str, ...] = ("prompt", "problem", "question", "input", "instruction")
ANSWER_FIELDS: tuple[str, ...] = ("answer", "final_answer", "solution", "gold", "target")
LOCAL_SUFFIXES: tuple[str, ...] = (".jsonl", ".json", ".csv", ".parquet")
# Extensions that mark --dataset as a file path (never a hub id), read or not.
FILE_SUFFIXES: tuple[str, ...] = (*LOCAL_SUFFIXES, ".txt", ".tsv", ".gz", ".arrow")


@dataclass
class EvalPrompt:
    """One evaluation item: a stable id, the prompt and (for math) the gold answer."""

    id: str
    prompt: Any
    answer: str | None = None


def _pick(
    dataset: str, fields: list[str], wanted: str | None, candidates: tuple[str, ...], what: str, flag: str
) -> str:
    if wanted is not None:
        if wanted not in fields:
            raise ValueError(
                f"{dataset} has no {what} field {wanted!r} (fields: {', '.join(fields)}); check {flag}."
            )
        return wanted
    for name in candidates:
        if name in fields:
            return name
    raise ValueError(
        f"Could not find a {what} field in {dataset} among {', '.join(fields)} (looked for "
        f"{', '.join(candidates)}); name it with {flag}."
    )


def _root_cause(err: BaseException) -> str:
    while err.__cause__ is not None:
        err = err.__cause__
    return str(err).strip() or type(err).__name__


def load_rows(dataset: str, split: str = "test", config_name: str | None = None) -> list[dict[str, Any]]:
    """Rows of a local ``.jsonl``/``.json``/``.csv``/``.parquet`` file or of a hub dataset split.

    Raises:
        FileNotFoundError: For a path that does not exist but names a file (it has a data file's
            extension), rather than looking it up on the hub.
        ValueError: For a file of another kind, or one that does not parse (naming the file, and
            for ``.jsonl`` the line).
    """
    path = Path(dataset)
    suffix = path.suffix.lower()
    if path.exists() or suffix in FILE_SUFFIXES:
        check_file(path, "dataset file")
        if suffix and suffix not in LOCAL_SUFFIXES:
            raise ValueError(
                f"{dataset}: {suffix} files are not read as datasets; give a .jsonl (one JSON object a "
                "line), .json, .csv or .parquet file."
            )
        if suffix == ".jsonl":
            return read_jsonl(path)
        kind = {".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(suffix, "json")
        if path.stat().st_size == 0:
            raise ValueError(f"{dataset}: the file is empty; it needs one row a prompt.")
        import datasets

        try:
            return list(datasets.load_dataset(kind, data_files=str(path), split="train"))
        except (datasets.exceptions.DatasetsError, ValueError, StopIteration) as err:
            raise ValueError(f"{dataset}: could not parse as {kind}: {_root_cause(err)}") from err
    import datasets

    return list(datasets.load_dataset(dataset, config_name, split=split))


def _row_value(dataset: str, index: int, row: dict[str, Any], key: str, what: str, flag: str) -> Any:
    where = f"{dataset} row {index + 1}"
    if key not in row:
        raise ValueError(
            f"{where}: no field {key!r} (fields: {', '.join(row) or 'none'}); every row needs it, or name "
            f"the {what} field with {flag}."
        )
    value = row[key]
    if value is None:
        raise ValueError(f"{where}: the {what} field {key!r} is empty; every row needs a {what}.")
    if what == "prompt" and not isinstance(value, (str, list)):
        raise ValueError(
            f"{where}: the prompt field {key!r} holds a {type(value).__name__}; a prompt is text or a "
            "list of chat messages (name another field with --prompt-field)."
        )
    return value


def load_prompts(
    dataset: str,
    split: str = "test",
    prompt_field: str | None = None,
    answer_field: str | None = None,
    id_field: str | None = None,
    need_answer: bool = False,
    config_name: str | None = None,
) -> list[EvalPrompt]:
    """Evaluation prompts of a dataset, with fields found automatically unless named.

    Args:
        dataset: A local file or a hub dataset id.
        split: The hub split (ignored for local files).
        prompt_field: The prompt column (default: the first of ``prompt``, ``problem``, ``question``, ...).
        answer_field: The gold-answer column (default: the first of ``answer``, ``final_answer``, ...).
        id_field: A column of unique ids (default: ``id`` when present, else the row number).
        need_answer: Whether a gold answer is required (math).
        config_name: The hub dataset configuration.

    Raises:
        ValueError: When a field is missing (from the dataset or from one row; rows count from 1),
            empty, or ids repeat.
    """
    rows = load_rows(dataset, split, config_name)
    if not rows:
        raise ValueError(f"The dataset {dataset!r} has no rows.")
    fields = list(rows[0])
    prompt_key = _pick(dataset, fields, prompt_field, PROMPT_FIELDS, "prompt", "--prompt-field")
    answer_key = (
        _pick(dataset, fields, answer_field, ANSWER_FIELDS, "answer", "--answer-field")
        if need_answer
        else None
    )
    id_key = id_field if id_field is not None else ("id" if "id" in fields else None)
    if id_key is not None and id_key not in fields:
        raise ValueError(
            f"{dataset} has no id field {id_key!r} (fields: {', '.join(fields)}); check --id-field."
        )
    prompts: list[EvalPrompt] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        prompt = _row_value(dataset, index, row, prompt_key, "prompt", "--prompt-field")
        answer = None
        if answer_key is not None:
            answer = str(_row_value(dataset, index, row, answer_key, "answer", "--answer-field"))
        item_id = str(index)
        if id_key is not None:
            item_id = str(_row_value(dataset, index, row, id_key, "id", "--id-field"))
        if item_id in seen:
            raise ValueError(
                f"{dataset} row {index + 1} repeats the id {item_id!r} of row {seen[item_id] + 1}; ids must "
                "be unique (name a column of unique ids with --id-field)."
            )
        seen[item_id] = index
        prompts.append(EvalPrompt(id=item_id, prompt=prompt, answer=answer))
    return prompts
