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


# --- A failed start leaves nothing that refuses the corrected command ------------------------------


@pytest.mark.parametrize(
    ("mistake", "error"),
    [
        ({"dataset": "missing.jsonl"}, FileNotFoundError),
        ({"model": "no/such-local-model"}, OSError),
        ({"judge": "lexcal"}, ValueError),
    ],
)
def test_a_failed_start_does_not_lock_the_output_dir(policy_dir, prompts_file, tmp_path, mistake, error):
    out = tmp_path / "run"
    wrong = dict(mistake)
    if "dataset" in wrong:
        wrong["dataset"] = str(tmp_path / wrong["dataset"])
    with pytest.raises(error):
        run_evaluation(_config(policy_dir, prompts_file, out, limit=2, **wrong))
    assert not (out / "run_config.json").exists()
    assert run_evaluation(_config(policy_dir, prompts_file, out, limit=2)) is not None
    assert json.loads((out / "run_config.json").read_text())["limit"] == 2


def test_a_first_generate_call_that_fails_does_not_lock_the_output_dir(policy_dir, tmp_path):
    data = tmp_path / "chat.jsonl"
    data.write_text(json.dumps({"prompt": [{"role": "user", "content": "Say hi."}]}) + "\n")
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="list of messages but no chat template"):
        run_evaluation(_config(policy_dir, str(data), out, chat_template="off"))
    assert not (out / "run_config.json").exists()
    assert run_evaluation(_config(policy_dir, str(data), out, chat_template="on")) is not None


def test_run_config_beside_no_records_is_replaced(policy_dir, prompts_file, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run_config.json").write_text(json.dumps({"model": "typo", "num_samples": 99}))
    (out / "samples.jsonl").write_text("")
    assert run_evaluation(_config(policy_dir, prompts_file, out, limit=2)) is not None
    assert json.loads((out / "run_config.json").read_text())["num_samples"] == 4


# --- Settings out of range are refused before anything loads --------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"limit": 0}, "--limit must be >= 1"),
        ({"limit": -1}, "--limit must be >= 1"),
        ({"stop_after": 0}, "--stop-after must be >= 1"),
        ({"stop_after": -1}, "--stop-after must be >= 1"),
        ({"temperature": -1.0}, r"\(--temperature\) must be >= 0"),
        ({"temperature": float("nan")}, r"\(--temperature\) must be >= 0"),
        ({"top_p": 0.0}, r"\(--top-p\) must be > 0 and <= 1"),
        ({"top_p": 2.0}, r"\(--top-p\) must be > 0 and <= 1"),
        ({"max_new_tokens": 0}, r"\(--max-new-tokens\) must be >= 1"),
    ],
)
def test_out_of_range_settings_are_refused(tmp_path, setting, message):
    with pytest.raises(ValueError, match=message):
        EvaluationConfig(model="m", dataset="d.jsonl", output_dir=str(tmp_path), **setting)
    assert not any(tmp_path.iterdir())


def test_out_of_range_settings_are_one_line_cli_errors(tmp_path, capsys):
    args = ["evaluate", "--model", "m", "--dataset", "d.jsonl", "--output-dir", str(tmp_path / "o")]
    assert main([*args, "--limit", "0"]) == 2
    assert "darling evaluate: error: --limit must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"temperature": -0.5}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
    ],
)
def test_sampling_settings_refuse_out_of_range_values(setting, message):
    from darling.evaluation.generation import SamplingSettings

    with pytest.raises(ValueError, match=message):
        SamplingSettings(**setting)


# --- Datasets: each row is checked, and a file path is never looked up on the hub -----------------


def _write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_a_row_without_the_prompt_field_is_named(tmp_path):
    from darling.evaluation.data import load_prompts

    data = _write_rows(tmp_path / "d.jsonl", [{"id": "a", "prompt": "x"}, {"id": "b", "question": "y"}])
    with pytest.raises(
        ValueError, match=r"d\.jsonl row 2: no field 'prompt' \(fields: id, question\);.*--prompt-field"
    ):
        load_prompts(data)
    data = _write_rows(tmp_path / "e.jsonl", [{"id": "a", "prompt": "x"}, {"prompt": "y"}])
    with pytest.raises(ValueError, match=r"e\.jsonl row 2: no field 'id'.*--id-field"):
        load_prompts(data)
    data = _write_rows(tmp_path / "f.jsonl", [{"prompt": "x", "answer": "1"}, {"prompt": "y"}])
    with pytest.raises(ValueError, match=r"f\.jsonl row 2: no field 'answer'.*--answer-field"):
        load_prompts(data, need_answer=True)


def test_empty_or_odd_values_and_repeated_ids_are_named(tmp_path):
    from darling.evaluation.data import load_prompts

    data = _write_rows(tmp_path / "d.jsonl", [{"prompt": "x", "answer": None}])
    with pytest.raises(ValueError, match=r"row 1: the answer field 'answer' is empty"):
        load_prompts(data, need_answer=True)  # not scored against the text "None"
    data = _write_rows(tmp_path / "e.jsonl", [{"prompt": 3}])
    with pytest.raises(ValueError, match=r"row 1: the prompt field 'prompt' holds a int"):
        load_prompts(data)
    data = _write_rows(
        tmp_path / "f.jsonl", [{"id": 1, "prompt": "x"}, {"id": 2, "prompt": "y"}, {"id": 1, "prompt": "z"}]
    )
    with pytest.raises(ValueError, match=r"row 3 repeats the id '1' of row 1"):
        load_prompts(data)


