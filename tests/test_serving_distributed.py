"""Two `torchrun` CPU processes score their rollouts through one served classifier: like one process in-process.

The test starts a stand-in classification server on 127.0.0.1 serving a tiny saved classifier, then
launches this file with ``torch.distributed.run`` (gloo, 2 processes, a group split between them).
Each rank's diversity reward is :class:`~darling.rewards.AsyncDiversityRewardFunction` built by
the trainer from ``DarlingConfig(diversity_classifier=..., diversity_servers=[url])``. The test then
re-scores the gathered completions on one process with the classifier loaded in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NUM_GENERATIONS = 4
PER_DEVICE = 6  # 2 processes x 6 rows = 3 groups of 4: the middle group is split 2 + 2
PROMPTS = ["Tell me a story", "What is two plus three", "Name a coffee shop", "Paris is the capital of"] * 3


class LengthQuality:
    __name__ = "length_quality"

    def __call__(self, prompts, completions, **kwargs):
        return [1.0 + len(c) % 4 for c in completions]


def _worker(out_dir: str, checkpoint: str, url: str) -> None:
    import torch
    from datasets import Dataset

    from darling.tiny_models import tiny_causal_lm
    from darling.trainer import DarlingConfig, DarlingGRPOTrainer

    model, tokenizer = tiny_causal_lm()
    args = DarlingConfig(
        output_dir=out_dir,
        use_cpu=True,
        bf16=False,
        max_steps=1,
        per_device_train_batch_size=PER_DEVICE,
        num_generations=NUM_GENERATIONS,
        max_completion_length=12,
        report_to="none",
        save_strategy="no",
        seed=0,
        diversity_classifier=checkpoint,
        diversity_servers=[url],
        # Every pair to the classifier (tiny-model rollouts are often short enough for the short-text rule).
        diversity_kwargs={"short_text_rule": "off", "server_options": {"timeout": 30.0, "retries": 2}},
    )
    trainer = DarlingGRPOTrainer(
        model=model,
        reward_funcs=[LengthQuality()],
        args=args,
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    trainer.train()
    # TRL's completions table holds every process's rollouts (gathered) and the fused reward's diversity column.
    record = {
        "completions": list(trainer._logs["completion"]),
        "diversity": list(trainer._logs["extra"]["darling/diversity"]),
    }
    trainer.records = [record]
    completions = record["completions"]
    groups = [completions[i : i + NUM_GENERATIONS] for i in range(0, len(completions), NUM_GENERATIONS)]
    pairs = [(a, b) for group in groups for i, a in enumerate(group) for b in group[i + 1 :]]
    trainer.records[0]["served_probabilities"] = trainer.diversity_reward.judge.scores(pairs)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(trainer.records))


def test_two_processes_with_a_served_classifier_score_like_one_process_in_process(tmp_path):
    import torch

    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.rewards import DiversityRewardFunction
    from darling.serving.standin import StandInServer
    from darling.tiny_models import tiny_causal_lm, tiny_sequence_classifier, train_tiny_tokenizer

    policy, policy_tokenizer = tiny_causal_lm()
    model, tokenizer = tiny_sequence_classifier("qwen3", tokenizer=train_tiny_tokenizer(kind="causal"))
    clf = PartitionClassifier(
        model, tokenizer, ClassifierSettings(pair_layout="chatml", max_tokens_per_text=24)
    )
    # Threshold high in the spread of P(equivalent) over rollouts like the run's: few equivalent pairs,
    # so union-find leaves groups with several classes (a median threshold joins every group into one).
    torch.manual_seed(1)
    sample = []
    for prompt in PROMPTS[:3]:
        ids = policy_tokenizer(prompt, return_tensors="pt").input_ids
        out = policy.generate(ids, do_sample=True, max_new_tokens=12, num_return_sequences=4)
        sample += policy_tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
    sample_pairs = [(a, b) for i, a in enumerate(sample) for b in sample[i + 1 :]]
    clf.threshold = float(torch.tensor(clf.predict_proba(sample_pairs)).quantile(0.85))
    checkpoint = tmp_path / "classifier"
    clf.save_pretrained(checkpoint)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29531",
    ]
    with StandInServer(clf) as server:
        result = subprocess.run(
            [*command, __file__, str(tmp_path), str(checkpoint), server.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        served_inputs = server.inputs
    assert result.returncode == 0, result.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    (step0,), (step1,) = ranks
    completions = step0["completions"]
    assert step1["completions"] == completions and len(completions) == 2 * PER_DEVICE
    groups = [completions[i : i + NUM_GENERATIONS] for i in range(0, len(completions), NUM_GENERATIONS)]
    in_process = DiversityRewardFunction(
        classifier=PartitionClassifier.from_pretrained(checkpoint), short_text_rule="off"
    )
    expected = [s for group in in_process.score_groups(groups) for s in group]
    assert step0["diversity"] == pytest.approx(expected) and step1["diversity"] == pytest.approx(expected)
    assert served_inputs > 0  # the pairs really went through the server
    # The served probabilities themselves equal the in-process ones, pair by pair.
    pairs = [(a, b) for group in groups for i, a in enumerate(group) for b in group[i + 1 :]]
    assert step0["served_probabilities"] == pytest.approx(clf.predict_proba(pairs), abs=1e-5)


if __name__ == "__main__":
    _worker(*sys.argv[1:4])

    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()  # a clean gloo shutdown: left to interpreter exit, it sometimes aborted
