"""PartitionClassifier: plain checkpoints in and out, parity with the reference layout, round trips."""

from __future__ import annotations

import json
import os
import re

import pytest
import torch
from safetensors.torch import save_file
from transformers import AutoModelForSequenceClassification, BertConfig, BertModel

from darling.classifier import ClassifierJudge, ClassifierSettings, PartitionClassifier
from darling.classifier.settings import default_settings
from darling.partitioning import partition
from darling.tiny_models import tiny_sequence_classifier, train_tiny_tokenizer

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


@pytest.fixture
def bert_clf(checkpoints):
    return PartitionClassifier.from_pretrained(checkpoints["bert"], threshold=0.5)


def _reference_proba(model, tokenizer, arch: str, pairs, max_tokens: int) -> list[float]:
    """P(equivalent) as the references compute it: one pair at a time, inputs built by hand."""
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


def _plain(path: str):
    from transformers import AutoTokenizer

    return AutoModelForSequenceClassification.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(
        path
    )


# ---------------------------------------------------------------------------------------------------
# Loading plain checkpoints


@pytest.mark.parametrize("arch", ["bert", "deberta-v2", "modernbert", "qwen3"])
def test_plain_checkpoint_matches_reference_layout(checkpoints, arch):
    clf = PartitionClassifier.from_pretrained(checkpoints[arch], max_tokens_per_text=40)
    assert clf.settings.pair_layout == ("chatml" if arch == "qwen3" else "cls_sep")
    got = clf.predict_proba(PAIRS, batch_size=3)
    want = _reference_proba(*_plain(checkpoints[arch]), arch, PAIRS, max_tokens=40)
    assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-5), (got, want)


def test_plain_checkpoint_gets_family_defaults(checkpoints):
    deberta = PartitionClassifier.from_pretrained(checkpoints["deberta-v2"])
    assert (deberta.threshold, deberta.settings.max_tokens_per_text) == (0.102, 128)
    modernbert = PartitionClassifier.from_pretrained(checkpoints["modernbert"])
    assert (modernbert.threshold, modernbert.settings.max_tokens_per_text) == (0.32, 1024)
    # The tiny BERT has 1024 positions: 256 tokens a text fit; the source is recorded for the card.
    bert = PartitionClassifier.from_pretrained(checkpoints["bert"])
    assert bert.settings.max_tokens_per_text == 256
    assert bert.settings.base_model == checkpoints["bert"]


def test_released_checkpoints_have_published_settings():
    assert default_settings("modernbert", "dogtooth/similarity-classifier-f168-hf").threshold == 0.32
    math = default_settings("qwen3", "dogtooth/qwen3-4b-emb-finetuned-step-70-hf")
    assert (math.pair_layout, math.threshold, math.max_tokens_per_text) == ("chatml", 0.5, 2048)
    nb = default_settings("deberta-v2", "yimingzhang/deberta-v3-large-generation-similarity")
    assert (nb.threshold, nb.max_tokens_per_text) == (0.102, 128)
    from darling.classifier.loading import default_tokenizer_source

    assert (
        default_tokenizer_source("yimingzhang/deberta-v3-large-generation-similarity")
        == "microsoft/deberta-v3-large"
    )


def test_default_length_is_capped_by_absolute_positions(tmp_path, encoder_tokenizer):
    model, _ = tiny_sequence_classifier("bert", tokenizer=encoder_tokenizer)
    model.config.max_position_embeddings = 128
    AutoModelForSequenceClassification.from_config(model.config).save_pretrained(tmp_path)
    encoder_tokenizer.save_pretrained(tmp_path)
    clf = PartitionClassifier.from_pretrained(tmp_path)
    assert clf.settings.max_tokens_per_text == (128 - 3) // 2
    long_pair = [("word " * 500, "other " * 500)]
    assert clf.encode_pairs(long_pair)["input_ids"].shape[1] <= 128
    with pytest.raises(ValueError, match="max_tokens_per_text <= 62"):
        PartitionClassifier.from_pretrained(tmp_path, max_tokens_per_text=100)
    with pytest.raises(ValueError, match="max_tokens_per_text <= 62"):  # a later change is checked too
        clf.settings = clf.settings.replace(max_tokens_per_text=100)
    assert clf.settings.max_tokens_per_text == 62


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


