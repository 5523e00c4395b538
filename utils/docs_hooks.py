"""MkDocs hooks for the documentation site (listed under ``hooks:`` in ``mkdocs.yml``).

Math: ``pymdownx.arithmatex`` (generic mode) wraps ``$...$`` and ``$$...$$`` in
``<span class="arithmatex">`` / ``<div class="arithmatex">``; this hook turns their LaTeX into
MathML at build time with ``latex2mathml``. Browsers render MathML natively, so the site needs no
MathJax download and works offline.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<body>.*?)</(?P=tag)>',
    re.DOTALL,
)
_DELIMITERS = {"span": (r"\(", r"\)"), "div": (r"\[", r"\]")}


def latex_to_mathml(latex: str, block: bool) -> str:
    """Converts one LaTeX formula to a MathML ``<math>`` element.

    Args:
        latex: The formula, without delimiters.
        block: Display (centred, own line) rather than inline math.

    Returns:
        The MathML markup.
    """
    return convert(latex.strip(), display="block" if block else "inline")


def _replace(match: re.Match) -> str:
    tag, body = match["tag"], html.unescape(match["body"]).strip()
    opening, closing = _DELIMITERS[tag]
    if body.startswith(opening) and body.endswith(closing):
        body = body[len(opening) : -len(closing)]
    mathml = latex_to_mathml(body, block=tag == "div")
    return f'<{tag} class="arithmatex">{mathml}</{tag}>'


def on_page_content(html_text: str, **kwargs) -> str:
    """Replaces every arithmatex element of a page with MathML."""
    return _MATH.sub(_replace, html_text)
