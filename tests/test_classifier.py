"""PartitionClassifier: loading released-style checkpoints, parity with the reference layout, round trips."""

from __future__ import annotations

import importlib
import os
import re

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, BertConfig, BertModel

from conftest import tiny_bert_config
from darling.partition import partition
from darling.partition.classifier import (
    ClassifierJudge,
    PartitionClassifier,
    PartitionClassifierConfig,
    default_settings,
)
from darling.testing import tiny_sequence_classifier, train_tiny_tokenizer

PAIRS = [
    ("The quick brown fox jumps over the lazy dog.", "A boy and his dog walked to the river."),
    ("", "   "),
    ("Paris is the capital of France. " * 80, "é ü ñ 中 文 😀"),
    ("Solve for x: 2x + 3 = 11, so x = 4.", "The answer is five."),
]


def _checkpoint_dir(tmp_path_factory, arch: str, num_labels: int = 2) -> str:
    tokenizer = train_tiny_tokenizer(kind="causal" if arch == "qwen3" else "encoder")
    model, tokenizer = tiny_sequence_classifier(arch, tokenizer=tokenizer, num_labels=num_labels)
    path = tmp_path_factory.mktemp(f"{arch}-{num_labels}")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Plain 2-label sequence-classification checkpoints of the four released families, saved to disk."""
    return {
        arch: _checkpoint_dir(tmp_path_factory, arch)
        for arch in ("bert", "deberta-v2", "modernbert", "qwen3")
    }


@pytest.fixture(scope="module")
def bert_clf(checkpoints):
    return PartitionClassifier.from_pretrained(checkpoints["bert"], threshold=0.5)


@pytest.fixture(scope="module")
def bi_clf(encoder_tokenizer):
    config = PartitionClassifierConfig(
        encoder=tiny_bert_config(encoder_tokenizer), architecture="bi_encoder", max_tokens_per_text=64
    )
    torch.manual_seed(0)
    return PartitionClassifier(config, tokenizer=encoder_tokenizer).eval()


def _reference_proba(path: str, arch: str, pairs, max_tokens: int) -> list[float]:
    """P(equivalent) as the references compute it: one pair at a time, inputs built by hand."""
    from transformers import AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    out = []
    for a, b in pairs:
        ids_a = tokenizer.encode(a, add_special_tokens=False)[:max_tokens]
        ids_b = tokenizer.encode(b, add_special_tokens=False)[:max_tokens]
        kwargs = {}
        if arch == "qwen3":
            start, end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
            input_ids = [start, *ids_a, end, *ids_b, end]
        else:  # NoveltyBench: [CLS] a [SEP] b [SEP], token type 0 up to the first [SEP], 1 after.
            input_ids = [
                tokenizer.cls_token_id,
                *ids_a,
                tokenizer.sep_token_id,
                *ids_b,
                tokenizer.sep_token_id,
            ]
            first = input_ids.index(tokenizer.sep_token_id) + 1
            if arch != "modernbert":
                kwargs["token_type_ids"] = torch.tensor([[0] * first + [1] * (len(input_ids) - first)])
        with torch.no_grad():
            logits = model(
                input_ids=torch.tensor([input_ids]),
                attention_mask=torch.ones(1, len(input_ids), dtype=torch.long),
                **kwargs,
            ).logits
        out.append(logits.softmax(-1)[0, 1].item())
    return out


# ---------------------------------------------------------------------------------------------------
# Loading plain checkpoints


@pytest.mark.parametrize("arch", ["bert", "deberta-v2", "modernbert", "qwen3"])
def test_plain_checkpoint_matches_reference_layout(checkpoints, arch):
    clf = PartitionClassifier.from_pretrained(checkpoints[arch], max_tokens_per_text=40)
    expected_layout = "chatml" if arch == "qwen3" else "cls_sep"
    assert clf.config.pair_layout == expected_layout
    got = clf.predict_proba(PAIRS, batch_size=3)
    want = _reference_proba(checkpoints[arch], arch, PAIRS, max_tokens=40)
    assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-5), (got, want)


def test_plain_checkpoint_gets_family_defaults(checkpoints):
    deberta = PartitionClassifier.from_pretrained(checkpoints["deberta-v2"])
    assert (deberta.config.threshold, deberta.config.max_tokens_per_text) == (0.102, 128)
    modernbert = PartitionClassifier.from_pretrained(checkpoints["modernbert"])
    assert (modernbert.config.threshold, modernbert.config.max_tokens_per_text) == (0.32, 1024)
    # The tiny BERT has 1024 positions: 256 tokens a text fit; the base model is recorded for the card.
    bert = PartitionClassifier.from_pretrained(checkpoints["bert"])
    assert bert.config.max_tokens_per_text == 256
    assert bert.config.base_model == checkpoints["bert"]


def test_released_checkpoints_have_published_settings():
    assert default_settings("modernbert", "dogtooth/similarity-classifier-f168-hf")["threshold"] == 0.32
    math = default_settings("qwen3", "dogtooth/qwen3-4b-emb-finetuned-step-70-hf")
    assert (math["pair_layout"], math["threshold"], math["max_tokens_per_text"]) == ("chatml", 0.5, 2048)
    nb = default_settings("deberta-v2", "yimingzhang/deberta-v3-large-generation-similarity")
    assert (nb["threshold"], nb["max_tokens_per_text"], nb["tokenizer"]) == (
        0.102,
        128,
        "microsoft/deberta-v3-large",
    )


def test_default_length_is_capped_by_absolute_positions(tmp_path, encoder_tokenizer):
    model, _ = tiny_sequence_classifier("bert", tokenizer=encoder_tokenizer)
    model.config.max_position_embeddings = 128
    AutoModelForSequenceClassification.from_config(model.config).save_pretrained(tmp_path)
    encoder_tokenizer.save_pretrained(tmp_path)
    clf = PartitionClassifier.from_pretrained(tmp_path)
    assert clf.config.max_tokens_per_text == (128 - 3) // 2
    long_pair = [("word " * 500, "other " * 500)]
    assert clf.encode_pairs(long_pair)["input_ids"].shape[1] <= 128
    with pytest.raises(ValueError, match="max_tokens_per_text <= 62"):
        PartitionClassifier.from_pretrained(tmp_path, max_tokens_per_text=100)
    clf.config.max_tokens_per_text = 100  # a later edit is checked before the next batch
    with pytest.raises(ValueError, match="max_tokens_per_text <= 62"):
        clf.predict_proba(long_pair)


def test_checkpoint_with_three_labels_fails_at_load(tmp_path_factory):
    path = _checkpoint_dir(tmp_path_factory, "bert", num_labels=3)
    with pytest.raises(ValueError, match="3 labels"):
        PartitionClassifier.from_pretrained(path)


def test_bare_encoder_checkpoint_fails_at_load_and_points_to_from_encoder(tmp_path, encoder_tokenizer):
    config = BertConfig(
        vocab_size=len(encoder_tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4
    )
    BertModel(config).save_pretrained(tmp_path)
    encoder_tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="from_encoder"):
        PartitionClassifier.from_pretrained(tmp_path)


def test_layout_that_does_not_fit_the_tokenizer_fails_at_load(checkpoints):
    with pytest.raises(ValueError, match="<\\|im_start\\|>"):
        PartitionClassifier.from_pretrained(checkpoints["bert"], pair_layout="chatml")
    with pytest.raises(ValueError, match="no cls token"):
        PartitionClassifier.from_pretrained(checkpoints["qwen3"], pair_layout="cls_sep")
    with pytest.raises(ValueError, match="Unknown pair_layout"):
        PartitionClassifier.from_pretrained(checkpoints["bert"], pair_layout="sep_cls")


def test_missing_tokenizer_gives_a_fix_it_message(tmp_path, encoder_tokenizer):
    model, _ = tiny_sequence_classifier("bert", tokenizer=encoder_tokenizer)
    model.save_pretrained(tmp_path)  # weights only, like the NoveltyBench checkpoint
    with pytest.raises(ValueError, match="tokenizer="):
        PartitionClassifier.from_pretrained(tmp_path)
    clf = PartitionClassifier.from_pretrained(tmp_path, tokenizer=encoder_tokenizer)
    assert len(clf.predict_proba(PAIRS[:1])) == 1


# ---------------------------------------------------------------------------------------------------
# Layout, truncation and inputs


def test_cls_sep_layout_and_token_types(bert_clf):
    tok = bert_clf.tokenizer
    batch = bert_clf.encode_pairs([("quick fox", "lazy dog")])
    ids = batch["input_ids"][0].tolist()
    a, b = tok.encode("quick fox", add_special_tokens=False), tok.encode("lazy dog", add_special_tokens=False)
    assert ids == [tok.cls_token_id, *a, tok.sep_token_id, *b, tok.sep_token_id]
    assert batch["token_type_ids"][0].tolist() == [0] * (len(a) + 2) + [1] * (len(b) + 1)


def test_each_text_is_truncated_separately(bert_clf):
    bert_clf.config.max_tokens_per_text = 7
    try:
        batch = bert_clf.encode_pairs([("word " * 1000, "short")])
        ids = batch["input_ids"][0].tolist()
        short = bert_clf.tokenizer.encode("short", add_special_tokens=False)
        assert len(ids) == 7 + len(short) + 3
        assert ids[-1 - len(short) : -1] == short  # the long text did not crowd out the short one
    finally:
        bert_clf.config.max_tokens_per_text = 256


def test_custom_template_layout(checkpoints):
    clf = PartitionClassifier.from_pretrained(checkpoints["bert"], pair_template="{cls}{a}{sep}{sep}{b}{sep}")
    assert clf.config.pair_layout == "template"
    tok = clf.tokenizer
    ids = clf.encode_pairs([("fox", "dog")])["input_ids"][0].tolist()
    fox, dog = tok.encode("fox", add_special_tokens=False), tok.encode("dog", add_special_tokens=False)
    assert ids == [tok.cls_token_id, *fox, tok.sep_token_id, tok.sep_token_id, *dog, tok.sep_token_id]
    assert len(clf.predict_proba([("fox", "dog")])) == 1


def test_tokenizer_pair_layout_uses_the_tokenizers_own_pair_encoding(checkpoints):
    clf = PartitionClassifier.from_pretrained(
        checkpoints["bert"], pair_layout="tokenizer", max_tokens_per_text=50
    )
    own = clf.tokenizer("quick fox", "lazy dog", return_token_type_ids=True)
    batch = clf.encode_pairs([("quick fox", "lazy dog")])
    assert batch["input_ids"][0].tolist() == own["input_ids"]
    assert batch["token_type_ids"][0].tolist() == own["token_type_ids"]


# ---------------------------------------------------------------------------------------------------
# predict_proba


def test_batched_equals_one_by_one(bert_clf):
    batched = bert_clf.predict_proba(PAIRS, batch_size=4)
    single = [bert_clf.predict_proba([pair])[0] for pair in PAIRS]
    assert torch.allclose(torch.tensor(batched), torch.tensor(single), atol=1e-6)


def test_results_come_back_in_input_order(bert_clf):
    forward = bert_clf.predict_proba(PAIRS)
    backward = bert_clf.predict_proba(PAIRS[::-1])
    assert torch.allclose(torch.tensor(forward), torch.tensor(backward[::-1]), atol=1e-6)


def test_predict_proba_bad_input(bert_clf):
    assert bert_clf.predict_proba([]) == []
    with pytest.raises(TypeError, match=re.escape("pairs[1][0]")):
        bert_clf.predict_proba([("a", "b"), (None, "c")])
    with pytest.raises(TypeError, match=re.escape("pairs[0][1]")):
        bert_clf.predict_proba([("a", 3)])
    with pytest.raises(ValueError, match=re.escape("pairs[0]")):
        bert_clf.predict_proba(["just one text"])
    with pytest.raises(ValueError, match="batch_size"):
        bert_clf.predict_proba([("a", "b")], batch_size=0)


def test_probabilities_are_of_the_equivalent_label(bert_clf):
    p1 = bert_clf.predict_proba(PAIRS[:2])
    bert_clf.config.equivalent_label = 0
    try:
        p0 = bert_clf.predict_proba(PAIRS[:2])
    finally:
        bert_clf.config.equivalent_label = 1
    assert torch.allclose(torch.tensor(p0), 1 - torch.tensor(p1), atol=1e-6)


def test_predict_proba_runs_on_the_model_device_and_restores_train_mode(bert_clf, monkeypatch):
    seen = []
    original = bert_clf.backbone.forward

    def spy(*args, **kwargs):
        seen.append((kwargs["input_ids"].device, torch.is_grad_enabled()))
        return original(*args, **kwargs)

    monkeypatch.setattr(bert_clf.backbone, "forward", spy)
    bert_clf.to("cpu").train()
    bert_clf.predict_proba(PAIRS)
    assert bert_clf.training
    bert_clf.eval()
    assert seen and all(device == bert_clf.device and not grad for device, grad in seen)


# ---------------------------------------------------------------------------------------------------
# Bi-encoder


def test_bi_encoder_is_symmetric(bi_clf):
    pairs = PAIRS + [(b, a) for a, b in PAIRS]
    probs = bi_clf.predict_proba(pairs)
    n = len(PAIRS)
    assert torch.allclose(torch.tensor(probs[:n]), torch.tensor(probs[n:]), atol=1e-6)
    logits = bi_clf(**bi_clf.encode_pairs(PAIRS)).logits
    swapped = bi_clf(**bi_clf.encode_pairs([(b, a) for a, b in PAIRS])).logits
    assert torch.allclose(logits, swapped, atol=1e-5)


@pytest.fixture
def encoded_rows(bi_clf, monkeypatch):
    """Counts the texts the bi-encoder's backbone encodes (one entry per forward pass)."""
    rows = []
    original = bi_clf.backbone.forward

    def spy(*args, **kwargs):
        rows.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(bi_clf.backbone, "forward", spy)
    return rows


