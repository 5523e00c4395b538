"""NoveltyBench metric v1.1 for a leaderboard submission: both splits, the slim folder, the Hub push.

    python examples/noveltybench_v11.py --model_name_or_path my-org/my-darling-run \
        --judge 'llm:claude-opus-5@https://api.anthropic.com;key_env=ANTHROPIC_API_KEY' \
        --judge_prompts ~/novelty-bench --run_dir runs/2026-12-07_my-darling-run \
        --submission_dir ~/novelty-bench/evaluation/2026-12-07_my-darling-run --push_to my-org/nb-results

For each split (``curated``: 100 prompts, ``wildchat``: 1,000) of upstream's dataset
``yimingzhang/novelty-bench``, it samples 10 responses a prompt (2,048 new tokens), partitions each
prompt's responses with one call to the judge (any OpenAI-compatible chat server: a ``vllm serve``
of an open model or a provider's API), scores each class's first response 1-10, and writes
``<run_dir>/nb-<split>/`` in upstream's layout (``generations.jsonl``, ``v1.1/partitions.jsonl``,
``v1.1/scores.jsonl``, ``v1.1/summary.json``). Then it writes the slim submission folder for a pull
request to NoveltyBench and, with ``--push_to``, uploads the full files to a Hub dataset. Rerun the
same command after an interruption: every stage resumes. The judge prompts are read from a
NoveltyBench checkout (``git clone https://github.com/novelty-bench/novelty-bench``).

Smoke test (a tiny local policy, a stand-in judge server on 127.0.0.1 and test prompts; offline,
seconds; its numbers mean nothing):

    python examples/noveltybench_v11.py --smoke --run_dir /tmp/nb-v11-smoke
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from trl import TrlParser

from darling.evaluation.runner import EvaluationConfig, run_evaluation
from darling.evaluation.submission import NOVELTYBENCH_DATASET, SPLITS, push_results, write_submission

SMOKE_PROMPTS = ["Name a color.", "Suggest a name for a coffee shop.", "Tell me a joke about cats."]


@dataclass
class V11Arguments:
    """Arguments of the NoveltyBench v1.1 run."""

    model_name_or_path: str = field(default="meta-llama/Llama-3.1-8B-Instruct", metadata={"help": "Policy."})
    judge: str = field(
        default="", metadata={"help": "Partition (and utility) judge: llm:MODEL@URL[,URL...][;key_env=NAME]."}
    )
    score_judge: str | None = field(default=None, metadata={"help": "Utility judge (default: --judge)."})
    judge_prompts: str | None = field(
        default=None, metadata={"help": "NoveltyBench checkout holding the judge prompts."}
    )
    dataset: str = field(default=NOVELTYBENCH_DATASET, metadata={"help": "Hub dataset id (or a local file)."})
    splits: list[str] = field(
        default_factory=lambda: list(SPLITS),
        metadata={"help": "Submission folders to run (nb-curated nb-wildchat)."},
    )
    run_dir: str = field(default="runs/noveltybench-v1.1", metadata={"help": "Where the full results go."})
    submission_dir: str | None = field(
        default=None, metadata={"help": "Write the slim submission folder here."}
    )
    push_to: str | None = field(default=None, metadata={"help": "Hub dataset to upload the full results to."})
    backend: str = field(default="transformers", metadata={"help": "transformers or vllm."})
    batch_size: int = field(default=20, metadata={"help": "Sequences per generate call."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N prompts of each split."})
    smoke: bool = field(default=False, metadata={"help": "Tiny local policy and a stand-in judge (offline)."})


def smoke_judge(messages: list[dict]) -> str:
    """The stand-in judge of the smoke run: responses with the same first word are equivalent."""
    user = messages[1]["content"]
    if "<response index=" in user:
        groups: dict[str, list[int]] = {}
        for index, text in re.findall(r'<response index="(\d+)">\n(.*?)\n</response>', user, re.S):
            groups.setdefault((text.split() or [""])[0].lower(), []).append(int(index))
        return json.dumps({"groups": list(groups.values())})
    return json.dumps({"score": 5})


def _smoke_settings(run_dir: Path) -> tuple[dict, object]:
    """A tiny local policy, test prompts, test judge prompts and a stand-in judge server."""
    from darling.serving.standin import StandInServer
    from darling.tiny_models import tiny_causal_lm, train_tiny_tokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = run_dir / "smoke"
    tokenizer = train_tiny_tokenizer(kind="causal")
    policy, _ = tiny_causal_lm(tokenizer, hidden_size=32, num_layers=1)
    policy.save_pretrained(root / "policy")
    tokenizer.save_pretrained(root / "policy")
    prompts = root / "prompts.jsonl"
    prompts.write_text(
        "".join(json.dumps({"id": f"smoke-{i}", "prompt": p}) + "\n" for i, p in enumerate(SMOKE_PROMPTS))
    )
    judge_prompts = root / "judge_prompts.json"  # test prompts: a smoke run is not a v1.1 result
    judge_prompts.write_text(
        json.dumps({"partition_system": "Group equivalent responses.", "score_system": "Score 1-10."})
    )
    server = StandInServer(chat=smoke_judge, model_name="smoke-judge").start()
    settings = dict(
        model=str(root / "policy"), dataset=str(prompts), judge=f"llm:smoke-judge@{server.url}",
        judge_prompts=str(judge_prompts), max_new_tokens=8, chat_template="off",
    )  # fmt: skip
    return settings, server


def main(argv: list[str] | None = None) -> dict:
    """Runs every split, writes the submission (and pushes); returns the v1.1 summary of each split."""
    (args,) = TrlParser((V11Arguments,)).parse_args_and_config(argv)
    run_dir = Path(args.run_dir)
    unknown = [s for s in args.splits if s not in SPLITS]
    if unknown:
        raise ValueError(f"Unknown split folder(s) {unknown}; choose from {', '.join(SPLITS)}.")
    server = None
    settings = dict(
        model=args.model_name_or_path,
        dataset=args.dataset,
        judge=args.judge,
        judge_prompts=args.judge_prompts,
    )
    if args.smoke:
        settings, server = _smoke_settings(run_dir)
    elif not args.judge:
        raise ValueError("Give the judge: --judge 'llm:MODEL@URL' (see the module docstring).")
    summaries = {}
    try:
        for folder in args.splits:
            config = EvaluationConfig(
                **settings, split=SPLITS[folder], output_dir=str(run_dir / folder), task="open", num_samples=10,
                protocol="v1.1", score_judge=args.score_judge, backend=args.backend,
                batch_size=args.batch_size, limit=args.limit if not args.smoke else None, plots=False,
            )  # fmt: skip
            summaries[folder] = run_evaluation(config)["v1.1"]
    finally:
        if server is not None:
            server.stop()
    if args.submission_dir:
        write_submission(run_dir, args.submission_dir)
    if args.push_to:
        push_results(run_dir, args.push_to)
    print(json.dumps(summaries, indent=2))
    return summaries


if __name__ == "__main__":
    main()
