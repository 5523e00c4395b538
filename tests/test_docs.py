"""The docs cannot drift from the code: every snippet runs, the site builds strictly.

Every ```python block of ``docs/**/*.md`` and ``README.md`` is executed in a fresh namespace with a
temporary working directory, offline. A block whose first line is ``# doc: no-run`` (hub names,
GPUs, long training) is only compiled, and every name it imports from ``darling`` must exist.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NO_RUN = "# doc: no-run"
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)[^\n]*$")


@dataclass(frozen=True)
class Snippet:
    """One fenced python block: where it is and its dedented source."""

    path: Path
    line: int
    source: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT).as_posix()}:{self.line}"

    @property
    def no_run(self) -> bool:
        return self.source.lstrip().startswith(NO_RUN)


def extract_snippets(path: Path) -> list[Snippet]:
    """Fenced ```python blocks of a Markdown file, also inside admonitions and tabs (indented)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    snippets, i = [], 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, lang = match["indent"], match["fence"], match["lang"].lower()
        closing = re.compile(rf"^{re.escape(indent)}{fence[0]}{{{len(fence)},}}\s*$")
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1  # the closing fence
        if lang in {"python", "py"}:
            snippets.append(Snippet(path, start, textwrap.dedent("\n".join(body)) + "\n"))
    return snippets


def doc_files() -> list[Path]:
    files = sorted((REPO_ROOT / "docs").rglob("*.md"))
    readme = REPO_ROOT / "README.md"
    return [*files, readme] if readme.is_file() else files


ALL_SNIPPETS = [snippet for path in doc_files() for snippet in extract_snippets(path)]


def check_darling_imports(source: str, where: str) -> list[str]:
    """Imports every ``darling`` module a snippet names and returns the missing names."""
    missing = []
    for node in ast.walk(ast.parse(source, filename=where)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "darling":
                continue
            try:
                module = importlib.import_module(node.module)
            except ImportError as err:
                missing.append(f"{node.module} ({err})")
                continue
            for alias in node.names:
                if alias.name == "*" or hasattr(module, alias.name):
                    continue
                if importlib.util.find_spec(f"{node.module}.{alias.name}") is None:
                    missing.append(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "darling" and importlib.util.find_spec(alias.name) is None:
                    missing.append(alias.name)
    return missing


@pytest.mark.parametrize("snippet", ALL_SNIPPETS, ids=[s.id for s in ALL_SNIPPETS])
def test_doc_snippet(snippet: Snippet, tmp_path, monkeypatch):
    """Runs the block (or, for ``# doc: no-run``, compiles it and checks its darling imports)."""
    code = compile(snippet.source, snippet.id, "exec")
    if snippet.no_run:
        missing = check_darling_imports(snippet.source, snippet.id)
        assert not missing, f"{snippet.id} imports names darling does not have: {', '.join(missing)}"
        return
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(code, {"__name__": "__doc_snippet__"})


def test_extract_snippets_finds_fenced_and_indented_python_blocks(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n```python\nx = 1\n```\n\n```bash\nmake test\n```\n\n"
        '!!! note\n    ```python\n    # doc: no-run\n    y = 2\n    ```\n\n````python\nz = """\n```\n"""\n````\n',
        encoding="utf-8",
    )
    snippets = [Snippet(s.path, s.line, s.source) for s in extract_snippets(page)]
    assert [(s.line, s.source) for s in snippets] == [
        (3, "x = 1\n"),
        (12, "# doc: no-run\ny = 2\n"),
        (17, 'z = """\n```\n"""\n'),
    ]
    assert [s.no_run for s in snippets] == [False, True, False]


def test_check_darling_imports_reports_names_that_do_not_exist():
    source = "from darling.partitioning import partition, no_such_name\nimport darling.no_such_module\n"
    assert check_darling_imports(source, "example") == [
        "darling.partitioning.no_such_name",
        "darling.no_such_module",
    ]
    assert check_darling_imports("from darling import partition\nimport os\n", "example") == []


