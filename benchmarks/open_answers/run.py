"""GRPO vs DARLING on a real instruct model (SmolLM2-135M-Instruct), open-answer prompts, CPU.

    python benchmarks/open_answers/run.py --model CKPT --seeds 0 1 --output benchmarks/results/open_answers
    python benchmarks/open_answers/run.py --model CKPT --pilot --output /tmp/pilot   # training categories only

Both methods start from the same checkpoint and see the same prompts, steps, rollouts and seeds; the
only difference is the trainer and its reward: ``trl.GRPOTrainer`` with the quality reward (standard
GRPO, advantages divided by the group std) against ``darling.DarlingGRPOTrainer`` with quality x
diversity, the diversity judged by an EmbeddingJudge on the packaged all-MiniLM-L6-v2 over whole
responses (never by the answer-extraction rule the evaluation uses). ``--pilot`` evaluates on the
training prompts only, so settings can be chosen without looking at held-out prompts.

Writes ``results.json`` (every number, per prompt) and ``results.md`` (the tables and the command).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from open_answers.task import OpenAnswerReward, Prompt, extract_item, is_valid, task_split

METHODS = ("grpo", "darling")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model",
        required=True,
        help="a plain checkpoint of SmolLM2-135M-Instruct (utils/convert_smollm2.py)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps a method")
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--num-generations", type=int, default=8, help="rollouts a prompt")
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument(
        "--eval-samples", type=int, default=16, help="samples a held-out prompt (k up to this)"
    )
    parser.add_argument("--judge-threshold", type=float, default=0.8, help="EmbeddingJudge cosine threshold")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pilot", action="store_true", help="evaluate on the training prompts only")
    parser.add_argument("--output", type=Path, required=True, help="folder for results.json and results.md")
    parser.add_argument(
        "--plot",
        type=Path,
        help="also draw pass@k against k, mean over seeds, to this PNG (needs matplotlib)",
    )
    return parser.parse_args(argv)


def _dataset(prompts: list[Prompt], steps: int, per_step: int, seed: int):
    import random

    from datasets import Dataset

    rng = random.Random(seed)
    rows = []
    while len(rows) < steps * per_step:  # every prompt once an epoch, in a seeded order
        epoch = list(prompts)
        rng.shuffle(epoch)
        rows.extend(p.row() for p in epoch)
    return Dataset.from_list(rows[: steps * per_step])


def _common_args(args: argparse.Namespace, seed: int, output_dir: str) -> dict:
    return dict(
        output_dir=output_dir,
        seed=seed,
        use_cpu=True,
        bf16=False,
        max_steps=args.steps,
        learning_rate=args.learning_rate,
        lr_scheduler_type="constant",
        per_device_train_batch_size=args.prompts_per_step * args.num_generations,
        gradient_accumulation_steps=1,
        num_generations=args.num_generations,
        max_completion_length=args.max_completion_length,
        temperature=args.temperature,
        beta=0.0,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=False,
    )


def train(method: str, args: argparse.Namespace, seed: int, prompts: list[Prompt], workdir: str):
    """Trains one method from the checkpoint; returns the trained model and its log history."""
    from trl import GRPOConfig, GRPOTrainer

    from darling import DarlingConfig, DarlingGRPOTrainer, DiversityRewardFunction, EmbeddingJudge

    dataset = _dataset(prompts, args.steps, args.prompts_per_step, seed)
    common = _common_args(args, seed, os.path.join(workdir, method))
    if method == "grpo":
        trainer = GRPOTrainer(
            model=args.model,
            reward_funcs=[OpenAnswerReward()],
            args=GRPOConfig(**common),
            train_dataset=dataset,
        )
    else:
        judge = EmbeddingJudge("minilm", threshold=args.judge_threshold)
        diversity = DiversityRewardFunction(judge=judge)
        trainer = DarlingGRPOTrainer(
            model=args.model,
            reward_funcs=[OpenAnswerReward(), diversity],
            args=DarlingConfig(**common),
            train_dataset=dataset,
        )
    trainer.train()
    return trainer.model, trainer.state.log_history


def sample(model, tokenizer, prompts: list[Prompt], args: argparse.Namespace, seed: int) -> list[list[str]]:
    """``eval_samples`` responses a prompt, sampled as in training (temperature, length)."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model.eval()
    tokenizer.padding_side = "left"
    out = []
    for prompt in tqdm(prompts, desc="sampling", leave=False):
        text = tokenizer.apply_chat_template(
            prompt.row()["prompt"], tokenize=False, add_generation_prompt=True
        )
        batch = tokenizer([text] * args.eval_samples, return_tensors="pt", padding=True)
        with torch.no_grad():
            ids = model.generate(
                **batch,
                do_sample=True,
                temperature=args.temperature,
                top_k=0,
                top_p=1.0,
                max_new_tokens=args.max_completion_length,
                pad_token_id=tokenizer.pad_token_id,
            )
        out.append(tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1] :], skip_special_tokens=True))
    return out


