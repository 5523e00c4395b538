"""The package layout that docs/architecture.md shows is the one the code has.

Every module under ``src/darling`` is read with ``ast`` (nothing is imported) and its imports of
darling modules are collected: at module level, inside functions, under ``if TYPE_CHECKING:``, and
the lazy ones (names in ``lazy_exports(...)`` tables, ``importlib.import_module("darling...")``, and
``from darling import NAME``, which counts as an import of the module that defines ``NAME``).

The one source of the rules is the page's "Allowed imports" table; this file holds only what the
page cannot express in a table: which modules may build tiny models, and which packages the diagram
draws as entry points.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SRC = REPO_ROOT / "src"
PAGE = REPO_ROOT / "docs" / "architecture.md"
DIAGRAM = REPO_ROOT / "docs" / "assets" / "architecture.svg"
ROOT = "darling"
LAZY = "darling._lazy"
TINY_MODELS = "darling.tiny_models"

# The only production modules that may import darling.tiny_models, and why. Tests and examples may too.
TINY_MODEL_USERS = {
    "darling.scripts.train_partition_classifier": "`--smoke` trains 2 steps of a tiny local encoder",
    "darling.demo.policy": "the demo's policy is a tiny causal LM built on the spot (offline, CPU)",
}
# Drawn as one band "on top" with no arrow of their own: they may use every package below them.
ENTRY_POINTS = ("darling.cli", "darling.scripts", "darling.demo")
_NAME = re.compile(r"`(darling(?:\.[A-Za-z_]\w*)*)`")


@dataclass(frozen=True)
class Import:
    """One import of a darling module by a module of the package."""

    source: str  # the importing module
    target: str  # the imported module (or package)
    line: int
    kind: str  # "module" (runs at import time), "function" (on first use) or "type_checking"


def module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(src: Path = SRC, package: str = ROOT) -> list[Path]:
    return sorted((src / package).rglob("*.py"))


def root_exports(src: Path = SRC, package: str = ROOT) -> dict[str, str]:
    """The root package's ``_EXPORTS`` table: public name -> the module that defines it."""
    tree = ast.parse((src / package / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
            isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in targets
        ):
            return ast.literal_eval(node.value)
    return {}


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, exports: dict[str, str], package: str) -> None:
        self.module, self.exports, self.root = module, exports, package
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[Import] = []
        self._context: list[str] = []

    def _kind(self) -> str:
        if "type_checking" in self._context:
            return "type_checking"
        return "function" if "function" in self._context else "module"

    def _add(self, target: str, node: ast.AST, kind: str | None = None) -> None:
        if target == self.root or target.startswith(self.root + "."):
            self.found.append(Import(self.module, target, node.lineno, kind or self._kind()))

    def _nested(self, node: ast.AST, context: str) -> None:
        self._context.append(context)
        self.generic_visit(node)
        self._context.pop()

    def visit_FunctionDef(self, node):
        self._nested(node, "function")

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node):
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            self._context.append("type_checking")
            for child in node.body:
                self.visit(child)
            self._context.pop()
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node):
        if node.level:  # relative: resolve against this module's package
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        for alias in node.names:
            if module == self.root and alias.name in self.exports:
                self._add(self.exports[alias.name], node)  # the name is defined there
            else:
                self._add(module, node)

    def visit_Call(self, node):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        strings: list[str] = []
        if name == "lazy_exports":
            strings = [v.value for arg in node.args if isinstance(arg, ast.Dict) for v in arg.values]
        elif name == "import_module" and node.args:
            strings = [node.args[0].value] if isinstance(node.args[0], ast.Constant) else []
        for value in strings:
            if isinstance(value, str):
                self._add(value, node, kind="function")  # imported on first use
        self.generic_visit(node)


def collect_imports(src: Path = SRC, package: str = ROOT) -> list[Import]:
    """Every import of a ``package`` module by a module under ``src/package``."""
    exports = root_exports(src, package)
    found = []
    for path in source_files(src, package):
        collector = _Collector(module_name(path, src), path.name == "__init__.py", exports, package)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(collector.found)
    return found


