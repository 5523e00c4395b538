"""DiversityRewardFunction: DARLING's per-group semantic diversity as a TRL reward function."""

from __future__ import annotations

import pickle
import threading

import pytest

from darling.partitioning import CallableJudge, ExactMatchJudge, LexicalJudge, diversity_scores, partition
from darling.rewards import DiversityRewardFunction
from darling.rewards import distributed as dist_helpers


def first_word_equal(a: str, b: str) -> bool:
    """Module-level (hence picklable) judge: same first word means equivalent."""
    return a.split()[:1] == b.split()[:1]


def judge():
    return CallableJudge(first_word_equal, short_text_rule="off")


class Recorder:
    """Stands in for TRL's ``log_metric`` (called) and ``log_extra`` (``.extra``)."""

    def __init__(self):
        self.metrics = {}
        self.columns = {}

    def __call__(self, name, value):
        self.metrics[name] = value

    def extra(self, column, values):
        self.columns.setdefault(column, []).extend(values)


def suffix_correct(completions, **kwargs):
    """Module-level correctness reward: a completion is correct when it ends with 'ok'."""
    return [1.0 if c.endswith("ok") else 0.0 for c in completions]


# --- scores ------------------------------------------------------------------------------------


def test_paper_example_two_equivalent_of_four():
    reward = DiversityRewardFunction(judge=judge(), num_generations=4)
    out = reward(prompts=["p"] * 4, completions=["cat one", "cat two", "dog x", "bird y"])
    assert out == pytest.approx([2 / 3, 2 / 3, 1.0, 1.0])


def test_all_equivalent_group_gets_floor_and_all_distinct_gets_one():
    reward = DiversityRewardFunction(judge=judge(), num_generations=3, floor=0.1)
    out = reward(prompts=["a"] * 3 + ["b"] * 3, completions=["x 1", "x 2", "x 3", "p", "q", "r"])
    assert out == pytest.approx([0.1, 0.1, 0.1, 1.0, 1.0, 1.0])


def test_floor_is_configurable():
    reward = DiversityRewardFunction(judge=judge(), num_generations=2, floor=0.0)
    assert reward(prompts=["a", "a"], completions=["same", "same"]) == [0.0, 0.0]


def test_scores_equal_partition_then_diversity_scores_per_group():
    groups = [
        ["alpha beta", "alpha gamma", "delta", "epsilon zeta", "epsilon"],
        ["one", "two", "three", "two again", "one more"],
    ]
    reward = DiversityRewardFunction(judge=judge(), floor=0.1)
    expected = [diversity_scores(partition(g, judge()), floor=0.1) for g in groups]
    assert reward.score_groups(groups) == expected


def test_greedy_mode_differs_from_all_pairs_on_a_non_transitive_judge():
    # a~b and b~c but not a~c: union-find joins all three, greedy (head a) leaves c alone.
    pairs = {frozenset({"a", "b"}), frozenset({"b", "c"})}

    def chain(x, y):
        return frozenset({x, y}) in pairs

    groups = [["a", "b", "c"]]
    all_pairs = DiversityRewardFunction(judge=CallableJudge(chain, short_text_rule="off"), floor=0.0)
    greedy = DiversityRewardFunction(
        judge=CallableJudge(chain, short_text_rule="off"), mode="greedy", floor=0.0
    )
    assert all_pairs.score_groups(groups) == [[0.0, 0.0, 0.0]]
    assert greedy.score_groups(groups) == [[0.5, 0.5, 1.0]]


def test_short_text_rule_is_passed_to_partitioning():
    never = CallableJudge(lambda a, b: False, short_text_rule="off")
    texts = ["do it", "do not do it"]
    assert DiversityRewardFunction(judge=never, short_text_rule="overlap", floor=0.0).score_groups(
        [texts]
    ) == [[0.0, 0.0]]
    assert DiversityRewardFunction(judge=never, short_text_rule="exact", floor=0.0).score_groups([texts]) == [
        [1.0, 1.0]
    ]


# --- groups ------------------------------------------------------------------------------------


