"""JSONL reading and writing for evaluation files: clear errors, JSON-string fields, durable appends."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO


class JsonlError(ValueError):
    """A JSONL file has a line that is not a JSON object (the message names the file and line)."""


def check_file(path: str | os.PathLike, what: str = "input file") -> Path:
    """Returns ``path`` as a ``Path``, raising ``FileNotFoundError`` with a helpful message if absent."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"The {what} {str(path)!r} does not exist; check the path.")
    if path.is_dir():
        raise IsADirectoryError(f"The {what} {str(path)!r} is a directory; give a .jsonl file.")
    return path


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields ``(line_number, record)`` for each non-blank line of a JSONL file (lines count from 1).

    Raises:
        FileNotFoundError: If the file does not exist.
        JsonlError: If a line is not valid JSON or not a JSON object.
    """
    path = check_file(path)
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise JsonlError(
                    f"{path}:{number}: malformed JSON ({err.msg} at column {err.colno})."
                ) from None
            if not isinstance(record, dict):
                raise JsonlError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}.")
            yield number, record


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All records of a JSONL file (see :func:`iter_jsonl` for the errors)."""
    return [record for _, record in iter_jsonl(path)]


def decode_field(value: Any) -> Any:
    """Parses a field that holds JSON inside a JSON string (``"[0, 1]"`` -> ``[0, 1]``); else returns it."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                return json.loads(stripped)
            except json.JSONDecodeError:
                return value
    return value


def get_list_field(record: dict[str, Any], field: str, where: str, flag: str = "--field") -> list:
    """``record[field]`` as a list, decoding a JSON string; ``where`` names the record in errors and
    ``flag`` the command-line option that chooses the field."""
    if field not in record:
        keys = ", ".join(sorted(record)) or "none"
        raise KeyError(f"{where}: no field {field!r} (fields: {keys}); pick the right one with {flag}.")
    value = decode_field(record[field])
    if not isinstance(value, list):
        raise ValueError(
            f"{where}: field {field!r} must be a list (or a JSON string of one), got {value!r:.80}."
        )
    return value


def _file_mode(path: Path) -> int:
    """The mode ``path`` has, or the mode a new file gets under the current umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[TextIO]:
    """Opens a temporary file beside ``path`` for writing and moves it onto ``path`` only on success.

    A run that fails part-way leaves ``path`` as it was (an earlier output, or the input file when
    both are the same) instead of a truncated file.

    Raises:
        IsADirectoryError: If ``path`` is a directory.
        NotADirectoryError: If a parent of ``path`` is a file.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"The output {str(path)!r} is a directory; give a file path.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"Cannot write {str(path)!r}: {str(parent)!r} is a file, not a folder."
                )
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as err:
        raise type(err)(err.errno, f"Cannot write {str(path)!r}: {err.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            yield f
        os.chmod(temporary, _file_mode(path))  # mkstemp's file is private; give it a normal file's mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def append_jsonl(f, record: dict[str, Any]) -> None:
    """Writes one record as a line and forces it to disk, so a crash never loses a finished record."""
    f.write(json.dumps(record, ensure_ascii=False) + "\n")
    f.flush()
    os.fsync(f.fileno())


def recover_jsonl_lines(path: str | os.PathLike) -> list[tuple[int, Any]]:
    """``(line_number, value)`` of each line of a file a crashed run was appending to, dropping an
    unfinished last line.

    Only the last line can be cut short by a crash (records are appended one at a time and synced),
    so it is removed from the file when it does not parse; a malformed line elsewhere is an error.

    Returns:
        The complete lines' JSON values with their line numbers, in file order ([] when the file
        does not exist).
    """
    path = Path(path)
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    keep = len(raw)
    if lines and lines[-1].strip():
        # No trailing newline: the last record was being written when the run stopped.
        keep -= len(lines[-1])
        lines = lines[:-1]
    values = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append((number, json.loads(line)))
        except json.JSONDecodeError:
            raise JsonlError(
                f"{path}:{number}: malformed JSON in a results file; fix or remove that line to resume."
            ) from None
    if keep != len(raw):
        with path.open("r+b") as f:
            f.truncate(keep)
    return values


def recover_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of :func:`recover_jsonl_lines`, without their line numbers."""
    return [value for _, value in recover_jsonl_lines(path)]
