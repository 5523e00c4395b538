"""``darling evaluate``: sample from a model, score, partition and summarize (resumable)."""

from __future__ import annotations

import json

from darling.cli._common import JUDGE_HELP, add_protocol_arguments, float_list, int_list, new_parser
from darling.evaluation.generation import BACKENDS
from darling.evaluation.majority import DEFAULT_RESAMPLES
from darling.evaluation.runner import SAMPLES_FILE, SUMMARY_FILE, TASKS, EvaluationConfig, run_evaluation
from darling.partitioning import PARTITION_MODES

EXAMPLES = """\
  # pass@k on AIME25 with the paper's sampling settings (256 samples, temperature 0.6, top-p 0.95, top-k 20)
  darling evaluate --model Qwen/Qwen3-4B-Base --dataset math-ai/aime25 --task math --num-samples 256 \\
      --k-list 1,2,4,8,16,32,64,128 --temperature 0.6 --top-p 0.95 --top-k 20 --max-new-tokens 8192 \\
      --stop '</s>' '<|im_end|>' '<|endoftext|>' --backend vllm --output-dir runs/aime25
  # NoveltyBench as the DARLING paper scored it: 512 tokens a text, utility = class heads' scores / k
  darling evaluate --model my-run/checkpoint-500 --dataset prompts_curated.jsonl --task open --num-samples 10 \\
      --judge classifier:yimingzhang/deberta-v3-large-generation-similarity --mode greedy --protocol darling \\
      --reward-model Skywork/Skywork-Reward-Gemma-2-27B-v0.2 --output-dir runs/novelty
  # an interrupted run continues where it stopped: run the same command again"""


def add_parser(subparsers) -> None:
    parser = new_parser(
        subparsers,
        "evaluate",
        help="sample k completions a prompt, score and partition them, write pass@k / maj@k / distinct / utility",
        description=(
            f"Generates --num-samples completions a prompt, scores them (math: math-verify against the gold "
            f"answer; open: a reward model, or nothing), partitions them with a judge and writes "
            f"{SAMPLES_FILE} (one record a prompt, appended as each finishes), {SUMMARY_FILE} (pass@k, maj@k, "
            f"distinct, utility, distinct-4, self-BLEU, ...) and plots to --output-dir. Rerunning the same "
            f"command resumes an interrupted run without redoing finished prompts."
        ),
        examples=EXAMPLES,
    )
    parser.add_argument("--model", required=True, help="policy path or hub id")
    parser.add_argument(
        "--dataset", required=True, help="local .jsonl/.json/.csv/.parquet file or hub dataset id"
    )
    parser.add_argument("--output-dir", required=True, help="where results go (and are resumed from)")
    parser.add_argument(
        "--task", choices=TASKS, default="open", help="math: math-verify + pass@k; open (default)"
    )
    parser.add_argument("--num-samples", type=int, default=10, help="completions a prompt (default: 10)")
    parser.add_argument(
        "--k-list",
        type=int_list,
        default=None,
        help="pass@k and maj@k values, e.g. 1,2,4 (default: powers of 2)",
    )
    parser.add_argument(
        "--maj-resamples",
        type=int,
        default=DEFAULT_RESAMPLES,
        help=f"maj@k: draws of k samples with replacement a problem, averaged (default: {DEFAULT_RESAMPLES}, "
        "as the official evaluation); 0 votes over the first k samples",
    )
    parser.add_argument("--split", default="test", help="hub dataset split (default: test)")
    parser.add_argument("--dataset-config", default=None, help="hub dataset configuration name")
    parser.add_argument(
        "--prompt-field", default=None, help="prompt column (default: prompt/problem/question)"
    )
    parser.add_argument(
        "--answer-field", default=None, help="gold answer column for math (default: answer/solution)"
    )
    parser.add_argument(
        "--id-field", default=None, help="unique id column (default: id, else the row number)"
    )
    parser.add_argument(
        "--prompt-template",
        default=None,
        help="text around each prompt with {prompt} where it goes, e.g. '{prompt} Put the answer in \\boxed{}.'",
    )
    parser.add_argument(
        "--judge", default="lexical", help=JUDGE_HELP + " Or none to skip partitioning. Default: lexical."
    )
    parser.add_argument("--threshold", type=float, default=None, help="override the judge's threshold")
    add_protocol_arguments(parser)
    parser.add_argument(
        "--mode",
        dest="partition_mode",
        choices=PARTITION_MODES,
        default="greedy",
        help="partition mode (default: greedy)",
    )
    parser.add_argument(
        "--reward-model", default=None, help="reward model for open-ended prompts (scores = raw logit)"
    )
    parser.add_argument(
        "--embedding-model", default=None, help="sentence-transformers model for embedding diversity"
    )
    parser.add_argument(
        "--score-bins",
        type=float_list,
        default=None,
        help="ascending cut points mapping raw reward-model scores to bins 1..len+1 (NoveltyBench's 1-10 scale)",
    )
    parser.add_argument("--backend", choices=BACKENDS, default="transformers", help="generation backend")
    parser.add_argument(
        "--batch-size", type=int, default=16, help="sequences per generate call (default: 16)"
    )
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default: 1.0)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default: 1.0)")
    parser.add_argument(
        "--top-k",
        type=int,
        default=0,
        help="sample among the k most likely tokens (default: 0, no top-k cut)",
    )
    parser.add_argument(
        "--stop",
        nargs="+",
        default=None,
        metavar="WORD",
        help="stop words: a completion ends before the first",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=512, help="completion token limit (default: 512)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    parser.add_argument(
        "--chat-template",
        choices=("auto", "on", "off"),
        default="auto",
        help="apply the chat template (default: auto)",
    )
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N prompts")
    parser.add_argument(
        "--stop-after", type=int, default=None, help="stop after N new prompts (resume later)"
    )
    parser.add_argument("--no-plots", dest="plots", action="store_false", help="skip the plots")
    parser.set_defaults(run=run)


def run(args) -> int:
    fields = {k: v for k, v in vars(args).items() if k not in ("run", "command")}
    config = EvaluationConfig(**fields)
    summary = run_evaluation(config)
    if summary is None:
        print(f"Stopped early; run the same command again to continue ({config.output_dir}/{SAMPLES_FILE}).")
    else:
        print(json.dumps(summary))
    return 0
