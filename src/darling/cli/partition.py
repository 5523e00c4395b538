"""``darling partition``: partition groups of generations read from JSONL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from darling.cli._common import JUDGE_HELP, add_protocol_arguments, add_v11_arguments, new_parser
from darling.evaluation.io import atomic_output, check_file, get_list_field, iter_jsonl
from darling.evaluation.judge_spec import load_judge
from darling.evaluation.novelty import check_patience, check_protocol, noveltybench_metrics
from darling.partitioning import PARTITION_MODES, diversity_scores, partition_groups
from darling.partitioning._validation import check_texts

EXAMPLES = """\
  # one JSON object a line, each with a list of generations (NoveltyBench's format works as is)
  darling partition generations.jsonl --judge lexical --output partitions.jsonl
  # NoveltyBench's greedy partition with its DeBERTa classifier, utility from the credited scores
  darling partition curated.jsonl --judge classifier:yimingzhang/deberta-v3-large-generation-similarity \\
      --mode greedy --scores-field generation_scores --output partitions.jsonl
  # the DARLING paper's NoveltyBench fork: 512 tokens a text, greedy, utility = heads' scores / k, quality
  darling partition generations.jsonl --judge classifier:yimingzhang/deberta-v3-large-generation-similarity \\
      --protocol darling --scores-field scores --output partitions.jsonl
  # NoveltyBench metric v1.1's set-level partition: one call a prompt to an LLM judge on an
  # OpenAI-compatible server (records need `id` and `prompt`); resumable, reruns judge only changed rows
  darling partition generations.jsonl --protocol v1.1 --judge 'llm:Qwen/Qwen3-32B@http://judge-node:8000' \
      --judge-prompts ~/novelty-bench --output v1.1/partitions.jsonl
  # cosine similarity of sentence embeddings above 0.85
  darling partition rollouts.jsonl --field completions --judge embedding:sentence-transformers/all-MiniLM-L6-v2 \\
      --threshold 0.85 --output partitions.jsonl"""


def add_parser(subparsers) -> None:
    parser = new_parser(
        subparsers,
        "partition",
        help="partition groups of generations into classes of equivalent ones",
        description=(
            "Reads JSONL records that each hold a group of generations, partitions every group with a "
            "judge and writes each record back with `partition` (class labels), `distinct` (number of "
            "classes) and `diversity` (DARLING diversity of each generation); with --scores-field also "
            "NoveltyBench `utility` (and `quality` under --protocol darling). A summary line (JSON) is "
            "printed at the end."
        ),
        examples=EXAMPLES,
    )
    parser.add_argument("file", help="input JSONL file")
    parser.add_argument("--output", "-o", required=True, help="output JSONL file")
    parser.add_argument("--judge", default="lexical", help=JUDGE_HELP + " Default: lexical.")
    parser.add_argument(
        "--mode",
        choices=PARTITION_MODES,
        default=None,
        help="all_pairs: union-find over every pair (DARLING training); greedy: compare with class heads "
        "only (NoveltyBench). Default: all_pairs, or greedy with --protocol (both protocols are greedy).",
    )
    parser.add_argument("--threshold", type=float, default=None, help="override the judge's threshold")
    parser.add_argument(
        "--field",
        default="generations",
        help="the field holding each group's generations (default: generations)",
    )
    parser.add_argument(
        "--scores-field",
        default=None,
        help="a field of per-generation quality scores; adds NoveltyBench `utility`",
    )
    add_protocol_arguments(parser)
    add_v11_arguments(parser, score_judge=False)
    parser.add_argument(
        "--short-text-rule",
        choices=("overlap", "exact", "off"),
        default=None,
        help="how pairs of texts of at most 5 words are settled before the judge (default: the judge's own)",
    )
    parser.add_argument(
        "--chunk-size", type=int, default=64, help="groups partitioned together (default: 64)"
    )
    parser.set_defaults(run=run)


def _texts(values: list, where: str, args) -> list[str]:
    try:
        return check_texts(values, what=args.field)
    except TypeError as err:
        raise TypeError(f"{where}: {err}") from None


def _scores(values: list, where: str, args) -> list[float]:
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f"{where}: {args.scores_field}[{index}] must be a number, got {value!r:.40}; every generation "
                "needs a score."
            )
    return values


def run_v11(args, path: Path) -> int:
    """``--protocol v1.1``: the set-level LLM partition of each record, written resumably."""
    from darling.evaluation.novelty_judges import SetLevelPartitioner
    from darling.evaluation.novelty_prompts import load_judge_prompts
    from darling.evaluation.novelty_v11_eval import parse_endpoint
    from darling.evaluation.novelty_v11_run import run_stage

    for flag, value in (("--mode", args.mode), ("--threshold", args.threshold), ("--scores-field", args.scores_field),
                        ("--short-text-rule", args.short_text_rule), ("--max-tokens-per-text", args.max_tokens_per_text)):  # fmt: skip
        if value is not None:
            raise ValueError(
                f"{flag} is a v1.0 setting; metric v1.1 partitions with one LLM call a prompt (drop it)."
            )
    rows = []
    for number, record in iter_jsonl(path):
        where = f"{path}:{number}"
        texts = _texts(get_list_field(record, args.field, where), where, args)
        if not isinstance(record.get("prompt"), str):
            raise ValueError(
                f"{where}: metric v1.1 judges read each record's text `prompt`; this one has none."
            )
        rows.append({**record, "id": str(record.get("id", number)), "generations": texts})
    if not rows:
        raise ValueError(f"{path} has no records.")
    partitioner = SetLevelPartitioner(
        parse_endpoint(args.judge), load_judge_prompts(args.judge_prompts), seed=args.judge_seed,
        lenient=args.lenient_partition,
    )  # fmt: skip
    out = run_stage(rows, args.output, "partition_key", partitioner.config(), partitioner.partition,
                    chunk_size=args.chunk_size)  # fmt: skip
    done = [row for row in out if row.get("partition") is not None]
    summary = {
        "groups": len(out),
        "mean_distinct": sum(row["distinct"] for row in done) / len(done) if done else None,
        "unscored": len(out) - len(done),
        "judge": args.judge,
        "protocol": "v1.1",
        "output": str(args.output),
    }
    print(json.dumps(summary), file=sys.stdout)
    return 0


def run(args) -> int:
    path = check_file(args.file)
    if args.protocol == "v1.1":
        if args.chunk_size < 1:
            raise ValueError(f"--chunk-size must be >= 1, got {args.chunk_size}.")
        return run_v11(args, path)
    if (args.judge_prompts, args.judge_seed, args.lenient_partition) != (None, None, False):
        raise ValueError(
            "--judge-prompts, --judge-seed and --lenient-partition are metric v1.1 settings: add --protocol v1.1."
        )
    if args.chunk_size < 1:
        raise ValueError(f"--chunk-size must be >= 1, got {args.chunk_size}.")
    records, groups, scores = [], [], []
    # Every record is checked before anything is judged or written, so an error names its line.
    for number, record in iter_jsonl(path):
        where = f"{path}:{number}"
        groups.append(_texts(get_list_field(record, args.field, where), where, args))
        if args.scores_field is not None:
            scores.append(
                _scores(get_list_field(record, args.scores_field, where, "--scores-field"), where, args)
            )
            if len(scores[-1]) != len(groups[-1]):
                raise ValueError(
                    f"{where}: {len(groups[-1])} generations but {len(scores[-1])} scores in {args.scores_field!r}."
                )
        records.append(record)
    if not records:
        raise ValueError(f"{path} has no records.")
    protocol = args.protocol if args.protocol is None else check_protocol(args.protocol)
    mode = args.mode or ("all_pairs" if protocol is None else "greedy")
    check_patience(args.patience, protocol or "upstream")  # before the (possibly slow) judge loads
    judge = load_judge(args.judge, args.threshold, args.max_tokens_per_text, protocol)
    totals = {
        "distinct": 0.0,
        "diversity": 0.0,
        "judged_pairs": 0,
        "num_pairs": 0,
        "utility": 0.0,
        "quality": 0.0,
    }
    out_path = Path(args.output)
    # Written beside the output and moved onto it at the end: a failed run keeps what was there (the
    # input too, when both are the same file).
    with atomic_output(out_path) as f, tqdm(total=len(records), desc="partition", unit="group") as bar:
        for start in range(0, len(records), args.chunk_size):
            chunk = slice(start, start + args.chunk_size)
            results = partition_groups(groups[chunk], judge, mode=mode, short_text_rule=args.short_text_rule)
            for offset, (record, result) in enumerate(zip(records[chunk], results)):
                labels = result.labels
                div = diversity_scores(labels)
                out = {
                    **record,
                    "partition": labels,
                    "distinct": result.num_classes,
                    "diversity": div,
                }
                totals["distinct"] += result.num_classes
                totals["diversity"] += sum(div) / len(div) if div else 0.0
                totals["judged_pairs"] += result.judged_pairs
                totals["num_pairs"] += result.num_pairs
                if args.scores_field is not None:
                    metrics = noveltybench_metrics(
                        labels, scores[start + offset], args.patience, protocol or "upstream"
                    )
                    for key in ("utility", "quality"):
                        if key in metrics:
                            out[key] = metrics[key]
                            totals[key] += metrics[key]
                f.write(json.dumps(out, ensure_ascii=False) + "\n")
            bar.update(len(results))
    n = len(records)
    summary = {
        "groups": n,
        "mean_distinct": totals["distinct"] / n,
        "mean_darling_diversity": totals["diversity"] / n,
        "judged_pairs": totals["judged_pairs"],
        "num_pairs": totals["num_pairs"],
        "judge": args.judge,
        "mode": mode,
        "protocol": protocol or "upstream",
        "output": str(out_path),
    }
    settings = getattr(getattr(judge, "classifier", None), "settings", None)
    if settings is not None:
        summary["max_tokens_per_text"] = settings.max_tokens_per_text
    if args.scores_field is not None:
        summary["mean_utility"] = totals["utility"] / n
        if protocol == "darling":
            summary["mean_quality"] = totals["quality"] / n
    print(json.dumps(summary), file=sys.stdout)
    return 0
