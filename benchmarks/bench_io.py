"""What the benchmark scripts share: the NoveltyBench data beside the checkout, judges from a path, reports.

The scripts import it as a sibling module (``python benchmarks/<script>.py`` puts this folder on
``sys.path``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

NOVELTYBENCH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "noveltybench"
PAIRS = NOVELTYBENCH / "pairs" / "train.jsonl"
GENERATIONS = NOVELTYBENCH / "generations"


def load_generations(data_dir: Path) -> tuple[list[list[str]], list[list[int]]]:
    """The groups of generations of every ``*.jsonl`` file in ``data_dir`` and NoveltyBench's partitions of them."""
    from darling.evaluation.io import get_list_field, iter_jsonl

    groups, partitions = [], []
    for path in sorted(Path(data_dir).glob("*.jsonl")):
        for number, record in iter_jsonl(path):
            groups.append(get_list_field(record, "generations", f"{path}:{number}"))
            partitions.append(get_list_field(record, "partition", f"{path}:{number}"))
    return groups, partitions


def load_judge(path: str | os.PathLike, **kwargs: Any):
    """A fitted :class:`~darling.partitioning.EmbeddingJudge` folder (it holds ``darling_judge.json``),
    else a :class:`~darling.classifier.PartitionClassifier` checkpoint as a judge.

    Args:
        path: The folder or hub id.
        **kwargs: Passed to ``EmbeddingJudge.from_pretrained`` or ``PartitionClassifier.as_judge``.
    """
    from darling.partitioning.embedding import JUDGE_FILE, EmbeddingJudge

    if (Path(path) / JUDGE_FILE).is_file():
        return EmbeddingJudge.from_pretrained(path, **kwargs)
    from darling.classifier import PartitionClassifier

    return PartitionClassifier.from_pretrained(path).as_judge(**kwargs)


def write_results(path: str | os.PathLike, result: dict, markdown: str) -> None:
    """Writes a run's numbers as JSON to ``path`` and their Markdown table beside it (``.md``), which the docs include."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown.rstrip() + "\n", encoding="utf-8")


def command_line(script: str, argv: list[str] | None = None) -> str:
    """``python benchmarks/<script> <arguments>``: the command a reader types to rerun a benchmark.

    Args:
        script: The script's ``__file__``.
        argv: Its arguments (default: ``sys.argv[1:]``).
    """
    arguments = sys.argv[1:] if argv is None else argv
    return " ".join(["python", f"benchmarks/{Path(script).name}", *arguments])


class Report:
    """Lines printed as they come and, with :meth:`save`, written to a Markdown file the docs include.

    Args:
        script: The benchmark's ``__file__``.
        argv: Its arguments (default: ``sys.argv[1:]``).
    """

    def __init__(self, script: str, argv: list[str] | None = None) -> None:
        self.command = command_line(script, argv)
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def save(self, path: str | os.PathLike | None) -> None:
        """Writes the lines and the command that produced them to ``path``; nothing when ``None``."""
        print(f"command: {self.command}")
        if path is None:
            return
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(self.lines).strip("\n")
        path.write_text(f"{body}\n\nCommand: `HF_HUB_OFFLINE=1 {self.command}`\n", encoding="utf-8")
        print(f"report written to {path}")
