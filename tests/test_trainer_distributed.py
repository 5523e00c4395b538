"""Two CPU processes whose per-device batch splits a group: diversity and fused rewards match one process.

The test launches this file with ``torch.distributed.run`` (gloo); every rank records, per step, the
gathered completions, quality, diversity and fused rewards it computed. The test then re-scores the
same completions on one process (whole groups, no gathering) and checks both ranks got exactly that.
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
    __name__ = "length_quality"

    def __call__(self, prompts, completions, **kwargs):
        return [float(len(c) % 4) for c in completions]


def _diversity_reward():
    from darling.partitioning import CallableJudge
    from darling.rewards import DiversityRewardFunction

    return DiversityRewardFunction(judge=CallableJudge(length_class, short_text_rule="off"), floor=FLOOR)


def _worker(out_dir: str) -> None:
    import torch
    from accelerate.utils import gather_object
    from datasets import Dataset

    from darling.tiny_models import tiny_causal_lm
    from darling.trainer import DarlingConfig, DarlingGRPOTrainer

    class RecordingTrainer(DarlingGRPOTrainer):
        def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
            combined = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
            gathered = gather_object(list(completions))
            self.records = [
                *getattr(self, "records", []),
                {
                    "completions": gathered,
                    "local": list(completions),
                    "quality": combined[:, 0].tolist(),
                    "diversity": combined[:, self._diversity_index].tolist(),
                    "fused": combined[:, -1].tolist(),
                },
            ]
            return combined

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
    )
    trainer = RecordingTrainer(
        model=model,
        reward_funcs=[LengthQuality(), _diversity_reward()],
        args=args,
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    trainer.train()
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(trainer.records))


@pytest.mark.slow
def test_two_processes_splitting_a_group_score_like_one_process(tmp_path):
    import torch

    from darling.rewards.fusion import fuse_rewards

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
    reference = _diversity_reward()
    for step0, step1 in zip(*ranks):
        completions = step0["completions"]
        assert len(completions) == 2 * PER_DEVICE
        # Rank 0 holds rows 0-5, rank 1 rows 6-11: the group of rows 4-7 is split between them.
        assert step0["local"] == completions[:PER_DEVICE] and step1["local"] == completions[PER_DEVICE:]
        groups = [completions[i : i + NUM_GENERATIONS] for i in range(0, len(completions), NUM_GENERATIONS)]
        expected_diversity = [s for group in reference.score_groups(groups) for s in group]
        quality = torch.tensor(step0["quality"])
        expected_fused = fuse_rewards(
            quality, torch.tensor(expected_diversity), num_generations=NUM_GENERATIONS
        )
        for step in (step0, step1):
            assert step["diversity"] == pytest.approx(expected_diversity)
            assert step["fused"] == pytest.approx(expected_fused.tolist())
            assert step["quality"] == pytest.approx([float(len(c) % 4) for c in completions])


if __name__ == "__main__":
    _worker(sys.argv[1])
