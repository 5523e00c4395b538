"""The bi-encoder's opening embedding (``opening_tokens``): pooling, head term, training, round trip."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from conftest import tiny_bert_config
from darling.classifier import (
    BiEncoderHead,
    PartitionClassifier,
    PartitionClassifierConfig,
    train_bi_encoder_head,
)
from darling.classifier.training import roc_auc

OPENINGS = [
    "Here is a list of ideas for you",
    "Once upon a time in a quiet town",
    "Sure, let me explain the main steps",
    "Dear committee, I am writing to apply",
    "The short answer is that it depends",
    "Imagine waking up on a distant planet",
]
BODIES = [
    "the river was cold and the fox slept under the old bridge near the mill",
    "we planted tomatoes, beans and tall sunflowers along the garden wall",
    "a dragon read every book in the library before the winter came",
    "the train left the station at noon with three hundred travellers",
    "prices rose slowly while the market waited for the harvest news",
    "the orchestra tuned for an hour before the first quiet note",
]


def _clf(tokenizer, opening_tokens=8, seed=0, **kwargs) -> PartitionClassifier:
    config = PartitionClassifierConfig(
        encoder=tiny_bert_config(tokenizer),
        architecture="bi_encoder",
        max_tokens_per_text=64,
        opening_tokens=opening_tokens,
        **kwargs,
    )
    torch.manual_seed(seed)
    return PartitionClassifier(config, tokenizer=tokenizer).eval()


def _opening_pairs(seed: int, n: int) -> tuple[list[tuple[str, str]], list[int]]:
    """Equivalent = the same opening with different bodies; different = other openings, same body."""
    rng = random.Random(seed)
    pairs, labels = [], []
    for index in range(n):
        first, second = rng.sample(range(len(OPENINGS)), 2)
        body, other = rng.sample(range(len(BODIES)), 2)
        if index % 2:
            pairs.append((f"{OPENINGS[first]}: {BODIES[body]}.", f"{OPENINGS[first]}: {BODIES[other]}."))
            labels.append(1)
        else:
            pairs.append((f"{OPENINGS[first]}: {BODIES[body]}.", f"{OPENINGS[second]}: {BODIES[body]}."))
            labels.append(0)
    return pairs, labels


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opening_tokens": 0}, "positive int"),
        ({"opening_tokens": True}, "positive int"),
        ({"opening_tokens": "32"}, "positive int"),
        ({"opening_tokens": 8, "architecture": "cross_encoder"}, "bi_encoder"),
        ({"opening_tokens": 64, "max_tokens_per_text": 64}, "whole text"),
    ],
)
def test_config_rejects_bad_opening_tokens(kwargs, message):
    settings = {"architecture": "bi_encoder", "max_tokens_per_text": 64, **kwargs}
    with pytest.raises(ValueError, match=message):
        PartitionClassifierConfig(**settings)


def test_embedding_is_the_text_embedding_then_the_mean_of_the_first_tokens(encoder_tokenizer):
    clf = _clf(encoder_tokenizer, opening_tokens=5)
    plain = _clf(encoder_tokenizer, opening_tokens=None)
    plain.load_state_dict(clf.state_dict(), strict=False)  # same encoder weights, no opening term
    texts = ["Once upon a time a dragon read every book in the library.", "Hi", ""]
    embeddings = clf.embed(texts)
    hidden = clf.backbone.config.hidden_size
    assert clf.embedding_size == 2 * hidden and embeddings.shape == (3, 2 * hidden)
    assert torch.allclose(embeddings[:, :hidden], plain.embed(texts), atol=1e-5)
    for row, text in zip(embeddings, texts):
        ids = torch.tensor([clf.layout.singles([text])[0]])
        with torch.no_grad():
            states = clf.backbone(input_ids=ids).last_hidden_state[0]
        # The first 5 positions ([CLS] and the opening words), or all of a shorter text.
        assert torch.allclose(row[hidden:], states[:5].mean(0), atol=1e-5)


def test_opening_term_starts_at_zero_then_enters_the_logit(encoder_tokenizer):
    clf = _clf(encoder_tokenizer)
    plain = _clf(encoder_tokenizer, opening_tokens=None)
    plain.load_state_dict(clf.state_dict(), strict=False)
    pairs, _ = _opening_pairs(0, 10)
    assert clf.head.opening_scale.item() == 0.0
    assert clf.predict_proba(pairs) == pytest.approx(plain.predict_proba(pairs), abs=1e-6)
    with torch.no_grad():
        clf.head.opening_scale.fill_(4.0)
    probs = clf.predict_proba(pairs)
    assert not np.allclose(probs, plain.predict_proba(pairs), atol=1e-3)
    # Symmetric, and the training forward pass (encode_pairs -> forward) gives the same numbers.
    assert clf.predict_proba([(b, a) for a, b in pairs]) == pytest.approx(probs, abs=1e-6)
    with torch.no_grad():
        forward = clf(**clf.encode_pairs(pairs)).logits.softmax(-1)[:, 1]
    assert forward.tolist() == pytest.approx(probs, abs=1e-5)


def test_head_rejects_embeddings_without_the_opening_half():
    head = BiEncoderHead(8, 8, equivalent_label=1, opening=True)
    with pytest.raises(ValueError, match=r"16 values a text\), got 8 and 8"):
        head(torch.zeros(2, 8), torch.zeros(2, 8))


def test_head_training_learns_to_use_the_opening(encoder_tokenizer):
    train_pairs, train_labels = _opening_pairs(1, 80)
    test_pairs, test_labels = _opening_pairs(2, 60)
    clf = _clf(encoder_tokenizer)
    train_bi_encoder_head(clf, train_pairs, train_labels, show_progress=False)
    assert clf.head.opening_scale.item() > 0
    with_opening = roc_auc(np.array(clf.predict_proba(test_pairs)), np.array(test_labels))
    plain = _clf(encoder_tokenizer, opening_tokens=None)
    train_bi_encoder_head(plain, train_pairs, train_labels, show_progress=False)
    without = roc_auc(np.array(plain.predict_proba(test_pairs)), np.array(test_labels))
    # The whole-text cosine sees both halves of each text alike; only the opening tells the classes apart.
    assert with_opening > 0.9 and with_opening > without + 0.1


def test_opening_classifier_round_trip_and_card(tmp_path, encoder_tokenizer):
    clf = _clf(encoder_tokenizer, text_features=["word_jaccard"])
    pairs, labels = _opening_pairs(3, 40)
    train_bi_encoder_head(clf, pairs, labels, show_progress=False)
    clf.save_pretrained(tmp_path / "clf")
    loaded = PartitionClassifier.from_pretrained(tmp_path / "clf")
    assert loaded.config.opening_tokens == 8
    assert loaded.head.opening_scale.item() == pytest.approx(clf.head.opening_scale.item())
    assert loaded.predict_proba(pairs) == pytest.approx(clf.predict_proba(pairs), abs=1e-6)
    card = (tmp_path / "clf" / "README.md").read_text()
    assert "first 8 tokens" in card
