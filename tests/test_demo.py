"""The embedded demo: task, checker, canonical form, policy, evaluation, and the fast end-to-end run."""

from __future__ import annotations

import json
import random

import pytest

from darling.demo import TASKS, DemoConfig, RequiredDigitTask, SumTask, get_task
from darling.demo.__main__ import main
from darling.demo.classifier import task_pairs
from darling.demo.evaluate import score_samples
from darling.demo.policy import char_tokenizer
from darling.demo.report import JSON_NAME, PNG_NAME, TABLE_NAME, goal_check, summarize
from darling.demo.task import CanonicalFormJudge, SumCorrectnessReward
from darling.demo.training import DARLING_SETTINGS, PINNED_SETTINGS, rl_args, rl_dataset
from darling.partitioning import CallableJudge, partition


@pytest.fixture(scope="module")
def task():
    return SumTask()


def test_checker_accepts_exactly_digit_sums_of_the_target(task):
    assert task.is_correct("13=", "4+9")
    assert task.is_correct("13=", "9+4")
    assert task.is_correct(13, "1+3+9")
    assert not task.is_correct("13=", "4+8")  # wrong sum
    assert not task.is_correct("13=", "13")  # one term
    assert not task.is_correct("13=", "1+1+1+1+9")  # too many terms
    assert not task.is_correct("13=", "0+4+9")  # 0 is not a digit from 1 to 9
    assert not task.is_correct("13=", "4+9+")  # malformed
    assert not task.is_correct("13=", "")


def test_canonical_form_ignores_term_order_only(task):
    assert task.canonical("9+4") == task.canonical("4+9") == "4+9"
    assert task.canonical("3+1+9") == task.canonical("9+3+1")
    assert task.canonical("4+9") != task.canonical("5+8")
    assert task.canonical(" junk ") == "junk"


def test_valid_answers_are_all_canonical_multisets(task):
    assert task.valid_answers(5) == ("1+1+3", "1+2+2", "1+4", "2+3")
    for target in task.targets:
        answers = task.valid_answers(target)
        assert len(set(answers)) == len(answers)
        assert all(task.is_correct(target, a) and task.canonical(a) == a for a in answers)


def test_held_out_targets_are_not_rl_training_targets(task):
    assert set(task.held_out).isdisjoint(task.train_targets)
    assert set(task.held_out) | set(task.train_targets) == set(task.targets)
    with pytest.raises(ValueError, match="not in targets"):
        SumTask(targets=(5, 6), held_out=(9,))
    with pytest.raises(ValueError, match="no answer"):
        SumTask(targets=(1, 5), held_out=())


def test_sample_answer_is_correct_and_covers_both_orders(task):
    rng = random.Random(0)
    drawn = [task.sample_answer(13, rng) for _ in range(300)]
    assert all(task.is_correct(13, a) for a in drawn)
    assert {task.canonical(a) for a in drawn} == set(task.valid_answers(13))
    assert "4+9" in drawn and "9+4" in drawn


def test_correctness_reward_follows_trl_protocol(task):
    reward = SumCorrectnessReward(task)
    assert reward.__name__ == "correctness"
    assert reward(prompts=["13=", "13=", "7="], completions=["4+9", "4+8", "1+6"], target=[13, 13, 7]) == [
        1.0,
        0.0,
        1.0,
    ]
    with pytest.raises(ValueError, match="must match"):
        reward(prompts=["13="], completions=["4+9", "4+9"])


def test_canonical_judge_partitions_reorderings_together(task):
    judge = CallableJudge(CanonicalFormJudge(task), short_text_rule="off")
    assert partition(["4+9", "9+4", "5+8", "1+3+9", "9+1+3"], judge) == [0, 0, 1, 2, 2]


def test_char_tokenizer_round_trips_task_text():
    tok = char_tokenizer()
    ids = tok("13=4+9", add_special_tokens=False)["input_ids"]
    assert len(ids) == 6
    assert tok.decode(ids) == "13=4+9"
    assert tok.decode([*ids, tok.eos_token_id], skip_special_tokens=True) == "13=4+9"


def test_score_samples_counts_pass_at_k_distinct_and_coverage(task):
    samples = [
        ["4+9", "9+4", "5+8", "bad", "4+8", "6+7", "4+9", "x", "1+1", "2+2", "3+3", "1+2"],
        ["1+2+4", "3+4", "4+3", "bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad"],
    ]
    result = score_samples(task, [13, 7], samples, k_max=4)
    first, second = result["per_target"]
    assert first["num_correct"] == 5 and second["num_correct"] == 3
    # First 4 samples: 4+9 (x2, one class), 5+8 -> 2 distinct correct; 1+2+4, 3+4 (x2) -> 2.
    assert first["distinct_correct"] == 2 and second["distinct_correct"] == 2
    assert first["coverage"] == pytest.approx(3 / len(task.valid_answers(13)))
    assert second["coverage"] == pytest.approx(2 / len(task.valid_answers(7)))
    # First 10 samples, classes: {4+9,9+4}, 5+8, bad, 4+8, 6+7, x, 1+1, 2+2 -> 8 (the 4+9 copy joins).
    assert first["distinct"] == 8
    assert second["distinct"] == 3
    assert result["pass@k"][0] == pytest.approx((5 / 12 + 3 / 12) / 2)
    assert first["pass@k"][3] == pytest.approx(1 - (7 * 6 * 5 * 4) / (12 * 11 * 10 * 9))
    assert result["distinct_correct"] == 2.0