def test_groups_inferred_from_consecutive_equal_prompts():
    reward = DiversityRewardFunction(judge=judge(), floor=0.0)
    out = reward(prompts=["a", "a", "b", "b", "b"], completions=["x", "x", "y", "z", "y"])
    assert out == pytest.approx([0.0, 0.0, 0.5, 1.0, 0.5])


def test_inferred_groups_merge_a_prompt_repeated_back_to_back():
    # The documented caveat: two groups of the same prompt in a row are one group without num_generations.
    texts = ["x", "y", "x", "y"]
    merged = DiversityRewardFunction(judge=judge(), floor=0.0)(prompts=["a"] * 4, completions=texts)
    split = DiversityRewardFunction(judge=judge(), floor=0.0, num_generations=2)(
        prompts=["a"] * 4, completions=texts
    )
    assert merged == pytest.approx([2 / 3] * 4)
    assert split == [1.0] * 4


def test_conversational_prompts_are_grouped_by_equality():
    prompts = [[{"role": "user", "content": "q1"}]] * 2 + [[{"role": "user", "content": "q2"}]] * 2
    completions = [[{"role": "assistant", "content": t}] for t in ["a", "a", "b", "c"]]
    out = DiversityRewardFunction(judge=judge(), floor=0.0)(prompts=prompts, completions=completions)
    assert out == [0.0, 0.0, 1.0, 1.0]


def test_count_not_divisible_by_num_generations_is_a_clear_error():
    reward = DiversityRewardFunction(judge=judge(), num_generations=4)
    with pytest.raises(ValueError, match="not a multiple of num_generations=4"):
        reward(prompts=["p"] * 6, completions=["x"] * 6)


def test_group_of_one_gets_one():
    reward = DiversityRewardFunction(judge=judge(), num_generations=1, floor=0.1)
    assert reward(prompts=["a", "b"], completions=["x", "y"]) == [1.0, 1.0]


# --- bad and unusual input -----------------------------------------------------------------------


def test_empty_completions_are_scored():
    reward = DiversityRewardFunction(judge=ExactMatchJudge(), num_generations=4, floor=0.1)
    out = reward(prompts=["p"] * 4, completions=["", "", "a full answer here", "another answer entirely"])
    assert out == pytest.approx([2 / 3, 2 / 3, 1.0, 1.0])


def test_tool_call_message_without_content_counts_as_empty_text():
    completions = [
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
            }
        ],
        [{"role": "assistant", "content": ""}],
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "tool", "name": "f", "content": "tool output text"},
            {"role": "assistant", "content": "final answer"},
        ],
        [{"role": "assistant", "content": "final answer"}],
    ]
    reward = DiversityRewardFunction(judge=ExactMatchJudge(normalize=False), num_generations=4, floor=0.0)
    # The tool message is skipped: rollout 2's text is "final answer", equal to rollout 3's.
    assert reward(prompts=["p"] * 4, completions=completions) == pytest.approx([2 / 3] * 4)


def test_mismatched_lengths_raise():
    reward = DiversityRewardFunction(judge=judge(), num_generations=2)
    with pytest.raises(ValueError, match="3 prompts but 2 completions"):
        reward(prompts=["p"] * 3, completions=["a", "b"])


def test_none_completion_raises_naming_its_index():
    reward = DiversityRewardFunction(judge=judge(), num_generations=2)
    with pytest.raises(TypeError, match=r"completions\[1\]` is None"):
        reward(prompts=["p", "p"], completions=["a", None])


def test_needs_exactly_one_of_classifier_and_judge():
    with pytest.raises(ValueError, match="neither"):
        DiversityRewardFunction()
    with pytest.raises(ValueError, match="both"):
        DiversityRewardFunction(classifier=object(), judge=judge())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "pairs"}, "Unknown partition mode"),
        ({"floor": 1.5}, "floor"),
        ({"num_generations": 0}, "num_generations"),
        ({"short_text_rule": "fuzzy"}, "short_text_rule"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_invalid_settings_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DiversityRewardFunction(judge=judge(), **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"floor": None}, "`floor` must be a number"),
        ({"correctness_threshold": None}, "correctness_threshold"),
    ],
)
def test_non_numbers_fail_at_construction(kwargs, message):
    with pytest.raises(TypeError, match=message):
        DiversityRewardFunction(judge=judge(), **kwargs)