def test_from_encoder_starts_a_two_label_head_with_named_labels(tmp_path, encoder_tokenizer):
    config = BertConfig(
        vocab_size=len(encoder_tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4
    )
    BertModel(config).save_pretrained(tmp_path)
    clf = PartitionClassifier.from_encoder(
        tmp_path, tokenizer=encoder_tokenizer, threshold=0.4, training_data="pairs"
    )
    assert clf.model.config.num_labels == 2
    assert clf.model.config.id2label == {0: "different", 1: "equivalent"}
    assert (clf.threshold, clf.settings.training_data, clf.settings.base_model) == (
        0.4,
        "pairs",
        str(tmp_path),
    )
    assert len(clf.predict_proba(PAIRS)) == len(PAIRS)


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
    bert_clf.settings = bert_clf.settings.replace(max_tokens_per_text=7)
    batch = bert_clf.encode_pairs([("word " * 1000, "short")])
    ids = batch["input_ids"][0].tolist()
    short = bert_clf.tokenizer.encode("short", add_special_tokens=False)
    assert len(ids) == 7 + len(short) + 3
    assert ids[-1 - len(short) : -1] == short  # the long text did not crowd out the short one


def test_custom_template_layout(checkpoints):
    clf = PartitionClassifier.from_pretrained(checkpoints["bert"], pair_template="{cls}{a}{sep}{sep}{b}{sep}")
    assert clf.settings.pair_layout == "template"
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


def test_unpadded_features_collate_to_the_padded_batch(bert_clf):
    padded = bert_clf.encode_pairs(PAIRS)
    lists = bert_clf.encode_pairs(PAIRS, padding=False, return_tensors=None)
    features = [{key: lists[key][i] for key in lists} | {"labels": i % 2} for i in range(len(PAIRS))]
    collated = bert_clf.collate(features)
    for key in padded:
        assert torch.equal(collated[key], padded[key]), key
    assert collated["labels"].tolist() == [0, 1, 0, 1]


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
    bert_clf.settings = bert_clf.settings.replace(equivalent_label=0)
    p0 = bert_clf.predict_proba(PAIRS[:2])
    assert torch.allclose(torch.tensor(p0), 1 - torch.tensor(p1), atol=1e-6)


def test_predict_proba_runs_on_the_model_device_without_grad_and_restores_train_mode(bert_clf, monkeypatch):
    seen = []
    original = bert_clf.model.forward

    def spy(*args, **kwargs):
        seen.append((kwargs["input_ids"].device, torch.is_grad_enabled()))
        return original(*args, **kwargs)

    monkeypatch.setattr(bert_clf.model, "forward", spy)
    bert_clf.to("cpu").model.train()
    bert_clf.predict_proba(PAIRS)
    assert bert_clf.model.training
    assert seen and all(device == bert_clf.device and not grad for device, grad in seen)


def test_last_token_pooling_model_gets_the_pad_id_for_batching(tmp_path, causal_tokenizer):
    model, tokenizer = tiny_sequence_classifier("qwen3", tokenizer=causal_tokenizer)
    model.config.pad_token_id = None  # as in checkpoints saved without one
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    clf = PartitionClassifier.from_pretrained(tmp_path)
    assert clf.model.config.pad_token_id == tokenizer.pad_token_id
    batched = clf.predict_proba(PAIRS, batch_size=4)
    single = [clf.predict_proba([pair])[0] for pair in PAIRS]
    assert torch.allclose(torch.tensor(batched), torch.tensor(single), atol=1e-5)


# ---------------------------------------------------------------------------------------------------
# Judge and partition


def test_as_judge_uses_the_classifier_threshold(bert_clf):
    judge = bert_clf.as_judge()
    assert isinstance(judge, ClassifierJudge) and judge.uses_model
    assert judge.threshold == bert_clf.threshold and judge.short_text_rule == "overlap"
    scores = judge.scores(PAIRS)
    assert judge.equivalent(PAIRS) == [s > judge.threshold for s in scores]
    assert ClassifierJudge(bert_clf, threshold=0.0).equivalent(PAIRS) == [True] * len(PAIRS)
    with pytest.raises(ValueError, match="threshold must be a number in"):
        bert_clf.as_judge(threshold=1.5)


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
# Round trips: what darling saves is a plain transformers checkpoint


def test_saved_checkpoint_loads_with_plain_transformers_and_gives_the_same_probabilities(
    tmp_path, checkpoints
):
    clf = PartitionClassifier.from_pretrained(
        checkpoints["deberta-v2"], threshold=0.25, max_tokens_per_text=64
    )
    clf.settings = clf.settings.replace(metrics={"roc_auc": 0.81}, training_data="noveltybench pairs")
    clf.save_pretrained(tmp_path)
    files = set(os.listdir(tmp_path))
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "README.md",
    } <= files
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "deberta-v2"
    assert config["architectures"] == ["DebertaV2ForSequenceClassification"]
    assert config["darling"] == {
        "pair_layout": "cls_sep",
        "threshold": 0.25,
        "max_tokens_per_text": 64,
        "equivalent_label": 1,
        "base_model": checkpoints["deberta-v2"],
        "training_data": "noveltybench pairs",
        "metrics": {"roc_auc": 0.81},
    }
    # Plain transformers, fed the pair layout by hand, gives darling's P(equivalent).
    model, tokenizer = _plain(str(tmp_path))
    want = _reference_proba(model, tokenizer, "deberta-v2", PAIRS, max_tokens=64)
    assert torch.allclose(torch.tensor(clf.predict_proba(PAIRS)), torch.tensor(want), atol=1e-5)
    loaded = PartitionClassifier.from_pretrained(tmp_path)
    assert loaded.settings == clf.settings
    assert loaded.tokenizer.get_vocab() == clf.tokenizer.get_vocab()
    assert torch.allclose(torch.tensor(loaded.predict_proba(PAIRS)), torch.tensor(want), atol=1e-5)


