"""The partitioning benchmarks (partition_cost, cascade_replay, classifier_agreement) on tiny judges."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

import cascade_replay
import classifier_agreement
import fit_embedding_judge
import partition_cost
from bench_io import load_generations, load_judge
from darling.classifier import ClassifierSettings, PartitionClassifier
from darling.partitioning import EmbeddingJudge, partition_groups
from darling.partitioning.pair_metrics import roc_auc
from test_benchmark_text_features import NAMES, PLACES, _story, synthetic_pairs


@pytest.fixture(scope="module")
def embedding_judge(tmp_path_factory, tiny_encoder) -> str:
    """An EmbeddingJudge fitted and saved by fit_embedding_judge.py."""
    path = tmp_path_factory.mktemp("judge")
    pairs, labels = synthetic_pairs(3, 40)
    with open(path / "pairs.jsonl", "w") as handle:
        for (a, b), similar in zip(pairs, labels):
            handle.write(json.dumps({"generation_0": a, "generation_1": b, "similar": similar}) + "\n")
    argv = ["--pairs", str(path / "pairs.jsonl"), "--model", tiny_encoder, "--max-seq-length", "32"]
    assert fit_embedding_judge.main([*argv, "--output", str(path / "judge")]) == 0
    return str(path / "judge")


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> str:
    """A tiny cross-encoder PartitionClassifier checkpoint."""
    from darling.tiny_models import tiny_sequence_classifier

    model, tokenizer = tiny_sequence_classifier("bert", hidden_size=16, num_layers=1)
    path = tmp_path_factory.mktemp("classifier") / "clf"
    PartitionClassifier(
        model, tokenizer, ClassifierSettings(threshold=0.5, max_tokens_per_text=32)
    ).save_pretrained(path)
    return str(path)


def tiny_generations(tmp_path: Path, groups: int) -> Path:
    """Groups of four generations: three about one character, one about another (NoveltyBench format)."""
    data = tmp_path / "generations"
    data.mkdir()
    rng = random.Random(1)
    with open(data / "tiny.jsonl", "w") as handle:
        for _ in range(groups):
            name, place = rng.choice(NAMES), rng.choice(PLACES)
            texts = [_story(rng, name, place) for _ in range(3)] + [_story(rng, "Zed", "Nowhere")]
            handle.write(json.dumps({"generations": texts, "partition": [0, 0, 0, 1]}) + "\n")
    return data


def test_fit_embedding_judge_saves_the_threshold_fit_chooses(embedding_judge, tiny_encoder):
    loaded = load_judge(embedding_judge)
    assert isinstance(loaded, EmbeddingJudge) and loaded.model.max_seq_length == 32
    pairs, labels = synthetic_pairs(3, 40)
    refit = EmbeddingJudge(tiny_encoder, max_seq_length=32)
    refit.fit(pairs, labels)
    assert loaded.threshold == pytest.approx(refit.threshold)
    assert fit_embedding_judge.main(["--pairs", "missing.jsonl", "--output", "x"]) == 2


@pytest.mark.parametrize("kind", ["embedding", "classifier"])
def test_agreement_compares_the_judge_with_noveltybench_partitions(
    tmp_path, kind, embedding_judge, classifier, capsys
):
    path = embedding_judge if kind == "embedding" else classifier
    data = tiny_generations(tmp_path, groups=3)
    report = tmp_path / "agreement.md"
    argv = ["--judge", path, "--data-dir", str(data), "--threads", "1", "--report", str(report)]
    assert classifier_agreement.main(argv) == 0
    out = capsys.readouterr().out
    assert "3 groups, 18 pairs; NoveltyBench calls 50.0% of the pairs equivalent" in out
    # The AUC is that of the judge's scores against "same class", over every within-group pair.
    groups, partitions = load_generations(data)
    judge = load_judge(path)
    scores, same = [], []
    for texts, labels in zip(groups, partitions):
        for i in range(4):
            for j in range(i + 1, 4):
                scores += judge.scores([(texts[i], texts[j])])
                same.append(int(labels[i] == labels[j]))
    expected = roc_auc(np.array(scores), np.array(same))
    assert re.search(rf"same-class pairs: \*\*{expected:.3f}\*\*", out)
    assert "| its own (" in out and "| matched to NoveltyBench's share (" in out
    assert report.read_text().rstrip().endswith(f"--report {report}`")
    assert classifier_agreement.main(["--judge", path, "--data-dir", str(tmp_path / "none")]) == 2


@pytest.mark.parametrize("kind", ["embedding", "classifier"])
def test_partition_cost_exact_mode_reproduces_the_loop(tmp_path, kind, embedding_judge, classifier):
    path = embedding_judge if kind == "embedding" else classifier
    data = tiny_generations(tmp_path, groups=7)
    out_file = tmp_path / "cost.json"
    argv = ["--judge", path, "--data-dir", str(data), "--groups", "3", "--threads", "1", "--fast", "lexical"]
    argv += ["--calibration-groups", "3", "--groups-per-call", "2", "--output", str(out_file)]
    assert partition_cost.main([*argv, "--report", str(tmp_path / "cost.md")]) == 0
    results = json.loads(out_file.read_text())
    for mode in ("all_pairs", "greedy"):
        row = results["modes"][mode]
        assert row["exact_same_partition"] == 1.0  # exact mode must give the loop's partitions
        assert row["exact_pairs_per_group"] <= row["loop_pairs_per_group"] <= 6
        assert row["approx_groups"] == 3 and row["calibration_groups"] == 3 and row["fast_stage"] == "lexical"
        assert row["calibration_agreement"] >= 0.97 and 0.0 <= row["approx_same_partition"] <= 1.0
        assert row["approx_judge_pairs_per_group"] <= row["approx_pairs_per_group"]
    assert "| `greedy` |" in (tmp_path / "cost.md").read_text()


def test_partition_cost_without_calibration_groups_skips_approximate_mode(tmp_path, classifier):
    data = tiny_generations(tmp_path, groups=3)
    out_file = tmp_path / "cost.json"
    argv = ["--judge", classifier, "--data-dir", str(data), "--groups", "3", "--calibration-groups", "0"]
    assert partition_cost.main([*argv, "--output", str(out_file)]) == 0
    assert "approx_seconds" not in json.loads(out_file.read_text())["modes"]["greedy"]
    assert partition_cost.main(["--data-dir", str(tmp_path / "none")]) == 2


def test_uncached_embedding_judge_encodes_every_pair_again(embedding_judge):
    judge = load_judge(embedding_judge)
    loop = partition_cost.uncached(judge)
    assert loop.cache_size == 0 and loop.threshold == judge.threshold and loop.model is judge.model
    assert loop.scores([("a cat", "a dog")]) == pytest.approx(judge.scores([("a cat", "a dog")]), abs=1e-6)


def test_cascade_replay_replays_noveltybench_decisions(tmp_path, capsys):
    data = tiny_generations(tmp_path, groups=6)
    groups, partitions = load_generations(data)
    judge = cascade_replay.ReplayJudge(groups, partitions)
    # Greedy with the replayed answers gives back NoveltyBench's partitions.
    assert [r.labels for r in partition_groups(groups, judge, mode="greedy")] == partitions
    out_file = tmp_path / "replay.json"
    assert cascade_replay.main(["--data-dir", str(data), "--output", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "[greedy] held-out groups: 3" in out and "| unigram F1 |" in out
    rows = json.loads(out_file.read_text())["rows"]
    assert {r["mode"] for r in rows} == {"greedy", "all_pairs"}
    for row in rows:
        assert row["calibration_agreement"] >= 0.97
        assert row["cross_encoder_pairs"] <= row["loop_pairs"]
        assert row["tradeoff"][0][1] == 1.0  # settling nothing keeps every partition
    assert cascade_replay.main(["--data-dir", str(tmp_path / "none")]) == 2
