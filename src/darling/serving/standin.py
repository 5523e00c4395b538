"""A stand-in for a vLLM / SGLang server on 127.0.0.1, for tests, benchmarks and CPU dry runs.

It serves a local :class:`~darling.classifier.PartitionClassifier` through the engines'
classification protocol (``POST /classify`` for vLLM, ``/v1/classify`` for SGLang:
``{"model", "input"}`` of token ids, answered ``{"data": [{"index", "label", "probs",
"num_classes"}], ...}``), and optionally a chat function through ``POST /v1/chat/completions``.
Faults can be switched on (a delay, a failure status), and it counts what it received. It is not
a production server: use vLLM or SGLang for real runs.

    python -m darling.serving.standin --checkpoint path/to/classifier --port 8000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StandInServer:
    """An HTTP server in a background thread that answers like vLLM (or SGLang) would.

    Args:
        classifier: The classifier to serve (``None``: no classification endpoint).
        chat: ``messages -> reply text`` for ``/v1/chat/completions`` (``None``: no chat endpoint); a
            reply longer than the request's ``max_tokens`` words is cut there with
            ``finish_reason="length"``, as an engine cuts one at ``max_tokens`` tokens.
        model_name: The served model name; a request naming another model gets vLLM's 404.
        engine: ``"vllm"`` (``/classify``, one input or a list of inputs) or ``"sglang"`` (``/v1/classify``).
        token_ids: ``False`` refuses token-id input on the classification endpoint with HTTP 400 and
            pydantic's message, as vLLM 0.9 to 0.14 do (they take text only).
        host: Interface to bind (loopback by default).
        port: Port (0: any free one; see :attr:`url`).

    Attributes:
        delay: Seconds to wait before answering each request (a slow server).
        fail_status: When set, every request is answered with this HTTP status.
        requests: Requests answered (any endpoint).
        chat_bodies: The bodies of the chat requests received.
        inputs: Classification inputs scored.

    Example:
        >>> from darling.tiny_models import tiny_sequence_classifier
        >>> from darling.classifier import ClassifierSettings, PartitionClassifier
        >>> clf = PartitionClassifier(*tiny_sequence_classifier("modernbert"), ClassifierSettings())
        >>> with StandInServer(clf) as server:
        ...     server.url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(
        self,
        classifier: Any = None,
        chat: Callable[[list[dict[str, Any]]], str] | None = None,
        *,
        model_name: str = "darling-classifier",
        engine: str = "vllm",
        token_ids: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if engine not in ("vllm", "sglang"):
            raise ValueError(f"Unknown engine {engine!r}; choose 'vllm' or 'sglang'.")
        self.classifier = classifier
        self.chat = chat
        self.model_name = model_name
        self.engine = engine
        self.classify_path = "/classify" if engine == "vllm" else "/v1/classify"
        self.delay = 0.0
        self.fail_status: int | None = None
        self.token_ids = token_ids
        self.requests = 0
        self.inputs = 0
        self.chat_bodies: list[dict[str, Any]] = []
        self._model_lock = threading.Lock()
        self._httpd = _Server((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandInServer:
        """Starts answering in a daemon thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops answering and frees the port (a server that went down)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----------------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The (status, JSON) answer to one request, as the engine would give it."""
        if self.delay:
            time.sleep(self.delay)
        self.requests += 1
        if self.fail_status is not None:
            return self.fail_status, {
                "error": {"message": f"stand-in failure {self.fail_status}", "code": self.fail_status}
            }
        if method == "GET" and path == "/health":
            return 200, {}
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": self.model_name, "object": "model"}]}
        if method != "POST" or not isinstance(body, dict):
            return 404, {"detail": "Not Found"}
        name = body.get("model")
        if name is not None and name != self.model_name and self.engine == "vllm":
            message = f"The model `{name}` does not exist."
            return 404, {"error": {"message": message, "type": "NotFoundError", "param": None, "code": 404}}
        if path == self.classify_path and self.classifier is not None:
            return self._classify(body.get("input"))
        if path == "/v1/chat/completions" and self.chat is not None:
            self.chat_bodies.append(body)
            reply, finish = self.chat(body.get("messages") or []), "stop"
            words, limit = reply.split(" "), body.get("max_tokens")
            if isinstance(limit, int) and len(words) > limit:
                reply, finish = " ".join(words[:limit]), "length"
            return 200, {
                "object": "chat.completion",
                "model": self.model_name,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": finish}
                ],
            }
        return 404, {"detail": "Not Found"}

    def _classify(self, inputs: Any) -> tuple[int, Any]:
        import torch

        from darling.classifier.layout import pad_batch

        single = isinstance(inputs, list) and bool(inputs) and all(isinstance(token, int) for token in inputs)
        if not self.token_ids and not isinstance(inputs, str):
            # What vLLM < 0.15 answers: its request model takes `input: list[str] | str`.
            detail = "1 validation error: {'type': 'string_type', 'loc': ('body', 'input', 'str'), 'msg': "
            return 400, {
                "object": "error",
                "message": detail + "'Input should be a valid string'",
                "code": 400,
            }
        batch = [inputs] if single else inputs
        if self.engine == "sglang" and not single:
            return 400, {"object": "error", "message": "input must be one token-id list", "code": 400}
        if (
            not isinstance(batch, list)
            or not batch
            or not all(isinstance(ids, list) and ids for ids in batch)
        ):
            return 400, {"error": {"message": "Input cannot be empty for classification", "code": 400}}
        rows = [{"input_ids": ids, "attention_mask": [1] * len(ids)} for ids in batch]
        model = self.classifier.model
        with self._model_lock, torch.no_grad():
            encoded = pad_batch(rows, self.classifier.pad_token_id).to(model.device)
            probs = model(**encoded, **self.classifier._no_cache).logits.float().softmax(-1).cpu().tolist()
        self.inputs += len(batch)
        labels = getattr(model.config, "id2label", {}) or {}
        data = [
            {
                "index": i,
                "label": labels.get(max(range(len(p)), key=p.__getitem__)),
                "probs": p,
                "num_classes": len(p),
            }
            for i, p in enumerate(probs)
        ]
        tokens = sum(len(ids) for ids in batch)
        return 200, {
            "object": "list",
            "model": self.model_name,
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the SYNs of a burst of connections (1 s retransmits).
    request_queue_size = 256


def _handler(server: StandInServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep connections open between requests, as the engines do
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

        def _reply(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                status, answer = 400, {"error": {"message": "request body is not JSON", "code": 400}}
            else:
                status, answer = server.answer(method, self.path, body)
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_POST(self) -> None:
            self._reply("POST")

        def do_GET(self) -> None:
            self._reply("GET")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    """``python -m darling.serving.standin --checkpoint PATH``: serve a classifier until interrupted."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", required=True, help="a partition classifier (folder or hub id)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--served-model-name", default="darling-classifier")
    parser.add_argument("--engine", choices=("vllm", "sglang"), default="vllm")
    args = parser.parse_args(argv)
    from darling.classifier import PartitionClassifier

    server = StandInServer(
        PartitionClassifier.from_pretrained(args.checkpoint),
        model_name=args.served_model_name,
        engine=args.engine,
        host=args.host,
        port=args.port,
    ).start()
    print(f"serving {args.checkpoint} at {server.url}{server.classify_path} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
