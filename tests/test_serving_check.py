"""`darling check-server` against stand-in servers (the real vLLM server: tests/engines)."""

from __future__ import annotations

import pytest

from darling.classifier import ClassifierSettings, PartitionClassifier
from darling.cli import main
from darling.serving.process import free_port
from darling.serving.standin import StandInServer
from darling.tiny_models import tiny_sequence_classifier, train_tiny_tokenizer


def _classifier(seed: int) -> PartitionClassifier:
    tokenizer = train_tiny_tokenizer(kind="encoder")
    model, tokenizer = tiny_sequence_classifier("modernbert", tokenizer=tokenizer, seed=seed)
    return PartitionClassifier(model, tokenizer, ClassifierSettings(max_tokens_per_text=24))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    clf = _classifier(seed=0)
    path = tmp_path_factory.mktemp("check-server")
    clf.save_pretrained(path)
    return clf, str(path)


def _check(capsys, *argv) -> tuple[int, str]:
    status = main(["check-server", *argv])
    return status, capsys.readouterr().out


def test_a_server_serving_the_checkpoint_passes_every_check(saved, capsys):
    clf, path = saved
    with StandInServer(clf, model_name="partition-classifier") as server:
        status, out = _check(capsys, server.url, "--classifier", path, "--model", "partition-classifier")
    assert status == 0, out
    assert "[FAIL]" not in out
    for name in ("server", "model name", "endpoint", "classes", "probabilities"):
        assert f"[ok] {name}:" in out
    assert "['partition-classifier']" in out


def test_each_failure_names_its_fix(saved, capsys, tmp_path):
    clf, path = saved
    status, out = _check(capsys, f"http://127.0.0.1:{free_port()}", "--classifier", path)
    assert status == 1 and "[FAIL] server: no answer" in out and "fix: start the server" in out
    with StandInServer(clf, model_name="partition-classifier") as server:
        status, out = _check(capsys, server.url, "--classifier", path, "--model", "classifier")
    assert status == 1 and "[FAIL] model name" in out and "--served-model-name classifier" in out
    with StandInServer(clf, engine="sglang") as server:  # no /classify: the "returns 404" case
        status, out = _check(capsys, server.url, "--classifier", path)
    assert status == 1 and "[FAIL] endpoint" in out and "--runner pooling --convert classify" in out
    with StandInServer(clf, token_ids=False) as server:  # vLLM 0.9 to 0.14: text only
        status, out = _check(capsys, server.url, "--classifier", path)
    assert status == 1 and "[FAIL] endpoint" in out and "vLLM >= 0.15" in out
    with StandInServer(_classifier(seed=1)) as server:  # serves other weights than the checkpoint's
        status, out = _check(capsys, server.url, "--classifier", path)
    assert status == 1 and "[FAIL] probabilities" in out and "--dtype float32" in out
    assert "[ok] endpoint" in out  # it got that far


def test_a_checkpoint_without_weights_skips_only_the_comparison(saved, capsys, tmp_path):
    clf, _ = saved
    settings_only = tmp_path / "no-weights"
    clf.save_pretrained(settings_only)
    for weights in settings_only.glob("*.safetensors"):
        weights.unlink()
    with StandInServer(clf) as server:
        status, out = _check(capsys, server.url, "--classifier", str(settings_only))
    assert status == 0, out
    assert "[ok] probabilities: not compared: the weights are not at hand" in out
