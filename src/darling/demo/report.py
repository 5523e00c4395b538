"""The demo's outputs: a table on the terminal, ``results.json`` and ``demo_passk.png``."""

from __future__ import annotations

import json
import math
from pathlib import Path

HEADLINE = ("accuracy", "distinct_correct", "coverage", "distinct")
LABELS = {"base": "base (warm-up)", "grpo": "GRPO", "darling": "DARLING"}
TITLES = {"sums": "digit sums", "required_digit": "digit sums with a required digit"}
TABLE_NAME, RECORDING_NAME, JSON_NAME, PNG_NAME = (
    "results.md",
    "recording.md",
    "results.json",
    "demo_passk.png",
)


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarize(runs: list[dict], key: str = "metrics") -> dict:
    """Mean and sample standard deviation over seeds of every headline metric and of pass@k.

    Args:
        runs: The per-seed results of :func:`darling.demo.run.run_seed`.
        key: ``"metrics"`` (held-out targets) or ``"train_metrics"`` (RL training targets).

    Returns:
        ``{method: {"pass@1": (mean, std), ..., "pass@k": [(mean, std), ...]}}``.
    """
    summary: dict[str, dict] = {}
    for method in LABELS:
        if not all(method in run[key] for run in runs):
            continue
        metrics = [run[key][method] for run in runs]
        row = {name: _mean_std([m[name] for m in metrics]) for name in HEADLINE}
        k_max = len(metrics[0]["pass@k"])
        row["pass@k"] = [_mean_std([m["pass@k"][k] for m in metrics]) for k in range(k_max)]
        row["pass@1"] = row["pass@k"][0]
        row[f"pass@{k_max}"] = row["pass@k"][-1]
        summary[method] = row
    return summary


def summarize_curves(runs: list[dict]) -> dict:
    """Held-out metrics along RL training (mean and std over seeds), from the ``eval_every`` evaluations.

    Step 0 is the warmed-up base policy. Returns ``{}`` when the runs hold no curve.

    Returns:
        ``{method: {"step": [...], "accuracy": [(mean, std), ...], "distinct_correct": [...]}}``.
    """
    curves: dict[str, dict] = {}
    for method in ("grpo", "darling"):
        per_run = [[entry for entry in run["logs"].get(method, []) if "curve_step" in entry] for run in runs]
        if not per_run or not per_run[0] or any(len(c) != len(per_run[0]) for c in per_run):
            return {}
        steps = [0] + [entry["curve_step"] for entry in per_run[0]]
        curve: dict[str, list] = {"step": steps}
        k_max = len(runs[0]["metrics"]["base"]["pass@k"])
        for name in ("accuracy", "distinct_correct", f"pass@{k_max}"):
            base = [
                run["metrics"]["base"]["pass@k"][-1]
                if name.startswith("pass@")
                else run["metrics"]["base"][name]
                for run in runs
            ]
            rows = [[b] + [e[f"held_out/{name}"] for e in c] for b, c in zip(base, per_run)]
            curve[name] = [_mean_std([row[i] for row in rows]) for i in range(len(steps))]
        curves[method] = curve
    return curves


def k_max_of(summary: dict) -> int:
    """The largest k of the summary's pass@k."""
    return len(next(iter(summary.values()))["pass@k"])


def _cell(value: tuple[float, float], spread: bool, digits: int = 3) -> str:
    mean, std = value
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if spread else f"{mean:.{digits}f}"


