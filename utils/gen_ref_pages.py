"""Generates the API reference pages from the code, one page per public module of ``darling``.

Run by the ``gen-files`` plugin at every ``mkdocs build``: it walks ``src/darling`` as it is at
build time, so a module added, renamed or removed shows up in the reference without editing any
page. Private modules (a name starting with ``_``) and folders that are not packages are skipped.
The navigation goes to ``reference/SUMMARY.md`` for the ``literate-nav`` plugin.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "darling"


def public_modules(src: Path = SRC, package: str = PACKAGE) -> list[tuple[str, ...]]:
    """Dotted-name parts of every public module of ``package`` under ``src``, packages included.

    A module is public when no part of its dotted name starts with ``_`` and every folder on its
    path is a package (has an ``__init__.py``).

    Args:
        src: The folder holding the package (``src`` in this repository).
        package: The top-level package name.

    Returns:
        Sorted tuples such as ``("darling",)`` or ``("darling", "partitioning", "judges")``.
    """
    modules = []
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        folders = path.relative_to(src).parent.parts
        if not all((src.joinpath(*folders[: i + 1]) / "__init__.py").is_file() for i in range(len(folders))):
            continue
        modules.append(parts)
    return sorted(set(modules))


def page_path(parts: tuple[str, ...], src: Path = SRC) -> Path:
    """Where a module's page goes under ``reference/``: packages get an ``index.md``."""
    if (src.joinpath(*parts) / "__init__.py").is_file():
        return Path(*parts, "index.md")
    return Path(*parts).with_suffix(".md")


def lazy_exports_of(source: str) -> dict[str, str]:
    """The names a package exports lazily: its ``_EXPORTS`` table and ``lazy_exports(__name__, {...})`` calls.

    Such names are imported on first access, so griffe does not see them as members of the package;
    this table says which module defines each one.

    Args:
        source: The package's ``__init__.py`` source.

    Returns:
        Public name -> dotted path of the module that defines it.

    Examples:
        >>> lazy_exports_of('x = lazy_exports(__name__, {"Thing": "pkg.things"})')
        {'Thing': 'pkg.things'}
    """
    table: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        value = None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
            getattr(t, "id", None) == "_EXPORTS" for t in targets
        ):
            value = node.value
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            value = next((arg for arg in node.args if isinstance(arg, ast.Dict)), None)
        if isinstance(value, ast.Dict):
            table.update(
                (k.value, v.value)
                for k, v in zip(value.keys, value.values)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
            )
    return table


def _lazy_member(package: object, name: str) -> object | None:
    """The object a lazily exported ``name`` of ``package`` stands for, found in the module that defines it."""
    filepath = getattr(package, "filepath", None)
    if not isinstance(filepath, Path) or not filepath.is_file():
        return None
    module = lazy_exports_of(filepath.read_text(encoding="utf-8")).get(name)
    top = package
    while getattr(top, "parent", None) is not None:
        top = top.parent
    if module is None or not module.startswith(top.path):
        return None
    try:
        return top[".".join([*module.split(".")[1:], name])]
    except KeyError:
        return None


def package_summary(package: object, root: str = PACKAGE) -> str:
    """A Markdown table of a package's ``__all__``: each name linked to where it is documented.

    Re-exported names are documented once, in the module that defines them; the package page lists
    them with a cross-reference and the first line of their docstring instead of repeating them.
    Names the package exports lazily (:func:`lazy_exports_of`) are looked up in their module.

    Args:
        package: The package as a griffe ``Module``.
        root: Top-level package name; names defined outside it are listed without a link.

    Returns:
        The table, or ``""`` when the package has no ``__all__``.
    """
    rows = []
    for export in package.exports or []:
        name = str(export)
        member = package.members.get(name) or _lazy_member(package, name)
        target, summary = f"{package.path}.{name}", ""
        try:
            final = member.final_target if member is not None and member.is_alias else member
            if final is not None:
                target = final.path
                summary = final.docstring.value.strip().split("\n")[0] if final.docstring else ""
        except Exception:  # an alias to another library that griffe did not load
            final = None
        cell = f"<code>{name}</code>"
        if target.split(".")[0] == root and final is not None and not final.is_module:
            cell = f'<autoref identifier="{target}" optional>{cell}</autoref>'
        summary = summary.replace("|", "\\|")
        rows.append(f"| {cell} | {summary} |")
    if not rows:
        return ""
    return "\n".join(["## Public names", "", "| name | what it is |", "|---|---|", *rows, ""])


def modules_table(
    parts: tuple[str, ...], modules: list[tuple[str, ...]], root: object, src: Path = SRC
) -> str:
    """A Markdown table of a package's public submodules, linked to their pages, with their summaries.

    Args:
        parts: The package's dotted-name parts.
        modules: Every public module (from :func:`public_modules`).
        root: The top-level package as a griffe ``Module``.
        src: The folder holding the package.

    Returns:
        The table, or ``""`` when the package has no public submodule.
    """
    rows = []
    for child in modules:
        if len(child) != len(parts) + 1 or child[: len(parts)] != parts:
            continue
        module = root[".".join(child[1:])]
        summary = (
            module.docstring.value.strip().split("\n")[0].replace("|", "\\|") if module.docstring else ""
        )
        link = page_path(child, src).relative_to(Path(*parts)).as_posix()
        rows.append(f"| [`{'.'.join(child)}`]({link}) | {summary} |")
    if not rows:
        return ""
    return "\n".join(["## Modules", "", "| module | what it holds |", "|---|---|", *rows, ""])


def main() -> None:
    import griffe
    import mkdocs_gen_files

    extensions = griffe.load_extensions(f"{ROOT / 'utils' / 'griffe_extensions.py'}:DocstringCompat")
    root = griffe.load(PACKAGE, search_paths=[str(SRC)], resolve_aliases=False, extensions=extensions)
    nav = mkdocs_gen_files.Nav()
    modules = public_modules()
    for parts in modules:
        doc_path = page_path(parts)
        nav[parts] = doc_path.as_posix()
        dotted = ".".join(parts)
        names, submodules = "", ""
        if doc_path.name == "index.md":
            names = package_summary(root if len(parts) == 1 else root[".".join(parts[1:])])
            submodules = modules_table(parts, modules, root)
        with mkdocs_gen_files.open(Path("reference", doc_path), "w") as page:
            page.write(f"---\ntitle: {dotted}\n---\n\n::: {dotted}\n")
            if names:
                # Members are documented in their own modules; the table links to them.
                page.write("    options:\n      members: false\n\n" + names)
            if submodules:
                page.write("\n" + submodules)
        source = SRC.joinpath(*parts) / "__init__.py"
        if not source.is_file():
            source = SRC.joinpath(*parts).with_suffix(".py")
        mkdocs_gen_files.set_edit_path(Path("reference", doc_path), Path("..", source.relative_to(ROOT)))
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as summary_file:
        summary_file.writelines(nav.build_literate_nav())


if __name__ in {"__main__", "<run_path>"}:
    main()