def test_rl_dataset_is_seeded_and_uses_training_targets_only(task):
    config = DemoConfig(rl_steps=10, prompts_per_step=4, progress=False)
    a, b = rl_dataset(task, config, seed=3), rl_dataset(task, config, seed=3)
    assert a["prompt"] == b["prompt"] and len(a) == 40
    assert set(a["target"]) <= set(task.train_targets)
    assert all(p == task.prompt(t) for p, t in zip(a["prompt"], a["target"]))


def test_task_pairs_are_labelled_by_canonical_form(task):
    rows = task_pairs(task, 200, seed=0)
    assert {r["similar"] for r in rows} == {0, 1}
    assert all(r["similar"] == int(task.same_answer(r["generation_0"], r["generation_1"])) for r in rows)


def test_required_digit_task_checks_sum_and_required_digit():
    task = RequiredDigitTask()
    assert task.valid_answers("13:1") == ("1+3+9", "1+4+8", "1+5+7", "1+6+6")
    assert task.valid_answers("20:3") == ("3+8+9",)
    assert task.valid_answers("13") == SumTask().valid_answers(13)
    assert task.is_correct("13:1=", "9+3+1") and task.is_correct("13:1", "1+6+6")
    assert not task.is_correct("13:1=", "4+9")  # right sum, no 1
    assert not task.is_correct("13:1=", "1+3+8")  # has a 1, wrong sum
    assert not task.is_correct("13:1=", "1+1+1+1+9")  # too many terms
    assert task.is_correct("13=", "4+9") and task.canonical("9+3+1") == "1+3+9"
    with pytest.raises(ValueError, match="13:1="):
        task.parse("13-1=")


def test_required_digit_split_holds_out_few_answer_prompts_from_rl_only():
    task = RequiredDigitTask()
    assert task.train_targets == tuple(str(t) for t in SumTask().targets)
    assert len(task.held_out) == 78
    assert all(1 <= len(task.valid_answers(t)) <= 3 and ":" in t for t in task.held_out)
    assert set(task.held_out).isdisjoint(task.train_targets)
    assert set(task.held_out) <= set(task.warmup_targets)  # the warm-up plays pre-training
    plain = sum(t in task.train_targets for t in task.warmup_targets)
    assert 0.4 < plain / len(task.warmup_targets) < 0.6
    rl = rl_dataset(task, DemoConfig(task="required_digit", rl_steps=50, progress=False), seed=0)
    assert set(rl["target"]) <= set(task.train_targets)
    assert all(task.prompt(t) == p for t, p in zip(rl["target"], rl["prompt"]))


def test_tasks_are_selected_by_name():
    assert set(TASKS) == {"sums", "required_digit"}
    assert get_task("sums") == SumTask() and isinstance(get_task("required_digit"), RequiredDigitTask)
    with pytest.raises(ValueError, match="required_digit"):
        get_task("nope")
    with pytest.raises(ValueError, match="--task"):
        DemoConfig(task="nope")


@pytest.mark.filterwarnings("ignore:`gradient_checkpointing` is deprecated:FutureWarning")
def test_grpo_and_darling_runs_differ_only_in_the_reward():
    config = DemoConfig(rl_steps=10, progress=False)
    grpo = rl_args(config, 0, "unused", darling=False).to_dict()
    darling = rl_args(config, 0, "unused", darling=True).to_dict()
    # Every GRPOConfig field is the same in both runs, except the reward weights (one per function).
    assert [key for key in grpo if grpo[key] != darling[key]] == ["reward_weights"]
    assert grpo["reward_weights"] == [1.0] and darling["reward_weights"] == [1.0, 1.0]
    # The pinned settings are what both trainers get, whatever the libraries' defaults are.
    for key, value in {**PINNED_SETTINGS, "scale_rewards": "none", "lr_scheduler_type": "constant"}.items():
        assert grpo[key] == value and darling[key] == value, key
    assert {key: darling[key] for key in DARLING_SETTINGS} == DARLING_SETTINGS


def test_demo_config_rejects_bad_settings():
    with pytest.raises(ValueError, match="--judge"):
        DemoConfig(judge="oracle")
    with pytest.raises(ValueError, match="--seeds"):
        DemoConfig(seeds=0)
    with pytest.raises(ValueError, match="num_samples"):
        DemoConfig(eval_samples=8, k_max=16)


