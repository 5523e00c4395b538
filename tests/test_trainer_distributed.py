"""Two CPU processes whose per-device batch splits a group: the fused rewards match one process.

The test launches this file with ``torch.distributed.run`` (gloo); every rank records, per step, its
own completions and the fused rewards it returned (``negative_quality="shift"``, so the group minimum
of quality is needed too). The test then re-scores the whole batch on one process (whole groups, no
gathering) and checks the two ranks' rewards together are exactly that.
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
FLOOR = 0.1
PROMPTS = ["Tell me a story", "What is two plus three", "Name a coffee shop", "Paris is the capital of"] * 3


def length_class(a: str, b: str) -> bool:
    return len(a) % 3 == len(b) % 3


class LengthQuality:
    """Quality in {-2, -1, 0, 1}: negative too, so the shift by the group minimum matters."""

    __name__ = "length_quality"

    def __call__(self, prompts, completions, **kwargs):
        return [float(len(c) % 4) - 2.0 for c in completions]


def _diversity_reward():
    from darling.partitioning import CallableJudge
    from darling.rewards import DiversityRewardFunction

    return DiversityRewardFunction(judge=CallableJudge(length_class, short_text_rule="off"), floor=FLOOR)


def _fused_reward():
    from darling.rewards import DarlingReward

    class RecordingReward(DarlingReward):
        def __call__(self, prompts, completions, **kwargs):
            fused = super().__call__(prompts, completions, **kwargs)
            record = {"prompts": list(prompts), "local": list(completions), "fused": fused}
            self.records = [*getattr(self, "records", []), record]
            return fused

    return RecordingReward(LengthQuality(), _diversity_reward(), negative_quality="shift")


def _worker(out_dir: str) -> None:
    import torch
    from datasets import Dataset

    from darling.tiny_models import tiny_causal_lm
    from darling.trainer import DarlingConfig, DarlingGRPOTrainer

    model, tokenizer = tiny_causal_lm()
    args = DarlingConfig(
        output_dir=out_dir,
        use_cpu=True,
        bf16=False,
        max_steps=2,
        per_device_train_batch_size=PER_DEVICE,
        num_generations=NUM_GENERATIONS,
        max_completion_length=8,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=0,
        negative_quality="shift",
    )
    reward = _fused_reward()
    trainer = DarlingGRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    trainer.train()
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(reward.records))


@pytest.mark.slow
def test_two_processes_splitting_a_group_score_like_one_process(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
    ]
    result = subprocess.run(
        [*command, __file__, str(tmp_path)], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 2
    reference = _fused_reward()
    for step0, step1 in zip(*ranks):
        # Rank 0 holds rows 0-5, rank 1 rows 6-11: the group of rows 4-7 is split between them.
        assert len(step0["local"]) == len(step1["local"]) == PER_DEVICE
        completions = step0["local"] + step1["local"]
        reference.num_generations = NUM_GENERATIONS
        # On one process, whole groups: what the two ranks must have returned together.
        expected = reference(prompts=step0["prompts"] + step1["prompts"], completions=completions)
        assert step0["fused"] + step1["fused"] == pytest.approx(expected)


if __name__ == "__main__":
    _worker(sys.argv[1])

    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()  # a clean gloo shutdown: left to interpreter exit, it sometimes aborted