def test_bi_encoder_encodes_each_distinct_text_once(bi_clf, encoded_rows):
    rows = encoded_rows
    texts = ["alpha one", "beta two", "gamma three", "delta four"]
    pairs = [(texts[i], texts[j]) for i in range(4) for j in range(4) if i != j]
    bi_clf.predict_proba(pairs, batch_size=64)
    assert sum(rows) == 4


def test_bi_encoder_judge_reuses_embeddings_across_calls(bi_clf, encoded_rows):
    rows = encoded_rows
    t = ["alpha one", "beta two", "gamma three", "delta four"]
    judge = ClassifierJudge(bi_clf)
    first = judge.scores([(t[0], t[1]), (t[1], t[2])])
    second = judge.scores([(t[0], t[2]), (t[2], t[3])])
    assert sum(rows) == 4  # the second call encodes only "delta four"
    uncached = ClassifierJudge(bi_clf, cache_size=0)
    expected = uncached.scores([(t[0], t[1]), (t[1], t[2]), (t[0], t[2]), (t[2], t[3])])
    assert first + second == pytest.approx(expected, abs=1e-6)
    assert sum(rows) == 4 + 4 and not uncached._cache
    small = ClassifierJudge(bi_clf, cache_size=2)
    small.scores([(t[0], t[1]), (t[2], t[3])])
    assert list(small._cache) == [t[2], t[3]]
    judge.clear_cache()
    assert not judge._cache


