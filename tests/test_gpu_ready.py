"""benchmarks/gpu_ready.py: the tiny CPU run CI does, its FLOP count, its shapes, its guards, its docs table."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "gpu_ready.py"
DOCS_JSON = REPO_ROOT / "docs" / "assets" / "gpu_ready_cpu.json"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gpu_ready = _load("gpu_ready")
models = sys.modules["gpu_ready_models"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One ``--tiny`` run on CPU, as CI runs it (with a stated CPU peak, so MFU is computed too)."""
    out = tmp_path_factory.mktemp("gpu_ready") / "result.json"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--tiny",
            "--threads",
            "1",
            "--cpu-peak-tflops",
            "0.5",
            "--output",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout, out.with_suffix(".md").read_text()


def _rows(result, part):
    return [r for r in result["rows"] if r["part"] == part]


def test_tiny_run_measures_every_part_and_prints_its_table(tiny_run):
    result, stdout, markdown = tiny_run
    assert result["device"] == "cpu" and result["errors"] == []
    assert {r["part"] for r in result["rows"]} == {"a", "b", "c", "goal"}
    assert all(r["status"] == "ok" for r in result["rows"] if r["part"] != "goal")
    assert stdout.endswith(gpu_ready.render_markdown(result))
    assert markdown == gpu_ready.render_markdown(result)  # the table the docs include, written by the run
    assert set(result["part_seconds"]) == {"a", "b", "c"} and result["elapsed_s"] > 0


def test_tiny_precision_rows_compare_bf16_with_fp32_over_spread_probabilities(tiny_run):
    rows = _rows(tiny_run[0], "a")
    assert [r["setting"].split("-shaped")[0] for r in rows] == ["ModernBERT-base", "Qwen3-Embedding-4B"]
    for row in rows:
        v = row["values"]
        assert "no CUDA" in row["measurement"] and v["compared"] == "cpu-bf16/cpu-fp32"
        # bf16 rounds, so the difference is positive but small; the head spreads P across (0, 1).
        assert 0 < v["max_abs_diff"] < 0.1 and v["mean_abs_diff"] <= v["max_abs_diff"]
        assert v["p_reference_min"] < 0.2 and v["p_reference_max"] > 0.8
        assert 0 <= v["decisions_flipped"] <= v["pairs"] == 16


def test_tiny_throughput_rows_cover_the_batches_with_consistent_numbers(tiny_run):
    rows = _rows(tiny_run[0], "b")
    for key in ("modernbert-base", "qwen3-embedding-4b"):
        sweep = [r["values"] for r in rows if r["values"]["model"] == key and not r["values"]["use_cache"]]
        assert [v["batch"] for v in sweep] == [1, 2, 4, 8]
        for v in sweep:
            assert v["tokens_per_pair"] == 2 * 24 + 3  # two 24-token texts and the layout's 3 special tokens
            assert v["tflops"] > 0 and v["mfu"] > 0  # a peak was stated, so MFU is computed
            assert v["timed_passes"] == 5
    cached = [r["values"] for r in rows if r["values"]["use_cache"]]
    assert [(v["model"], v["batch"]) for v in cached] == [("qwen3-embedding-4b", 8)]


def test_tiny_darling_step_generates_full_length_and_times_the_diversity_reward(tiny_run):
    (row,) = _rows(tiny_run[0], "c")
    v = row["values"]
    assert v["completion_tokens_min"] == v["completion_tokens_max"] == 16  # EOS suppressed: full length
    assert v["timed_steps"] == 2 and len(v["step_s"]) == len(v["diversity_s"]) == 2
    assert all(0 < d < s for d, s in zip(v["diversity_s"], v["step_s"]))
    assert 0 < v["share"] < 1
    assert v["pairs_per_step"] == 2 * 28  # threshold 1.0: every pair of 8 rollouts is judged
    assert 1 <= v["classifier_calls_per_step"] <= 28
    assert all(0 < c <= d for c, d in zip(v["classifier_s"], v["diversity_s"]))
    goals = _rows(tiny_run[0], "goal")
    assert len(goals) == 2 and all(g["status"].startswith("n/a") for g in goals)


