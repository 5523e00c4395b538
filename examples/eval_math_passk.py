"""python examples/eval_math_passk.py --model_name_or_path my-org/qwen3-4b-darling --output_dir runs/passk

pass@k and maj@k curves (k = 1..128) with the DARLING paper's math evaluation protocol (the official
``eval_pass_k_custom_model_parallel.sh`` and ``math_eval_parallel.py`` of facebookresearch/darling):

- benchmarks: AIME25, HMMT25 (February), Brumo25 with 256 samples a problem and OlympiadBench
  (English, open-ended, text-only competition maths; the official file holds 675 problems) with 128;
- sampling: temperature 0.6, top-p 0.95, top-k 20, up to 8,192 new tokens, stop words ``</s>``,
  ``<|im_end|>`` and ``<|endoftext|>``;
- prompt: the official ``qwen-boxed`` ChatML text (system prompt "You are a helpful assistant.",
  then the problem and "Please reason step by step, and put your final answer within \\boxed{}."),
  sent as it is (no tokenizer chat template);
- grading: math-verify against the gold answer (the official code uses the Qwen math toolkit's
  ``math_equal``; docs/concepts.md says how they differ).

Unbiased pass@k and maj@k (majority vote over k samples, averaged over 30 draws with replacement as
the official evaluation) are computed for every benchmark; the summary averages them over the
benchmarks, as the paper reports its "average" (a plain mean of the per-benchmark numbers). Each
entry of ``--datasets`` is one of the benchmark names above, or ``HUB_ID[:SPLIT]`` / a local file
(256 samples). Sampling 256 x 8k tokens wants vLLM (``pip install vllm``; ``--backend auto`` picks it
when installed). Interrupted runs resume. ``--config recipe.yaml`` works too.

Smoke test (a tiny local policy on small local stand-ins of the four benchmarks, offline, seconds):

    python examples/eval_math_passk.py --smoke --output_dir /tmp/passk-smoke
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from trl import TrlParser

from darling.evaluation.data import load_rows
from darling.evaluation.plots import plot_pass_at_k
from darling.evaluation.runner import EvaluationConfig, run_evaluation


@dataclass(frozen=True)
class Benchmark:
    """Where a benchmark of the paper's math evaluation lives, and its official sample count."""

    hub_id: str
    split: str
    num_samples: int
    config: str | None = None


BENCHMARKS = {
    "aime25": Benchmark("math-ai/aime25", "test", 256),
    "hmmt25": Benchmark("MathArena/hmmt_feb_2025", "train", 256),
    "brumo25": Benchmark("MathArena/brumo_2025", "train", 256),
    "olympiadbench": Benchmark("Hothan/OlympiadBench", "train", 128, config="OE_TO_maths_en_COMP"),
}
DEFAULT_SAMPLES = 256  # a dataset given by hub id or file
# The official qwen-boxed prompt (the Qwen math toolkit's template), with {prompt} for the problem.
QWEN_BOXED_TEMPLATE = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n{prompt}\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
    "<|im_start|>assistant\n"
)
OFFICIAL_STOP_WORDS = ["</s>", "<|im_end|>", "<|endoftext|>"]
SMOKE_FIXTURES = Path(__file__).resolve().parent / "data" / "passk_smoke"


