"""Surface text features of the bi-encoder head, and fitting the head on a frozen encoder."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
import torch

from conftest import tiny_bert_config
from darling.classifier import (
    FORMAT_FEATURES,
    SIMILARITY_FEATURES,
    TEXT_FEATURES,
    PartitionClassifier,
    PartitionClassifierConfig,
    TextFeatures,
    pad_batch,
    train_bi_encoder_head,
)
from darling.classifier.head_training import head_probabilities
from darling.classifier.text_features import analyze
from darling.classifier.training import (
    PartitionClassifierTrainer,
    PartitionClassifierTrainingArguments,
    roc_auc,
)

NAMES = ["Alice", "Bruno", "Chiara", "Dmitri", "Esther", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
PLACES = ["Paris", "Lima", "Oslo", "Cairo", "Delhi", "Quito", "Rome", "Tokyo", "Accra", "Perth"]
VERBS = ["visited", "walked through", "dreamed of", "wrote about", "painted", "remembered"]


def _story(rng: random.Random, name: str, place: str) -> str:
    return f"{name} {rng.choice(VERBS)} {place} one {rng.choice(['morning', 'evening', 'winter'])}."


def _synthetic_pairs(seed: int, n: int) -> tuple[list[tuple[str, str]], list[int]]:
    """Equivalent = the same character in the same place, worded differently; different otherwise."""
    rng = random.Random(seed)
    pairs, labels = [], []
    for index in range(n):
        name, place = rng.choice(NAMES), rng.choice(PLACES)
        if index % 2:
            pairs.append((_story(rng, name, place), _story(rng, name, place)))
            labels.append(1)
        else:
            other = rng.choice([x for x in NAMES if x != name])
            elsewhere = rng.choice([x for x in PLACES if x != place])
            pairs.append((_story(rng, name, place), _story(rng, other, elsewhere)))
            labels.append(0)
    return pairs, labels


def _bi_clf(tokenizer, features=tuple(TEXT_FEATURES), buckets=2**12):
    config = PartitionClassifierConfig(
        encoder=tiny_bert_config(tokenizer, hidden_size=16, num_layers=1),
        architecture="bi_encoder",
        max_tokens_per_text=32,
        text_features=list(features),
        text_feature_buckets=buckets,
    )
    torch.manual_seed(0)
    return PartitionClassifier(config, tokenizer=tokenizer).eval()


# --------------------------------------------------------------------------------------------------
# The features themselves


def test_raw_features_have_their_definitions():
    featurizer = TextFeatures(TEXT_FEATURES, buckets=2**12)
    pairs = [
        ("Alice met Bob in Paris", "Bob met Alice in Rome today"),
        ("same words here", "same words here"),
        ("", ""),
        ("one two", ""),
    ]
    featurizer.fit(pairs)
    raw = featurizer.raw(pairs)
    column = {name: raw[:, i].tolist() for i, name in enumerate(TEXT_FEATURES)}
    # word sets {alice, met, bob, in, paris} vs {bob, met, alice, in, rome, today}: 4 shared of 7.
    assert column["word_jaccard"][0] == pytest.approx(4 / 7)
    # bigrams: {alice met, met bob, bob in, in paris} vs {bob met, met alice, alice in, in rome, rome today}.
    assert column["word_bigram_jaccard"][0] == pytest.approx(0.0)
    # capitalized {Alice, Bob, Paris} vs {Bob, Alice, Rome}: 2 of 4.
    assert column["capitalized_jaccard"][0] == pytest.approx(2 / 4)
    assert column["length_ratio"][0] == pytest.approx(5 / 6)
    assert 0.0 < column["word_tfidf"][0] < 1.0 and 0.0 < column["char_tfidf"][0] < 1.0
    # Identical texts score 1 on every similarity feature; two empty texts are identical too.
    similarity = [TEXT_FEATURES.index(name) for name in SIMILARITY_FEATURES]
    assert raw[1, similarity].tolist() == pytest.approx([1.0] * len(SIMILARITY_FEATURES))
    assert raw[2, similarity].tolist() == pytest.approx([1.0] * len(SIMILARITY_FEATURES))
    # Against an empty text: no overlap at all (capitalized sets are both empty, so equal).
    assert column["word_jaccard"][3] == 0.0 and column["word_tfidf"][3] == 0.0
    assert column["length_ratio"][3] == 0.0
    # Plain sentences have no digits, bold, lists or headings.
    for name in FORMAT_FEATURES:
        assert column[name] == [0.0, 0.0, 0.0, 0.0]


def test_bold_and_format_features_have_their_definitions():
    featurizer = TextFeatures(TEXT_FEATURES, buckets=2**12)
    listing = "## Ideas\n\n1. **Bean There**: a pun.\n2. **Daily  Grind**: classic.\n- and 3 more"
    other_listing = "Here you go:\n* **daily grind** (safe)\n* **Brew Haven**"
    story = "Once upon a time, **Mira** found 2 maps."
    pairs = [(listing, other_listing), (listing, story), (story, "A plain story."), (listing, listing)]
    featurizer.fit(pairs)
    raw = featurizer.raw(pairs)
    column = {name: raw[:, i].tolist() for i, name in enumerate(TEXT_FEATURES)}
    # bold phrases, lower-cased, inner spaces collapsed: {bean there, daily grind} vs {daily grind, brew haven}.
    assert column["bold_jaccard"] == pytest.approx([1 / 3, 0.0, 0.0, 1.0])
    assert column["both_digits"] == [0.0, 1.0, 0.0, 1.0]  # other_listing has no digit
    assert column["both_bold"] == [1.0, 1.0, 0.0, 1.0]
    assert column["both_lists"] == [1.0, 0.0, 0.0, 1.0]  # "1." and "*" lines; the story has none
    assert column["both_headings"] == [0.0, 0.0, 0.0, 1.0]  # only listing has "## "
    # Neither text has bold: the bold phrases agree (both empty).
    assert featurizer.raw([("no bold", "none here")])[0, TEXT_FEATURES.index("bold_jaccard")] == 1.0


def test_rare_shared_words_weigh_more_than_common_ones():
    corpus = [("the cat sat on the mat", f"the dog {i} ran on the road") for i in range(20)]
    featurizer = TextFeatures(["word_tfidf"], buckets=2**12)
    featurizer.fit(corpus)
    common, rare = featurizer.raw([("the on a b", "the on c d"), ("cat mat a b", "cat mat c d")])[:, 0]
    assert rare > common


def test_text_statistics_are_cached_per_process_and_can_be_cleared():
    from darling.classifier import text_features

    featurizer = TextFeatures(["word_jaccard"], buckets=2**10)
    first = featurizer.analyze(["cached text"])["cached text"]
    assert TextFeatures(["length_ratio"], buckets=2**10).analyze(["cached text"])["cached text"] is first
    text_features.clear_cache()
    assert featurizer.analyze(["cached text"])["cached text"] is not first


def test_hashing_is_stable_across_processes():
    stats = analyze("Hello", 2**20)
    assert stats.word_counts == {zlib.crc32(b"hello") % 2**20: 1}
    assert zlib.crc32(b" he") % 2**20 in stats.char_counts


def test_standardization_uses_the_training_statistics():
    pairs, _ = _synthetic_pairs(0, 40)
    featurizer = TextFeatures(TEXT_FEATURES, buckets=2**12)
    featurizer.fit(pairs)
    z = featurizer(pairs)
    assert torch.allclose(z.mean(0), torch.zeros(len(TEXT_FEATURES)), atol=1e-5)
    assert featurizer.fitted and int(featurizer.n_docs) == len({t for p in pairs for t in p})


def test_unfitted_features_raise_a_clear_error(encoder_tokenizer):
    clf = _bi_clf(encoder_tokenizer)
    with pytest.raises(RuntimeError, match="fit_text_features"):
        clf.predict_proba([("a", "b")])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"text_features": ["word_jaccard", "nope"]}, "Unknown text_features"),
        ({"text_features": ["word_jaccard", "word_jaccard"]}, "twice"),
        ({"text_features": "word_jaccard"}, "list of feature names"),
        ({"text_features": ["word_jaccard"], "architecture": "cross_encoder"}, "bi_encoder"),
        ({"text_features": ["word_jaccard"], "text_feature_buckets": 0}, "positive int"),
    ],
)
def test_config_rejects_bad_text_features(kwargs, match):
    settings = {"architecture": "bi_encoder", **kwargs}
    with pytest.raises(ValueError, match=match):
        PartitionClassifierConfig(**settings)


def test_fit_text_features_needs_a_featurizer(encoder_tokenizer):
    clf = _bi_clf(encoder_tokenizer, features=())
    assert clf.text_featurizer is None
    with pytest.raises(ValueError, match="no text features"):
        clf.fit_text_features([("a", "b")])


# --------------------------------------------------------------------------------------------------
# In the model


@pytest.fixture
def fitted_clf(encoder_tokenizer):
    clf = _bi_clf(encoder_tokenizer)
    pairs, _ = _synthetic_pairs(1, 30)
    clf.fit_text_features(pairs)
    with torch.no_grad():
        # Positive weights, so identical texts look equivalent to the model too (darling never asks it
        # about them; the one-pair loop of the partition-cost benchmark does).
        clf.head.text_weights.weight.copy_(torch.linspace(0.1, 1.0, len(TEXT_FEATURES)))
    return clf


def test_forward_matches_predict_proba_and_is_symmetric(fitted_clf):
    pairs, _ = _synthetic_pairs(2, 8)
    batch = fitted_clf.encode_pairs(pairs)
    assert batch["text_features"].shape == (8, len(TEXT_FEATURES))
    assert batch["text_features"].dtype == torch.float32
    with torch.no_grad():
        forward = fitted_clf(**batch).logits.softmax(-1)[:, 1]
    probs = torch.tensor(fitted_clf.predict_proba(pairs))
    assert torch.allclose(forward, probs, atol=1e-5)
    swapped = torch.tensor(fitted_clf.predict_proba([(b, a) for a, b in pairs]))
    assert torch.allclose(probs, swapped, atol=1e-6)
    # The text term really enters the logit: zeroing its weights changes the probabilities.
    with torch.no_grad():
        fitted_clf.head.text_weights.weight.zero_()
    assert not torch.allclose(probs, torch.tensor(fitted_clf.predict_proba(pairs)), atol=1e-4)


def test_pad_collates_text_features(fitted_clf):
    pairs, _ = _synthetic_pairs(3, 4)
    rows = fitted_clf.encode_pairs(pairs, padding=False, return_tensors=None)
    features = [{key: rows[key][i] for key in rows} | {"labels": i % 2} for i in range(4)]
    batch = fitted_clf.pad(features)
    assert batch["text_features"].shape == (4, len(TEXT_FEATURES))
    assert batch["labels"].tolist() == [0, 1, 0, 1]
    plain = pad_batch([{k: v for k, v in f.items() if k != "labels"} for f in features], 0, None)
    assert plain["text_features"] == [f["text_features"] for f in features]


def test_round_trip_keeps_the_fitted_statistics(tmp_path, fitted_clf):
    pairs, _ = _synthetic_pairs(4, 6)
    before = fitted_clf.predict_proba(pairs)
    fitted_clf.save_pretrained(tmp_path)
    loaded = PartitionClassifier.from_pretrained(tmp_path)
    assert loaded.config.text_features == list(TEXT_FEATURES)
    assert loaded.text_featurizer.fitted
    assert torch.equal(loaded.text_featurizer.char_df, fitted_clf.text_featurizer.char_df)
    assert loaded.predict_proba(pairs) == pytest.approx(before, abs=1e-6)
    card = (tmp_path / "README.md").read_text()
    assert "surface text features of the whole texts (word_jaccard," in card


# --------------------------------------------------------------------------------------------------
# Fitting the head


def test_head_training_learns_what_the_surface_features_show(encoder_tokenizer):
    train_pairs, train_labels = _synthetic_pairs(10, 120)
    dev_pairs, dev_labels = _synthetic_pairs(11, 40)
    test_pairs, test_labels = _synthetic_pairs(12, 80)
    clf = _bi_clf(encoder_tokenizer)
    untrained_auc = roc_auc(
        np.array(_bi_clf(encoder_tokenizer, features=()).predict_proba(test_pairs)), np.array(test_labels)
    )
    encoder_before = {k: v.clone() for k, v in clf.backbone.state_dict().items()}
    metrics = train_bi_encoder_head(
        clf, train_pairs, train_labels, dev_pairs, dev_labels, show_progress=False
    )
    assert set(metrics) >= {"accuracy", "balanced_accuracy", "roc_auc", "threshold", "dev_pairs"}
    assert metrics["dev_pairs"] == 40 and isinstance(metrics["dev_pairs"], int)
    assert clf.config.threshold == metrics["threshold"]
    assert clf.config.metrics["roc_auc"] == metrics["roc_auc"]
    test_auc = roc_auc(np.array(clf.predict_proba(test_pairs)), np.array(test_labels))
    assert test_auc > 0.95 and test_auc >= untrained_auc
    # Shared names and places decide this task: the head leans most on capitalized-word overlap.
    weights = dict(zip(TEXT_FEATURES, clf.head.text_weights.weight[0].tolist()))
    assert max(weights, key=lambda name: abs(weights[name])) == "capitalized_jaccard"
    assert weights["capitalized_jaccard"] > 0
    # The encoder is frozen: only the head moved; every parameter is trainable again afterwards.
    after = clf.backbone.state_dict()
    assert all(torch.equal(encoder_before[k], after[k]) for k in encoder_before)
    assert all(p.requires_grad for p in clf.parameters())
    # Parameters the user froze before stay frozen.
    clf.backbone.embeddings.requires_grad_(False)
    train_bi_encoder_head(clf, train_pairs, train_labels, show_progress=False)
    assert not any(p.requires_grad for p in clf.backbone.embeddings.parameters())
    assert clf.head.text_weights.weight.requires_grad
    # Precomputed embeddings give the same probabilities as predict_proba.
    cache = dict(zip([t for p in test_pairs for t in p], clf.embed([t for p in test_pairs for t in p])))
    assert head_probabilities(clf, test_pairs, cache) == pytest.approx(
        clf.predict_proba(test_pairs), abs=1e-5
    )


def test_head_training_without_dev_keeps_threshold_half(encoder_tokenizer):
    pairs, labels = _synthetic_pairs(5, 30)
    clf = _bi_clf(encoder_tokenizer, features=["word_jaccard"])
    metrics = train_bi_encoder_head(clf, pairs, labels, show_progress=False)
    assert metrics["threshold"] == 0.5 and metrics["train_pairs"] == 30


def test_head_training_with_a_fixed_threshold_reports_dev_metrics_at_it(encoder_tokenizer):
    pairs, labels = _synthetic_pairs(5, 30)
    dev_pairs, dev_labels = _synthetic_pairs(9, 20)
    clf = _bi_clf(encoder_tokenizer, features=["word_jaccard"])
    metrics = train_bi_encoder_head(
        clf, pairs, labels, dev_pairs, dev_labels, threshold=0.5, show_progress=False
    )
    assert metrics["threshold"] == 0.5 == clf.config.threshold and metrics["dev_pairs"] == 20
    probs = np.array(clf.predict_proba(dev_pairs))
    expected = np.mean((probs > 0.5) == np.array(dev_labels, dtype=bool))
    assert metrics["accuracy"] == pytest.approx(expected, abs=1e-4)
    with pytest.raises(ValueError, match="threshold must be in"):
        train_bi_encoder_head(clf, pairs, labels, threshold=1.5, show_progress=False)


def test_head_training_rejects_bad_input(encoder_tokenizer, cross_clf):
    pairs, labels = _synthetic_pairs(6, 10)
    clf = _bi_clf(encoder_tokenizer)
    with pytest.raises(ValueError, match="single class"):
        train_bi_encoder_head(clf, pairs, [0] * 10, show_progress=False)
    with pytest.raises(ValueError, match="10 pairs but 9 labels"):
        train_bi_encoder_head(clf, pairs, labels[:9], show_progress=False)
    with pytest.raises(ValueError, match="index 3 is not 0 or 1"):
        train_bi_encoder_head(clf, pairs, [*labels[:3], 2, *labels[4:]], show_progress=False)
    with pytest.raises(ValueError, match="together"):
        train_bi_encoder_head(clf, pairs, labels, dev_pairs=pairs, show_progress=False)
    with pytest.raises(ValueError, match="PartitionClassifierTrainer"):
        train_bi_encoder_head(cross_clf, pairs, labels, show_progress=False)


@pytest.fixture
def cross_clf():
    from darling.tiny_models import tiny_sequence_classifier

    backbone, tokenizer = tiny_sequence_classifier("bert", hidden_size=16, num_layers=1)
    config = PartitionClassifierConfig(encoder=backbone.config, max_tokens_per_text=32)
    return PartitionClassifier(config, backbone=backbone, tokenizer=tokenizer)


def test_partition_classifier_trainer_fits_the_text_features(tmp_path, encoder_tokenizer):
    pairs, labels = _synthetic_pairs(7, 16)
    clf = _bi_clf(encoder_tokenizer)
    args = PartitionClassifierTrainingArguments(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        max_steps=2,
        per_device_train_batch_size=4,
        save_strategy="no",
        disable_tqdm=True,
        report_to=[],
    )
    train = [(a, b, y) for (a, b), y in zip(pairs, labels)]
    trainer = PartitionClassifierTrainer(clf, args, train_dataset=train, eval_dataset=train[:8])
    assert clf.text_featurizer.fitted
    before = clf.head.text_weights.weight.clone()
    trainer.train()
    assert not torch.equal(before, clf.head.text_weights.weight)


def test_a_low_precision_cast_keeps_the_document_frequencies_exact(fitted_clf):
    pairs, _ = _synthetic_pairs(8, 4)
    before = torch.tensor(fitted_clf.predict_proba(pairs))
    char_df = fitted_clf.text_featurizer.char_df.clone()
    fitted_clf.to(torch.bfloat16)
    assert fitted_clf.text_featurizer.char_df.dtype == torch.int32
    assert torch.equal(fitted_clf.text_featurizer.char_df, char_df)
    after = torch.tensor(fitted_clf.predict_proba(pairs))
    assert torch.allclose(before, after, atol=0.05)


def test_loading_other_statistics_refreshes_the_idf():
    first, second = TextFeatures(["word_tfidf"], 2**12), TextFeatures(["word_tfidf"], 2**12)
    first.fit([("red apple", "green apple"), ("red car", "blue car")])
    second.fit([("apple pie", "apple tart"), ("apple juice", "apple cake")])
    probe = [("red apple pie", "green apple tart")]
    before = first.raw(probe)
    first.load_state_dict(second.state_dict())
    assert torch.allclose(first.raw(probe), second.raw(probe))
    assert not torch.allclose(before, first.raw(probe))


def test_agreement_benchmark_runs_on_a_tiny_classifier(tmp_path, fitted_clf, capsys):
    import importlib.util
    import json
    from pathlib import Path

    fitted_clf.save_pretrained(tmp_path / "clf")
    data = tmp_path / "generations"
    data.mkdir()
    rng = random.Random(0)
    with open(data / "tiny.jsonl", "w") as handle:
        for _ in range(3):
            name, place = rng.choice(NAMES), rng.choice(PLACES)
            texts = [_story(rng, name, place) for _ in range(3)] + [_story(rng, "Zed", "Nowhere")]
            handle.write(json.dumps({"generations": texts, "partition": [0, 0, 0, 1]}) + "\n")
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "classifier_agreement.py"
    spec = importlib.util.spec_from_file_location("classifier_agreement", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (
        module.main(["--classifier", str(tmp_path / "clf"), "--data-dir", str(data), "--threads", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert "3 groups, 18 pairs; NoveltyBench calls 50.0% of pairs equivalent" in out
    assert "ROC AUC of P(equivalent)" in out
    assert "| own (" in out and "| share-matched (" in out
    assert module.main(["--classifier", str(tmp_path / "clf"), "--data-dir", str(tmp_path / "none")]) == 2


def _tiny_generations(tmp_path, groups=4):
    import json

    data = tmp_path / "generations"
    data.mkdir()
    rng = random.Random(1)
    with open(data / "tiny.jsonl", "w") as handle:
        for _ in range(groups):
            name, place = rng.choice(NAMES), rng.choice(PLACES)
            texts = [_story(rng, name, place) for _ in range(3)] + [_story(rng, "Zed", "Nowhere")]
            handle.write(json.dumps({"generations": texts, "partition": [0, 0, 0, 1]}) + "\n")
    return data


def _benchmark(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_partition_cost_benchmark_runs_with_a_lexical_fast_stage(tmp_path, fitted_clf, capsys):
    import json

    fitted_clf.save_pretrained(tmp_path / "clf")
    data = _tiny_generations(tmp_path, groups=7)
    module = _benchmark("partition_cost")
    args = ["--classifier", str(tmp_path / "clf"), "--data-dir", str(data), "--groups", "3", "--threads", "1"]
    out_file = tmp_path / "cost.json"
    argv = [*args, "--fast", "lexical", "--calibration-groups", "3", "--groups-per-call", "2"]
    assert module.main([*argv, "--output", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "cascade cut-offs from 3 groups" in out
    results = json.loads(out_file.read_text())
    for mode in ("all_pairs", "greedy"):
        row = results["modes"][mode]
        assert row["exact_same_partition"] == 1.0  # exact mode must reproduce the loop
        assert row["approx_groups"] == 3 and row["calibration_groups"] == 3 and row["fast_stage"] == "lexical"
        assert 0.0 <= row["approx_same_partition"] <= 1.0
        assert row["approx_classifier_pairs_per_group"] <= row["approx_pairs_per_group"]


def test_cascade_replay_benchmark_replays_noveltybench_decisions(tmp_path, capsys):
    import json

    data = _tiny_generations(tmp_path, groups=6)
    module = _benchmark("cascade_replay")
    groups, partitions = module.load(data)
    judge = module.ReplayJudge(groups, partitions)
    # Greedy with the replayed answers gives back NoveltyBench's partitions.
    from darling.partitioning import partition_groups

    assert [r.labels for r in partition_groups(groups, judge, mode="greedy")] == partitions
    out_file = tmp_path / "replay.json"
    assert module.main(["--data-dir", str(data), "--output", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "[greedy] held-out groups: 3" in out and "| unigram F1 |" in out
    rows = json.loads(out_file.read_text())["rows"]
    assert {r["mode"] for r in rows} == {"greedy", "all_pairs"}
    for row in rows:
        assert row["calibration_agreement"] >= 0.97
        assert row["cross_encoder_pairs"] <= row["loop_pairs"]
        assert row["tradeoff"][0][1] == 1.0  # settling nothing keeps every partition
    assert module.main(["--data-dir", str(tmp_path / "none")]) == 2