def test_bi_encoder_forward_matches_predict_proba(bi_clf):
    logits = bi_clf(**bi_clf.encode_pairs(PAIRS)).logits
    assert torch.allclose(logits.softmax(-1)[:, 1], torch.tensor(bi_clf.predict_proba(PAIRS)), atol=1e-5)


def test_untrained_bi_encoder_head_starts_as_a_cosine_judge(bi_clf):
    u, v = torch.randn(3, 32), torch.randn(3, 32)
    cosine = torch.nn.functional.cosine_similarity(u, v)
    with torch.no_grad():
        p = bi_clf.head(u, v).softmax(-1)[:, 1]
    assert torch.allclose(p, torch.sigmoid(10 * cosine - 5), atol=1e-5)


# ---------------------------------------------------------------------------------------------------
# Training contract


def test_forward_gives_loss_and_gradients(bert_clf):
    batch = bert_clf.encode_pairs(PAIRS)
    bert_clf.train()
    try:
        out = bert_clf(**batch, labels=torch.tensor([0, 1, 0, 1]))
        out.loss.backward()
    finally:
        bert_clf.eval()
        bert_clf.zero_grad(set_to_none=True)
    assert out.logits.shape == (4, 2) and out.loss.item() > 0
    assert out.loss.requires_grad


