"""Loading evaluation prompts from a local file or a hub dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darling.evaluation.io import check_file, read_jsonl

PROMPT_FIELDS: tuple[str, ...] = ("prompt", "problem", "question", "input", "instruction")
ANSWER_FIELDS: tuple[str, ...] = ("answer", "final_answer", "solution", "gold", "target")
LOCAL_SUFFIXES: tuple[str, ...] = (".jsonl", ".json", ".csv", ".parquet")


@dataclass
class EvalPrompt:
    """One evaluation item: a stable id, the prompt and (for math) the gold answer."""

    id: str
    prompt: Any
    answer: str | None = None


def _pick(fields: list[str], wanted: str | None, candidates: tuple[str, ...], what: str, flag: str) -> str:
    if wanted is not None:
        if wanted not in fields:
            raise ValueError(f"The dataset has no {what} field {wanted!r} (fields: {', '.join(fields)}).")
        return wanted
    for name in candidates:
        if name in fields:
            return name
    raise ValueError(
        f"Could not find a {what} field among {', '.join(fields)} (looked for {', '.join(candidates)}); "
        f"name it with {flag}."
    )


def load_rows(dataset: str, split: str = "test", config_name: str | None = None) -> list[dict[str, Any]]:
    """Rows of a local ``.jsonl``/``.json``/``.csv``/``.parquet`` file or of a hub dataset split."""
    path = Path(dataset)
    if path.suffix in LOCAL_SUFFIXES or path.exists():
        check_file(path, "dataset file")
        if path.suffix == ".jsonl":
            return read_jsonl(path)
        import datasets

        kind = {".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(path.suffix, "json")
        return list(datasets.load_dataset(kind, data_files=str(path), split="train"))
    import datasets

    return list(datasets.load_dataset(dataset, config_name, split=split))


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
        ValueError: When a field is missing or ids repeat.
    """
    rows = load_rows(dataset, split, config_name)
    if not rows:
        raise ValueError(f"The dataset {dataset!r} has no rows.")
    fields = list(rows[0])
    prompt_key = _pick(fields, prompt_field, PROMPT_FIELDS, "prompt", "--prompt-field")
    answer_key = (
        _pick(fields, answer_field, ANSWER_FIELDS, "answer", "--answer-field") if need_answer else None
    )
    id_key = id_field if id_field is not None else ("id" if "id" in fields else None)
    if id_key is not None and id_key not in fields:
        raise ValueError(f"The dataset has no id field {id_key!r} (fields: {', '.join(fields)}).")
    prompts, seen = [], set()
    for index, row in enumerate(rows):
        item_id = str(row[id_key]) if id_key is not None else str(index)
        if item_id in seen:
            raise ValueError(
                f"Row {index} repeats the id {item_id!r}; ids must be unique (or drop --id-field)."
            )
        seen.add(item_id)
        answer = None if answer_key is None else str(row[answer_key])
        prompts.append(EvalPrompt(id=item_id, prompt=row[prompt_key], answer=answer))
    return prompts