def test_an_interrupted_save_keeps_the_previous_checkpoint_whole(tmp_path, bert_clf, monkeypatch):
    import darling.classifier.card as card

    target = tmp_path / "clf"
    bert_clf.save_pretrained(target)
    before = {name: (target / name).read_bytes() for name in os.listdir(target)}
    expected = bert_clf.predict_proba(PAIRS)
    with torch.no_grad():
        for parameter in bert_clf.model.parameters():
            parameter.add_(1.0)  # the model changed; its next save fails half-way

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("interrupted while writing the model card")

    monkeypatch.setattr(card, "write_model_card", fail)
    with pytest.raises(KeyboardInterrupt):
        bert_clf.save_pretrained(target)
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


def test_a_darling_0_1_cross_encoder_checkpoint_is_converted_on_load(tmp_path, checkpoints):
    """The old format: model_type darling_partition_classifier, nested encoder config, backbone.* weights."""
    model, tokenizer = _plain(checkpoints["bert"])
    encoder = model.config.to_dict()
    legacy = {
        "model_type": "darling_partition_classifier",
        "architecture": "cross_encoder",
        "encoder": encoder,
        "threshold": 0.3,
        "pair_layout": "cls_sep",
        "max_tokens_per_text": 40,
        "equivalent_label": 1,
        "short_text_rule": "overlap",
        "pooling": "mean",
    }
    (tmp_path / "config.json").write_text(json.dumps(legacy))
    save_file(
        {f"backbone.{k}": v.contiguous() for k, v in model.state_dict().items()},
        tmp_path / "model.safetensors",
    )
    tokenizer.save_pretrained(tmp_path)
    clf = PartitionClassifier.from_pretrained(tmp_path)
    assert (clf.threshold, clf.settings.max_tokens_per_text) == (0.3, 40)
    want = _reference_proba(model, tokenizer, "bert", PAIRS, max_tokens=40)
    assert torch.allclose(torch.tensor(clf.predict_proba(PAIRS)), torch.tensor(want), atol=1e-5)
    legacy["architecture"] = "bi_encoder"
    (tmp_path / "config.json").write_text(json.dumps(legacy))
    with pytest.raises(ValueError, match="EmbeddingJudge"):
        PartitionClassifier.from_pretrained(tmp_path)


# ---------------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "threshold must be a number in"),
        ({"max_tokens_per_text": 0}, "max_tokens_per_text must be a positive int"),
        ({"equivalent_label": 2}, "equivalent_label must be 0 or 1"),
        ({"pair_layout": "template"}, "needs pair_template"),
        ({"pair_layout": "template", "pair_template": "{b}{a}"}, "before"),
        ({"pair_layout": "siamese"}, "Unknown pair_layout"),
        ({"metrics": [0.8]}, "metrics must be a dict"),
    ],
)
def test_settings_reject_bad_values_with_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ClassifierSettings(**kwargs)


def test_a_missing_local_folder_is_named_not_sent_to_the_hub(tmp_path):
    from darling.partitioning import EmbeddingJudge
    from darling.rewards import DiversityRewardFunction

    missing = str(tmp_path / "checkpoints" / "clf")
    for load in (
        PartitionClassifier.from_pretrained,
        lambda path: DiversityRewardFunction(classifier=path),
        EmbeddingJudge.from_pretrained,
    ):
        with pytest.raises(
            FileNotFoundError, match=f"No .* at {re.escape(repr(missing))}: it is not an existing"
        ):
            load(missing)
    with pytest.raises(FileNotFoundError, match="classifier checkpoint"):
        PartitionClassifier.from_pretrained("./checkpoints/clf")


def test_settings_round_trip_through_the_config_dict_and_reject_unknown_keys():
    settings = ClassifierSettings(threshold=0.32, metrics={"accuracy": 0.78}, base_model="x/y")
    assert ClassifierSettings.from_dict(settings.to_dict()) == settings
    assert "training_data" not in settings.to_dict()  # unset metadata is left out
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['pooling'\]"):
        ClassifierSettings.from_dict({"threshold": 0.5, "pooling": "mean"})
    assert settings.replace(pair_template="{a}{b}").pair_layout == "template"
