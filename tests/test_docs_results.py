"""Every table of recorded results in the docs is what its JSON renders (utils/render_docs.py)."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import REPO_ROOT


def _renderer():
    spec = importlib.util.spec_from_file_location("render_docs", REPO_ROOT / "utils" / "render_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RENDER = _renderer()


@pytest.mark.parametrize("page", RENDER.pages(), ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_results_regions_equal_what_their_json_renders(page):
    text = page.read_text()
    assert RENDER.render_page(text) == text, f"{page} differs from its JSON: run python utils/render_docs.py"


def test_every_registered_result_is_shown_somewhere():
    shown = {name for page in RENDER.pages() for name in RENDER._REGION.findall(page.read_text())}
    names = {match if isinstance(match, str) else match[1] for match in shown}
    assert set(RENDER.RENDERERS) <= names, set(RENDER.RENDERERS) - names


def test_a_hand_edited_number_is_caught(tmp_path):
    page = RENDER.pages()[0]
    text = page.read_text()
    edited = text.replace("|", "| 9", 1) if "<!-- results:" in text else text
    assert RENDER.render_page(edited) != edited or edited == text
