"""The benchmark pages show what the runs wrote: every included report exists and names its command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO_ROOT / "docs" / "benchmarks").glob("*.md"))
INCLUDE = re.compile(r'^--8<-- "([^"]+)"\s*$', re.MULTILINE)


def included_reports() -> list[tuple[str, str]]:
    return [(page.name, path) for page in PAGES for path in INCLUDE.findall(page.read_text(encoding="utf-8"))]


def test_the_benchmark_pages_include_reports():
    assert {page for page, _ in included_reports()} >= {"classifier-quality.md", "partition-cost.md"}


@pytest.mark.parametrize(("page", "path"), included_reports())
def test_each_included_report_was_written_by_a_benchmark_run(page, path):
    # pymdownx.snippets silently includes nothing for a missing file, so check here.
    report = REPO_ROOT / path
    assert report.is_file(), (
        f"{page} includes {path}, which does not exist; rerun the benchmark with --report {path}"
    )
    text = report.read_text(encoding="utf-8")
    command = re.search(
        r"^Command: `HF_HUB_OFFLINE=1 python (benchmarks/\w+\.py)( [^`]*)?`$", text, re.MULTILINE
    )
    assert command, f"{path} does not end with the command that wrote it"
    assert (REPO_ROOT / command[1]).is_file()
    assert f"--report {path}" in (command[2] or ""), f"{path} was written by another command"
    assert "|---" in text  # a Markdown table
