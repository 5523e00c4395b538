"""Training a partition classifier: pair data, metrics, the class-weighted loss and the Trainer."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from transformers import TrainerCallback

from conftest import NOVELTYBENCH, REPO_ROOT, requires_shared_data
from darling.classifier import ClassifierSettings, PartitionClassifier
from darling.classifier.pair_data import kfold_indices
from darling.classifier.training import (
    PartitionClassifierTrainer,
    PartitionClassifierTrainingArguments,
    class_indices,
    class_weights,
    freeze_layers,
    load_pairs,
    split_pairs,
    weighted_cross_entropy,
)
from darling.partitioning.pair_metrics import balanced_accuracy, choose_threshold, pair_metrics, roc_auc
from darling.tiny_models import tiny_sequence_classifier

PAIRS = [
    ("the cat sat on the mat", "a cat sat on a mat", 1),
    ("hello there friend", "goodbye now", 0),
    ("one two three", "three two one", 1),
    ("red apples", "blue ocean waves", 0),
    ("dogs bark loudly", "cats meow softly", 0),
    ("paris is in france", "rome is in italy", 0),
]


def _classifier(seed: int = 0, num_layers: int = 1) -> PartitionClassifier:
    model, tokenizer = tiny_sequence_classifier("bert", hidden_size=16, num_layers=num_layers, seed=seed)
    return PartitionClassifier(model, tokenizer, ClassifierSettings(max_tokens_per_text=32))


@pytest.fixture
def cross_clf():
    return _classifier()


def _args(tmp_path, **overrides):
    settings = dict(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        max_steps=2,
        warmup_steps=1,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=1,
        save_steps=2,
        logging_steps=1,
        disable_tqdm=True,
        seed=0,
    )
    settings.update(overrides)
    return PartitionClassifierTrainingArguments(**settings)


# --- metrics -------------------------------------------------------------------------------------


def test_roc_auc_matches_hand_worked_values():
    # Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 0.35 beats one, 0.8 beats both -> 3/4.
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    # Ties count 1/2: positives (0.2, 0.9, 0.6) vs negatives (0.2, 0.6) -> (0.5 + 2 + 1.5) / 6.
    assert roc_auc([0.2, 0.2, 0.6, 0.9, 0.6], [0, 1, 0, 1, 1]) == pytest.approx(4 / 6)
    assert roc_auc([0.9, 0.1], [1, 0]) == 1.0
    assert roc_auc([0.9, 0.1], [0, 1]) == 0.0


def test_roc_auc_agrees_with_the_pairwise_definition_on_random_scores():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=40) / 5  # many ties
    labels = rng.integers(0, 2, size=40)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairwise = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert roc_auc(scores, labels) == pytest.approx(pairwise)


def test_roc_auc_of_a_single_class_is_nan_and_lengths_must_match():
    assert math.isnan(roc_auc([0.1, 0.2], [1, 1]))
    with pytest.raises(ValueError, match="differ in length"):
        roc_auc([0.1, 0.2, 0.3], [1, 0])


def test_balanced_accuracy_averages_the_recall_of_each_class():
    # Recall on positives 1/2, on negatives 3/4.
    assert balanced_accuracy([1, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0]) == pytest.approx((0.5 + 0.75) / 2)


def test_choose_threshold_maximizes_balanced_accuracy_not_accuracy():
    negatives = [0.1, 0.2, 0.3, 0.4, 0.6, 0.65]
    positives = [0.5, 0.7]
    probs, labels = negatives + positives, [0] * 6 + [1] * 2
    threshold = choose_threshold(probs, labels)
    # Accuracy peaks above 0.65 (7/8 right, balanced 0.75); balanced accuracy at 0.45 (5/6 and 2/2).
    assert threshold == pytest.approx(0.45)
    metrics = pair_metrics(probs, labels, threshold)
    assert metrics["balanced_accuracy"] == pytest.approx((1 + 4 / 6) / 2)
    assert metrics["accuracy"] == pytest.approx(6 / 8)


def test_chosen_threshold_separates_scores_under_the_strict_rule():
    # Equivalent iff P > threshold: a threshold sitting on 0.3 would misclassify the positive 0.3.
    assert choose_threshold([0.1, 0.2, 0.3, 0.9], [0, 0, 1, 1]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="both"):
        choose_threshold([0.1, 0.2], [0, 0])


# --- loss ----------------------------------------------------------------------------------------


def test_class_weights_are_inverse_frequency():
    assert class_weights([0, 0, 0, 1]).tolist() == pytest.approx([4 / 6, 4 / 2])
    assert class_weights([0, 1, 1, 0]).tolist() == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="Every class"):
        class_weights([0, 0, 0])


def test_weighted_cross_entropy_is_the_weighted_mean_of_per_pair_losses():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-1.0, 1.5], [1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 0])
    weights = torch.tensor([0.5, 3.0])
    per_pair = F.cross_entropy(logits, labels, reduction="none")
    w = weights[labels]
    expected = (w * per_pair).sum() / w.sum()
    assert weighted_cross_entropy(logits, labels, weights).item() == pytest.approx(expected.item())
    assert weighted_cross_entropy(logits, labels, None).item() == pytest.approx(per_pair.mean().item())


def test_trainer_loss_weights_the_minority_class(tmp_path, cross_clf):
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=PAIRS)
    # 2 equivalent vs 4 not: the equivalent class weighs 6 / (2 * 2) = 1.5, the other 6 / (2 * 4) = 0.75.
    assert trainer.class_weights.tolist() == pytest.approx([0.75, 1.5])
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    loss = trainer.compute_loss(cross_clf.model, dict(batch))
    logits = cross_clf.model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    expected = weighted_cross_entropy(logits, batch["labels"], torch.tensor([0.75, 1.5]))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.item() != pytest.approx(F.cross_entropy(logits, batch["labels"]).item(), rel=1e-4)
    unweighted = PartitionClassifierTrainer(
        cross_clf, _args(tmp_path, class_weighting="none"), train_dataset=PAIRS
    )
    assert unweighted.class_weights is None


def test_class_weights_follow_the_class_index_when_equivalent_label_is_zero(tmp_path, cross_clf):
    cross_clf.settings = cross_clf.settings.replace(equivalent_label=0)
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=PAIRS)
    # Class 0 now means "equivalent" (the 2 similar pairs): it carries their weight, 1.5.
    assert trainer.class_weights.tolist() == pytest.approx([1.5, 0.75])
    assert [trainer.train_dataset[i]["labels"] for i in range(2)] == [0, 1]
    assert class_indices([1, 0, 1], equivalent_label=0) == [0, 1, 0]
    assert class_indices([1, 0, 1], equivalent_label=1) == [1, 0, 1]


# --- data ----------------------------------------------------------------------------------------


def test_cross_encoder_trains_on_both_orders(tmp_path, cross_clf):
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=PAIRS, eval_dataset=PAIRS)
    n = len(PAIRS)
    assert len(trainer.train_dataset) == 2 * n
    assert len(trainer.eval_dataset) == n  # evaluation scores each pair once
    forward = cross_clf.encode_pairs([(a, b) for a, b, _ in PAIRS], padding=False, return_tensors=None)
    reverse = cross_clf.encode_pairs([(b, a) for a, b, _ in PAIRS], padding=False, return_tensors=None)
    for i, (_, _, label) in enumerate(PAIRS):
        assert trainer.train_dataset[i]["input_ids"] == forward["input_ids"][i]
        assert trainer.train_dataset[n + i]["input_ids"] == reverse["input_ids"][i]
        assert trainer.train_dataset[i]["labels"] == trainer.train_dataset[n + i]["labels"] == label


def test_both_orders_can_be_turned_off(tmp_path, cross_clf):
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path, both_orders=False), train_dataset=PAIRS)
    assert len(trainer.train_dataset) == len(PAIRS)


def test_labels_follow_the_configured_equivalent_label(tmp_path, cross_clf):
    cross_clf.settings = cross_clf.settings.replace(equivalent_label=0)
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=PAIRS)
    assert [row["labels"] for row in trainer.train_dataset][: len(PAIRS)] == [1 - s for _, _, s in PAIRS]


def test_trainer_rejects_what_it_cannot_train(tmp_path, cross_clf):
    with pytest.raises(TypeError, match="PartitionClassifier"):
        PartitionClassifierTrainer(torch.nn.Linear(2, 2), _args(tmp_path), train_dataset=PAIRS)
    with pytest.raises(ValueError, match="Row 1"):
        PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=[PAIRS[0], ("a", "b", 2)])
    with pytest.raises(ValueError, match="Every class"):
        PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=[p for p in PAIRS if p[2] == 0])
    with pytest.raises(ValueError, match="class_weighting"):
        _args(tmp_path, class_weighting="inverse")


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_load_pairs_reads_a_local_jsonl_and_checks_it(tmp_path):
    rows = [
        {"prompt": f"p{i}", "generation_0": a, "generation_1": b, "similar": s}
        for i, (a, b, s) in enumerate(PAIRS)
    ]
    data = load_pairs(_write_jsonl(tmp_path / "pairs.jsonl", rows))
    assert len(data) == len(PAIRS) and data["similar"] == [s for _, _, s in PAIRS]
    with pytest.raises(ValueError, match="lacks column"):
        load_pairs(_write_jsonl(tmp_path / "bad.jsonl", [{"a": "x", "b": "y", "similar": 1}]))
    with pytest.raises(ValueError, match="must be 0 or 1"):
        load_pairs(_write_jsonl(tmp_path / "label.jsonl", [{**rows[0], "similar": 3}]))
    with pytest.raises(TypeError, match="Row 1"):
        load_pairs(_write_jsonl(tmp_path / "text.jsonl", [rows[0], {**rows[1], "generation_1": 5}]))
    (tmp_path / "pairs.txt").write_text("x")
    with pytest.raises(ValueError, match=r"\.jsonl"):
        load_pairs(tmp_path / "pairs.txt")


def test_split_keeps_groups_together_and_both_classes_in_dev():
    prompts = [f"p{i // 3}" for i in range(60)]  # 20 prompts, 3 pairs each
    labels = [int(i // 3 % 3 == 0) for i in range(60)]  # whole prompts similar, 1 in 3
    data = Dataset.from_dict(
        {"prompt": prompts, "generation_0": ["a"] * 60, "generation_1": ["b"] * 60, "similar": labels}
    )
    train, dev = split_pairs(data, dev_size=0.2, seed=1)
    assert len(train) + len(dev) == 60
    assert not set(train["prompt"]) & set(dev["prompt"])
    assert set(dev["similar"]) == {0, 1}
    assert len(dev) == pytest.approx(12, abs=3)
    with pytest.raises(ValueError, match="dev_size"):
        split_pairs(data, dev_size=1.5)


def test_kfold_is_grouped_stratified_and_covers_every_row_once():
    groups = [i // 2 for i in range(40)]
    labels = [int(g % 3 == 0) for g in groups]
    folds = kfold_indices(40, k=5, seed=0, groups=groups, labels=labels)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(40))
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
        assert 1 <= sum(labels[i] for i in test) <= 4  # 14 positives spread over 5 folds
    with pytest.raises(ValueError, match="k must be"):
        kfold_indices(3, k=5)


@requires_shared_data
def test_load_pairs_reads_the_shared_noveltybench_file():
    data = load_pairs(NOVELTYBENCH / "pairs" / "train.jsonl")
    assert len(data) == 1000 and sum(data["similar"]) == 327


# --- training ------------------------------------------------------------------------------------


class _CountSteps(TrainerCallback):
    def __init__(self):
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1


def test_training_saves_checkpoints_and_resumes_where_it_stopped(tmp_path, cross_clf):
    first = PartitionClassifierTrainer(cross_clf, _args(tmp_path, max_steps=2), train_dataset=PAIRS)
    first.train()
    checkpoint = tmp_path / "run" / "checkpoint-2"
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "optimizer.pt").is_file()

    fresh = _classifier(seed=1)
    counter = _CountSteps()
    second = PartitionClassifierTrainer(
        fresh, _args(tmp_path, max_steps=4), train_dataset=PAIRS, callbacks=[counter]
    )
    second.train(resume_from_checkpoint=str(checkpoint))
    assert second.state.global_step == 4
    assert counter.steps == 2  # only steps 3 and 4 ran
    assert (tmp_path / "run" / "checkpoint-4" / "model.safetensors").is_file()


def test_training_chooses_the_threshold_on_dev_and_saves_it_with_the_metrics(tmp_path, cross_clf):
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=PAIRS, eval_dataset=PAIRS)
    trainer.train()
    probs = cross_clf.predict_proba([(a, b) for a, b, _ in PAIRS])
    labels = [s for _, _, s in PAIRS]
    assert cross_clf.threshold == pytest.approx(choose_threshold(probs, labels))
    assert cross_clf.settings.metrics["roc_auc"] == pytest.approx(round(roc_auc(probs, labels), 4))
    assert cross_clf.settings.metrics["dev_pairs"] == len(PAIRS)
    trainer.save_model(str(tmp_path / "final"))
    saved = json.loads((tmp_path / "final" / "config.json").read_text())
    assert saved["model_type"] == "bert" and saved["darling"]["threshold"] == pytest.approx(
        cross_clf.threshold
    )
    assert (tmp_path / "final" / "README.md").is_file()  # the model card comes with the final save
    assert PartitionClassifier.from_pretrained(tmp_path / "final").settings == cross_clf.settings


def test_evaluate_reports_accuracy_balanced_accuracy_and_auc(tmp_path, cross_clf):
    trainer = PartitionClassifierTrainer(cross_clf, _args(tmp_path), train_dataset=PAIRS, eval_dataset=PAIRS)
    metrics = trainer.evaluate()
    probs = cross_clf.predict_proba([(a, b) for a, b, _ in PAIRS])
    labels = [s for _, _, s in PAIRS]
    assert metrics["eval_roc_auc"] == pytest.approx(roc_auc(probs, labels), abs=1e-6)
    assert metrics["eval_accuracy"] == pytest.approx(
        pair_metrics(probs, labels, cross_clf.threshold)["accuracy"]
    )
    assert "eval_balanced_accuracy" in metrics


def test_single_class_dev_split_keeps_the_threshold_with_a_warning(tmp_path, cross_clf):
    trainer = PartitionClassifierTrainer(
        cross_clf, _args(tmp_path, max_steps=1), train_dataset=PAIRS, eval_dataset=PAIRS[:1]
    )
    with pytest.warns(UserWarning, match="single class"):
        trainer.train()
    assert cross_clf.threshold == 0.5


def test_example_smoke_mode_runs_end_to_end(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = tmp_path / "smoke"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "examples" / "train_partition_classifier.py"),
            "--smoke",
            "--output_dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "threshold=" in result.stdout
    saved = json.loads((out / "config.json").read_text())
    assert saved["model_type"] == "bert" and "roc_auc" in saved["darling"]["metrics"]
    assert (out / "checkpoint-2").is_dir()


def test_freeze_layers_freezes_embeddings_and_bottom_blocks_only():
    clf = _classifier(num_layers=2)
    frozen = freeze_layers(clf, 1)
    trainable = {name for name, p in clf.model.named_parameters() if p.requires_grad}
    assert frozen == sum(p.numel() for p in clf.model.parameters() if not p.requires_grad) > 0
    assert not any(".embeddings." in name or ".layer.0." in name for name in trainable)
    assert any(".layer.1." in name for name in trainable)
    assert any("classifier" in name for name in trainable)  # the head always trains
    with pytest.raises(ValueError, match="between 0 and 2"):
        freeze_layers(clf, 3)
