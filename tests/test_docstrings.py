"""Docstring examples are code too: every ``>>>`` example runs, every fenced example compiles."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import re
import textwrap

import pytest

import darling

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(darling.__path__, prefix="darling.")
    if not info.name.startswith("darling.demo.__main__") and not info.name.endswith("__main__")
)
FENCE = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        if test.examples and test.name.startswith(name):
            runner.run(test)
    assert runner.failures == 0, f"{runner.failures} doctest failure(s) in {name} (see output above)"
    # Fenced ```python blocks in docstrings (rendered by mkdocstrings) must at least compile, and
    # what they import from darling must exist.
    for test in finder.find(module, name):
        for block in FENCE.findall(test.docstring or ""):
            code = "\n".join(line[min(len(line) - len(line.lstrip()), 8) :] for line in block.splitlines())
            tree = ast.parse(textwrap.dedent(code))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("darling"):
                    target = importlib.import_module(node.module)
                    for alias in node.names:
                        assert hasattr(target, alias.name), f"{test.name}: {node.module} has no {alias.name}"