@pytest.mark.parametrize(
    "name", ["missing.json", "missing.csv", "missing.parquet", "missing.txt", "MISSING.JSONL"]
)
def test_a_missing_dataset_file_is_not_looked_up_on_the_hub(tmp_path, monkeypatch, name):
    from darling.evaluation.data import load_rows

    monkeypatch.chdir(tmp_path)  # a relative path, as a user types it (an absolute one is never a hub id)
    with pytest.raises(FileNotFoundError, match=rf"dataset file 'sub/{name}' does not exist"):
        load_rows(f"sub/{name}")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.json", '[{"prompt": "x"}, {"prompt": ', r"bad\.json: could not parse as json: "),
        ("bad.csv", 'prompt,id\n"x,1\n', r"bad\.csv: could not parse as csv: "),
        ("bad.parquet", "not parquet", r"bad\.parquet: could not parse as parquet: "),
        ("empty.json", "", r"empty\.json: the file is empty"),
        ("bad.jsonl", '{"prompt": "x"}\n{"prompt": \n', r"bad\.jsonl:2: malformed JSON"),
        ("prompts.txt", "What is 2+2?\n", r"prompts\.txt: \.txt files are not read as datasets"),
    ],
)
def test_a_malformed_dataset_file_is_named(tmp_path, name, text, message):
    from darling.evaluation.data import load_rows

    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=message):
        load_rows(str(tmp_path / name))


def test_a_missing_prompt_field_is_a_one_line_cli_error(policy_dir, tmp_path, capsys):
    data = _write_rows(tmp_path / "d.jsonl", [{"id": "a", "prompt": "x"}, {"id": "b", "question": "y"}])
    args = ["evaluate", "--model", policy_dir, "--dataset", data, "--output-dir", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("darling evaluate: error:") and "row 2: no field 'prompt'" in err


# --- Damaged files in the output folder are named --------------------------------------------------


def _finished_run(policy_dir, prompts_file, out):
    assert run_evaluation(_config(policy_dir, prompts_file, out, limit=2)) is not None


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]"])
def test_a_damaged_run_config_is_named(policy_dir, prompts_file, tmp_path, text):
    out = tmp_path / "run"
    _finished_run(policy_dir, prompts_file, out)
    (out / "run_config.json").write_text(text)
    with pytest.raises(ValueError, match=r"run_config\.json (is not valid JSON|holds a list).*restore it"):
        run_evaluation(_config(policy_dir, prompts_file, out, limit=2))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"generations": []}', "no 'id'"),
        ('{"id": "q9"}', "no 'generations'"),
    ],
)
def test_a_damaged_samples_record_is_named(policy_dir, prompts_file, tmp_path, line, message):
    out = tmp_path / "run"
    _finished_run(policy_dir, prompts_file, out)
    with (out / "samples.jsonl").open("a") as f:
        f.write(line + "\n")
    with pytest.raises(ValueError, match=rf"samples\.jsonl:3: .*{message}.*remove that line"):
        run_evaluation(_config(policy_dir, prompts_file, out, limit=2))


def test_run_config_is_written_atomically(tmp_path, monkeypatch):
    import os

    from darling.evaluation.resume import write_run_config

    write_run_config(tmp_path, {"seed": 0})

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        write_run_config(tmp_path, {"seed": 1})
    assert json.loads((tmp_path / "run_config.json").read_text()) == {"seed": 0}  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["run_config.json"]  # no temporary file left


# --- Resuming gives exactly what an uninterrupted run gives ---------------------------------------


@pytest.mark.parametrize("dropped", ["q5", "q2"])
def test_a_dropped_record_is_resampled_with_its_whole_batch(policy_dir, prompts_file, tmp_path, dropped):
    full = tmp_path / "full"
    summary = run_evaluation(_config(policy_dir, prompts_file, full))
    lines = (full / "samples.jsonl").read_text().splitlines(keepends=True)
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    (resumed / "run_config.json").write_text((full / "run_config.json").read_text())
    kept = [line for line in lines if json.loads(line)["id"] != dropped]
    (resumed / "samples.jsonl").write_text("".join(kept))

    class Counting:
        def __init__(self, inner):
            self.inner, self.prompts = inner, []

        def generate(self, prompts, num_samples, seed=None):
            self.prompts.append(list(prompts))
            return self.inner.generate(prompts, num_samples, seed=seed)

    from darling.evaluation.runner import _make_generator

    config = _config(policy_dir, prompts_file, resumed)
    generator = Counting(_make_generator(config))
    assert run_evaluation(config, generator=generator) == summary
    assert len(generator.prompts) == 1 and len(generator.prompts[0]) == 2  # the dropped prompt's whole batch
    text = (resumed / "samples.jsonl").read_text()
    if dropped == "q5":  # the last record: the file is byte for byte the uninterrupted run's
        assert text == "".join(lines)
    else:  # written at the end, otherwise the same
        assert text == "".join(kept) + next(line for line in lines if json.loads(line)["id"] == dropped)


def test_resume_with_another_limit_is_refused(policy_dir, prompts_file, tmp_path):
    out = tmp_path / "run"
    run_evaluation(_config(policy_dir, prompts_file, out, limit=3))
    with pytest.raises(ValueError, match=r"limit: 3 -> None"):
        run_evaluation(_config(policy_dir, prompts_file, out))
