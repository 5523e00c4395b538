"""Shared test set-up: never touch a hub, find the shared data when it is beside the checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO_ROOT / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))  # the benchmark scripts (and their tests) import sibling helpers
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
NOVELTYBENCH = SHARED_DATA / "noveltybench"


def tiny_bert_config(tokenizer, hidden_size: int = 32, num_layers: int = 2):
    """Config of a tiny BERT encoder over ``tokenizer`` (4 heads, 128 positions) for bi-encoder tests."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=128,
    )


requires_shared_data = pytest.mark.skipif(
    not NOVELTYBENCH.is_dir(),
    reason="needs ../shared/data/noveltybench beside the checkout (not shipped with the project)",
)


@pytest.fixture(scope="session")
def encoder_tokenizer():
    """A tiny WordPiece tokenizer trained in-process."""
    from darling.tiny_models import train_tiny_tokenizer

    return train_tiny_tokenizer(kind="encoder")


@pytest.fixture(scope="session")
def causal_tokenizer():
    """A tiny byte-level BPE tokenizer with a chat template."""
    from darling.tiny_models import train_tiny_tokenizer

    return train_tiny_tokenizer(kind="causal")


@pytest.fixture(scope="session")
def saved_classifier(tmp_path_factory):
    """A tiny BERT partition classifier (threshold 0.5, 32 tokens a text) saved to disk; its path."""
    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.tiny_models import tiny_sequence_classifier

    model, tokenizer = tiny_sequence_classifier("bert")
    path = tmp_path_factory.mktemp("classifier")
    settings = ClassifierSettings(threshold=0.5, max_tokens_per_text=32)
    PartitionClassifier(model, tokenizer, settings).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory, encoder_tokenizer) -> str:
    """A tiny random sentence-transformers model (BERT, mean pooling) saved to a folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertModel

    path = tmp_path_factory.mktemp("tiny-encoder")
    torch.manual_seed(0)
    BertModel(tiny_bert_config(encoder_tokenizer, hidden_size=16, num_layers=1)).save_pretrained(
        path / "bert"
    )
    encoder_tokenizer.save_pretrained(path / "bert")
    modules = [Transformer(str(path / "bert"), max_seq_length=64), Pooling(16, "mean")]
    SentenceTransformer(modules=modules, device="cpu").save(str(path / "st"))
    return str(path / "st")
