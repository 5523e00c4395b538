"""VLLMProcess without vLLM: its command line and its failures (the real server: tests/engines)."""

from __future__ import annotations

import sys
import time

import pytest

from darling.serving.process import VLLMProcess, free_port


def test_the_command_serves_a_classifier_or_a_chat_model():
    classifier = VLLMProcess(sys.executable, "my-classifier", "partition-classifier")
    classifier.port = 8123
    command = classifier.command()
    assert command[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    flags = " ".join(command[3:])
    assert "--runner pooling --convert classify" in flags and "--dtype float32" in flags
    assert "--served-model-name partition-classifier" in flags and "--port 8123" in flags
    chat = VLLMProcess(sys.executable, "smollm2", "judge", classify=False, extra_args=["--enforce-eager"])
    chat.port = 8124
    assert "--runner" not in chat.command() and chat.command()[-1] == "--enforce-eager"
    assert classifier.env["VLLM_TARGET_DEVICE"] == "cpu" and classifier.env["HF_HUB_OFFLINE"] == "1"


def test_a_server_that_cannot_start_is_a_clear_error_with_its_log(tmp_path):
    with pytest.raises(FileNotFoundError, match="make install-engines"):
        VLLMProcess(tmp_path / "no-python", "my-classifier", "partition-classifier")
    # This venv has no vLLM: the process exits at once, and the error quotes its log.
    server = VLLMProcess(sys.executable, "my-classifier", "partition-classifier", log_path=tmp_path / "log")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"exited with status 1 before it was ready(.|\n)*vllm"):
        server.start(timeout=60)
    assert time.monotonic() - started < 60
    assert server.process.poll() is not None
    with pytest.raises(RuntimeError, match="has not been started"):
        VLLMProcess(sys.executable, "m", "n").url  # noqa: B018


def test_free_port_is_bindable():
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