def score(prompts: list[Prompt], samples: list[list[str]], k_max: int) -> dict:
    """Per prompt: correct count, pass@k for k = 1..k_max, distinct valid answers, coverage."""
    from darling.evaluation.passk import pass_at_k

    rows = []
    for prompt, responses in zip(prompts, samples, strict=True):
        valid = [is_valid(prompt, r) for r in responses]
        answers = {extract_item(prompt.category, r) for r, ok in zip(responses, valid) if ok}
        rows.append(
            {
                "prompt": prompt.text,
                "category": prompt.category,
                "letter": prompt.letter,
                "num_valid_answers": len(prompt.valid),
                "correct": sum(valid),
                "pass@k": [pass_at_k(len(responses), sum(valid), k) for k in range(1, k_max + 1)],
                "distinct_valid": len(answers),
                "coverage": len(answers) / min(len(prompt.valid), len(responses)),
                "samples": responses,
            }
        )
    return {"per_prompt": rows, **summarize(rows)}


def summarize(rows: list[dict]) -> dict:
    n = len(rows)
    k_max = len(rows[0]["pass@k"])
    return {
        "pass@k": [sum(r["pass@k"][k] for r in rows) / n for k in range(k_max)],
        "distinct_valid": sum(r["distinct_valid"] for r in rows) / n,
        "coverage": sum(r["coverage"] for r in rows) / n,
        "valid_share": sum(r["correct"] for r in rows) / sum(len(r["samples"]) for r in rows),
    }


def evaluate(model, tokenizer, sets: dict[str, list[Prompt]], args: argparse.Namespace, seed: int) -> dict:
    return {
        name: score(prompts, sample(model, tokenizer, prompts, args, seed), args.eval_samples)
        for name, prompts in sets.items()
    }


