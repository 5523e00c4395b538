"""examples/eval_math_passk.py follows the paper's math evaluation protocol, end to end on local stand-ins.

The official protocol (facebookresearch/darling c07a323, ``evals/math_evaluation``:
``sh/eval_pass_k_custom_model_parallel.sh``, ``math_eval_parallel.py``, ``utils.py``): AIME25, HMMT25 and
Brumo25 at 256 samples a problem, OlympiadBench at 128; temperature 0.6, top-p 0.95, top-k 20, 8,192
tokens; stop words ``</s>``, ``<|im_end|>``, ``<|endoftext|>``; the ``qwen-boxed`` ChatML prompt sent
without a chat template.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from darling.evaluation.generation import SamplingSettings, TransformersGenerator, cut_at_stop_words

BENCHMARKS = ["aime25", "hmmt25", "brumo25", "olympiadbench"]
SYSTEM_PROMPT = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"


def _example():
    path = REPO_ROOT / "examples" / "eval_math_passk.py"
    spec = importlib.util.spec_from_file_location("example_eval_math_passk_protocol", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_help_names_the_benchmarks_and_the_sampling_protocol():
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "eval_math_passk.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for name in ("aime25", "hmmt25", "brumo25", "olympiadbench", "Hothan/OlympiadBench"):
        assert name in text
    assert "--top_k TOP_K" in result.stdout and "(default: 20)" in text
    assert "<|im_end|>" in text and "You are a helpful assistant." in text


def test_smoke_run_evaluates_all_four_benchmark_fixtures_with_the_official_prompt(tmp_path):
    overall = _example().main(["--smoke", "--output_dir", str(tmp_path)])
    assert list(overall["datasets"]) == BENCHMARKS
    fixtures = REPO_ROOT / "examples" / "data" / "passk_smoke"
    for name in BENCHMARKS:
        records = _records(tmp_path / name / "samples.jsonl")
        assert len(records) == len((fixtures / f"{name}.jsonl").read_text().splitlines())
        assert overall["datasets"][name]["num_prompts"] == len(records)
        for record in records:
            assert record["prompt"].startswith(SYSTEM_PROMPT)
            assert record["prompt"].endswith(
                "\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                "<|im_start|>assistant\n"
            )
            assert len(record["generations"]) == 8
    # OlympiadBench's answer is the first item of final_answer without its $; a yes/no question says so.
    olympiad = {r["id"]: r for r in _records(tmp_path / "olympiadbench" / "samples.jsonl")}
    assert olympiad["1"]["answer"] == "42"
    assert olympiad["2"]["answer"] == "Yes" and "prime number? (Yes or No)\n" in olympiad["2"]["prompt"]
    config = json.loads((tmp_path / "olympiadbench" / "run_config.json").read_text())
    assert (config["temperature"], config["top_p"], config["top_k"]) == (0.6, 0.95, 20)
    assert config["stop"] == ["</s>", "<|im_end|>", "<|endoftext|>"]
    assert config["chat_template"] == "off"


def test_the_average_is_the_mean_over_benchmarks_not_over_problems(tmp_path, monkeypatch):
    """The paper's average weighs each benchmark alike, whatever its number of problems."""
    module = _example()
    real_run = module.run_evaluation
    solved = {"aime25": 1.0, "hmmt25": 0.0, "brumo25": 0.0, "olympiadbench": 0.0}

    def run_with_a_known_grader(config):
        # Every sample of AIME25 (3 problems) is right, every other sample wrong.
        name = config.output_dir.rsplit("/", 1)[-1]
        return real_run(config, scorer=lambda items, gens: [[solved[name]] * len(g) for g in gens])

    monkeypatch.setattr(module, "run_evaluation", run_with_a_known_grader)
    overall = module.main(["--smoke", "--output_dir", str(tmp_path)])
    problems = {name: s["num_prompts"] for name, s in overall["datasets"].items()}
    assert problems == {"aime25": 3, "hmmt25": 2, "brumo25": 2, "olympiadbench": 2}
    assert overall["average"]["pass@1"] == pytest.approx(1 / 4)  # pooled over problems it would be 3/9
    assert overall["average_maj"]["maj@8"] == pytest.approx(1 / 4)


