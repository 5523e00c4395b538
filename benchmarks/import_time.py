"""Start-up cost: ``import darling`` and ``darling --help``, against importing the training stack.

Each measurement is a fresh interpreter (``python -c ...``), repeated; the median wall time is
reported. The baseline, measured in the same run, is what darling 0.1 paid on every import:
loading the trainer, and with it torch, transformers and TRL.

    python benchmarks/import_time.py --repeats 7 --output docs/assets/import_time.json
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_io import command_line, write_results

HEAVY = ("torch", "transformers", "trl", "datasets", "sentence_transformers", "sklearn", "accelerate")
COMMANDS = {
    "import darling": [sys.executable, "-c", "import darling"],
    "darling --help": [sys.executable, "-m", "darling.cli", "--help"],
    "from darling import partition, DiversityRewardFunction": [
        sys.executable,
        "-c",
        "from darling import partition, DiversityRewardFunction",
    ],
    "baseline: the training stack (from darling import DarlingGRPOTrainer)": [
        sys.executable,
        "-c",
        "from darling import DarlingGRPOTrainer",
    ],
}
HEAVY_CHECK = "import sys, darling; print(','.join(m for m in {heavy!r} if m in sys.modules))"


def wall_time(command: list[str], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` fresh runs of ``command`` (stdout discarded)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times


def render_markdown(result: dict) -> str:
    """The docs' table of a run's result."""
    lines = [
        "| command | median wall time | x the training stack |",
        "|---|---|---|",
        *(
            f"| `{row['command']}` | {row['median_s']:.3f} s | {row['ratio_to_baseline']:.3f} |"
            for row in result["rows"]
        ),
        "",
        f"Heavy libraries loaded by `import darling`: {', '.join(result['heavy_modules_after_import_darling']) or 'none'}. "
        f"Measured {result['date']} on {result['machine']} (load average {result['load_average']:.2f}), "
        f"median of fresh interpreters: `{result['command']}`.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7, help="fresh interpreters per command (default: 7)")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    loaded = subprocess.run(
        [sys.executable, "-c", HEAVY_CHECK.format(heavy=HEAVY)], check=True, capture_output=True, text=True
    ).stdout.strip()
    rows = []
    for name, command in COMMANDS.items():
        times = wall_time(command, args.repeats)
        rows.append({"command": name, "median_s": statistics.median(times), "runs_s": times})
    baseline = rows[-1]["median_s"]
    for row in rows:
        row["ratio_to_baseline"] = row["median_s"] / baseline
    result = {
        "command": command_line(__file__, argv),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "heavy_modules_after_import_darling": loaded.split(",") if loaded else [],
        "rows": rows,
    }
    print(f"{'command':<72} {'median':>8} {'x baseline':>11}")
    for row in rows:
        print(f"{row['command']:<72} {row['median_s']:>7.3f}s {row['ratio_to_baseline']:>10.3f}")
    print(
        f"heavy modules loaded by `import darling`: {result['heavy_modules_after_import_darling'] or 'none'}"
    )
    if args.output is not None:
        write_results(args.output, result, render_markdown(result))
    return result


if __name__ == "__main__":
    main()