def test_unpadded_features_collate_to_the_padded_batch(bert_clf, bi_clf):
    for clf in (bert_clf, bi_clf):
        padded = clf.encode_pairs(PAIRS)
        lists = clf.encode_pairs(PAIRS, padding=False, return_tensors=None)
        features = [{key: lists[key][i] for key in lists} | {"labels": i % 2} for i in range(len(PAIRS))]
        collated = clf.pad(features)
        for key in padded:
            assert torch.equal(collated[key], padded[key]), key
        assert collated["labels"].tolist() == [0, 1, 0, 1]


# ---------------------------------------------------------------------------------------------------
# Judge and partition


def test_as_judge_uses_config_threshold_and_rule(bert_clf):
    bert_clf.config.short_text_rule = "exact"
    try:
        judge = bert_clf.as_judge()
        assert isinstance(judge, ClassifierJudge) and judge.uses_model
        assert judge.threshold == bert_clf.config.threshold and judge.short_text_rule == "exact"
        scores = judge.scores(PAIRS)
        assert judge.equivalent(PAIRS) == [s > judge.threshold for s in scores]
        assert ClassifierJudge(bert_clf, threshold=0.0).equivalent(PAIRS) == [True] * len(PAIRS)
    finally:
        bert_clf.config.short_text_rule = "overlap"


