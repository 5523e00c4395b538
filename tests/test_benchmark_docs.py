"""The benchmark pages show what the runs wrote: every included report names the command that wrote it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*(REPO_ROOT / "docs" / "benchmarks").glob("*.md"), REPO_ROOT / "docs" / "architecture.md"])
INCLUDE = re.compile(r'^--8<-- "([^":]+)"\s*$', re.MULTILINE)
COMMAND = re.compile(r"`(?:HF_HUB_OFFLINE=1 )?python (benchmarks/[\w/]+\.py)( [^`]*)?`")


def included_reports() -> list[tuple[str, str]]:
    return [(page.name, path) for page in PAGES for path in INCLUDE.findall(page.read_text(encoding="utf-8"))]


def test_the_benchmark_pages_include_reports():
    pages = {page for page, _ in included_reports()}
    assert pages >= {
        "classifier-quality.md",
        "partition-cost.md",
        "gpu-ready.md",
        "served-judge.md",
        "architecture.md",
    }


@pytest.mark.parametrize(("page", "path"), included_reports())
def test_each_included_report_was_written_by_a_benchmark_run(page, path):
    report = REPO_ROOT / path
    assert report.is_file(), (
        f"{page} includes {path}, which does not exist; rerun the benchmark that writes it"
    )
    text = report.read_text(encoding="utf-8")
    command = COMMAND.search(text)
    assert command, f"{path} does not name the command that wrote it"
    assert (REPO_ROOT / command[1]).is_file()
    # Written by that command: a report via --report PATH, a table beside its JSON via --output PATH.json,
    # or a runner's results.md in its --output folder (committed under benchmarks/results/).
    arguments = command[2] or ""
    assert (
        f"--report {path}" in arguments
        or f"--output {Path(path).with_suffix('.json')}" in arguments
        or (path.endswith("/results.md") and "--output " in arguments)
    )
    assert "|---" in text  # a Markdown table
