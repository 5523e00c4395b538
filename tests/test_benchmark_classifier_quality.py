"""benchmarks/classifier_quality.py: the cross-validation, leave-one-labeller-out and held-out protocols."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import classifier_quality
from darling.partitioning import EmbeddingJudge
from darling.partitioning.pair_metrics import balanced_accuracy, choose_threshold, pair_metrics, roc_auc
from feature_head import RECIPE, cosines, embed, load_encoder
from test_benchmark_text_features import synthetic_pairs


def write_pairs(path: Path, seed: int, n: int) -> tuple[list[tuple[str, str]], list[int]]:
    """NoveltyBench-format pairs where shared names and places decide equivalence; four labellers."""
    pairs, labels = synthetic_pairs(seed, n)
    with open(path, "w") as handle:
        for index, ((a, b), similar) in enumerate(zip(pairs, labels)):
            row = {"prompt": f"p{seed}-{index // 2}", "labeler": f"L{index // 2 % 4}", "similar": similar}
            handle.write(json.dumps({**row, "generation_0": a, "generation_1": b}) + "\n")
    return pairs, labels


def args_for(tmp_path, tiny_encoder, *extra):
    pairs = tmp_path / "pairs.jsonl"
    if not pairs.exists():
        write_pairs(pairs, 0, 72)
    common = ["--encoder", tiny_encoder, "--max_seq_length", "32", "--opening_tokens", "4"]
    return ["--pairs", str(pairs), *common, *extra]


def test_exits_with_a_clear_message_without_the_data(tmp_path):
    with pytest.raises(SystemExit, match="shared NoveltyBench data"):
        classifier_quality.main(["--pairs", str(tmp_path / "missing.jsonl")])


@pytest.mark.parametrize("protocol", ["kfold", "labellers"])
def test_cross_validation_scores_every_row_on_the_same_folds(tmp_path, tiny_encoder, protocol, capsys):
    report = tmp_path / "report.md"
    argv = args_for(tmp_path, tiny_encoder, "--folds", "3", "--protocol", protocol, "--report", str(report))
    results = classifier_quality.main(argv)
    folds = 3 if protocol == "kfold" else 4  # four labellers: each one's pairs are the test set once
    assert len(results) == 7  # the EmbeddingJudge, then 3 feature sets x 2 threshold rules
    assert all(f"({folds} folds)" in name for name, _, _ in results)

    # The judge row is EmbeddingJudge.fit's rule, recomputed here on the same folds.
    pairs, labels = synthetic_pairs(0, 72)
    y = np.array(labels)
    if protocol == "kfold":
        prompts = [f"p0-{i // 2}" for i in range(72)]
        splits = classifier_quality.fold_splits(labels, prompts, 3, 0)
    else:
        splits = classifier_quality.labeller_splits(labels, [f"L{i // 2 % 4}" for i in range(72)], 0)
    vectors = embed(load_encoder(tiny_encoder, 32), [t for p in pairs for t in p], opening_tokens=4)
    cos = cosines(pairs, vectors)
    expected = []
    for fit, dev, test in splits:
        train = np.concatenate([fit, dev])
        expected.append(pair_metrics(cos[test], y[test], choose_threshold(cos[train], y[train]))["roc_auc"])
    name, judge_row, _ = results[0]
    assert name.startswith(classifier_quality.JUDGE)
    assert judge_row["roc_auc"][0] == pytest.approx(np.mean(expected))

    # Names and places decide these pairs: the recipe at threshold 0.5 beats the random encoder's cosine.
    recipe = dict((n, m) for n, m, _ in results)[f"head on {RECIPE}, threshold 0.5 ({folds} folds)"]
    assert recipe["roc_auc"][0] > 0.95 and recipe["balanced_accuracy"][0] > 0.9
    assert recipe["roc_auc"][0] > judge_row["roc_auc"][0]
    out = capsys.readouterr().out
    assert re.search(
        rf"the recipe minus the earlier recipe .*, roc_auc: [+-]\d\.\d{{3}} ± \d\.\d{{3}}, higher on \d+ of {folds} folds",
        out,
    )
    assert re.search(r"the recipe \(threshold 0\.5\) minus the EmbeddingJudge, roc_auc: \+0\.\d{3}", out)
    text = report.read_text()
    assert "| classifier | accuracy | balanced accuracy | ROC AUC | training time a fold |" in text
    assert text.rstrip().endswith(f"--protocol {protocol} --report {report}`")


def test_heldout_fits_on_all_pairs_and_scores_once(tmp_path, tiny_encoder):
    held_pairs, held_labels = write_pairs(tmp_path / "held.jsonl", 1, 40)
    argv = args_for(tmp_path, tiny_encoder, "--heldout", str(tmp_path / "held.jsonl"), "--bootstrap", "50")
    rows = classifier_quality.main(argv)
    naive, default, fitted, scale_bias, recipe = rows.values()

    # (a) and (b): the cosine as it is, and the threshold EmbeddingJudge.fit chooses on all the pairs.
    train_pairs, train_labels = synthetic_pairs(0, 72)
    judge = EmbeddingJudge(load_encoder(tiny_encoder, 32))
    judge.fit(train_pairs, train_labels)
    cos = np.array(judge.scores(held_pairs))
    assert fitted["threshold"] == pytest.approx(judge.threshold)
    assert fitted["balanced_accuracy"] == pytest.approx(balanced_accuracy(cos > judge.threshold, held_labels))
    assert naive["balanced_accuracy"] == pytest.approx(balanced_accuracy(cos > 0.5, held_labels))
    assert default["balanced_accuracy"] == pytest.approx(balanced_accuracy(cos > 0.8, held_labels))
    assert naive["roc_auc"] == fitted["roc_auc"] == pytest.approx(roc_auc(cos, held_labels))
    # (c) decides on the cosine alone: its P > 0.5 is the cosine threshold it reports.
    assert scale_bias["roc_auc"] == pytest.approx(naive["roc_auc"])
    assert scale_bias["balanced_accuracy"] == pytest.approx(
        balanced_accuracy(cos > scale_bias["cosine_threshold"], held_labels)
    )
    # (d) reads the names the random encoder misses.
    assert recipe["roc_auc"] > 0.95 > naive["roc_auc"]


def test_finetune_recipe_trains_a_cross_encoder_per_fold(tmp_path, tiny_encoder):
    argv = args_for(tmp_path, tiny_encoder, "--folds", "3", "--recipe", "finetune", "--max_folds", "1")
    results = classifier_quality.main([*argv, "--max_steps", "1", "--batch_size", "4", "--accumulation", "1"])
    ((name, metrics, times),) = results
    assert name == "cross-encoder fine-tuned, 1 steps (1 folds)" and len(times) == 1
    assert all(0.0 <= metrics[key][0] <= 1.0 for key in classifier_quality.METRICS)
