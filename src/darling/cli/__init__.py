"""The ``darling`` command line: ``partition``, ``evaluate``, ``train-classifier``, ``check-server``.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``.
Input errors (a missing file, a malformed JSONL line, an unknown judge) are printed as one line
``darling <command>: error: ...`` with exit status 2; set ``DARLING_TRACEBACK=1`` to see the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from darling import __version__
from darling.cli import check_server, evaluate, partition, train_classifier

COMMANDS = (partition, evaluate, train_classifier, check_server)

_EPILOG = """\
examples:
  darling partition generations.jsonl --judge lexical --output partitions.jsonl
  darling evaluate --model Qwen/Qwen3-4B-Base --dataset math-ai/aime25 --task math --num-samples 256 \\
      --k-list 1,8,64,128 --temperature 0.6 --top-p 0.95 --output-dir runs/aime25
  darling train-classifier --help
  darling check-server http://node1:8000 --classifier classifiers/modernbert --model partition-classifier

Run `darling <command> --help` for each command's options."""

# Errors caused by the user's input or environment (a missing file or model, an unwritable output, an
# unreachable hub or server): reported in one line, not as a traceback.
_INPUT_ERRORS = (OSError, ValueError, KeyError, TypeError, ImportError)


def _is_input_error(err: BaseException) -> bool:
    if isinstance(err, _INPUT_ERRORS):
        return True
    from darling.serving.pool import ServedJudgeError  # the message names the server and the fix

    return isinstance(err, ServedJudgeError)


def build_parser() -> argparse.ArgumentParser:
    """The ``darling`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="darling",
        description="DARLING (diversity-aware RL) tools: partition generations, evaluate models, train classifiers.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"darling {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``darling`` console script.

    Args:
        argv: Arguments without the program name (``sys.argv[1:]`` when ``None``).

    Returns:
        The exit status: 0 on success, 2 on an input error.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-classifier"]:
        # Its options belong to the training script's own parser.
        command, run = "train-classifier", lambda: train_classifier.forward(argv[1:])
    else:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        command, run = args.command, lambda: args.run(args)
    try:
        return int(run() or 0)
    except Exception as err:
        if os.environ.get("DARLING_TRACEBACK") or not _is_input_error(err):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"darling {command}: error: {message}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]