def run(args: argparse.Namespace) -> dict:
    import torch
    import transformers
    import trl
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if args.plot:
        from darling.evaluation.plots import check_plotting

        check_plotting()  # before any work, not after an hour of it
    torch.set_num_threads(args.threads)
    split = task_split()
    if args.pilot:
        sets = {"train_open": split.train}
    else:
        held_out_train_categories = {p.category for p in split.train}
        sets = {
            "held_out_open": split.held_out_open,
            "constrained_train_categories": [
                p for p in split.held_out_constrained if p.category in held_out_train_categories
            ],
            "constrained_held_out_categories": [
                p for p in split.held_out_constrained if p.category not in held_out_train_categories
            ],
        }
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    results = {
        "command": "python benchmarks/open_answers/run.py " + " ".join(sys.argv[1:]),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"transformers {transformers.__version__}, trl {trl.__version__}",
        "date": time.strftime("%Y-%m-%d"),
        "train_categories": [p.category for p in split.train],
        "runs": [],
    }
    results["runs"] = previous_runs(results, args.output)
    done = {r["seed"] for r in results["runs"]}
    if done:
        print(f"resuming {args.output}: seeds {sorted(done)} already recorded", flush=True)
    results["settings"]["seeds"] = sorted(done | set(args.seeds))
    for seed in args.seeds:
        if seed in done:
            continue
        run_started = time.monotonic()
        base = AutoModelForCausalLM.from_pretrained(args.model)
        record = {
            "seed": seed,
            "metrics": {"base": evaluate(base, tokenizer, sets, args, seed)},
            "seconds": {},
            "command": results["command"],
            "machine": results["machine"],
            "date": results["date"],
            "logs": {},
        }
        del base
        with tempfile.TemporaryDirectory() as workdir:
            for method in METHODS:
                t = time.monotonic()
                model, logs = train(method, args, seed, split.train, workdir)
                record["seconds"][f"{method}_train"] = time.monotonic() - t
                record["logs"][method] = logs
                t = time.monotonic()
                record["metrics"][method] = evaluate(model, tokenizer, sets, args, seed)
                record["seconds"][f"{method}_eval"] = time.monotonic() - t
                del model
        record["seconds"]["total"] = time.monotonic() - run_started
        results["runs"].append(record)
        write(results, args.output, args.plot)  # what is done survives a stop
    write(results, args.output, args.plot)
    return results