def test_partition_never_sends_duplicates_to_the_model(bert_clf, monkeypatch):
    sent = []
    original = bert_clf.predict_proba

    def spy(pairs, **kwargs):
        sent.extend(pairs)
        return original(pairs, **kwargs)

    monkeypatch.setattr(bert_clf, "predict_proba", spy)
    texts = [PAIRS[0][0], PAIRS[0][1], PAIRS[0][0], PAIRS[3][0], PAIRS[0][1]]
    labels = bert_clf.partition(texts)
    assert labels[0] == labels[2] and labels[1] == labels[4]
    assert all(a != b for a, b in sent)
    assert len(set(map(frozenset, sent))) == len(sent) <= 3
    assert partition(texts, bert_clf, mode="greedy")[2] == 0  # usable directly as a judge


# ---------------------------------------------------------------------------------------------------
# Round trips and registration


def test_darling_checkpoint_round_trip(tmp_path, checkpoints):
    clf = PartitionClassifier.from_pretrained(
        checkpoints["deberta-v2"], threshold=0.25, max_tokens_per_text=64
    )
    clf.config.metrics = {"roc_auc": 0.81}
    clf.config.training_data = "noveltybench pairs"
    clf.save_pretrained(tmp_path)
    files = set(os.listdir(tmp_path))
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "README.md",
    } <= files
    loaded = PartitionClassifier.from_pretrained(tmp_path)
    assert loaded.config.model_type == "darling_partition_classifier"
    for key in (
        "threshold",
        "pair_layout",
        "max_tokens_per_text",
        "short_text_rule",
        "metrics",
        "training_data",
    ):
        assert getattr(loaded.config, key) == getattr(clf.config, key), key
    assert loaded.config.encoder.model_type == "deberta-v2"
    assert loaded.tokenizer.get_vocab() == clf.tokenizer.get_vocab()
    for (name, a), (_, b) in zip(clf.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.allclose(torch.tensor(clf.predict_proba(PAIRS)), torch.tensor(loaded.predict_proba(PAIRS)))


def test_bi_encoder_round_trip(tmp_path, bi_clf):
    bi_clf.save_pretrained(tmp_path)
    loaded = PartitionClassifier.from_pretrained(tmp_path)
    assert loaded.config.architecture == "bi_encoder"
    assert torch.allclose(
        torch.tensor(bi_clf.predict_proba(PAIRS)), torch.tensor(loaded.predict_proba(PAIRS))
    )


def test_an_interrupted_save_keeps_the_previous_checkpoint_whole(tmp_path, bi_clf, monkeypatch):
    import darling.partition.classifier.card as card

    target = tmp_path / "clf"
    bi_clf.save_pretrained(target)
    before = {name: (target / name).read_bytes() for name in os.listdir(target)}
    expected = bi_clf.predict_proba(PAIRS)
    with torch.no_grad():
        for parameter in bi_clf.parameters():
            parameter.add_(1.0)  # the model changed; its next save fails half-way

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("interrupted while writing the model card")

    monkeypatch.setattr(card, "write_model_card", fail)
    with pytest.raises(KeyboardInterrupt):
        bi_clf.save_pretrained(target)
    assert {name: (target / name).read_bytes() for name in os.listdir(target)} == before
    assert os.listdir(tmp_path) == ["clf"]  # no staging folder left behind
    loaded = PartitionClassifier.from_pretrained(target)
    assert torch.allclose(torch.tensor(loaded.predict_proba(PAIRS)), torch.tensor(expected))


def test_saving_again_replaces_weights_of_another_sharding(tmp_path, bert_clf):
    target = tmp_path / "clf"
    bert_clf.save_pretrained(target, max_shard_size="20KB")
    assert "model.safetensors.index.json" in os.listdir(target)
    (target / "notes.txt").write_text("kept")
    bert_clf.save_pretrained(target)  # one file this time: the old shards must go
    files = set(os.listdir(target))
    assert "model.safetensors" in files and "notes.txt" in files
    assert not any(name.startswith("model-") or name.endswith(".index.json") for name in files)
    loaded = PartitionClassifier.from_pretrained(target)
    assert torch.allclose(
        torch.tensor(bert_clf.predict_proba(PAIRS)), torch.tensor(loaded.predict_proba(PAIRS))
    )
    with pytest.raises(ValueError, match="not a folder"):
        bert_clf.save_pretrained(target / "notes.txt")


def test_auto_classes_load_a_darling_checkpoint(tmp_path, bert_clf):
    bert_clf.save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), PartitionClassifierConfig)
    model = AutoModel.from_pretrained(tmp_path)
    assert isinstance(model, PartitionClassifier) and model.tokenizer is not None
    assert isinstance(AutoModelForSequenceClassification.from_pretrained(tmp_path), PartitionClassifier)
    assert torch.allclose(
        torch.tensor(model.predict_proba(PAIRS)), torch.tensor(bert_clf.predict_proba(PAIRS))
    )


