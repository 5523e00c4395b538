"""pass@k and maj@k curves (k = 1..128) on competition math with the paper's sampling settings.

    python examples/eval_math_passk.py --model_name_or_path my-org/qwen3-4b-darling --output_dir runs/passk

For every dataset, 256 samples a problem (temperature 0.6, top-p 0.95, up to 8,192 new tokens) are
scored with math-verify against the gold answer; unbiased pass@k and maj@k (majority vote over k
samples, averaged over 30 draws with replacement as the official evaluation) are computed for
k = 1..128; the summary also averages both over the datasets, as the paper reports them. Each dataset is
``HUB_ID`` or ``HUB_ID:SPLIT`` (or a local file). Sampling 256 x 8k tokens wants vLLM
(``pip install vllm``; ``--backend auto`` picks it when installed). Interrupted runs resume.
``--config recipe.yaml`` works too.

Smoke test (a tiny local policy, offline, seconds):

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

from darling.evaluation.plots import plot_pass_at_k
from darling.evaluation.runner import EvaluationConfig, run_evaluation

DEFAULT_DATASETS = ["math-ai/aime25:test", "MathArena/hmmt_feb_2025:train", "MathArena/brumo_2025:train"]
BOXED_TEMPLATE = "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{}."
SMOKE_PROBLEMS = [("What is 2 + 2?", "4"), ("What is 3 times 3?", "9"), ("Solve x + 1 = 3.", "2")]


@dataclass
class PassAtKArguments:
    """Arguments of the pass@k evaluation."""

    model_name_or_path: str = field(default="Qwen/Qwen3-4B-Base", metadata={"help": "Policy to evaluate."})
    datasets: list[str] = field(
        default_factory=lambda: list(DEFAULT_DATASETS), metadata={"help": "HUB_ID[:SPLIT] or local files."}
    )
    output_dir: str = field(default="runs/passk", metadata={"help": "Where results go (and resume from)."})
    num_samples: int = field(default=256, metadata={"help": "Samples a problem (paper: 256)."})
    k_max: int = field(default=128, metadata={"help": "pass@k for k = 1..k_max (paper: 128)."})
    temperature: float = field(default=0.6, metadata={"help": "Sampling temperature (paper: 0.6)."})
    top_p: float = field(default=0.95, metadata={"help": "Nucleus mass (paper: 0.95)."})
    max_new_tokens: int = field(default=8192, metadata={"help": "Token limit of a sample (paper: 8,192)."})
    prompt_template: str = field(
        default=BOXED_TEMPLATE, metadata={"help": "Text around each problem ({prompt})."}
    )
    chat_template: str = field(default="off", metadata={"help": "auto, on or off (off for base models)."})
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
    smoke: bool = field(default=False, metadata={"help": "Run on a tiny local model in seconds (offline)."})


def _split_spec(spec: str) -> tuple[str, str]:
    if Path(spec).exists():
        return spec, "test"
    name, _, split = spec.partition(":")
    return name, split or "test"


def main(argv: list[str] | None = None) -> dict:
    """Runs every dataset and returns the overall summary (per dataset and averaged)."""
    (args,) = TrlParser((PassAtKArguments,)).parse_args_and_config(argv)
    out = Path(args.output_dir)
    backend = args.backend
    if backend == "auto":
        backend = "vllm" if importlib.util.find_spec("vllm") else "transformers"
    common = dict(
        model=args.model_name_or_path,
        task="math",
        num_samples=args.num_samples,
        k_list=list(range(1, args.k_max + 1)),
        temperature=args.temperature,
        top_p=args.top_p,
        max_new_tokens=args.max_new_tokens,
        prompt_template=args.prompt_template,
        chat_template=args.chat_template,
        maj_resamples=args.maj_resamples,
        judge=args.judge,
        backend=backend,
        batch_size=args.batch_size,
        limit=args.limit,
    )
    datasets = args.datasets
    if args.smoke:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from darling.tiny_models import tiny_causal_lm

        model, tokenizer = tiny_causal_lm(hidden_size=32, num_layers=1)
        model.save_pretrained(out / "smoke-policy")
        tokenizer.save_pretrained(out / "smoke-policy")
        problems = out / "smoke-math.jsonl"
        problems.write_text(
            "".join(json.dumps({"problem": q, "answer": a}) + "\n" for q, a in SMOKE_PROBLEMS)
        )
        datasets = [str(problems)]
        common.update(
            model=str(out / "smoke-policy"), num_samples=8, k_list=list(range(1, 9)), max_new_tokens=8,
            backend="transformers", batch_size=16, judge="normalized",
        )  # fmt: skip
    per_dataset = {}
    for spec in datasets:
        name, split = _split_spec(spec)
        run_dir = out / re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem if Path(name).exists() else name)
        summary = run_evaluation(
            EvaluationConfig(dataset=name, split=split, output_dir=str(run_dir), **common)
        )
        per_dataset[spec] = summary
    ks = common["k_list"]
    average = {
        f"pass@{k}": sum(s["pass@k"][f"pass@{k}"] for s in per_dataset.values()) / len(per_dataset)
        for k in ks
    }
    average_maj = {
        f"maj@{k}": sum(s["maj@k"][f"maj@{k}"] for s in per_dataset.values()) / len(per_dataset) for k in ks
    }
    overall = {"average": average, "average_maj": average_maj, "datasets": per_dataset}
    (out / "summary.json").write_text(json.dumps(overall, indent=2) + "\n")
    plot_pass_at_k(average, out / "pass_at_k_average.png", title="pass@k (average over datasets)")
    ends = {f"pass@{k}": average[f"pass@{k}"] for k in (ks[0], ks[-1])}
    ends.update({f"maj@{k}": average_maj[f"maj@{k}"] for k in (ks[0], ks[-1])})
    print(json.dumps({"average": ends}, indent=2))
    return overall


if __name__ == "__main__":
    main()
