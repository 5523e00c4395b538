"""benchmarks/short_text_rule.py: which pairs of real short answers it scores, and how it counts errors."""

from __future__ import annotations

from darling.partitioning.shortcut import short_text_equivalent
from short_text_rule import short_pairs, summarize


def test_only_short_pairs_with_a_named_item_are_scored_with_the_item_as_truth():
    answers = [
        "The continent is Africa.",  # Africa
        "Africa",  # Africa
        "The continent is Asia.",  # Asia
        "I am not sure.",  # names no continent
        "I do not know.",  # names none either: a pair of two such answers has no truth
        "The largest continent on Earth is Asia, by far.",  # more than five words: never scored
    ]
    scored = short_pairs("continent", answers)
    pairs = {(p["a"], p["b"]): p["same_item"] for p in scored}
    both = {(p["a"], p["b"]) for p in scored if p["both_name_items"]}
    assert both == {
        ("The continent is Africa.", "Africa"),
        ("The continent is Africa.", "The continent is Asia."),
        ("Africa", "The continent is Asia."),
    }
    assert pairs[("The continent is Africa.", "Africa")] is True
    assert pairs[("The continent is Africa.", "The continent is Asia.")] is False
    assert pairs[("Africa", "I am not sure.")] is False
    assert ("I am not sure.", "I do not know.") not in pairs
    assert not any("by far" in a or "by far" in b for a, b in pairs)
    assert len(pairs) == 9  # 4 short answers naming or not, minus the one pair naming nothing: C(5,2) - 1


def test_real_answers_the_overlap_rule_merges_and_exact_equality_splits():
    # Answers SmolLM2-135M-Instruct gave (benchmarks/results/short_text_rule): the references' rule
    # merges two different items that share a function word; exact equality never merges them.
    assert short_text_equivalent("the queen", "The Pawn.", rule="overlap") is True
    assert short_text_equivalent("The continent is Africa.", "The continent is Asia.", rule="overlap") is True
    assert short_text_equivalent("the queen", "The Pawn.", rule="exact") is False
    # Neither rule sees that a sentence and a bare name give the same answer.
    for rule in ("overlap", "exact"):
        assert short_text_equivalent("The continent is Africa.", "Africa", rule=rule) is False


def test_false_merges_and_splits_are_counted_per_rule():
    def pair(same, both, overlap, exact, judge):
        return {
            "a": "x",
            "b": "y",
            "same_item": same,
            "both_name_items": both,
            "overlap": overlap,
            "exact": exact,
            "judge": judge,
        }

    pairs = [
        pair(False, True, True, False, False),  # two different items
        pair(False, False, True, False, True),  # an item and no item
        pair(True, True, False, False, True),  # the same item
    ]
    summary = summarize(pairs)
    counts = {
        rule: tuple(summary[rule][k] for k in ("false_merges_items", "false_merges_no_item", "false_splits"))
        for rule in summary
    }
    assert counts == {"overlap": (1, 1, 1), "exact": (0, 0, 1), "judge": (0, 1, 0)}
    assert summary["overlap"]["examples"] == [("x", "y")] * 3