def test_registration_survives_import_twice_and_reload():
    import darling.partition.classifier as package

    again = importlib.import_module("darling.partition.classifier")
    assert again is package
    package.register_auto_classes()  # a second registration does not raise
    reloaded = importlib.reload(package)
    config = AutoConfig.for_model("darling_partition_classifier")
    assert type(config).__name__ == "PartitionClassifierConfig"
    assert reloaded.PartitionClassifier.config_class.model_type == "darling_partition_classifier"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"architecture": "siamese"}, "Unknown architecture"),
        ({"threshold": 1.5}, "threshold must be in"),
        ({"max_tokens_per_text": 0}, "max_tokens_per_text must be >= 1"),
        ({"equivalent_label": 2}, "equivalent_label must be 0 or 1"),
        ({"short_text_rule": "fuzzy"}, "Unknown short_text_rule"),
        ({"pair_layout": "template"}, "needs pair_template"),
        ({"pair_layout": "template", "pair_template": "{b}{a}"}, "before"),
        ({"pooling": "max"}, "Unknown pooling"),
    ],
)
def test_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PartitionClassifierConfig(**kwargs)


def test_config_round_trip_keeps_nested_encoder(tmp_path):
    encoder = AutoConfig.for_model("modernbert", hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    config = PartitionClassifierConfig(
        encoder=encoder, threshold=0.32, metrics={"accuracy": 0.78}, base_model="x/y"
    )
    config.save_pretrained(tmp_path)
    loaded = PartitionClassifierConfig.from_pretrained(tmp_path)
    assert loaded.encoder.model_type == "modernbert" and loaded.encoder.hidden_size == 32
    assert (loaded.threshold, loaded.metrics, loaded.base_model) == (0.32, {"accuracy": 0.78}, "x/y")


def test_last_token_pooling_backbone_gets_the_pad_id_for_batching(tmp_path, causal_tokenizer):
    model, tokenizer = tiny_sequence_classifier("qwen3", tokenizer=causal_tokenizer)
    model.config.pad_token_id = None  # as in checkpoints saved without one
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    clf = PartitionClassifier.from_pretrained(tmp_path)
    assert clf.backbone.config.pad_token_id == tokenizer.pad_token_id
    batched = clf.predict_proba(PAIRS, batch_size=4)
    single = [clf.predict_proba([pair])[0] for pair in PAIRS]
    assert torch.allclose(torch.tensor(batched), torch.tensor(single), atol=1e-5)
