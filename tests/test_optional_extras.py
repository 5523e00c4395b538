"""What only one part needs is an extra: without it, that part fails early, naming the extra."""

from __future__ import annotations

import sys

import pytest

from darling.evaluation import EvaluationConfig


def test_evaluation_without_matplotlib_names_the_plots_extra_before_sampling(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were not installed
    values = dict(model="unused", dataset="unused.jsonl", output_dir=str(tmp_path), task="math", judge="none")
    with pytest.raises(ImportError, match=r"pip install 'darling-rl\[plots\]'.*--no-plots"):
        EvaluationConfig(**values)
    assert EvaluationConfig(**values, plots=False).plots is False


def test_the_core_install_does_not_require_matplotlib():
    from importlib.metadata import requires

    core = [r for r in requires("darling-rl") if "extra ==" not in r]
    plots = [r for r in requires("darling-rl") if 'extra == "plots"' in r]
    assert not any(r.startswith("matplotlib") for r in core)
    assert any(r.startswith("matplotlib") for r in plots)


def test_served_judges_without_aiohttp_name_the_serving_extra_when_the_pool_is_built(monkeypatch):
    from darling.serving import ServerPool

    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if aiohttp were not installed
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "aiohttp" else object())
    with pytest.raises(ImportError, match=r"pip install 'darling-rl\[serving\]'"):
        ServerPool(["http://127.0.0.1:9"])


def test_the_core_install_does_not_require_aiohttp():
    from importlib.metadata import requires

    core = [r for r in requires("darling-rl") if "extra ==" not in r]
    serving = [r for r in requires("darling-rl") if 'extra == "serving"' in r]
    assert not any(r.startswith("aiohttp") for r in core)
    assert any(r.startswith("aiohttp") for r in serving)
