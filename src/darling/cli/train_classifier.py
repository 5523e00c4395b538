"""``darling train-classifier``: train a partition classifier (wraps the classifier training script).

The options are those of ``examples/train_partition_classifier.py``: this command hands its
arguments to that script's ``main(argv)``, found (and imported only when the command runs) as
``darling.partition.classifier.training.main`` or, in a source checkout, in the example file.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from darling.cli._common import new_parser

DESCRIPTION = (
    "Fine-tunes a pairwise partition classifier on labelled pairs of generations (for example "
    "NoveltyBench's human-labelled pairs) and saves it for `--judge classifier:PATH`. Every option "
    "is passed to the classifier training script (examples/train_partition_classifier.py), so "
    "`--config recipe.yaml` works as well as flags."
)
EXAMPLES = """\
  darling train-classifier --config recipe.yaml
  darling train-classifier --model_name_or_path answerdotai/ModernBERT-base --output_dir classifiers/modernbert
  darling train-classifier --smoke   # tiny local model, offline, seconds
  # then partition with it
  darling partition generations.jsonl --judge classifier:classifiers/modernbert --output partitions.jsonl"""
EXAMPLE_SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "train_partition_classifier.py"


def add_parser(subparsers) -> None:
    parser = new_parser(
        subparsers,
        "train-classifier",
        help="train a partition classifier (options of examples/train_partition_classifier.py)",
        description=DESCRIPTION,
        examples=EXAMPLES,
    )
    parser.set_defaults(run=lambda args: forward([]))


def _usage() -> str:
    return f"usage: darling train-classifier [OPTIONS]\n\n{DESCRIPTION}\n\nexamples:\n{EXAMPLES}\n"


def find_entry_point() -> Callable | None:
    """The training ``main(argv)``: from the package when it has one, else from the example script."""
    from darling.partition.classifier import training

    entry = getattr(training, "main", None)
    if entry is not None:
        return entry
    if EXAMPLE_SCRIPT.exists():
        spec = importlib.util.spec_from_file_location("darling_train_partition_classifier", EXAMPLE_SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return getattr(module, "main", None)
    return None


def forward(argv: Sequence[str]) -> int:
    """Runs the classifier training entry point with ``argv``.

    Returns:
        Its exit status; 2 when no training entry point is available.
    """
    if any(a in ("-h", "--help") for a in argv):
        print(_usage())
    entry = find_entry_point()
    if entry is None:
        print(
            "darling train-classifier: error: no training entry point: darling.partition.classifier.training "
            f"has no main(argv) and {EXAMPLE_SCRIPT} is absent (it ships with the source checkout).",
            file=sys.stderr,
        )
        return 2
    try:
        entry(list(argv))
    except SystemExit as exit_:  # argparse's --help and usage errors
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    return 0
