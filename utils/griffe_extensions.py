"""Griffe extensions used by the API reference (listed under mkdocstrings' ``extensions:``).

``DocstringCompat`` makes two habits of Sphinx-era docstrings render in mkdocstrings:

- ``Example:`` section titles. Google style allows both ``Example:`` and ``Examples:``, but griffe
  only reads ``Examples:`` as an examples section and renders ``Example:`` as an admonition whose
  ``>>>`` lines turn into nested block quotes. The singular title is renamed.
- reST roles such as ``:class:`~darling.PartitionClassifier``` or ``:func:`partition```, which
  Markdown would print as they are. Each becomes an optional cross-reference: a link when the
  target is documented, plain code otherwise (never a broken-link warning).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)
_ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|mod|attr|data|obj|exc|const):`(?P<tilde>~?)(?P<target>[\w.]+)(?P<call>\(\))?`"
)
_MEMBER_ROLES = {"meth", "attr"}


def pluralize_example_sections(docstring: str) -> str:
    """Renames every ``Example:`` section title of a Google-style docstring to ``Examples:``.

    Examples:
        >>> pluralize_example_sections("Adds.\\n\\nExample:\\n    >>> 1 + 1\\n    2\\n")
        'Adds.\\n\\nExamples:\\n    >>> 1 + 1\\n    2\\n'
    """
    return _SINGULAR.sub(r"\g<indent>Examples:", docstring)


def roles_to_autorefs(docstring: str, module: str, owner: str | None = None) -> str:
    """Turns reST roles into optional mkdocs-autorefs cross-references.

    Args:
        docstring: The docstring text.
        module: Dotted path of the module the docstring belongs to (resolves bare names).
        owner: Dotted path of the class the docstring belongs to, if any (resolves ``:meth:``).

    Returns:
        The docstring with ``<autoref ... optional>`` tags in place of the roles.

    Examples:
        >>> roles_to_autorefs("See :func:`~pkg.mod.run`.", "pkg")
        'See <autoref identifier="pkg.mod.run" optional><code>run</code></autoref>.'
    """

    def replace(match: re.Match) -> str:
        target = match["target"]
        if target.split(".")[0] in {module.split(".")[0], "trl", "transformers", "torch"}:
            identifier = target
        elif match["role"] in _MEMBER_ROLES and owner and "." not in target:
            identifier = f"{owner}.{target}"
        else:
            identifier = f"{module}.{target}"
        title = target.rsplit(".", 1)[-1] if match["tilde"] else target
        title += match["call"] or ""
        return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'

    return _ROLE.sub(replace, docstring)


class DocstringCompat(griffe.Extension):
    """Renders ``Example:`` sections and reST roles properly (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        owner = (
            obj if obj.is_class else obj.parent if obj.parent is not None and obj.parent.is_class else None
        )
        module = obj if obj.is_module else obj.module
        text = pluralize_example_sections(obj.docstring.value)
        obj.docstring.value = roles_to_autorefs(text, module.path, owner.path if owner is not None else None)