def test_the_default_run_asks_for_the_official_counts_and_sampling(tmp_path, monkeypatch):
    """Without --smoke: the four hub datasets (served here by the fixtures), official counts and sampling."""
    from darling.evaluation.io import read_jsonl

    module = _example()
    fixtures = REPO_ROOT / "examples" / "data" / "passk_smoke"
    hub = {
        ("math-ai/aime25", "test", None): "aime25",
        ("MathArena/hmmt_feb_2025", "train", None): "hmmt25",
        ("MathArena/brumo_2025", "train", None): "brumo25",
        ("Hothan/OlympiadBench", "train", "OE_TO_maths_en_COMP"): "olympiadbench",
    }
    monkeypatch.setattr(module, "load_rows", lambda *where: read_jsonl(fixtures / f"{hub[where]}.jsonl"))
    seen = {}

    def capture(config):
        seen[config.output_dir.rsplit("/", 1)[-1]] = config
        zeros = {kind: {f"{kind[:-1]}{k}": 0.0 for k in config.k_list} for kind in ("pass@k", "maj@k")}
        return {"num_samples": config.num_samples, **zeros}

    monkeypatch.setattr(module, "run_evaluation", capture)
    module.main(["--output_dir", str(tmp_path), "--backend", "transformers"])
    samples = {name: config.num_samples for name, config in seen.items()}
    assert samples == {"aime25": 256, "hmmt25": 256, "brumo25": 256, "olympiadbench": 128}
    for config in seen.values():
        assert (config.temperature, config.top_p, config.top_k, config.max_new_tokens) == (
            0.6,
            0.95,
            20,
            8192,
        )
        assert config.stop == ["</s>", "<|im_end|>", "<|endoftext|>"]
        assert config.k_list == list(range(1, 129))
        assert config.prompt_template.startswith(SYSTEM_PROMPT) and config.chat_template == "off"


def test_cut_at_stop_words_keeps_the_text_before_the_first_one():
    assert cut_at_stop_words("x = 2<|im_end|>junk</s>", ["</s>", "<|im_end|>"]) == "x = 2"
    assert cut_at_stop_words("no stop here", ["</s>"]) == "no stop here"


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"top_k": -1}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"stop": ("",)}, "stop"),
        ({"stop": "</s>"}, "stop"),
    ],
)
def test_bad_top_k_or_stop_words_are_refused_with_the_flag(setting, match):
    with pytest.raises(ValueError, match=match):
        SamplingSettings(**setting)


@pytest.fixture(scope="module")
def tiny_policy():
    from darling.tiny_models import tiny_causal_lm

    return tiny_causal_lm(hidden_size=32, num_layers=1)


def test_generation_ends_at_a_stop_word_and_leaves_it_out(tiny_policy):
    model, tokenizer = tiny_policy
    free_settings = SamplingSettings(temperature=1.0, top_k=0, max_new_tokens=16)
    [[free]] = TransformersGenerator(model, tokenizer, settings=free_settings, device="cpu").generate(
        ["2 + 2 ="], 1, 7
    )
    # A stop word the model says anyway: a piece of its own completion, first seen after the start.
    start = next(
        i for i in range(1, len(free) - 2) if free[i : i + 2].strip() and free.find(free[i : i + 2]) == i
    )
    stop = free[start : start + 2]
    settings = SamplingSettings(temperature=1.0, top_k=0, max_new_tokens=16, stop=(stop,))
    [[cut]] = TransformersGenerator(model, tokenizer, settings=settings, device="cpu").generate(
        ["2 + 2 ="], 1, 7
    )
    assert cut == free[:start]


def test_top_k_one_samples_the_greedy_completion(tiny_policy):
    model, tokenizer = tiny_policy
    greedy = SamplingSettings(temperature=0.0, max_new_tokens=10)
    top1 = SamplingSettings(temperature=1.0, top_p=1.0, top_k=1, max_new_tokens=10)
    [[expected]] = TransformersGenerator(model, tokenizer, settings=greedy, device="cpu").generate(["Hi"], 1)
    [samples] = TransformersGenerator(model, tokenizer, settings=top1, device="cpu").generate(
        ["Hi"], 4, seed=3
    )
    assert samples == [expected] * 4


def test_a_stop_word_that_is_one_special_token_ends_generation_like_eos(tiny_policy):
    """ChatML's <|im_end|> is one special token: decoding drops it, so generation must stop on its id."""
    model, tokenizer = tiny_policy
    pad_id = tokenizer.convert_tokens_to_ids("<|pad|>")
    settings = SamplingSettings(stop=("<|pad|>", "###"))
    stopping = TransformersGenerator(model, tokenizer, settings=settings, device="cpu")._stopping()
    assert stopping["eos_token_id"] == [model.generation_config.eos_token_id, pad_id]
    assert stopping["stop_strings"] == ["###"]