def test_flat_texts_are_an_error_not_groups_of_characters():
    with pytest.raises(TypeError, match=r"`groups\[0\]` is a single str.*\[texts\]"):
        DiversityRewardFunction(judge=judge()).score_groups(["a cat", "a cat", "a dog"])


def test_a_correctness_reward_that_returns_nothing_is_named():
    reward = DiversityRewardFunction(judge=judge(), correctness_reward=lambda **kwargs: None)
    with pytest.raises(TypeError, match="`correctness_reward` returned None"):
        reward(prompts=["p", "p"], completions=["a", "b"])


def test_a_num_generations_that_is_not_the_group_size_is_an_error_not_mixed_groups():
    prompts, completions = ["p1", "p1", "p2", "p2"], ["x", "y", "x", "y"]
    # e.g. GRPOConfig(num_generations=4, num_generations_eval=2): evaluation groups hold 2 rollouts.
    with pytest.raises(ValueError, match=r"Group 0 of num_generations=4 .*num_generations_eval"):
        DiversityRewardFunction(judge=ExactMatchJudge(), num_generations=4)(
            prompts=prompts, completions=completions
        )
    right = DiversityRewardFunction(judge=ExactMatchJudge(), num_generations=2)
    assert right(prompts=prompts, completions=completions) == [1.0] * 4
    # Equal prompts get the same key in every process, whatever its hash seed (keys cross processes).
    import os
    import subprocess
    import sys

    from darling.rewards._groups import prompt_key

    code = "from darling.rewards._groups import prompt_key; print(prompt_key([{'role': 'user', 'content': 'hi'}]))"
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert keys == {prompt_key([{"role": "user", "content": "hi"}])}

    class Image:  # two loads of one image are two objects (their repr holds their address)
        pass

    def vision_prompt(text):
        return [
            {"role": "user", "content": [{"type": "image", "image": Image()}, {"type": "text", "text": text}]}
        ]

    group = [vision_prompt("What is this?") for _ in range(2)] + [
        vision_prompt("Describe it.") for _ in range(2)
    ]
    assert right(prompts=group, completions=completions) == [1.0] * 4  # one group per prompt, no error
    assert prompt_key(group[0]) == prompt_key(group[1]) != prompt_key(group[2])


def test_single_text_value_is_a_fraction():
    assert diversity_scores([0], single=0.5) == [0.5]
    with pytest.raises(ValueError, match="`single` must be in"):
        diversity_scores([0], single=2.0)


def test_non_judge_fails_with_accepted_types():
    with pytest.raises(TypeError, match="Cannot use int as a judge"):
        DiversityRewardFunction(judge=3)


# --- partition_correct ----------------------------------------------------------------------------


def test_partition_correct_scores_only_correct_rollouts_and_floors_the_rest():
    reward = DiversityRewardFunction(
        judge=judge(), num_generations=5, floor=0.1, correctness_reward=suffix_correct
    )
    completions = ["a ok", "a ok", "b ok", "a wrong", "b wrong"]
    out = reward(prompts=["p"] * 5, completions=completions)
    # Among the 3 correct ones: classes {0,1} and {2} -> (3-2)/2 = 0.5 and 1.0; incorrect -> floor.
    assert out == pytest.approx([0.5, 0.5, 1.0, 0.1, 0.1])
    assert reward.last_stats["correct_fraction"] == pytest.approx(0.6)
    assert reward.last_stats["mean_classes"] == 2