def allowed_imports(page: Path = PAGE) -> dict[tuple[str, ...], set[str]]:
    """The page's "Allowed imports" table: each row's packages -> the packages they may import."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().lower() == "## allowed imports"), None)
    assert start is not None, f"{page} has no '## Allowed imports' section"
    rows = {}
    table = False
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if not line.startswith("|"):
            if table:
                break
            continue
        table = True
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if set(cells[0]) <= set("-: ") or not _NAME.search(cells[0]):
            continue  # the header and its separator
        rows[tuple(_NAME.findall(cells[0]))] = set(_NAME.findall(cells[-1]))
    assert rows, f"the '## Allowed imports' section of {page} holds no table rows"
    return rows


def unit_of(module: str, rows: dict[tuple[str, ...], set[str]]) -> tuple[str, ...] | None:
    """The table row whose package holds ``module`` (the longest matching package wins)."""
    best, length = None, -1
    for members in rows:
        for member in members:
            if (module == member or module.startswith(member + ".")) and len(member) > length:
                best, length = members, len(member)
    return best


def violations(imports: list[Import], rows: dict[tuple[str, ...], set[str]]) -> list[str]:
    """Imports that the table does not allow, one readable line each."""
    problems = []
    for imp in imports:
        if imp.target in (ROOT, LAZY) or imp.target == TINY_MODELS:
            continue  # the cheap root and its helper may be imported anywhere; tiny models have their own rule
        if imp.source == ROOT:
            if imp.kind == "module":
                problems.append(f"{ROOT} imports {imp.target} at import time (line {imp.line}): keep it lazy")
            continue
        if imp.source == LAZY:
            problems.append(
                f"{LAZY} imports {imp.target} (line {imp.line}); it must import no darling module"
            )
            continue
        source, target = unit_of(imp.source, rows), unit_of(imp.target, rows)
        if source is None or target is None:
            missing = imp.source if source is None else imp.target
            problems.append(f"{missing} is in no row of the Allowed imports table of {PAGE.name}")
        elif source != target and not set(target) & rows[source]:
            where = "inside a function" if imp.kind == "function" else "at import time"
            problems.append(f"{imp.source} imports {imp.target} {where} (line {imp.line}), against the table")
    return problems


def package_edges(imports: list[Import], rows) -> dict[tuple[str, str], bool]:
    """(source package, target package) -> whether any of its imports runs at import time."""
    edges: dict[tuple[str, str], bool] = defaultdict(bool)
    for imp in imports:
        source, target = unit_of(imp.source, rows), unit_of(imp.target, rows)
        if source and target and source != target and imp.kind != "type_checking":
            edges[(source[0], target[0])] |= imp.kind == "module"
    return dict(edges)


# --------------------------------------------------------------------------------------------------
# The rules, on the real package


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return collect_imports()


@pytest.fixture(scope="module")
def rows():
    return allowed_imports()


def test_every_package_imports_only_what_the_architecture_page_allows(imports, rows):
    problems = violations(imports, rows)
    assert not problems, "\n".join(problems)


def test_the_table_states_the_core_one_way_rules(rows):
    may = {members[0]: allowed for members, allowed in rows.items()}
    assert may["darling.partitioning"] == set()
    assert not may["darling.classifier"] & {"darling.rewards", "darling.trainer", "darling.evaluation"}
    assert "darling.trainer" not in may["darling.rewards"]
    assert not may["darling.trainer"] & {"darling.evaluation", "darling.cli", "darling.demo"}
    # No package may import one that (directly or through others) imports it: the graph has no cycle.
    for start in may:
        seen, todo = set(), list(may[start])
        while todo:
            package = todo.pop()
            if package not in seen:
                seen.add(package)
                todo.extend(may.get(unit_of(package, rows)[0], ()) if unit_of(package, rows) else ())
        assert start not in seen, f"the table lets {start} import itself through {sorted(seen)}"


def test_import_darling_loads_no_package_at_import_time(imports):
    eager = [imp for imp in imports if imp.source == ROOT and imp.kind == "module" and imp.target != LAZY]
    assert eager == [], f"darling/__init__.py imports {[imp.target for imp in eager]} at import time"
    assert root_exports(), "darling/__init__.py has no _EXPORTS table"


def test_only_the_smoke_modes_and_the_demo_import_tiny_models(imports):
    users = {imp.source for imp in imports if imp.target == TINY_MODELS}
    unexpected = users - set(TINY_MODEL_USERS)
    assert not unexpected, f"{sorted(unexpected)} import {TINY_MODELS}, a test fixture, in production code"
    stale = set(TINY_MODEL_USERS) - users
    assert not stale, f"TINY_MODEL_USERS lists {sorted(stale)}, which no longer import {TINY_MODELS}"


def test_nothing_in_src_reads_the_development_folder_beside_the_checkout():
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in (SRC / ROOT).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".md", ".json", ".yaml", ".txt"}
        and "../shared" in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert offenders == [], f"production files mention ../shared: {offenders}"


def test_the_diagram_draws_exactly_the_package_imports_of_the_code(imports, rows):
    svg = DIAGRAM.read_text(encoding="utf-8")
    arrows = list(
        re.finditer(
            r'class="(?P<cls>[^"]*)"\s+data-from="(?P<from>[\w.]+)"\s+data-to="(?P<to>[\w.]+)"\s+'
            r'data-lazy="(?P<lazy>true|false)"',
            svg,
        )
    )
    drawn = {(m["from"], m["to"]): m["lazy"] == "false" for m in arrows}
    # The dashes are drawn by the "lazy" class: it must agree with data-lazy.
    assert all(("lazy" in m["cls"].split()) == (m["lazy"] == "true") for m in arrows)
    actual = {
        edge: eager for edge, eager in package_edges(imports, rows).items() if edge[0] not in ENTRY_POINTS
    }
    missing = sorted(set(actual) - set(drawn))
    extra = sorted(set(drawn) - set(actual))
    assert not missing and not extra, (
        f"the diagram lacks {missing} and draws {extra}, which the code does not import"
    )
    wrong = sorted(edge for edge in actual if actual[edge] != drawn[edge])
    assert not wrong, (
        f"solid/dashed is wrong for {wrong}: solid = imported at import time, dashed = on first use"
    )
    nodes = set(re.findall(r'data-package="([\w.]+)"', svg))
    assert {members[0] for members in rows} <= nodes, (
        f"packages missing from the diagram: {sorted({m[0] for m in rows} - nodes)}"
    )
    assert f"(assets/{DIAGRAM.name})" in PAGE.read_text(encoding="utf-8"), (
        f"{PAGE.name} does not show the diagram"
    )


def test_the_page_says_what_every_public_module_holds():
    text = PAGE.read_text(encoding="utf-8")
    modules = [
        module_name(path)
        for path in source_files()
        if path.name not in ("__init__.py", "__main__.py")
        and not path.name.startswith("_")  # private helpers belong to the module that uses them
        and (path.parent / "__init__.py").is_file()
    ]
    missing = [name for name in modules if f"`{name}`" not in text]
    assert not missing, f"{PAGE.name} does not say what these modules hold: {missing}"


# --------------------------------------------------------------------------------------------------
# The checker itself, on a made-up package: it catches what it claims to catch


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "src"


def test_checker_reports_function_level_lazy_and_root_imports_against_the_table(tmp_path):
    src = _write(
        tmp_path,
        {
            "darling/__init__.py": '_EXPORTS = {"Thing": "darling.high.things"}\n',
            "darling/_lazy.py": "",
            "darling/low/__init__.py": "",
            "darling/low/core.py": "def f():\n    from darling import Thing\n    return Thing\n",
            "darling/low/lazy.py": 'from darling._lazy import lazy_exports\nlazy_exports(__name__, {"X": "darling.high.things"})\n',
            "darling/low/ok.py": "import darling\nfrom . import core\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from darling.low import core\n",
            "darling/high/__init__.py": "from darling.low.core import f\n",
            "darling/high/things.py": "class Thing: ...\n",
        },
    )
    page = tmp_path / "page.md"
    page.write_text(
        "# A\n\n## Allowed imports\n\n| package | may import |\n|---|---|\n"
        "| `darling.low` | — |\n| `darling.high` | `darling.low` |\n\n## Next\n",
        encoding="utf-8",
    )
    rows = allowed_imports(page)
    assert rows == {("darling.low",): set(), ("darling.high",): {"darling.low"}}
    found = collect_imports(src)
    problems = violations(found, rows)
    assert problems == [
        "darling.low.core imports darling.high.things inside a function (line 2), against the table",
        "darling.low.lazy imports darling.high.things inside a function (line 2), against the table",
    ]
    kinds = defaultdict(set)
    for imp in found:
        kinds[(imp.source, imp.target)].add(imp.kind)
    assert kinds[("darling.low.ok", "darling.low")] == {
        "module",
        "type_checking",
    }  # `from . import core` resolved
    assert kinds[("darling.high", "darling.low.core")] == {"module"}
    assert package_edges(found, rows) == {
        ("darling.high", "darling.low"): True,
        ("darling.low", "darling.high"): False,
    }


def test_checker_refuses_an_eager_root_and_a_module_outside_the_table(tmp_path):
    src = _write(
        tmp_path,
        {
            "darling/__init__.py": "from darling.low import core\n",
            "darling/low/__init__.py": "",
            "darling/low/core.py": "",
            "darling/stray.py": "from darling.low import core\n",
        },
    )
    page = tmp_path / "page.md"
    page.write_text("## Allowed imports\n\n| package | may import |\n|---|---|\n| `darling.low` | — |\n")
    problems = violations(collect_imports(src), allowed_imports(page))
    assert problems == [
        "darling imports darling.low at import time (line 1): keep it lazy",
        f"darling.stray is in no row of the Allowed imports table of {PAGE.name}",
    ]