def test_goal_check_of_required_digit_uses_its_goals():
    def row(passk, dc):
        return {"pass@k": [(p, 0.0) for p in passk], "pass@1": (passk[0], 0.0), "distinct_correct": (dc, 0.0)}

    goal = goal_check({"grpo": row([0.2, 0.60], 1.0), "darling": row([0.2, 0.70], 1.5)}, "required_digit")
    assert goal["pass@k_at_least_grpo_for_every_k"] and goal["distinct_correct_at_least_1.5x"]
    assert goal["pass@2_at_least_grpo_plus_0.05_with_grpo_at_most_0.95"]
    goal = goal_check({"grpo": row([0.3, 0.96], 1.0), "darling": row([0.2, 1.0], 1.4)}, "required_digit")
    assert goal["pass@k_gaps"] == pytest.approx([-0.1, 0.04])
    assert not (
        goal["pass@k_at_least_grpo_for_every_k"]
        or goal["distinct_correct_at_least_1.5x"]
        or goal["pass@2_at_least_grpo_plus_0.05_with_grpo_at_most_0.95"]
    )


def test_goal_check_compares_darling_with_grpo():
    def row(p1, pk, dc):
        return {"pass@k": [(p1, 0.0), (pk, 0.0)], "pass@1": (p1, 0.0), "distinct_correct": (dc, 0.0)}

    goal = goal_check({"grpo": row(0.80, 0.90, 2.0), "darling": row(0.79, 0.95, 4.5)})
    assert (
        goal["distinct_correct_at_least_2x"] and goal["pass@1_within_0.02"] and goal["pass@2_at_least_grpo"]
    )
    goal = goal_check({"grpo": row(0.80, 0.90, 2.0), "darling": row(0.70, 0.85, 3.0)})
    assert not (
        goal["distinct_correct_at_least_2x"] or goal["pass@1_within_0.02"] or goal["pass@2_at_least_grpo"]
    )


def test_fast_demo_writes_outputs_and_is_deterministic(tmp_path, capsys):
    argv = ["--fast", "--progress", "false", "--threads", "1"]
    first = main([*argv, "--output_dir", str(tmp_path / "a")])
    out_a = capsys.readouterr().out
    main([*argv, "--output_dir", str(tmp_path / "b")])
    out_b = capsys.readouterr().out

    for name in (TABLE_NAME, JSON_NAME, PNG_NAME):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert (tmp_path / "a" / PNG_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "a" / JSON_NAME).read_text())
    assert set(saved["summary"]) == {"base", "grpo", "darling"}
    assert len(saved["summary"]["darling"]["pass@k"]) == 16
    assert saved["runs"][0]["logs"]["darling"], "the DARLING trainer logged nothing"
    assert any("darling/diversity_mean" in entry for entry in saved["runs"][0]["logs"]["darling"])
    assert str(tmp_path / "a") in out_a

    # Same seed, same table.
    table = (tmp_path / "a" / TABLE_NAME).read_text()
    assert table == (tmp_path / "b" / TABLE_NAME).read_text()
    assert out_a.split("Wrote")[0] == out_b.split("Wrote")[0]
    assert first["summary"] == summarize(first["runs"])


def test_fast_demo_runs_the_required_digit_task(tmp_path, capsys):
    results = main(
        ["--fast", "--task", "required_digit", "--progress", "false", "--output_dir", str(tmp_path)]
    )
    assert results["task"]["name"] == "required_digit" and len(results["task"]["held_out_targets"]) == 78
    assert len(results["runs"][0]["metrics"]["grpo"]["per_target"]) == 78
    assert "78 held-out prompts" in capsys.readouterr().out
    assert (tmp_path / PNG_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "goal" in json.loads((tmp_path / JSON_NAME).read_text())


def test_fast_demo_with_learned_classifier_judge(tmp_path):
    results = main(["--fast", "--judge", "classifier", "--progress", "false", "--output_dir", str(tmp_path)])
    assert results["config"]["judge"] == "classifier"
    assert 0.0 <= results["classifier"]["threshold"] <= 1.0  # chosen on the dev pairs
    assert results["classifier"]["dev_pairs"] == 32
    assert (tmp_path / PNG_NAME).exists()


def test_quiet_libraries_restores_warnings_and_log_levels():
    import logging
    import warnings

    from transformers.utils import logging as hf_logging

    from darling.demo.run import quiet_libraries

    logging.getLogger("trl").setLevel(logging.INFO)
    verbosity = hf_logging.get_verbosity()
    filters = list(warnings.filters)
    with quiet_libraries():
        assert logging.getLogger("trl").level == logging.ERROR
        assert hf_logging.get_verbosity() == hf_logging.ERROR
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("hidden", UserWarning, stacklevel=1)
        assert caught == []
    assert logging.getLogger("trl").level == logging.INFO
    assert hf_logging.get_verbosity() == verbosity
    assert warnings.filters == filters