def test_partition_correct_group_with_at_most_one_correct_rollout_gets_floor_everywhere():
    # As the official partition_correct: a lone correct rollout has no correct peer, so it gets the floor too.
    reward = DiversityRewardFunction(
        judge=judge(), num_generations=3, floor=0.1, correctness_reward=suffix_correct
    )
    out = reward(prompts=["a"] * 3 + ["b"] * 3, completions=["x ok", "no", "no", "no", "nope", "nah"])
    assert out == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert reward.score_groups([["x", "y"]], correct=[[True, False]]) == [[0.1, 0.1]]
    # Without correctness, a group of one rollout keeps 1.0 (nothing to be equivalent to).
    assert reward.score_groups([["x"]]) == [[1.0]]


def test_partition_correct_passes_dataset_columns_and_threshold():
    seen = {}

    def graded(prompts, completions, answer, **kwargs):
        seen["answer"] = answer
        seen["has_log_metric"] = "log_metric" in kwargs
        return [None, 0.5, 0.9, float("nan"), 0.95]

    reward = DiversityRewardFunction(
        judge=judge(), num_generations=5, floor=0.0, correctness_reward=graded, correctness_threshold=0.6
    )
    out = reward(
        prompts=["p"] * 5, completions=["a", "b", "c", "d", "e"], answer=["1"] * 5, log_metric=Recorder()
    )
    assert seen == {"answer": ["1"] * 5, "has_log_metric": False}
    # Only rollouts 2 and 4 are correct (None, NaN and 0.5 <= 0.6 count as incorrect).
    assert out == [0.0, 0.0, 1.0, 0.0, 1.0]


# --- logging, stats, pickling -----------------------------------------------------------------------


class CountingJudge:
    """A picklable first-word judge that counts the pairs it is asked about."""

    def __init__(self):
        self.pairs = 0

    def __call__(self, a, b):
        self.pairs += 1
        return first_word_equal(a, b)


def test_log_metric_receives_darling_metrics():
    recorder, counting = Recorder(), CountingJudge()
    reward = DiversityRewardFunction(judge=CallableJudge(counting, short_text_rule="off"), num_generations=4)
    reward(
        prompts=["a"] * 4 + ["b"] * 4,
        completions=["x 1", "x 2", "y 1", "z 1", "q", "q", "q", "q"],
        log_metric=recorder,
        log_extra=recorder.extra,
    )
    assert set(recorder.metrics) == {
        "darling/mean_classes",
        "darling/mean_diversity",
        "darling/collapsed_groups",
        "darling/settled_without_model",
    }
    assert recorder.metrics["darling/mean_classes"] == pytest.approx((3 + 1) / 2)
    # Group b (four "q") collapsed to one class, group a did not.
    assert recorder.metrics["darling/collapsed_groups"] == pytest.approx(1 / 2)
    # Each rollout's class id, numbered per group in order of first occurrence, for TRL's completions table.
    assert recorder.columns == {"darling/class": [0, 0, 1, 2, 0, 0, 0, 0]}
    assert recorder.metrics["darling/mean_diversity"] == pytest.approx((2 / 3 * 2 + 2 + 0.1 * 4) / 8)
    # Group b's 6 pairs are identical texts; all 6 pairs of group a go to the judge (union-find only
    # skips pairs already in one class, and no two of a's texts are identical).
    assert counting.pairs == 6
    assert recorder.metrics["darling/settled_without_model"] == pytest.approx(1 - counting.pairs / 12)
    assert reward.last_stats["num_groups"] == 2


def test_settled_without_model_counts_identical_pairs():
    counting = CountingJudge()
    reward = DiversityRewardFunction(
        judge=CallableJudge(counting, short_text_rule="overlap"), num_generations=4
    )
    long_a = "this is a long answer with many words"
    long_b = "that is another long answer with many more words"
    reward.score_groups([[long_a, long_a, long_b, "short"]])
    # (a, a) and both pairs of the copy are settled as identical; (a, b), (a, short), (b, short) are
    # judged (the short-text rule needs both texts short).
    assert counting.pairs == 3
    assert reward.last_stats["settled_without_model"] == pytest.approx(0.5)


def test_is_picklable_and_named_for_trl():
    reward = DiversityRewardFunction(judge=LexicalJudge(), num_generations=2)
    clone = pickle.loads(pickle.dumps(reward))
    assert reward.__name__ == clone.__name__ == "darling_diversity"
    completions = ["the cat sat on the mat", "a dog ran in the park"]
    assert clone(prompts=["p", "p"], completions=completions) == reward(
        prompts=["p", "p"], completions=completions
    )