def format_table(summary: dict, num_seeds: int) -> str:
    """A Markdown table of the headline numbers (mean ± std over seeds when there are several)."""
    k_max = len(next(iter(summary.values()))["pass@k"])
    spread = num_seeds > 1
    head = [
        "policy",
        "pass@1",
        f"pass@{k_max}",
        f"distinct correct (of {k_max})",
        "coverage",
        "distinct (of 10)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, row in summary.items():
        cells = [
            LABELS[method],
            _cell(row["pass@1"], spread),
            _cell(row[f"pass@{k_max}"], spread),
            _cell(row["distinct_correct"], spread, 2),
            _cell(row["coverage"], spread),
            _cell(row["distinct"], spread, 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goal_check(summary: dict, task: str = "sums") -> dict:
    """The goal set for the task's demo, checked on the means over seeds.

    ``sums``: distinct correct >= 2x GRPO's, pass@1 >= GRPO's - 0.02, pass@k_max >= GRPO's.
    ``required_digit``: pass@k >= GRPO's for every k, pass@k_max >= GRPO's + 0.05 with GRPO's
    pass@k_max <= 0.95, and distinct correct >= 1.5x GRPO's.
    """
    if "grpo" not in summary or "darling" not in summary:
        return {}
    g, d = summary["grpo"], summary["darling"]
    k_max = len(g["pass@k"])
    ratio = d["distinct_correct"][0] / g["distinct_correct"][0] if g["distinct_correct"][0] else float("inf")
    gaps = [dk[0] - gk[0] for dk, gk in zip(d["pass@k"], g["pass@k"])]
    if task == "required_digit":
        return {
            "distinct_correct_ratio": ratio,
            "distinct_correct_at_least_1.5x": ratio >= 1.5,
            "pass@k_gaps": gaps,
            "pass@k_at_least_grpo_for_every_k": all(gap >= 0 for gap in gaps),
            f"pass@{k_max}_gap": gaps[-1],
            f"grpo_pass@{k_max}": g["pass@k"][-1][0],
            f"pass@{k_max}_at_least_grpo_plus_0.05_with_grpo_at_most_0.95": gaps[-1] >= 0.05
            and g["pass@k"][-1][0] <= 0.95,
        }
    return {
        "distinct_correct_ratio": ratio,
        "distinct_correct_at_least_2x": ratio >= 2.0,
        "pass@1_gap": gaps[0],
        "pass@1_within_0.02": d["pass@1"][0] >= g["pass@1"][0] - 0.02,
        f"pass@{k_max}_gap": gaps[-1],
        f"pass@{k_max}_at_least_grpo": d["pass@k"][-1][0] >= g["pass@k"][-1][0],
    }


def format_per_seed(runs: list[dict]) -> str:
    """A Markdown table with one row per seed: held-out pass@1, pass@k_max and distinct correct answers."""
    k_max = len(runs[0]["metrics"]["grpo"]["pass@k"])
    head = [
        "seed",
        "base pass@1",
        "GRPO pass@1",
        "DARLING pass@1",
        f"base pass@{k_max}",
        f"GRPO pass@{k_max}",
        f"DARLING pass@{k_max}",
        "base distinct correct",
        "GRPO distinct correct",
        "DARLING distinct correct",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        m = run["metrics"]
        cells = [str(run["seed"])]
        cells += [f"{m[method]['pass@k'][0]:.3f}" for method in LABELS]
        cells += [f"{m[method]['pass@k'][-1]:.3f}" for method in LABELS]
        cells += [f"{m[method]['distinct_correct']:.2f}" for method in LABELS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_line(summary: dict) -> str:
    """One line: DARLING's distinct correct answers as a multiple of GRPO's, and its pass@1 / pass@k_max gaps."""
    g, d = summary["grpo"], summary["darling"]
    k_max = len(g["pass@k"])
    ratio = d["distinct_correct"][0] / g["distinct_correct"][0] if g["distinct_correct"][0] else float("inf")
    return (
        f"DARLING vs GRPO: distinct correct x{ratio:.2f}, pass@1 {d['pass@k'][0][0] - g['pass@k'][0][0]:+.3f}, "
        f"pass@{k_max} {d['pass@k'][-1][0] - g['pass@k'][-1][0]:+.3f}"
    )


def held_out_label(results: dict) -> str:
    """``Held-out targets [7, 11, 14, 18]``, or ``78 held-out prompts`` when there are more than 8."""
    held_out = results["task"]["held_out_targets"]
    return f"Held-out targets {held_out}" if len(held_out) <= 8 else f"{len(held_out)} held-out prompts"


def console_summary(results: dict) -> str:
    """What the demo prints before the paths it wrote: a header, the held-out table and the comparison line.

    Args:
        results: A results dict of :func:`darling.demo.run.run_demo` (``summary`` is recomputed from
            ``runs``, so a dict cut down to some of its runs gives what a run of those seeds prints).
    """
    runs = results["runs"]
    summary = summarize(runs)
    seeds = ", ".join(str(r["seed"]) for r in runs)
    held_out = results["task"]["held_out_targets"]
    where = f"Held-out targets {held_out}" if len(held_out) <= 8 else f"{len(held_out)} held-out prompts"
    header = f"{where}, {results['config']['eval_samples']} samples each; seeds {seeds}" + (
        " (mean ± std)" if len(runs) > 1 else ""
    )
    text = header + "\n\n" + format_table(summary, len(runs))
    if "grpo" in summary and "darling" in summary:
        text += "\n\n" + comparison_line(summary)
    return text


def plot(
    summary: dict, path: str | Path, num_seeds: int, curves: dict | None = None, task: str = "sums"
) -> Path:
    """pass@k curves, distinct-correct bars and (with ``curves``) held-out metrics along training, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"base": "#9e9e9e", "grpo": "#1f77b4", "darling": "#d62728"}
    fig, axes = plt.subplots(1, 3 if curves else 2, figsize=(15 if curves else 10, 4))
    left, right = axes[0], axes[1]
    for method, row in summary.items():
        ks = list(range(1, len(row["pass@k"]) + 1))
        means = [m for m, _ in row["pass@k"]]
        stds = [s for _, s in row["pass@k"]]
        left.plot(ks, means, marker="o", markersize=3, color=colors[method], label=LABELS[method])
        if num_seeds > 1:
            left.fill_between(
                ks,
                [m - s for m, s in zip(means, stds)],
                [m + s for m, s in zip(means, stds)],
                color=colors[method],
                alpha=0.15,
            )
    left.set_xscale("log", base=2)
    left.set_xlabel("k")
    left.set_ylabel("pass@k (held-out targets)")
    left.set_title("pass@k")
    left.grid(alpha=0.3)
    left.legend()
    methods = list(summary)
    means = [summary[m]["distinct_correct"][0] for m in methods]
    errors = [summary[m]["distinct_correct"][1] for m in methods]
    right.bar(
        [LABELS[m] for m in methods],
        means,
        yerr=errors if num_seeds > 1 else None,
        capsize=4,
        color=[colors[m] for m in methods],
    )
    k_max = len(next(iter(summary.values()))["pass@k"])
    right.set_ylabel(f"distinct correct answers in {k_max} samples")
    right.set_title("distinct correct answers")
    if curves:
        ax = axes[2]
        twin = ax.twinx()
        for method, curve in curves.items():
            means = [m for m, _ in curve["distinct_correct"]]
            ax.plot(
                curve["step"],
                means,
                "-",
                marker="o",
                markersize=3,
                color=colors[method],
                label=f"{LABELS[method]} distinct correct",
            )
            twin.plot(
                curve["step"],
                [m for m, _ in curve["accuracy"]],
                ":",
                color=colors[method],
                label=f"{LABELS[method]} pass@1",
            )
            k_max = k_max_of(summary)
            if f"pass@{k_max}" in curve:
                twin.plot(
                    curve["step"],
                    [m for m, _ in curve[f"pass@{k_max}"]],
                    "--",
                    color=colors[method],
                    label=f"{LABELS[method]} pass@{k_max}",
                )
        ax.set_xlabel("RL step")
        ax.set_ylabel(f"distinct correct in {k_max_of(summary)} samples (solid)")
        twin.set_ylabel(f"pass@1 (dotted), pass@{k_max_of(summary)} (dashed)")
        twin.set_ylim(0, 1.05)
        ax.set_ylim(bottom=0)
        ax.set_title("held-out targets during RL")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    seeds = f"{num_seeds} seeds, mean ± std" if num_seeds > 1 else "1 seed"
    fig.suptitle(f"DARLING vs GRPO on {TITLES.get(task, task)} (tiny policy, CPU; {seeds})")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(results: dict, output_dir: str | Path) -> dict[str, Path]:
    """Prints the table and writes ``results.md``, ``recording.md``, ``results.json`` and ``demo_passk.png``.

    ``results.md`` and ``recording.md`` are the run's results page, in named sections that the docs
    include (:mod:`darling.demo.results_page`).

    Args:
        results: The dict built by :func:`darling.demo.run.run_demo`.
        output_dir: Directory to write to (created if missing).

    Returns:
        The paths written, by kind (``"table"``, ``"recording"``, ``"json"``, ``"png"``).
    """
    from darling.demo.results_page import write_results_pages

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = results["runs"]
    task = results["task"]["name"]
    summary = summarize(runs)
    results["summary"] = summary
    results["summary_train_targets"] = summarize(runs, "train_metrics")
    results["goal"] = goal_check(summary, task)
    results["curves"] = summarize_curves(runs)
    console = console_summary(results)
    paths = {
        "table": out / TABLE_NAME,
        "recording": out / RECORDING_NAME,
        "json": out / JSON_NAME,
        "png": out / PNG_NAME,
    }
    write_results_pages(results, paths["table"], paths["recording"])
    paths["json"].write_text(json.dumps(results, indent=1, default=str) + "\n")
    plot(summary, paths["png"], len(runs), results["curves"], task)
    print("\n" + console)
    print(
        f"Wrote {paths['table']}, {paths['recording']}, {paths['json']} and {paths['png']} "
        f"({results['elapsed_s']:.0f} s)."
    )
    return paths