@dataclass
class PassAtKArguments:
    """Arguments of the pass@k evaluation."""

    model_name_or_path: str = field(default="Qwen/Qwen3-4B-Base", metadata={"help": "Policy to evaluate."})
    datasets: list[str] = field(
        default_factory=lambda: list(BENCHMARKS),
        metadata={
            "help": "Benchmarks: aime25 (math-ai/aime25), hmmt25 (MathArena/hmmt_feb_2025), brumo25 "
            "(MathArena/brumo_2025), olympiadbench (Hothan/OlympiadBench, OE_TO_maths_en_COMP), or "
            "HUB_ID[:SPLIT] / a local file. Default: the paper's four."
        },
    )
    output_dir: str = field(default="runs/passk", metadata={"help": "Where results go (and resume from)."})
    num_samples: int | None = field(
        default=None,
        metadata={
            "help": "Samples a problem for every dataset. Default: the official counts, 256 (AIME25, HMMT25, "
            "Brumo25, other datasets) and 128 (OlympiadBench)."
        },
    )
    k_max: int = field(default=128, metadata={"help": "pass@k for k = 1..k_max (paper: 128)."})
    temperature: float = field(default=0.6, metadata={"help": "Sampling temperature (official: 0.6)."})
    top_p: float = field(default=0.95, metadata={"help": "Nucleus mass (official: 0.95)."})
    top_k: int = field(default=20, metadata={"help": "Top-k cut (official: 20; 0 turns it off)."})
    max_new_tokens: int = field(default=8192, metadata={"help": "Token limit of a sample (official: 8,192)."})
    stop: list[str] = field(
        default_factory=lambda: list(OFFICIAL_STOP_WORDS),
        metadata={"help": "Stop words (official: </s> <|im_end|> <|endoftext|>)."},
    )
    prompt_template: str = field(
        default=QWEN_BOXED_TEMPLATE,
        metadata={
            "help": "Text around each problem ({prompt}); default: the official qwen-boxed ChatML prompt with "
            "its system prompt 'You are a helpful assistant.'"
        },
    )
    chat_template: str = field(
        default="off",
        metadata={
            "help": "auto, on or off: off sends the qwen-boxed text as it is, as the official code does."
        },
    )
    maj_resamples: int = field(
        default=30, metadata={"help": "maj@k draws of k samples with replacement (0: the first k samples)."}
    )
    judge: str = field(default="none", metadata={"help": "Partition judge spec for distinct (none: skip)."})
    backend: str = field(
        default="auto", metadata={"help": "auto (vLLM when installed), vllm or transformers."}
    )
    batch_size: int = field(default=64, metadata={"help": "Sequences per generate call (transformers)."})
    limit: int | None = field(
        default=None, metadata={"help": "Evaluate only the first N problems a dataset."}
    )
    smoke: bool = field(
        default=False,
        metadata={"help": "Run on a tiny local model and small local stand-ins of the benchmarks (offline)."},
    )


def _rows(spec: str, smoke: bool) -> tuple[list[dict], int]:
    """The rows of a benchmark name, hub spec or file, and its official sample count."""
    if spec in BENCHMARKS:
        bench = BENCHMARKS[spec]
        if smoke:
            return load_rows(str(SMOKE_FIXTURES / f"{spec}.jsonl")), bench.num_samples
        return load_rows(bench.hub_id, bench.split, bench.config), bench.num_samples
    if Path(spec).exists():
        return load_rows(spec), DEFAULT_SAMPLES
    name, _, split = spec.partition(":")
    return load_rows(name, split or "test"), DEFAULT_SAMPLES


def _field(row: dict, names: tuple[str, ...], what: str, spec: str):
    for name in names:
        if row.get(name) is not None:
            return row[name]
    raise ValueError(f"{spec}: a row has no {what} ({' or '.join(names)}); fields: {', '.join(row)}.")


def to_problems(rows: list[dict], spec: str) -> list[dict]:
    """``{id, problem, answer}`` rows as the official loader reads them.

    The problem is the stripped ``problem``/``question`` text, with " (Yes or No)" or " (True or False)"
    appended when the gold answer is one of those words; an answer list (OlympiadBench's
    ``final_answer``) gives its first item without surrounding ``$``.
    """
    problems = []
    for index, row in enumerate(rows):
        question = str(_field(row, ("problem", "question"), "problem", spec)).strip()
        answer = _field(row, ("answer", "final_answer"), "answer", spec)
        if isinstance(answer, list):
            if not answer:
                raise ValueError(f"{spec} row {index + 1}: the answer list is empty.")
            answer = str(answer[0]).strip("$")
        answer = str(answer)
        if answer.lower() in ("yes", "no"):
            question += " (Yes or No)"
        elif answer.lower() in ("true", "false"):
            question += " (True or False)"
        item_id = next((row[key] for key in ("id", "problem_idx", "idx") if row.get(key) is not None), index)
        problems.append({"id": str(item_id), "problem": question, "answer": answer})
    return problems