def test_is_not_a_torch_module():
    import torch

    assert not isinstance(DiversityRewardFunction(judge=judge()), torch.nn.Module)


def test_classifier_is_used_through_its_judge_with_our_batch_size(saved_classifier):
    from darling.classifier import ClassifierJudge, PartitionClassifier

    clf = PartitionClassifier.from_pretrained(saved_classifier)
    reward = DiversityRewardFunction(classifier=clf, num_generations=4, floor=0.0, batch_size=3)
    assert isinstance(reward.judge, ClassifierJudge) and reward.judge.batch_size == 3
    assert reward.classifier is clf and reward.classifier_id == saved_classifier
    completions = [
        "the cat sat on the mat today",
        "a dog ran far",
        "x y z w v u",
        "one two three four five six",
    ]
    # The reward is exactly the partition the classifier's judge gives, turned into diversity.
    labels = clf.partition(completions)
    assert reward(prompts=["p"] * 4, completions=completions) == diversity_scores(labels, floor=0.0)
    by_path = DiversityRewardFunction(classifier=saved_classifier, num_generations=4, floor=0.0)
    assert by_path(prompts=["p"] * 4, completions=completions) == diversity_scores(labels, floor=0.0)


def test_from_pretrained_passes_threshold_and_model_kwargs_to_the_classifier(saved_classifier):
    import torch

    reward = DiversityRewardFunction.from_pretrained(
        saved_classifier, threshold=0.32, model_kwargs={"dtype": torch.float64}, floor=0.2, batch_size=4
    )
    assert reward.judge.threshold == 0.32 and reward.classifier.threshold == 0.32
    assert reward.classifier.model.dtype == torch.float64
    assert (reward.floor, reward.judge.batch_size, reward.classifier_id) == (0.2, 4, saved_classifier)
    with pytest.raises(TypeError, match="unexpected keyword argument 'floors'"):
        DiversityRewardFunction.from_pretrained(saved_classifier, floors=0.2)


def test_a_classifier_argument_that_is_not_a_classifier_points_to_judge():
    with pytest.raises(TypeError, match=r"pass other judges .* as `judge=`"):
        DiversityRewardFunction(classifier=first_word_equal)


# --- distributed, simulated in threads ------------------------------------------------------------


class FakeProcessGroup:
    """Two 'processes' as threads exchanging rows through a barrier, like an all-gather."""

    def __init__(self, size):
        self.size = size
        self.barrier = threading.Barrier(size)
        self.slots = [None] * size
        self.local = threading.local()

    def gather_rows(self, rows):
        self.slots[self.local.rank] = list(rows)
        self.barrier.wait()
        parts = list(self.slots)
        self.barrier.wait()
        return [row for part in parts for row in part], [len(part) for part in parts]


