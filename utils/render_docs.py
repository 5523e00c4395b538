"""Renders the numbers of recorded runs into the docs: each table comes from the JSON a run wrote.

A page marks a generated region with ``<!-- results:NAME -->`` ... ``<!-- /results:NAME -->``; this
script replaces the region's content with what :data:`RENDERERS` makes of that result's JSON file.
It then runs ``utils/render_demo_docs.py`` (the demo's tables, numbers and plots, regions
``<!-- demo:... -->``), so one command re-renders every recorded number of the docs.
``--check`` exits non-zero (and tests/test_docs_results.py fails) when a page differs from what its
JSON renders, so a number edited by hand, or a rerun whose page was not re-rendered, is caught.

    python utils/render_docs.py          # rewrite the regions
    python utils/render_docs.py --check  # verify only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ASSETS = DOCS / "assets"
_REGION = re.compile(r"(<!-- results:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)", re.S)


def _import_time(result: dict) -> str:
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


def _served_judge(result: dict) -> str:
    shape = result["classifier"]
    probe = result.get("probe_pairs")  # runs before the probe columns existed have none
    header = "| setup | seconds | x in-process | same partitions |"
    if probe:
        header += f" largest \\|served - in-process\\| ({probe:,} pairs) | verdicts flipped |"
    lines = [header, "|---" * header.count(" | ") + "|---|"]
    for row in result["rows"]:
        line = (
            f"| {row['setup']} | {row['seconds']:.2f} | {row['ratio_to_in_process']:.2f} | "
            f"{'yes' if row['same_partitions'] else 'NO'} |"
        )
        if probe:
            line += f" {row['max_abs_diff']:.1e} | {row['flipped_verdicts']} |"
        lines.append(line)
    lines += [
        "",
        f"{result['groups']} NoveltyBench groups, {result['judged_pairs']:,} pairs judged ({result['mode']} "
        f"partition), {result['pairs_per_request']} pairs a request; a random ModernBERT-shaped classifier "
        f"(hidden size {shape['hidden_size']}, {shape['num_hidden_layers']} layers, {shape['max_tokens_per_text']} "
        f"tokens a text). Client and HTTP overhead: **{result['client_overhead_us_per_pair']:.0f} µs a pair** "
        "(the served judge against a server that answers without a model). "
        f"Measured {result['date']} on {result['machine']} (load average {result['load_average']:.2f}): "
        f"`{result['command']}`.",
    ]
    return "\n".join(lines)


def _benchmark(name: str) -> Callable[[dict], str]:
    """The ``render_markdown`` of ``benchmarks/<name>.py`` (a benchmark that renders its own table)."""

    def render(result: dict) -> str:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module.render_markdown(result)

    return render


# Region name -> (the JSON file a run wrote, how it becomes markdown).
RENDERERS: dict[str, tuple[Path, Callable[[dict], str]]] = {
    "import_time": (ASSETS / "import_time.json", _import_time),
    "served_judge": (ASSETS / "served_judge.json", _served_judge),
    "served_judge_vllm": (ASSETS / "served_judge_vllm.json", _served_judge),
    "gpu_ready_cpu": (ASSETS / "gpu_ready_cpu.json", _benchmark("gpu_ready")),
}


def render(name: str) -> str:
    """The markdown of region ``name`` from its JSON file."""
    if name not in RENDERERS:
        raise KeyError(f"No renderer for results region {name!r}; known: {', '.join(sorted(RENDERERS))}.")
    path, renderer = RENDERERS[name]
    return renderer(json.loads(path.read_text())).rstrip() + "\n"


def render_page(text: str) -> str:
    """``text`` with every results region re-rendered."""
    return _REGION.sub(lambda m: m.group(1) + render(m.group("name")) + m.group(4), text)


def pages() -> list[Path]:
    """The docs pages that hold at least one results region."""
    return sorted(path for path in DOCS.rglob("*.md") if "<!-- results:" in path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only verify; exit 1 if a page is out of date")
    args = parser.parse_args(argv)
    stale = []
    for page in pages():
        text = page.read_text()
        rendered = render_page(text)
        if rendered != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(rendered)
    demo = _demo_renderer().main(["--check"] if args.check else [])
    if args.check and stale:
        print(f"out of date (run python utils/render_docs.py): {', '.join(map(str, stale))}", file=sys.stderr)
        return 1
    return demo


def _demo_renderer():
    spec = importlib.util.spec_from_file_location("render_demo_docs", ROOT / "utils" / "render_demo_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
