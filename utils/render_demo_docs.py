"""Renders the demo's recorded numbers into the docs from the result JSON files a run wrote.

The demo's tables, plots and quoted numbers in docs/demo.md, docs/quickstart.md and README.md are
not typed by hand: each lives between a pair of markers,

    <!-- demo:KIND:NAME -->
    ...generated...
    <!-- /demo:KIND:NAME -->

and this script regenerates it from ``docs/assets/demo/NAME.json`` (a ``results.json`` written by
``python -m darling.demo``, copied unchanged); what each KIND of region says is in
``utils/demo_regions.py``. It also redraws ``docs/assets/demo/NAME.png``.

    python utils/render_demo_docs.py           # rewrite the regions and the plots
    python utils/render_demo_docs.py --check   # exit 1 and list the regions that differ

To record a new run: run the demo, copy its ``results.json`` to ``docs/assets/demo/NAME.json``,
then run this script. tests/test_demo_docs.py fails when a region differs from what this script
renders, so a hand edit of a generated region does not survive.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_regions import RENDERERS, render_variation, report

ROOT = Path(__file__).resolve().parent.parent
ASSETS = Path("docs/assets/demo")
DOCS = ("docs/demo.md", "docs/quickstart.md", "README.md")
REGION = re.compile(r"(<!-- demo:([\w:.-]+) -->\n)(.*?)(<!-- /demo:\2 -->)", re.S)


def load(name: str, root: Path = ROOT) -> dict:
    """The results dict recorded as ``docs/assets/demo/<name>.json``.

    Runs recorded before ``results.json`` held the load average came with the console log of the
    command (``uptime`` before and after it), committed as ``<name>.console.txt``; its load averages are
    read from there.
    """
    results = json.loads((root / ASSETS / f"{name}.json").read_text())
    log = root / ASSETS / f"{name}.console.txt"
    if "load_average" not in results and log.is_file():
        loads = re.findall(r"load average: ([\d.]+), ([\d.]+), ([\d.]+)", log.read_text())
        if loads:
            results["load_average"] = {
                "start": [float(x) for x in loads[0]],
                "end": [float(x) for x in loads[-1]],
            }
    return results


def render_region(key: str, root: Path = ROOT) -> str:
    """Renders the region ``KIND:NAME`` (``variation:NAME:OTHER`` compares two recorded runs)."""
    kind, _, names = key.partition(":")
    if kind == "variation":
        name, other = names.split(":")
        return render_variation(load(name, root), load(other, root))
    if kind not in RENDERERS:
        raise ValueError(
            f"Unknown demo region kind {kind!r} in <!-- demo:{key} -->; known: {', '.join(RENDERERS)}."
        )
    return RENDERERS[kind](load(names, root))


def render_file(text: str, root: Path = ROOT) -> str:
    """``text`` with every demo region replaced by its rendering."""

    def replace(match: re.Match) -> str:
        return match.group(1) + render_region(match.group(2), root) + "\n" + match.group(4)

    return REGION.sub(replace, text)


def stale_regions(root: Path = ROOT) -> list[str]:
    """``file: region`` for every region whose text differs from its rendering."""
    stale = []
    for doc in DOCS:
        text = (root / doc).read_text()
        for match in REGION.finditer(text):
            if match.group(3) != render_region(match.group(2), root) + "\n":
                stale.append(f"{doc}: <!-- demo:{match.group(2)} -->")
    return stale


def render_plots(root: Path = ROOT) -> list[Path]:
    """Redraws ``docs/assets/demo/NAME.png`` for every recorded ``NAME.json`` (not for ``NAME.VARIANT.json``)."""
    written = []
    for path in sorted(p for p in (root / ASSETS).glob("*.json") if "." not in p.stem):
        results = json.loads(path.read_text())
        runs = results["runs"]
        summary = report.summarize(runs)
        png = path.with_suffix(".png")
        report.plot(summary, png, len(runs), report.summarize_curves(runs), results["task"]["name"])
        written.append(png)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="Only report the regions that differ; exit 1 if any."
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_regions()
        for line in stale:
            print(f"stale: {line}")
        return 1 if stale else 0
    for doc in DOCS:
        path = ROOT / doc
        text = path.read_text()
        new = render_file(text)
        if new != text:
            path.write_text(new)
            print(f"rewrote {doc}")
    for png in render_plots():
        print(f"drew {png.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