def test_attended_pairs_match_a_brute_force_count():
    for tokens in (1, 5, 17, 40):
        assert models.attended_pairs(tokens) == tokens**2
        assert models.attended_pairs(tokens, causal=True) == sum(i + 1 for i in range(tokens))
        for w in (1, 3, 8, 64):
            brute = sum(abs(i - j) <= w for i in range(tokens) for j in range(tokens))
            assert models.attended_pairs(tokens, half_window=w) == brute


def test_forward_flops_is_two_n_t_plus_attention():
    import torch
    from transformers import AutoModelForSequenceClassification

    config = models.load_config("modernbert-base-classifier.json", tiny=True)
    config.num_labels = 2
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    n = sum(p.numel() for p in model.parameters()) - model.get_input_embeddings().weight.numel()
    t = 51
    # 3 layers: global, local, local (window 16: 8 tokens each side); d_attn = 64.
    local = sum(min(i, 8) + min(t - 1 - i, 8) + 1 for i in range(t))
    assert models.forward_flops(model, t) == 2 * n * t + 4 * 64 * (t * t + 2 * local)


@pytest.mark.parametrize(
    ("file", "auto", "expected"),
    [
        ("modernbert-base-classifier.json", "AutoModel", 149_014_272),
        ("qwen3-embedding-4b-classifier.json", "AutoModel", 4_021_774_336),
        ("qwen2.5-0.5b-policy.json", "AutoModelForCausalLM", 494_032_768),
    ],
)
def test_configs_have_the_released_models_shapes(file, auto, expected):
    import torch
    import transformers

    config = models.load_config(file, tiny=False)
    with torch.device("meta"):
        model = getattr(transformers, auto).from_config(config)
    assert sum(p.numel() for p in model.parameters()) == expected
    if "classifier" in file:
        assert config.num_labels == 2 and config.architectures[0].endswith("ForSequenceClassification")


def test_word_tokenizer_has_the_configs_vocabulary_and_one_token_a_word():
    tokenizer = models.word_tokenizer(512, "causal")
    assert len(tokenizer) == 512
    ids = tokenizer("<|im_start|>w1 w2 w507<|im_end|>", add_special_tokens=False)["input_ids"]
    assert ids == [1, 5, 6, 511, 2]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "w1 w2 w507"
    encoder = models.word_tokenizer(100, "encoder")
    assert encoder("w3 unknown", add_special_tokens=False)["input_ids"] == [8, encoder.unk_token_id]


def test_a_part_that_raises_is_an_error_row_and_the_exit_status_is_1(tmp_path, monkeypatch):
    def broken(run):
        """Broken part"""
        raise RuntimeError("boom")

    def out_of_time(run):
        """Slow part"""
        raise models.BudgetExceeded("the whole run's time budget ran out")

    monkeypatch.setitem(gpu_ready.PARTS, "a", broken)
    monkeypatch.setitem(gpu_ready.PARTS, "b", out_of_time)
    out = tmp_path / "result.json"
    status = gpu_ready.main(["--tiny", "--device", "cpu", "--parts", "ab", "--output", str(out)])
    result = json.loads(out.read_text())
    assert status == 1
    assert result["rows"][0]["status"] == "error: RuntimeError: boom"
    assert "RuntimeError: boom" in result["errors"][0]["traceback"]
    assert result["rows"][1]["status"].startswith("skipped: the whole run's budget")
    # Only the error counts: the same run without it exits 0.
    monkeypatch.setitem(gpu_ready.PARTS, "a", lambda run: None)
    assert gpu_ready.main(["--tiny", "--device", "cpu", "--parts", "ab", "--output", str(out)]) == 0


def test_require_cuda_exits_2_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert gpu_ready.main(["--tiny", "--require-cuda"]) == 2


def test_the_committed_cpu_run_measured_every_part():
    result = json.loads(DOCS_JSON.read_text(encoding="utf-8"))
    assert result["device"] == "cpu" and result["settings"]["tiny"] and result["errors"] == []
    assert all(r["status"] == "ok" for r in result["rows"] if r["part"] in "abc")
    assert not any(math.isnan(r["values"].get("share", 0.0)) for r in result["rows"])
