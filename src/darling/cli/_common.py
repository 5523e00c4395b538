"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from darling.evaluation.novelty import NOVELTYBENCH_PROTOCOLS, PROTOCOL_MAX_TOKENS_PER_TEXT
from darling.evaluation.novelty_v11 import PROTOCOL as V11_PROTOCOL

JUDGE_HELP = (
    "How to decide that two generations are equivalent: classifier:PATH_OR_HUB_ID (a partition "
    "classifier run here), 'served:PATH_OR_HUB_ID@URL,URL;model=NAME' (that classifier served by "
    "vLLM/SGLang; ;engine=sglang for SGLang), 'llm:MODEL@URL,URL;task=math' (an instruct model behind "
    "OpenAI-compatible chat servers), embedding:MODEL (sentence-transformers cosine, or a folder saved by "
    "EmbeddingJudge), lexical (unigram F1), exact, or normalized (exact after lower-casing and dropping "
    "punctuation)."
)


PROTOCOL_HELP = (
    f"NoveltyBench protocol, one of {', '.join((*NOVELTYBENCH_PROTOCOLS, V11_PROTOCOL))}: upstream = NoveltyBench "
    f"({PROTOCOL_MAX_TOKENS_PER_TEXT['upstream']} tokens a text for a classifier judge, patience-weighted "
    f"utility); darling = the DARLING paper's fork ({PROTOCOL_MAX_TOKENS_PER_TEXT['darling']} tokens a text, "
    "utility = sum of the class heads' scores / k, plus mean quality of all generations); v1.1 = "
    "NoveltyBench metric v1.1 (one LLM call a prompt partitions all responses, an LLM scores each class's "
    "first response 1-10; --judge llm:MODEL@URL, upstream's folder layout; not comparable with v1.0). "
    "Without it, utility is upstream's and a classifier keeps its own token limit."
)
V11_HELP = {
    "score_judge": "v1.1: the utility judge, llm:MODEL@URL[,URL...][;key_env=NAME] (default: --judge)",
    "judge_prompts": "v1.1: a NoveltyBench checkout (or prompts JSON) to read the judge prompts from "
    "(default: $NOVELTYBENCH_HOME, then an installed novelty-bench)",
    "judge_seed": "v1.1: shuffle the order responses are shown to the partition judge (stability checks)",
    "lenient_partition": "v1.1: fold an answer that is still not a partition after 3 tries as upstream's last "
    "resort does, instead of leaving the prompt unscored",
}


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
        "--patience", type=float, default=None, help="upstream / v1.1 utility patience (default: 0.8)"
    )


def add_v11_arguments(parser: argparse.ArgumentParser, score_judge: bool = True) -> None:
    """Adds the metric v1.1 judge options (``--score-judge``, ``--judge-prompts``, ...)."""
    if score_judge:
        parser.add_argument("--score-judge", default=None, help=V11_HELP["score_judge"])
    parser.add_argument("--judge-prompts", default=None, help=V11_HELP["judge_prompts"])
    parser.add_argument("--judge-seed", type=int, default=None, help=V11_HELP["judge_seed"])
    parser.add_argument("--lenient-partition", action="store_true", help=V11_HELP["lenient_partition"])


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
