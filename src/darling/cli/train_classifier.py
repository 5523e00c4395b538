"""``darling train-classifier``: train a partition classifier (wraps the classifier training script).

The options are those of ``darling.scripts.train_partition_classifier`` (also run by
``examples/train_partition_classifier.py``): this command hands its arguments to that script's
``main(argv)``, imported only when the command runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def find_entry_point() -> Callable:
    """The training script's ``main(argv)`` (``darling.scripts.train_partition_classifier``)."""
    from darling.scripts.train_partition_classifier import main

    return main


def forward(argv: Sequence[str]) -> int:
    """Runs the classifier training entry point with ``argv``.

    Returns:
        Its exit status.
    """
    if any(a in ("-h", "--help") for a in argv):
        print(_usage())
    entry = find_entry_point()
    try:
        entry(list(argv))
    except SystemExit as exit_:  # argparse's --help and usage errors
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    return 0
