"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from darling.evaluation.novelty import NOVELTYBENCH_PROTOCOLS, PROTOCOL_MAX_TOKENS_PER_TEXT

JUDGE_HELP = (
    "How to decide that two generations are equivalent: classifier:PATH_OR_HUB_ID (a partition "
    "classifier run here), 'served:PATH_OR_HUB_ID@URL,URL;model=NAME' (that classifier served by "
    "vLLM/SGLang; ;engine=sglang for SGLang), 'llm:MODEL@URL,URL;task=math' (an instruct model behind "
    "OpenAI-compatible chat servers), embedding:MODEL (sentence-transformers cosine, or a folder saved by "
    "EmbeddingJudge), lexical (unigram F1), exact, or normalized (exact after lower-casing and dropping "
    "punctuation)."
)


PROTOCOL_HELP = (
    f"NoveltyBench protocol, one of {', '.join(NOVELTYBENCH_PROTOCOLS)}: upstream = NoveltyBench "
    f"({PROTOCOL_MAX_TOKENS_PER_TEXT['upstream']} tokens a text for a classifier judge, patience-weighted "
    f"utility); darling = the DARLING paper's fork ({PROTOCOL_MAX_TOKENS_PER_TEXT['darling']} tokens a text, "
    "utility = sum of the class heads' scores / k, plus mean quality of all generations). "
    "Without it, utility is upstream's and a classifier keeps its own token limit."
)


def add_protocol_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--protocol``, ``--max-tokens-per-text`` and ``--patience`` (validated by the library)."""
    parser.add_argument("--protocol", default=None, help=PROTOCOL_HELP)
    parser.add_argument(
        "--max-tokens-per-text",
        type=int,
        default=None,
        help="tokens of each text a classifier judge reads (overrides --protocol and the checkpoint's own)",
    )
    parser.add_argument(
        "--patience", type=float, default=None, help="upstream utility patience (default: 0.8)"
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
