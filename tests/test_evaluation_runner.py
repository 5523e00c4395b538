"""`darling evaluate` on a tiny local policy: outputs, scoring, and resuming without losing samples."""

from __future__ import annotations

import json
import math

import pytest

from darling.cli import main
from darling.evaluation.runner import EvaluationConfig, default_k_list, run_evaluation

PROMPTS = ["What is 2+2?", "Name a color.", "Tell a joke.", "Say hi.", "Count to three.", "Pick a fruit."]


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    from darling.tiny_models import tiny_causal_lm

    model, tokenizer = tiny_causal_lm(hidden_size=32, num_layers=1)
    path = tmp_path_factory.mktemp("policy")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture
def prompts_file(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "prompt": p, "answer": str(i)}) + "\n" for i, p in enumerate(PROMPTS)
        )
    )
    return str(path)


def _config(policy_dir, prompts_file, out, **overrides):
    values = dict(
        model=policy_dir,
        dataset=prompts_file,
        output_dir=str(out),
        num_samples=4,
        batch_size=8,  # two prompts a generate call
        max_new_tokens=6,
        judge="exact",
        progress=False,
    )
    values.update(overrides)
    return EvaluationConfig(**values)


def _records(out):
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def test_default_k_list_is_powers_of_two_up_to_n():
    assert default_k_list(8) == [1, 2, 4, 8]
    assert default_k_list(10) == [1, 2, 4, 8, 10]
    assert default_k_list(1) == [1]


