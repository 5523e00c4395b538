"""The demo's recorded numbers: generated from committed results, and reproduced by a fresh run.

- The marked regions of docs/demo.md, docs/quickstart.md and README.md must be exactly what
  utils/render_demo_docs.py renders from docs/assets/demo/*.json (a hand edit fails).
- A fresh ``python -m darling.demo`` (what ``make demo`` runs) must print the recorded seed-0
  table, on the machine type and library versions the recording was made with (slow: ~2 min).
- A shortened run is deterministic across processes (different hash seeds), and on the recording's
  machine type it reproduces a committed reference trajectory exactly (fast).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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


def _utils_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "utils" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _utils_module("render_demo_docs")  # finds, checks and rewrites the regions
regions = _utils_module("demo_regions")  # what each region says


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


def test_docs_regions_are_what_the_committed_results_render():
    stale = render.stale_regions()
    assert not stale, "regenerate with `python utils/render_demo_docs.py`: " + ", ".join(stale)


def test_docs_have_the_recorded_regions():
    demo, quickstart, readme = ((ROOT / p).read_text() for p in render.DOCS)
    for task in ("sums", "required_digit"):
        for kind in ("recording", "table", "per-seed", "goals"):
            assert f"<!-- demo:{kind}:{task} -->" in demo
        assert (ROOT / render.ASSETS / f"{task}.json").is_file()
        assert (ROOT / render.ASSETS / f"{task}.png").is_file()
    assert "<!-- demo:seed0:sums -->" in quickstart
    assert "<!-- demo:readme:sums -->" in readme


def test_a_hand_edit_of_a_region_is_caught(tmp_path):
    assets = (
        str(p.relative_to(ROOT)) for p in (ROOT / render.ASSETS).iterdir() if p.suffix in (".json", ".txt")
    )
    for path in (*render.DOCS, *assets):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    assert render.stale_regions(tmp_path) == []
    quickstart = tmp_path / "docs" / "quickstart.md"
    text = quickstart.read_text()
    start = text.index("<!-- demo:seed0:sums -->")
    edited = text[:start] + re.sub(r"\d\.\d{3}", "0.123", text[start:], count=1)
    quickstart.write_text(edited)
    assert render.stale_regions(tmp_path) == ["docs/quickstart.md: <!-- demo:seed0:sums -->"]


def test_command_lists_only_non_default_flags():
    results = {
        "config": {"task": "required_digit", "seeds": 6, "seed": 0, "output_dir": "x", "progress": False}
    }
    assert regions.command(results) == "python -m darling.demo --task required_digit --seeds 6"
    results["environment"] = {"env": {"ATEN_CPU_CAPABILITY": "avx2"}}
    assert regions.command(results).startswith("ATEN_CPU_CAPABILITY=avx2 python -m darling.demo")


@pytest.mark.slow
def test_make_demo_prints_the_recorded_seed0_table(tmp_path):
    recorded = render.load("sums")
    _skip_unless_same_machine(recorded)
    stdout = _run_demo([], tmp_path)
    printed = stdout[: stdout.index("Wrote ")].strip()
    expected = regions.render_seed0(recorded).removeprefix("```text\n").split("\nWrote ")[0]
    assert printed == expected


def test_short_run_is_deterministic_across_processes(tmp_path):
    with ThreadPoolExecutor(2) as pool:  # two fresh processes, with different hash seeds
        list(
            pool.map(lambda name, seed: _run_demo(SHORT_ARGS, tmp_path / name, seed), ("a", "b"), ("1", "2"))
        )
    a = json.loads((tmp_path / "a" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert _trajectory(a) == _trajectory(b)
    assert (tmp_path / "a" / "results.md").read_text() == (tmp_path / "b" / "results.md").read_text()
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
