"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse

JUDGE_HELP = (
    "How to decide that two generations are equivalent: classifier:PATH_OR_HUB_ID (a darling "
    "PartitionClassifier), embedding:MODEL (sentence-transformers cosine), lexical (unigram F1), "
    "exact, or normalized (exact after lower-casing and dropping punctuation)."
)


def new_parser(subparsers, name: str, help: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand parser whose ``--help`` ends with ``examples``."""
    return subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def int_list(text: str) -> list[int]:
    """Parses ``"1,2,4"`` into ``[1, 2, 4]`` (an ``argparse`` type)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 1,2,4, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer, such as 1,2,4")
    return values


def float_list(text: str) -> list[float]:
    """Parses ``"-1.5,0,2"`` into ``[-1.5, 0.0, 2.0]`` (an ``argparse`` type)."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as -2.5,0,1.5, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values