def test_evaluate_cli_writes_samples_summary_and_plots(policy_dir, prompts_file, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["evaluate", "--model", policy_dir, "--dataset", prompts_file, "--output-dir", str(out)]
    assert (
        main([*args, "--num-samples", "4", "--max-new-tokens", "6", "--batch-size", "8", "--judge", "exact"])
        == 0
    )
    records = _records(out)
    assert [r["id"] for r in records] == [f"q{i}" for i in range(len(PROMPTS))]
    for record in records:
        assert len(record["generations"]) == 4
        assert record["distinct"] == len(set(record["generations"]))  # exact judge
        assert len(record["diversity"]) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_prompts"] == len(PROMPTS)
    assert summary["mean_distinct"] == pytest.approx(sum(r["distinct"] for r in records) / len(records))
    assert {"distinct_4", "self_bleu", "mean_darling_diversity"} <= set(summary)
    assert "pass@k" not in summary  # open-ended task without a reward model
    assert (out / "distinct_hist.png").stat().st_size > 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == summary


def _parity_scorer(items, generations):
    # Deterministic stand-in for a verifier: a completion "is correct" when its length is even.
    return [[float(len(g) % 2 == 0) for g in gens] for gens in generations]


def test_math_summary_holds_pass_at_k_of_the_scores(policy_dir, prompts_file, tmp_path):
    out = tmp_path / "math"
    config = _config(policy_dir, prompts_file, out, task="math", k_list=[1, 2, 4])
    summary = run_evaluation(config, scorer=_parity_scorer)
    records = _records(out)
    for k in (1, 2, 4):
        expected = 0.0
        for record in records:
            c = int(sum(record["scores"]))
            expected += 1.0 if 4 - c < k else 1 - math.comb(4 - c, k) / math.comb(4, k)
        assert summary["pass@k"][f"pass@{k}"] == pytest.approx(expected / len(records))
    assert (out / "pass_at_k.png").stat().st_size > 0


def test_math_task_scores_with_math_verify_and_counts_unparsable_gold(policy_dir, tmp_path):
    pytest.importorskip("math_verify")
    data = tmp_path / "math.jsonl"
    rows = [{"problem": "What is 2+2?", "answer": "4"}, {"problem": "Say hi.", "answer": "no math here"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "mv"
    summary = run_evaluation(_config(policy_dir, str(data), out, task="math", k_list=[1, 4]))
    records = _records(out)
    assert records[0]["scores"] == [0.0] * 4  # a random tiny model does not answer 4
    assert records[1]["scores"] == [None] * 4  # math-verify cannot parse the gold answer
    assert summary["unscorable_prompts"] == 1
    assert summary["pass@k"] == {"pass@1": 0.0, "pass@4": 0.0}


class _Interrupting:
    """Wraps a generator and raises KeyboardInterrupt on its n-th call, as a user pressing Ctrl-C."""

    def __init__(self, inner, fail_on_call):
        self.inner, self.calls, self.fail_on_call = inner, 0, fail_on_call

    def generate(self, prompts, num_samples, seed=None):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        return self.inner.generate(prompts, num_samples, seed=seed)


def test_interrupted_run_resumes_to_the_same_result_without_duplicates(policy_dir, prompts_file, tmp_path):
    from darling.evaluation.runner import _make_generator

    full = _config(policy_dir, prompts_file, tmp_path / "full")
    assert run_evaluation(full) is not None
    expected = {r["id"]: r for r in _records(tmp_path / "full")}

    config = _config(policy_dir, prompts_file, tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config, generator=_Interrupting(_make_generator(config), fail_on_call=2))
    assert [r["id"] for r in _records(tmp_path / "resumed")] == ["q0", "q1"]  # the first batch survived
    assert not (tmp_path / "resumed" / "summary.json").exists()

    assert run_evaluation(config) == json.loads((tmp_path / "full" / "summary.json").read_text())
    resumed = _records(tmp_path / "resumed")
    assert sorted(r["id"] for r in resumed) == sorted(expected)  # every prompt once
    assert {r["id"]: r for r in resumed} == expected  # same samples as the uninterrupted run


def test_stop_after_then_rerun_finishes_and_skips_done_prompts(policy_dir, prompts_file, tmp_path):
    out = tmp_path / "partial"
    assert run_evaluation(_config(policy_dir, prompts_file, out, stop_after=2)) is None
    first = _records(out)
    assert len(first) == 2
    with (out / "samples.jsonl").open("a") as f:
        f.write('{"id": "q2", "gener')  # a record cut short by a crash
    summary = run_evaluation(_config(policy_dir, prompts_file, out))
    records = _records(out)
    assert records[:2] == first  # finished samples are kept as they were
    assert [r["id"] for r in records] == [f"q{i}" for i in range(len(PROMPTS))]
    assert summary["num_prompts"] == len(PROMPTS)


def test_resume_with_other_settings_is_refused(policy_dir, prompts_file, tmp_path):
    out = tmp_path / "run"
    run_evaluation(_config(policy_dir, prompts_file, out, limit=1))
    with pytest.raises(ValueError, match=r"num_samples: 4 -> 2"):
        run_evaluation(_config(policy_dir, prompts_file, out, num_samples=2))


def test_resume_with_another_protocol_is_refused(policy_dir, prompts_file, tmp_path):
    out = tmp_path / "run"
    run_evaluation(_config(policy_dir, prompts_file, out, limit=1))
    with pytest.raises(ValueError, match=r"protocol: None -> 'darling'"):
        run_evaluation(_config(policy_dir, prompts_file, out, limit=1, protocol="darling"))


def _length_scorer(items, generations):
    return [[float(1 + len(g) % 10) for g in gens] for gens in generations]


def test_darling_protocol_records_quality_and_head_utility(policy_dir, prompts_file, tmp_path):
    from darling.evaluation import noveltybench_metrics

    out = tmp_path / "darling"
    summary = run_evaluation(
        _config(policy_dir, prompts_file, out, protocol="darling"), scorer=_length_scorer
    )
    records = _records(out)
    for record in records:
        expected = noveltybench_metrics(record["partition"], record["scores"], protocol="darling")
        assert record["utility"] == pytest.approx(expected["utility"])
        assert record["quality"] == pytest.approx(sum(record["scores"]) / 4)
    assert summary["protocol"] == "darling"
    assert summary["mean_quality"] == pytest.approx(sum(r["quality"] for r in records) / len(records))
    assert summary["mean_utility"] == pytest.approx(sum(r["utility"] for r in records) / len(records))
    upstream = run_evaluation(_config(policy_dir, prompts_file, tmp_path / "upstream"), scorer=_length_scorer)
    assert upstream["protocol"] == "upstream" and "mean_quality" not in upstream
    assert upstream["mean_distinct"] == summary["mean_distinct"]  # same samples, same partition