def _smoke_policy(out: Path) -> str:
    from darling.tiny_models import tiny_causal_lm

    model, tokenizer = tiny_causal_lm(hidden_size=32, num_layers=1)
    model.save_pretrained(out / "smoke-policy")
    tokenizer.save_pretrained(out / "smoke-policy")
    return str(out / "smoke-policy")


def main(argv: list[str] | None = None) -> dict:
    """Runs every dataset and returns the overall summary (per dataset and averaged over datasets)."""
    (args,) = TrlParser((PassAtKArguments,)).parse_args_and_config(argv)
    out = Path(args.output_dir)
    backend = args.backend
    if backend == "auto":
        backend = "vllm" if importlib.util.find_spec("vllm") else "transformers"
    common = dict(
        model=args.model_name_or_path,
        task="math",
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        stop=list(args.stop),
        max_new_tokens=args.max_new_tokens,
        prompt_template=args.prompt_template,
        chat_template=args.chat_template,
        maj_resamples=args.maj_resamples,
        judge=args.judge,
        backend=backend,
        batch_size=args.batch_size,
        limit=args.limit,
    )
    k_max, num_samples = args.k_max, args.num_samples
    if args.smoke:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        common.update(
            model=_smoke_policy(out),
            max_new_tokens=8,
            backend="transformers",
            batch_size=16,
            judge="normalized",
        )
        k_max, num_samples = 8, 8
    ks = list(range(1, k_max + 1))
    per_dataset = {}
    for spec in args.datasets:
        rows, official_samples = _rows(spec, args.smoke)
        name = spec if spec in BENCHMARKS else re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(spec).stem)
        problems = out / "problems" / f"{name}.jsonl"
        problems.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(problem, ensure_ascii=False) + "\n" for problem in to_problems(rows, spec)]
        problems.write_text("".join(lines), encoding="utf-8")
        summary = run_evaluation(
            EvaluationConfig(
                dataset=str(problems), split="test", output_dir=str(out / name), k_list=ks,
                num_samples=num_samples or official_samples, **common,
            )
        )  # fmt: skip
        if "pass@k" not in summary:
            raise ValueError(
                f"No problem of {spec} could be graded: math-verify parses none of its gold answers (see "
                f"{out / name / 'samples.jsonl'}); check the answer column, or leave {spec} out of --datasets."
            )
        per_dataset[spec] = summary
    # The paper's "average": the plain mean of the per-benchmark numbers.
    average = {
        f"pass@{k}": sum(s["pass@k"][f"pass@{k}"] for s in per_dataset.values()) / len(per_dataset)
        for k in ks
    }
    average_maj = {
        f"maj@{k}": sum(s["maj@k"][f"maj@{k}"] for s in per_dataset.values()) / len(per_dataset) for k in ks
    }
    protocol = {key: common[key] for key in ("temperature", "top_p", "top_k", "stop", "max_new_tokens")}
    protocol.update(prompt_template=common["prompt_template"], grader="math-verify")
    protocol["num_samples"] = {spec: s["num_samples"] for spec, s in per_dataset.items()}
    overall = {"average": average, "average_maj": average_maj, "protocol": protocol, "datasets": per_dataset}
    (out / "summary.json").write_text(json.dumps(overall, indent=2) + "\n")
    plot_pass_at_k(average, out / "pass_at_k_average.png", title="pass@k (average over datasets)")
    ends = {f"pass@{k}": average[f"pass@{k}"] for k in (ks[0], ks[-1])}
    ends.update({f"maj@{k}": average_maj[f"maj@{k}"] for k in (ks[0], ks[-1])})
    print(json.dumps({"average": ends}, indent=2))
    return overall


if __name__ == "__main__":
    main()
