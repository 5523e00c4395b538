"""The demo's results page: the markdown a run writes beside its ``results.json``.

A demo run writes ``results.md`` (the tables, goals and examples) and ``recording.md`` (the command,
timings and machine). Each is a series of named sections, so a docs page includes one of them with
``--8<-- "docs/assets/demo/NAME.md:SECTION"`` (pymdownx.snippets): the numbers on the docs pages are
the ones the run wrote, never typed by hand.

A run recorded before this page existed is turned into the same files from its ``results.json``::

    python -m darling.demo.results_page docs/assets/demo/sums.json --compare docs/assets/demo/sums.avx2.json
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from darling.demo import report
from darling.demo.config import DemoConfig

SKIPPED_FLAGS = ("output_dir", "progress")


def command(results: dict) -> str:
    """The command line that reproduces a recorded run (flags that differ from the demo's defaults)."""
    defaults = {f.name: f.default for f in fields(DemoConfig)}
    config = results["config"]
    flags = [
        f"--{key} {value}"
        for key, value in config.items()
        if key in defaults and key not in SKIPPED_FLAGS and value != defaults[key]
    ]
    env = " ".join(f"{k}={v}" for k, v in results.get("environment", {}).get("env", {}).items())
    return " ".join(part for part in (env, "python -m darling.demo", *flags) if part)


def _seed0(results: dict) -> dict:
    return {**results, "runs": [run for run in results["runs"] if run["seed"] == 0]}


def _fmt_s(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def render_table(results: dict) -> str:
    runs = results["runs"]
    header = (
        f"{report.held_out_label(results)}, {results['config']['eval_samples']} samples "
        f"each, {'mean ± std over the ' + str(len(runs)) + ' seeds' if len(runs) > 1 else 'one seed'}:"
    )
    return header + "\n\n" + report.format_table(report.summarize(runs), len(runs))


def render_train_table(results: dict) -> str:
    runs = results["runs"]
    header = f"RL training targets {results['task'].get('train_eval_targets', results['task'].get('train_targets'))}, same samples per target:"
    return header + "\n\n" + report.format_table(report.summarize(runs, "train_metrics"), len(runs))


def render_per_seed(results: dict) -> str:
    return "Per seed (held-out targets):\n\n" + report.format_per_seed(results["runs"])


def render_passk(results: dict) -> str:
    """Mean pass@k for every k, one row per policy."""
    summary = report.summarize(results["runs"])
    k_max = len(summary["base"]["pass@k"])
    head = ["policy", *(f"k={k}" for k in range(1, k_max + 1))]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, row in summary.items():
        cells = [report.LABELS[method], *(f"{m:.2f}" for m, _ in row["pass@k"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "Mean held-out pass@k:\n\n" + "\n".join(lines)


def render_recording(results: dict) -> str:
    runs = results["runs"]
    env = results.get("environment", {})
    seeds = [r["seed"] for r in runs]
    parts = [
        f"Recorded with `{command(results)}` (seeds {seeds[0]} to {seeds[-1]}): {_fmt_s(results['elapsed_s'])} "
        f"wall clock; per seed {_span(runs, 'warmup_s')} of warm-up, {_span(runs, 'grpo_s')} of GRPO and "
        f"{_span(runs, 'darling_s')} of DARLING (one thread each)."
    ]
    load = results.get("load_average")
    if load and load.get("start") and load.get("end"):
        parts.append(
            f"Load average (1 minute) {load['start'][0]:.2f} when it started and {load['end'][0]:.2f} when it "
            "ended on this 2-core machine: other processes shared the cores, so under load these times are upper "
            "bounds."
        )
    if env:
        parts.append(
            f"Machine: {env['cpu']} ({env['machine']}, torch kernels {env['torch_cpu_capability']}), torch "
            f"{env['torch']}, transformers {env['transformers']}, trl {env['trl']}."
        )
    return " ".join(parts)


def render_runtime(results: dict) -> str:
    """How long one recorded single-seed run took, with the machine's load."""
    run = results["runs"][0]
    t = run["timings"]
    text = (
        f"`{command(results)}` (seed {run['seed']}): {_fmt_s(results['elapsed_s'])} from start to report, "
        f"of which {round(t['warmup_s'])} s warm-up, {round(t['grpo_s'])} s GRPO and {round(t['darling_s'])} s "
        "DARLING (with their evaluations)"
    )
    load = results.get("load_average")
    if load and load.get("start") and load.get("end"):
        text += f", at a 1-minute load average of {load['start'][0]:.2f} to {load['end'][0]:.2f} on 2 cores"
    return text + "."


def _span(runs: list[dict], key: str) -> str:
    values = [run["timings"][key] for run in runs]
    low, high = round(min(values)), round(max(values))
    return f"{low} s" if low == high else f"{low}-{high} s"


def render_goals(results: dict) -> str:
    summary = report.summarize(results["runs"])
    task = results["task"]["name"]
    goal = report.goal_check(summary, task)
    g, d = summary["grpo"], summary["darling"]
    k_max = len(g["pass@k"])

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    ratio = f"{goal['distinct_correct_ratio']:.2f}x"
    runs = results["runs"]

    def wins(metric) -> str:
        won = sum(metric(run["metrics"]["darling"]) > metric(run["metrics"]["grpo"]) for run in runs)
        return f"{won} of {len(runs)}"

    per_seed = (
        f"- Per seed, DARLING is above GRPO in pass@{k_max} on {wins(lambda m: m['pass@k'][-1])} seeds, in "
        f"pass@1 on {wins(lambda m: m['pass@k'][0])} and in distinct correct answers on "
        f"{wins(lambda m: m['distinct_correct'])}."
    )
    dc = f"DARLING {d['distinct_correct'][0]:.2f} against GRPO {g['distinct_correct'][0]:.2f}"
    if task == "required_digit":
        gaps = goal["pass@k_gaps"]
        worst = min(range(k_max), key=lambda k: gaps[k])
        return "\n".join(
            [
                f"- DARLING's mean pass@k >= GRPO's for every k in 1..{k_max}: "
                f"{verdict(goal['pass@k_at_least_grpo_for_every_k'])} (smallest gap {gaps[worst]:+.3f}, at "
                f"k = {worst + 1}; pass@1 {d['pass@k'][0][0]:.3f} against {g['pass@k'][0][0]:.3f}).",
                f"- DARLING's pass@{k_max} >= GRPO's + 0.05, with GRPO's <= 0.95: "
                f"{verdict(goal[f'pass@{k_max}_at_least_grpo_plus_0.05_with_grpo_at_most_0.95'])} "
                f"({d['pass@k'][-1][0]:.3f} against {g['pass@k'][-1][0]:.3f}, gap {gaps[-1]:+.3f}; the base "
                f"policy {summary['base']['pass@k'][-1][0]:.3f}).",
                f"- DARLING's distinct correct answers >= 1.5x GRPO's: "
                f"{verdict(goal['distinct_correct_at_least_1.5x'])} ({ratio}: {dc}).",
                per_seed,
            ]
        )
    return "\n".join(
        [
            f"- Distinct correct answers >= 2x GRPO's: {verdict(goal['distinct_correct_at_least_2x'])} "
            f"({ratio}: {dc}).",
            f"- pass@1 no more than 0.02 below GRPO's: {verdict(goal['pass@1_within_0.02'])} "
            f"({d['pass@k'][0][0]:.3f} against {g['pass@k'][0][0]:.3f}, {goal['pass@1_gap']:+.3f}).",
            f"- pass@{k_max} at least GRPO's: {verdict(goal[f'pass@{k_max}_at_least_grpo'])} "
            f"({d['pass@k'][-1][0]:.3f} against {g['pass@k'][-1][0]:.3f}).",
            per_seed,
        ]
    )


def render_examples(results: dict) -> str:
    """Seed 0's three most frequent samples on the held-out prompts that have a single correct answer."""
    run = _seed0(results)["runs"][0]
    per_target = {
        m: {p["target"]: p for p in run["metrics"][m]["per_target"]} for m in ("base", "grpo", "darling")
    }
    # JSON keys are strings; a fresh run's are the targets themselves.
    valid = {str(k): v for k, v in results["task"]["valid_answers_per_held_out_target"].items()}
    prompts = [t for t in results["task"]["held_out_targets"] if valid[str(t)] == 1]
    head = ["prompt", "base", "GRPO", "DARLING"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for target in prompts:
        cells = [f"`{target}=`"]
        for method in ("base", "grpo", "darling"):
            p = per_target[method][target]
            top = ", ".join(f"`{text or ' '}` x{count}" for text, count in p["top_samples"])
            cells.append(f"{p['num_correct']}/{p['num_samples']} correct; {top}")
        lines.append("| " + " | ".join(cells) + " |")
    return (
        f"Seed 0 on the {len(prompts)} held-out prompts with a single correct answer: how many of the "
        f"{run['metrics']['base']['per_target'][0]['num_samples']} samples were correct, and the three most "
        "frequent samples (right or wrong) with their counts:\n\n" + "\n".join(lines)
    )


def render_seed0(results: dict) -> str:
    """What ``python -m darling.demo`` with the recorded settings prints for seed 0 (paths and time elided)."""
    out = "outputs/demo"  # the default --output_dir; the recorded run wrote elsewhere
    wrote = f"Wrote {out}/results.md, {out}/recording.md, {out}/results.json and {out}/demo_passk.png (...)."
    return "```text\n" + report.console_summary(_seed0(results)) + "\n" + wrote + "\n```"


def render_seed0_numbers(results: dict) -> str:
    """The quickstart's sentence about the seed-0 table and the multi-seed means."""
    one = report.summarize(_seed0(results)["runs"])
    many = report.summarize(results["runs"])
    g1, d1 = one["grpo"], one["darling"]
    g, d = many["grpo"], many["darling"]
    return (
        f"On seed 0 quality-only GRPO keeps {g1['distinct_correct'][0]:.2f} distinct correct answers in 16 "
        f"samples (coverage of the valid answers {g1['coverage'][0]:.2f}) and DARLING {d1['distinct_correct'][0]:.2f} "
        f"({d1['coverage'][0]:.2f}), at pass@1 {d1['pass@1'][0]:.3f} against {g1['pass@1'][0]:.3f}. Over "
        f"{len(results['runs'])} seeds the ratio of distinct correct answers is "
        f"{d['distinct_correct'][0] / g['distinct_correct'][0]:.2f}x and DARLING's pass@1 is "
        f"{d['pass@1'][0] - g['pass@1'][0]:+.3f} from GRPO's, with a seed-to-seed spread of "
        f"±{g['pass@1'][1]:.2f}."
    )


def render_variation(results: dict, other: dict) -> str:
    """The same seeds on two kernel sets: how far float differences move each number."""
    a, b = report.summarize(results["runs"]), report.summarize(other["runs"])
    k = len(a["base"]["pass@k"])
    cap_a = results["environment"]["torch_cpu_capability"]
    cap_b = other["environment"]["torch_cpu_capability"]
    head = ["policy", "kernels", "pass@1", f"pass@{k}", "distinct correct", "coverage"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method in a:
        for cap, s in ((cap_a, a), (f"{cap_b} (`{command(other).split(' python')[0]}`)", b)):
            row = s[method]
            lines.append(
                f"| {report.LABELS[method]} | {cap} | {row['pass@1'][0]:.3f} | {row['pass@k'][-1][0]:.3f} | "
                f"{row['distinct_correct'][0]:.2f} | {row['coverage'][0]:.3f} |"
            )
    runs_a, runs_b = results["runs"], other["runs"]
    diffs = [
        abs(ra["metrics"][m]["pass@k"][0] - rb["metrics"][m]["pass@k"][0])
        for ra, rb in zip(runs_a, runs_b)
        for m in ("base", "grpo", "darling")
    ]
    same = sum(d == 0 for d in diffs)

    def moved(metric) -> float:
        return max(abs(metric(a[m]) - metric(b[m])) for m in a)

    task = results["task"]["name"]
    goals_a, goals_b = report.goal_check(a, task), report.goal_check(b, task)
    verdicts = [key for key, value in goals_a.items() if isinstance(value, bool)]
    agree = all(goals_a[key] == goals_b[key] for key in verdicts)
    return (
        "\n".join(lines)
        + f"\n\nThe means over the {len(runs_a)} seeds moved by at most {moved(lambda r: r['pass@1'][0]):.3f} in "
        f"pass@1, {moved(lambda r: r['pass@k'][-1][0]):.3f} in pass@{k} and "
        f"{moved(lambda r: r['distinct_correct'][0]):.2f} in distinct correct answers; a single seed's pass@1 moved "
        f"by up to {max(diffs):.3f} (mean {sum(diffs) / len(diffs):.3f}, the same value in {same} of {len(diffs)} "
        f"seed-policy pairs). The goal verdicts are {'the same' if agree else 'different'} with both kernel sets "
        f"({', '.join(f'{key} ' + ('met' if goals_b[key] else 'missed') for key in verdicts)} with {cap_b})."
    )


def _sections(results: dict) -> dict[str, Callable[[dict], str]]:
    """The sections of ``results.md`` that apply to this run, in page order."""
    runs = results["runs"]
    has_methods = "grpo" in runs[0]["metrics"] and "darling" in runs[0]["metrics"]
    sections: dict[str, Callable[[dict], str]] = {"table": render_table, "train-table": render_train_table}
    if has_methods:
        sections |= {"passk": render_passk, "goals": render_goals}
        if len(runs) > 1:
            sections["per-seed"] = render_per_seed
        if any(run["seed"] == 0 for run in runs):
            sections |= {"seed0": render_seed0, "seed0-numbers": render_seed0_numbers}
            if "valid_answers_per_held_out_target" in results["task"]:
                sections["examples"] = render_examples
    return sections


def _page(sections: dict[str, str]) -> str:
    return "\n".join(
        f"<!-- --8<-- [start:{name}] -->\n{text.rstrip()}\n<!-- --8<-- [end:{name}] -->\n"
        for name, text in sections.items()
    )


def results_markdown(results: dict, compare: dict | None = None) -> str:
    """``results.md``: every section of the run's numbers (and ``variation`` against ``compare``)."""
    texts = {name: render(results) for name, render in _sections(results).items()}
    if compare is not None:
        texts["variation"] = render_variation(results, compare)
    return _page(texts)


def recording_markdown(results: dict) -> str:
    """``recording.md``: how the run was recorded (command, timings, load, machine)."""
    texts = {"recording": render_recording(results)}
    if len(results["runs"]) == 1:
        texts["runtime"] = render_runtime(results)
    return _page(texts)


def write_results_pages(
    results: dict, results_path: str | Path, recording_path: str | Path, compare: dict | None = None
) -> None:
    """Writes :func:`results_markdown` and :func:`recording_markdown` of a run."""
    Path(results_path).write_text(results_markdown(results, compare))
    Path(recording_path).write_text(recording_markdown(results))


def load_recorded(path: str | Path) -> dict:
    """A recorded ``results.json``.

    Runs recorded before ``results.json`` held the load average came with the console log of the
    command (``uptime`` before and after it), committed beside it as ``NAME.console.txt``; their load
    averages are read from there.
    """
    path = Path(path)
    results = json.loads(path.read_text())
    log = path.with_suffix(".console.txt")
    if "load_average" not in results and log.is_file():
        loads = re.findall(r"load average: ([\d.]+), ([\d.]+), ([\d.]+)", log.read_text())
        if loads:
            results["load_average"] = {
                "start": [float(x) for x in loads[0]],
                "end": [float(x) for x in loads[-1]],
            }
    return results


def main(argv: list[str] | None = None) -> None:
    """Writes ``NAME.md`` and ``NAME.recording.md`` beside a recorded ``NAME.json``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", help="a recorded results.json, e.g. docs/assets/demo/sums.json")
    parser.add_argument(
        "--compare", help="the same seeds recorded with other kernels (adds a variation section)"
    )
    args = parser.parse_args(argv)
    path = Path(args.results)
    compare = load_recorded(args.compare) if args.compare else None
    write_results_pages(
        load_recorded(path), path.with_suffix(".md"), path.with_suffix(".recording.md"), compare
    )
    print(f"Wrote {path.with_suffix('.md')} and {path.with_suffix('.recording.md')}.")


if __name__ == "__main__":
    main()