def run_split(monkeypatch, make_reward, prompts, completions, slices):
    group = FakeProcessGroup(len(slices))
    monkeypatch.setattr(dist_helpers, "world_size", lambda: group.size)
    monkeypatch.setattr(dist_helpers, "process_index", lambda: group.local.rank)
    monkeypatch.setattr(dist_helpers, "gather_rows", group.gather_rows)
    outputs, errors = [None] * len(slices), []

    def worker(rank, part):
        group.local.rank = rank
        try:
            outputs[rank] = make_reward()(
                prompts=[prompts[i] for i in part], completions=[completions[i] for i in part]
            )
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)
            group.barrier.abort()

    threads = [threading.Thread(target=worker, args=(r, part)) for r, part in enumerate(slices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return outputs


SPLIT_PROMPTS = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
SPLIT_COMPLETIONS = ["x 1", "x 2", "y", "z", "p 1", "q", "p 2", "p 3", "m", "n", "o", "m 2"]


@pytest.mark.parametrize("num_generations", [4, None])
def test_group_split_across_processes_scores_as_on_one_process(monkeypatch, num_generations):
    def make():
        return DiversityRewardFunction(judge=judge(), num_generations=num_generations, floor=0.1)

    single = make()(prompts=SPLIT_PROMPTS, completions=SPLIT_COMPLETIONS)
    # 2 processes x 6 rows: group "b" is split 2 + 2.
    outputs = run_split(monkeypatch, make, SPLIT_PROMPTS, SPLIT_COMPLETIONS, [range(0, 6), range(6, 12)])
    assert outputs[0] + outputs[1] == single
    assert single[4:8] == pytest.approx([1 / 3, 1.0, 1 / 3, 1 / 3])


def test_uneven_process_slices_use_gathered_lengths(monkeypatch):
    def make():
        return DiversityRewardFunction(judge=judge(), num_generations=4, floor=0.1)

    single = make()(prompts=SPLIT_PROMPTS, completions=SPLIT_COMPLETIONS)
    outputs = run_split(monkeypatch, make, SPLIT_PROMPTS, SPLIT_COMPLETIONS, [range(0, 5), range(5, 12)])
    assert [len(o) for o in outputs] == [5, 7]
    assert outputs[0] + outputs[1] == single


def test_each_process_scores_only_the_groups_holding_its_rows(monkeypatch):
    calls = []

    class Recording(DiversityRewardFunction):
        def _score_groups(self, groups, correct):
            calls.append([g[0] for g in groups])
            return super()._score_groups(groups, correct)

    def make():
        return Recording(judge=judge(), num_generations=4, floor=0.1)

    run_split(monkeypatch, make, SPLIT_PROMPTS, SPLIT_COMPLETIONS, [range(0, 6), range(6, 12)])
    # Rank 0 holds groups a and b (half), rank 1 holds b (half) and c.
    assert sorted(calls) == [["p 1", "m"], ["x 1", "p 1"]]


def test_without_gathering_a_split_group_is_scored_wrongly(monkeypatch):
    # Shows why gathering matters: with gather=False each process sees half of group "b".
    def make():
        return DiversityRewardFunction(judge=judge(), floor=0.1, gather=False)

    single = make()(prompts=SPLIT_PROMPTS, completions=SPLIT_COMPLETIONS)
    outputs = run_split(monkeypatch, make, SPLIT_PROMPTS, SPLIT_COMPLETIONS, [range(0, 6), range(6, 12)])
    assert outputs[0] + outputs[1] != single


# --- with a real PartitionClassifier ---------------------------------------------------------------


def test_from_pretrained_loads_a_local_partition_classifier(tmp_path, encoder_tokenizer):
    from darling.classifier import ClassifierJudge, PartitionClassifier
    from darling.tiny_models import tiny_sequence_classifier

    model, tokenizer = tiny_sequence_classifier("bert", tokenizer=encoder_tokenizer)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    # A random classifier's P(equivalent) sits near 0.5: threshold it so some pairs go each way.
    texts = [
        "The quick brown fox jumps over the lazy dog today.",
        "A boy and his dog walked to the river every morning.",
        "Paris is the capital of France and Rome is the capital of Italy.",
        "Once upon a time there was a dragon who loved to read books.",
    ]
    clf = PartitionClassifier.from_pretrained(str(tmp_path))
    probs = sorted(clf.predict_proba([(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :]]))
    threshold = (probs[2] + probs[3]) / 2

    reward = DiversityRewardFunction.from_pretrained(
        str(tmp_path), threshold=threshold, num_generations=4, floor=0.1, batch_size=2
    )
    assert isinstance(reward.judge, ClassifierJudge) and reward.judge.batch_size == 2
    assert reward.judge.threshold == pytest.approx(threshold)
    assert reward.classifier_id == str(tmp_path)
    out = reward(prompts=["p"] * 4, completions=texts)
    expected = diversity_scores(
        PartitionClassifier.from_pretrained(str(tmp_path), threshold=threshold).partition(texts), 0.1
    )
    assert out == pytest.approx(expected)
    assert pickle.loads(pickle.dumps(reward))(prompts=["p"] * 4, completions=texts) == pytest.approx(out)