def _load_util(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", REPO_ROOT / "utils" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_reference_pages_cover_public_modules_and_skip_private_ones(tmp_path):
    gen = _load_util("gen_ref_pages")
    pkg = tmp_path / "pkg"
    for rel in [
        "__init__.py",
        "public.py",
        "_private.py",
        "sub/__init__.py",
        "sub/thing.py",
        "sub/__main__.py",
        "_hidden/__init__.py",
        "_hidden/inner.py",
        "data/not_a_package.py",
    ]:
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text("", encoding="utf-8")
    modules = gen.public_modules(tmp_path, "pkg")
    assert modules == [("pkg",), ("pkg", "public"), ("pkg", "sub"), ("pkg", "sub", "thing")]
    assert gen.page_path(("pkg", "sub"), tmp_path).as_posix() == "pkg/sub/index.md"
    assert gen.page_path(("pkg", "sub", "thing"), tmp_path).as_posix() == "pkg/sub/thing.md"


def test_math_hook_turns_arithmatex_into_mathml():
    pytest.importorskip("latex2mathml", reason="docs extra not installed (pip install -e .[docs])")
    hooks = _load_util("docs_hooks")
    page = (
        '<p>Inline <span class="arithmatex">\\(a &lt; b\\)</span> and</p>\n'
        '<div class="arithmatex">\\[\\frac{n - |C|}{n - 1}\\]</div>'
    )
    out = hooks.on_page_content(page)
    assert "\\(" not in out and "\\[" not in out
    assert out.count("<math") == 2
    assert 'display="inline"' in out and 'display="block"' in out
    assert "<mfrac>" in out and "&#x0003C;" in out  # the escaped "<" became a MathML operator


def test_mkdocs_strict_build_succeeds_with_a_page_per_public_module(tmp_path):
    pytest.importorskip("mkdocs", reason="docs extra not installed (pip install -e .[docs])")
    pytest.importorskip("mkdocstrings", reason="docs extra not installed (pip install -e .[docs])")
    pytest.importorskip("latex2mathml", reason="docs extra not installed (pip install -e .[docs])")
    site = tmp_path / "site"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "NO_MKDOCS_2_WARNING": "1",
        "DISABLE_MKDOCS_2_WARNING": "true",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert proc.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(problems or [output[-6000:]])
    gen = _load_util("gen_ref_pages")
    for parts in gen.public_modules():
        page = site / "reference" / gen.page_path(parts).with_suffix("")
        page = page.parent if page.name == "index" else page
        assert (page / "index.html").is_file(), f"no API page for {'.'.join(parts)} at {page}"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in home, "the theme must not load Google Fonts (offline site)"


def test_griffe_extension_renders_example_sections_and_rest_roles(tmp_path):
    griffe = pytest.importorskip("griffe", reason="docs extra not installed (pip install -e .[docs])")
    ext = _load_util("griffe_extensions")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        'def run():\n    """Runs :func:`~pkg.helper` and :meth:`Thing.go`.\n\n'
        '    Example:\n        >>> run()\n        [1, 2]\n    """\n',
        encoding="utf-8",
    )
    module = griffe.load(
        "pkg", search_paths=[str(tmp_path)], extensions=griffe.load_extensions(ext.DocstringCompat)
    )
    docstring = module["run"].docstring
    sections = docstring.parse("google")
    assert [section.kind.value for section in sections] == ["text", "examples"]
    assert '<autoref identifier="pkg.helper" optional><code>helper</code></autoref>' in docstring.value
    assert '<autoref identifier="pkg.Thing.go" optional><code>Thing.go</code></autoref>' in docstring.value
    assert ":func:" not in docstring.value and ":meth:" not in docstring.value


def _chromium() -> str | None:
    import shutil

    return next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None
    )


@pytest.mark.skipif(_chromium() is None, reason="needs Chromium (apt-get install chromium)")
def test_check_site_reports_console_errors_failed_and_external_requests(tmp_path):
    check = _load_util("check_site")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<html><head><title>bad</title></head><body><h1>Bad</h1><img src='missing.png'>"
        "<script>console.error('boom'); fetch('http://example.invalid/data.json');</script></body></html>",
        encoding="utf-8",
    )
    (site / "good.html").write_text("<html><head><title>good</title></head><body><h1>Good</h1></body></html>")
    reports = check.check_site(site, ["", "good.html"], tmp_path / "shots", _chromium(), settle=0.5)
    bad, good = reports
    assert any("boom" in line for line in bad.console), bad.console
    assert any("missing.png" in line and "404" in line for line in bad.failed_requests), bad.failed_requests
    assert bad.external_requests == ["http://example.invalid/data.json"]
    assert (good.title, good.problems) == ("good", [])
    assert Path(good.screenshot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_package_pages_list_public_names_linked_to_their_defining_module(tmp_path):
    griffe = pytest.importorskip("griffe", reason="docs extra not installed (pip install -e .[docs])")
    gen = _load_util("gen_ref_pages")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text(
        '"""Top."""\nfrom pkg.core import Thing, helper\n\n__all__ = ["Thing", "helper"]\n', encoding="utf-8"
    )
    (tmp_path / "pkg" / "core.py").write_text(
        'class Thing:\n    """A thing | with a pipe.\n\n    More.\n    """\n\n\ndef helper():\n    pass\n',
        encoding="utf-8",
    )
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text('"""No __all__."""\n', encoding="utf-8")
    package = griffe.load("pkg", search_paths=[str(tmp_path)], resolve_aliases=False)
    table = gen.package_summary(package, root="pkg")
    assert (
        '| <autoref identifier="pkg.core.Thing" optional><code>Thing</code></autoref> | A thing \\| with a pipe. |'
        in table
    )
    assert '| <autoref identifier="pkg.core.helper" optional><code>helper</code></autoref> |  |' in table
    assert gen.package_summary(package["sub"], root="pkg") == ""
    modules = gen.public_modules(tmp_path, "pkg")
    table = gen.modules_table(("pkg",), modules, package, tmp_path)
    assert "| [`pkg.core`](core.md) |  |" in table
    assert "| [`pkg.sub`](sub/index.md) | No __all__. |" in table
    assert gen.modules_table(("pkg", "sub"), modules, package, tmp_path) == ""


def test_package_pages_follow_lazily_exported_names_to_their_module(tmp_path):
    griffe = pytest.importorskip("griffe", reason="docs extra not installed (pip install -e .[docs])")
    gen = _load_util("gen_ref_pages")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        '"""Top."""\nfrom pkg._lazy import lazy_exports\n\n'
        '__getattr__, __dir__ = lazy_exports(__name__, {"Thing": "pkg.core"})\n__all__ = ["Thing"]\n',
        encoding="utf-8",
    )
    (tmp_path / "pkg" / "_lazy.py").write_text("def lazy_exports(name, table): ...\n", encoding="utf-8")
    (tmp_path / "pkg" / "core.py").write_text('class Thing:\n    """A lazy thing."""\n', encoding="utf-8")
    package = griffe.load("pkg", search_paths=[str(tmp_path)], resolve_aliases=False)
    assert "Thing" not in package.members  # imported on first access: griffe cannot see it
    table = gen.package_summary(package, root="pkg")
    assert (
        '| <autoref identifier="pkg.core.Thing" optional><code>Thing</code></autoref> | A lazy thing. |'
        in table
    )
    assert gen.lazy_exports_of('_EXPORTS: dict = {"a": "pkg.x"}\n') == {"a": "pkg.x"}
