"""The demo's recorded numbers: included from the files a run wrote, and reproduced by a fresh run.

- Every section a docs page includes from a recorded run's files exists there.
- A fresh ``python -m darling.demo`` (what ``make demo`` runs) must print the recorded seed-0
  table, on the machine type and library versions the recording was made with (slow: ~2 min).
- A shortened run is deterministic across processes (different hash seeds), and on the recording's
  machine type it reproduces a committed reference trajectory exactly (fast).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from darling.demo import results_page
from darling.demo.run import machine_fingerprint

ROOT = Path(__file__).resolve().parents[1]
SHORT_ARGS = ["--warmup_steps", "200", "--rl_steps", "8", "--eval_every", "4", "--eval_samples", "16"]
SHORT_REFERENCE = ROOT / "tests" / "data" / "demo_short_run.json"
# What decides the float trajectory besides the settings (the Python patch version does not).
FINGERPRINT_KEYS = (
    "machine",
    "cpu",
    "torch_cpu_capability",
    "env",
    "torch",
    "transformers",
    "trl",
    "tokenizers",
)


INCLUDE = re.compile(r'^--8<-- "(docs/assets/demo/[^":]+):([\w-]+)"$', re.MULTILINE)
ASSETS = ROOT / "docs" / "assets" / "demo"


def _fingerprint(env: dict) -> dict:
    return {key: env.get(key) for key in FINGERPRINT_KEYS}


def _skip_unless_same_machine(recorded: dict) -> None:
    here, there = _fingerprint(machine_fingerprint()), _fingerprint(recorded.get("environment", {}))
    if here != there:
        pytest.skip(
            "the demo's numbers are reproducible only on the machine type and library versions they were "
            f"recorded with; recorded {there}, here {here}"
        )


def _run_demo(args: list[str], output_dir: Path, hash_seed: str = "0") -> str:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "darling.demo", *args, "--progress", "false", "--output_dir", str(output_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _trajectory(results: dict) -> dict:
    """Everything a run computed, without wall-clock times and paths."""
    timed = re.compile(r"time|runtime|per_second")
    return {
        "summary": results["summary"],
        "runs": [
            {
                "seed": run["seed"],
                "warmup_loss": run["warmup_loss"],
                "metrics": run["metrics"],
                "train_metrics": run["train_metrics"],
                "logs": {
                    method: [{k: v for k, v in entry.items() if not timed.search(k)} for entry in log]
                    for method, log in run["logs"].items()
                },
            }
            for run in results["runs"]
        ],
    }


def test_every_included_demo_section_exists_in_the_recorded_file():
    includes = [
        m
        for page in ("docs/demo.md", "docs/quickstart.md")
        for m in INCLUDE.findall((ROOT / page).read_text())
    ]
    assert len(includes) >= 18
    for path, section in includes:
        text = (ROOT / path).read_text()
        assert f"<!-- --8<-- [start:{section}] -->" in text and f"<!-- --8<-- [end:{section}] -->" in text, (
            f"{path} has no section {section!r}: rerun the demo (or python -m darling.demo.results_page)"
        )


def test_command_lists_only_non_default_flags():
    results = {
        "config": {"task": "required_digit", "seeds": 6, "seed": 0, "output_dir": "x", "progress": False}
    }
    assert results_page.command(results) == "python -m darling.demo --task required_digit --seeds 6"
    results["environment"] = {"env": {"ATEN_CPU_CAPABILITY": "avx2"}}
    assert results_page.command(results).startswith("ATEN_CPU_CAPABILITY=avx2 python -m darling.demo")


@pytest.mark.slow
def test_make_demo_prints_the_recorded_seed0_table(tmp_path):
    recorded = results_page.load_recorded(
        ASSETS / "sums.seed0.json"
    )  # the recording of `make demo`'s command
    _skip_unless_same_machine(recorded)
    stdout = _run_demo([], tmp_path)
    printed = stdout[: stdout.index("Wrote ")].strip()
    expected = results_page.render_seed0(recorded).removeprefix("```text\n").split("\nWrote ")[0]
    assert printed == expected


def test_short_run_is_deterministic_across_processes(tmp_path):
    with ThreadPoolExecutor(2) as pool:  # two fresh processes, with different hash seeds
        list(
            pool.map(lambda name, seed: _run_demo(SHORT_ARGS, tmp_path / name, seed), ("a", "b"), ("1", "2"))
        )
    a = json.loads((tmp_path / "a" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert _trajectory(a) == _trajectory(b)
    page = (tmp_path / "a" / "results.md").read_text()
    assert page == (tmp_path / "b" / "results.md").read_text()
    for section in ("table", "train-table", "goals", "seed0", "seed0-numbers"):  # what the docs include
        assert f"<!-- --8<-- [start:{section}] -->" in page
    reference = json.loads(SHORT_REFERENCE.read_text())
    assert reference["config"] == {**a["config"], "output_dir": reference["config"]["output_dir"]}
    _skip_unless_same_machine(reference)
    assert _trajectory(a) == _trajectory(reference), (
        "the shortened demo no longer reproduces tests/data/demo_short_run.json on the machine it was recorded on: "
        "a change moved the demo's training (if intended, re-record it with "
        f"`python -m darling.demo {' '.join(SHORT_ARGS)} --output_dir DIR` and copy DIR/results.json there)"
    )


def test_numbers_are_compared_only_on_the_recorded_machine_type():
    here = machine_fingerprint()
    _skip_unless_same_machine({"environment": {**here, "python": "another patch version"}})  # no skip
    with pytest.raises(pytest.skip.Exception, match="recorded"):
        _skip_unless_same_machine({"environment": {**here, "torch_cpu_capability": "AVX2"}})
    with pytest.raises(pytest.skip.Exception):
        _skip_unless_same_machine({"environment": {**here, "env": {"MKL_CBWR": "AVX2"}}})
