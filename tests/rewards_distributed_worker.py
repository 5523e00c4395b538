"""Worker for tests/test_rewards_distributed.py: one process of a 2-process gloo run.

Launched with ``torchrun --nproc_per_node 2 tests/rewards_distributed_worker.py OUT_DIR``. Each
process scores its own slice of a fixed batch (whose middle group is split between the processes)
and writes its rewards to ``OUT_DIR/rank{r}.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# One batch of 3 groups x 4 generations; with 2 processes x 6 rows group "b" is split 2 + 2.
PROMPTS = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
COMPLETIONS = [
    "the cat sat on the warm mat all day",
    "the cat sat on the warm mat all day long",
    "a dog ran quickly through the green park",
    "quantum physics describes very small particles",
    "paris is the capital city of france today",
    "rome is an ancient city in italy with history",
    "paris is the capital city of france today indeed",
    "the capital city of france today is paris",
    "one two three four five six seven",
    "seven six five four three two one",
    "completely unrelated words about cooking pasta well",
    "one two three four five six seven",
]


def correct_if_even_length(completions, **kwargs):
    """A stand-in correctness reward (module-level so every process has it)."""
    return [float(len(c.split()) % 2 == 0) for c in completions]


def rewards():
    """The reward functions compared between the 1- and 2-process runs, by name."""
    from darling.partitioning import LexicalJudge
    from darling.rewards import DiversityRewardFunction, NGramDiversityReward

    return {
        "diversity": DiversityRewardFunction(judge=LexicalJudge(), num_generations=4),
        "diversity_inferred_groups": DiversityRewardFunction(judge=LexicalJudge()),
        "diversity_correct": DiversityRewardFunction(
            judge=LexicalJudge(), num_generations=4, correctness_reward=correct_if_even_length
        ),
        "ngram": NGramDiversityReward(n=4, num_generations=4),
        "diversity_no_gather": DiversityRewardFunction(judge=LexicalJudge(), gather=False),
    }


def main(out_dir: str) -> None:
    from accelerate import PartialState

    state = PartialState(cpu=True, backend="gloo")  # a gloo process group from torchrun's environment
    rank, size = state.process_index, state.num_processes
    rows = len(PROMPTS) // size
    local = slice(rank * rows, (rank + 1) * rows)
    out: dict = {"metrics": {}, "world_size": size, "distributed_type": str(state.distributed_type)}
    for name, reward in rewards().items():
        metrics: dict[str, float] = {}
        out[name] = reward(
            prompts=PROMPTS[local], completions=COMPLETIONS[local], log_metric=metrics.__setitem__
        )
        out["metrics"][name] = metrics
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(out))
    state.wait_for_everyone()


if __name__ == "__main__":
    main(sys.argv[1])

    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()  # a clean gloo shutdown: left to interpreter exit, it sometimes aborted