def previous_runs(results: dict, folder: Path) -> list[dict]:
    """Every seed an earlier run with the same settings recorded in ``folder``, so a stopped run resumes.

    Each keeps the command, machine and date it was trained with. Seeds not asked for this time are
    kept too: a results file only grows.

    Raises:
        SystemExit: ``folder`` holds results made with other settings (nothing is overwritten).
    """
    path = folder / "results.json"
    if not path.exists():
        return []
    try:
        old = json.loads(path.read_text())
        old_settings, old_runs = old["settings"], old["runs"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise SystemExit(
            f"{path} is not a results file of this script ({err}); choose another --output"
        ) from err
    differ = sorted(
        k
        for k in set(old_settings) | set(results["settings"])
        if k not in ("seeds", "plot", "output") and old_settings.get(k) != results["settings"].get(k)
    )
    if differ:
        raise SystemExit(
            f"{path} was made with other settings ({', '.join(differ)}); rerun its own command "
            f"({old.get('command')!r}) to resume it, or choose another --output"
        )
    provenance = {key: old.get(key) for key in ("command", "machine", "date")}
    return [{**provenance, **run} for run in old_runs]


def render_markdown(results: dict) -> str:
    """The docs' tables: per set and method, the mean over seeds, then every seed."""
    from statistics import mean

    runs = results["runs"]
    lines = []
    constrained = [name for name in runs[0]["metrics"]["base"] if name.startswith("constrained_")]
    if len(constrained) > 1:  # the pre-registered test reads every held-out constrained prompt at once
        k_max = len(runs[0]["metrics"]["base"][constrained[0]]["pass@k"])

        def pooled(run: dict, method: str, k: int) -> float:
            rows = [row for name in constrained for row in run["metrics"][method][name]["per_prompt"]]
            return mean(row["pass@k"][k] for row in rows)

        count = sum(len(runs[0]["metrics"]["base"][name]["per_prompt"]) for name in constrained)
        lines += [
            f"**All held-out constrained prompts** ({count}, the hypothesis' test):",
            "",
            f"| policy | pass@1 | pass@{k_max} | "
            + " | ".join(f"seed {r['seed']} pass@1 / pass@{k_max}" for r in runs)
            + " |",
            "|---|---|---|" + "---|" * len(runs),
        ]
        for method in ("base", *METHODS):
            per_seed = [(pooled(r, method, 0), pooled(r, method, -1)) for r in runs]
            lines.append(
                f"| {method} | {mean(a for a, _ in per_seed):.3f} | {mean(b for _, b in per_seed):.3f} | "
                + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in per_seed)
                + " |"
            )
        lines.append("")
    for name in runs[0]["metrics"]["base"]:
        k_max = len(runs[0]["metrics"]["base"][name]["pass@k"])
        count = len(runs[0]["metrics"]["base"][name]["per_prompt"])
        lines += [
            f"**{name}** ({count} prompts, {k_max} samples each; mean over seeds {[r['seed'] for r in runs]}):",
            "",
            f"| policy | pass@1 | pass@{k_max} | distinct valid answers | coverage | valid share |",
            "|---|---|---|---|---|---|",
        ]
        for method in ("base", *METHODS):
            m = [r["metrics"][method][name] for r in runs]
            lines.append(
                f"| {method} | {mean(x['pass@k'][0] for x in m):.3f} | {mean(x['pass@k'][-1] for x in m):.3f} | "
                f"{mean(x['distinct_valid'] for x in m):.2f} | {mean(x['coverage'] for x in m):.3f} | "
                f"{mean(x['valid_share'] for x in m):.3f} |"
            )
        lines += [
            "",
            "Per seed:",
            "",
            f"| seed | policy | pass@1 | pass@{k_max} | distinct valid answers | valid share |",
            "|---|---|---|---|---|---|",
        ]
        for r in runs:
            for method in ("base", *METHODS):
                x = r["metrics"][method][name]
                lines.append(
                    f"| {r['seed']} | {method} | {x['pass@k'][0]:.3f} | {x['pass@k'][-1]:.3f} | {x['distinct_valid']:.2f} | {x['valid_share']:.3f} |"
                )
        lines.append("")
    training = []
    for r in runs:
        logs = [entry for entry in r["logs"]["darling"] if "darling/diversity_mean" in entry]
        if logs:
            diversity = mean(entry["darling/diversity_mean"] for entry in logs)
            collapsed = max(entry.get("darling/collapsed_groups", 0.0) for entry in logs)
            settled = [
                entry["darling/settled_without_model"]
                for entry in logs
                if "darling/settled_without_model" in entry
            ]
            training.append(
                f"seed {r['seed']}: mean diversity {diversity:.3f} over {len(logs)} steps, "
                f"at most {collapsed:.0%} of a step's groups collapsed into one class"
                + (
                    f", {mean(settled):.1%} of pairs settled without the judge (identical texts, the short-text "
                    f"rule, or joined through other pairs; at most {max(settled):.0%} in a step)"
                    if settled
                    else ""
                )
            )
    if training:
        lines += ["DARLING's diversity reward during training: " + "; ".join(training) + ".", ""]

    def when(r: dict) -> str:
        machine = r.get("machine", results["machine"])
        return r.get("date", results["date"]) + ("" if machine == results["machine"] else f", {machine}")

    times = "; ".join(
        f"seed {r['seed']} ({when(r)}): "
        + ", ".join(f"{k} {v / 60:.1f} min" for k, v in r["seconds"].items())
        for r in runs
    )
    lines += [f"Wall time ({results['machine']}): {times}.", "", f"Command: `{results['command']}`"]
    trained = [
        (r["seed"], r["command"]) for r in runs if r.get("command", results["command"]) != results["command"]
    ]
    if trained:  # seeds recorded by an earlier call of the runner (same settings)
        lines += [
            "",
            "Seeds recorded by earlier calls: " + "; ".join(f"seed {s}: `{c}`" for s, c in trained) + ".",
        ]
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    """pass@k against k on each held-out set, one line a policy (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    names = list(runs[0]["metrics"]["base"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, name in zip(axes, names, strict=True):
        for method in ("base", *METHODS):
            curves = [r["metrics"][method][name]["pass@k"] for r in runs]
            mean = [sum(values) / len(values) for values in zip(*curves, strict=True)]
            ax.plot(range(1, len(mean) + 1), mean, marker=".", label=method)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("k")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"pass@k (mean over seeds {[r['seed'] for r in runs]})")
    axes[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, folder: Path, plot_path: Path | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (folder / "results.md").write_text(render_markdown(results))
    if plot_path:
        plot(results, plot_path)


if __name__ == "__main__":
    run(parse_args())
