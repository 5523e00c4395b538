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
    shown = {
        match.group("name") for page in RENDER.pages() for match in RENDER._REGION.finditer(page.read_text())
    }
    assert set(RENDER.RENDERERS) <= shown, set(RENDER.RENDERERS) - shown


@pytest.mark.parametrize("name", sorted(RENDER.RENDERERS))
def test_a_number_edited_by_hand_in_a_region_is_caught(name):
    page = next(p for p in RENDER.pages() if f"<!-- results:{name} -->" in p.read_text())
    text = page.read_text()
    region = next(m for m in RENDER._REGION.finditer(text) if m.group("name") == name)
    body = region.group("body")
    digit = next(i for i, c in enumerate(body) if c.isdigit())
    edited_body = body[:digit] + str((int(body[digit]) + 1) % 10) + body[digit + 1 :]
    edited = text[: region.start("body")] + edited_body + text[region.end("body") :]
    assert RENDER.render_page(edited) == text != edited
