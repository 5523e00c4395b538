"""check_server: is this classifier server serving what ServedClassifierJudge expects? Each failure with its fix.

The first thing to run when a served classifier "returns 404". In order, it checks that the server
answers ``GET /v1/models`` (and which model names it serves), that the requested model name is one
of them, that the classification endpoint exists and takes token ids, that it answers two classes,
and, when the checkpoint's weights are at hand, that a few pairs' served probabilities equal the
in-process ones. It stops at the first failure that makes the later checks meaningless.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from darling.serving.pool import check_urls, error_message

# A few pairs of plain sentences (some near-duplicates) for the probability comparison.
SAMPLE_PAIRS: list[tuple[str, str]] = [
    ("The cat sat on the mat all afternoon.", "All afternoon the cat sat on the mat."),
    ("Paris is the capital of France.", "Photosynthesis turns light into chemical energy."),
    ("Once upon a time a dragon loved to read books.", "A dragon who loved books lived long ago."),
    ("Solve 2x + 3 = 11: x = 4.", "Subtract 3 and divide by 2, so x is 4."),
    ("Bean There, Daily Grind, Brew Haven.", "The Roasted Bean, Morning Cup, Steam Room."),
]


@dataclass
class Check:
    """One check's outcome: what was checked, whether it passed, what was seen, and the fix when not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        line = f"[{'ok' if self.ok else 'FAIL'}] {self.name}: {self.detail}"
        return line if self.ok or not self.fix else f"{line}\n       fix: {self.fix}"


def _get_json(url: str, timeout: float) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, error_message(err.read().decode("utf-8", "replace"))


def check_server(
    url: str,
    checkpoint: str | os.PathLike,
    *,
    model: str | None = None,
    engine: str = "vllm",
    pairs: list[tuple[str, str]] | None = None,
    tolerance: float = 1e-4,
    timeout: float = 30.0,
) -> list[Check]:
    """Checks one classifier server against the checkpoint it should serve.

    Args:
        url: The server's base URL, e.g. ``"http://node1:8000"``.
        checkpoint: The classifier checkpoint (its settings and tokenizer build the token ids; its
            weights, when present, give the in-process probabilities to compare with).
        model: The ``--served-model-name`` the judge will send (``None``: the server's only model).
        engine: ``"vllm"`` or ``"sglang"`` (which endpoint to try).
        pairs: Pairs for the probability comparison (:data:`SAMPLE_PAIRS` when ``None``).
        tolerance: Largest served-minus-in-process difference that passes (fp32 serving gives about
            1e-7; bf16 gave 3.7e-3 for a small classifier on vLLM CPU).
        timeout: Seconds each request may take.

    Returns:
        The checks made, in order; the last one failed when the run stopped early.

    Example:
        ```python
        # doc: no-run
        for check in check_server("http://node1:8000", "my-classifier", model="partition-classifier"):
            print(check)
        ```
    """
    from darling.serving.classifier_judge import ServedClassifierJudge
    from darling.serving.pool import ServedJudgeError

    (url,) = check_urls([url])
    checks: list[Check] = []
    try:
        status, answer = _get_json(f"{url}/v1/models", timeout)
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        checks.append(
            Check(
                "server",
                False,
                f"no answer from {url} ({reason})",
                "start the server, or check the host, the port and that this machine can reach it "
                "(vLLM binds 127.0.0.1 unless started with --host 0.0.0.0).",
            )
        )
        return checks
    if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        checks.append(
            Check(
                "server",
                False,
                f"{url}/v1/models answered HTTP {status}: {str(answer)[:200]}",
                "point at the base URL of a vLLM or SGLang server (no /v1 or /classify at the end).",
            )
        )
        return checks
    names = [item.get("id") for item in answer["data"] if isinstance(item, dict)]
    checks.append(Check("server", True, f"{url} serves {names}"))
    if model is not None and model not in names:
        checks.append(
            Check(
                "model name",
                False,
                f"{model!r} is not served (served: {names})",
                f"pass model={names[0]!r} (--model {names[0]}) if that is the classifier, or restart the server "
                f"with --served-model-name {model}.",
            )
        )
        return checks
    if model is None and len(names) != 1:
        checks.append(
            Check(
                "model name",
                False,
                f"the server serves {names}",
                "pass the classifier's name (--model NAME).",
            )
        )
        return checks
    name = model if model is not None else names[0]
    checks.append(Check("model name", True, f"requests will name {name!r}"))

    judge = ServedClassifierJudge(
        checkpoint, [url], model=name, engine=engine, sglang_qwen_fixed=True, retries=0, timeout=timeout
    )
    sample = list(pairs or SAMPLE_PAIRS)
    try:
        served = judge.scores(sample)
    except ServedJudgeError as err:
        endpoint = f"{judge.path} ({engine})"
        checks.append(Check("endpoint", False, f"{endpoint}: {err}", _endpoint_fix(str(err), engine)))
        return checks
    checks.append(Check("endpoint", True, f"{url}{judge.path} took {len(sample)} pairs as token ids"))
    checks.append(Check("classes", True, f"2 (the judge reads label {judge.settings.equivalent_label})"))
    checks.append(_compare(checkpoint, judge, sample, served, tolerance, engine))
    return checks


def _endpoint_fix(message: str, engine: str) -> str:
    from darling.serving.classifier_judge import NOT_FOUND_HINT, TOKEN_IDS_HINT

    if "does not exist (HTTP 404" in message:
        return NOT_FOUND_HINT
    if "vLLM >= 0.15" in message:
        return TOKEN_IDS_HINT
    if "classes" in message:
        return "serve the two-label partition classifier checkpoint with its own config (num_labels=2)."
    if "without a `data` list" in message:
        return "start the server as a classifier (vLLM: --runner pooling --convert classify)."
    return "see the message above."


def _compare(checkpoint, judge, sample, served: list[float], tolerance: float, engine: str) -> Check:
    from darling.classifier import PartitionClassifier

    try:
        local = PartitionClassifier.from_pretrained(checkpoint)
    except OSError as err:
        return Check("probabilities", True, f"not compared: the weights are not at hand here ({err})")
    expected = local.predict_proba(sample)
    worst = max(abs(a - b) for a, b in zip(served, expected))
    flips = sum((a > judge.threshold) != (b > judge.threshold) for a, b in zip(served, expected))
    detail = (
        f"largest |served - in-process| over {len(sample)} pairs: {worst:.2g}; verdicts that differ: {flips}"
    )
    if worst <= tolerance:
        return Check("probabilities", True, detail)
    model_type = getattr(local.model.config, "model_type", "")
    if engine == "sglang" and model_type in ("qwen2", "qwen3"):
        fix = (
            "SGLang adds a random score-head bias to Qwen2/Qwen3 classifiers (sglang issue #38768): serve it with "
            "vLLM (`vllm serve CKPT --runner pooling --convert classify`)."
        )
    else:
        fix = (
            "serve in fp32 (--dtype float32; bf16 moves probabilities by thousandths or more and can flip pairs "
            "near the threshold), and check that the server serves this very checkpoint."
        )
    return Check("probabilities", False, detail, fix)
