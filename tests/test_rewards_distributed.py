"""A real 2-process (gloo, CPU) run: a group split between processes gets its 1-process rewards."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import rewards_distributed_worker as worker  # noqa: E402


def test_local_slice_helper_returns_a_process_part():
    from darling.rewards.distributed import local_slice

    assert local_slice([0, 1, 2, 3, 4], counts=[2, 3], rank=1) == [2, 3, 4]
    with pytest.raises(ValueError, match="5 values for 4 gathered rows"):
        local_slice([0, 1, 2, 3, 4], counts=[2, 2], rank=0)


def single_process_rewards():
    return {
        name: reward(prompts=worker.PROMPTS, completions=worker.COMPLETIONS)
        for name, reward in worker.rewards().items()
    }


def _free_low_port(start: int = 29541) -> int:
    """A free port in torchrun's usual range: on this machine gloo's rendezvous aborted ("terminate called
    without an active exception") in about a third of runs whose master port came from the ephemeral
    range above ~50000, and never below it."""
    for port in range(start, start + 400):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{start + 399}")


@pytest.fixture(scope="module")
def two_process_outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(HERE.parent / "src"),
    }
    port = _free_low_port()
    cmd = [
        str(torchrun),
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={port}",
        str(HERE / "rewards_distributed_worker.py"),
        str(out),
    ]
    # Own session, so a hung run can be killed with all its workers.
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        log, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the 2-process torchrun run timed out")
    assert proc.returncode == 0, log[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.slow
def test_two_processes_equal_one_process(two_process_outputs):
    rank0, rank1 = two_process_outputs
    assert rank0["world_size"] == rank1["world_size"] == 2
    assert rank0["distributed_type"].endswith("MULTI_CPU")  # accelerate's gather_object path, as under TRL
    expected = single_process_rewards()
    for name in ("diversity", "diversity_inferred_groups", "diversity_correct", "ngram"):
        assert len(rank0[name]) == len(rank1[name]) == 6
        assert rank0[name] + rank1[name] == expected[name], name
    # Group "b" (rows 4-7) is split 2 + 2: without gathering its scores change, so the check has teeth.
    assert rank0["diversity_no_gather"] + rank1["diversity_no_gather"] != expected["diversity_no_gather"]


@pytest.mark.slow
def test_each_process_logs_the_stats_of_its_groups(two_process_outputs):
    rank0, rank1 = two_process_outputs
    # Each process logs the stats of the groups it scored: the whole groups holding its rows.
    groups = [worker.COMPLETIONS[start : start + 4] for start in (0, 4, 8)]
    for rank, held in ((rank0, groups[:2]), (rank1, groups[1:])):
        reference = worker.rewards()["diversity"]
        reference.score_groups(held)
        expected = {f"darling/{k}": v for k, v in reference.last_stats.items() if k != "num_groups"}
        assert rank["metrics"]["diversity"] == pytest.approx(expected)
