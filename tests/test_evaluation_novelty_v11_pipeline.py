"""`darling evaluate --protocol v1.1` end to end against a stand-in chat server on 127.0.0.1 giving set-level answers.

The stand-in judge groups responses by their first word and scores a response by its word count;
the prompts come from a checkout-shaped folder written here (darling never holds upstream's).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re

import pytest

from conftest import NOVELTYBENCH, requires_shared_data
from darling.cli import main
from darling.evaluation.io import get_list_field, read_jsonl
from darling.evaluation.novelty_judges import ChatAnswer, ChatEndpoint, HeadScorer, SetLevelPartitioner
from darling.evaluation.novelty_prompts import load_judge_prompts
from darling.evaluation.novelty_v11 import shuffled_order, summarize
from darling.evaluation.novelty_v11_run import run_stage, run_v11
from darling.evaluation.runner import EvaluationConfig, run_evaluation
from darling.evaluation.submission import push_results, write_submission
from darling.serving.standin import StandInServer

PARTITION_SYSTEM = "TEST partition system prompt"
SCORE_SYSTEM = "TEST score system prompt"
PROMPTS = [
    {"id": "colour", "prompt": "Name a colour."},
    {"id": "yes", "prompt": "Say yes."},
    {"id": "broken", "prompt": "BROKEN: the judge never answers a partition"},
]
GENERATIONS = {
    "Name a colour.": ["Red is warm.", "Blue sky.", "red, like blood.", "Red is warm."],
    "Say yes.": ["Yes."] * 4,
    "BROKEN: the judge never answers a partition": ["One.", "Two.", "Three.", "Four."],
}


def judge_chat(messages):
    system, user = messages[0]["content"], messages[1]["content"]
    prompt = re.search(r"<prompt>\n(.*?)\n</prompt>", user, re.S).group(1)
    if system == PARTITION_SYSTEM:
        if prompt.startswith("BROKEN"):
            return '{"groups": [[0, 1]]}'  # leaves responses out: never a partition
        groups: dict[str, list[int]] = {}
        for index, text in re.findall(r'<response index="(\d+)">\n(.*?)\n</response>', user, re.S):
            groups.setdefault(text.split()[0].strip(".,").lower(), []).append(int(index))
        return "<think>grouping</think>" + json.dumps({"groups": list(groups.values())})
    assert system == SCORE_SYSTEM
    response = re.search(r"<response>\n(.*?)\n</response>", user, re.S).group(1)
    return json.dumps({"score": min(10, len(response.split()))})


class FixedGenerator:
    def __init__(self):
        self.calls = 0

    def generate(self, prompts, num_samples, seed=None):
        self.calls += 1
        return [GENERATIONS[p][:num_samples] for p in prompts]


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "novelty-bench"
    (root / "src").mkdir(parents=True)
    (root / "src/partition.py").write_text(f"JUDGE_SYSTEM = {PARTITION_SYSTEM!r}\n")
    (root / "src/score.py").write_text(f"SCORE_SYSTEM = {SCORE_SYSTEM!r}\n")
    return root


@pytest.fixture
def server():
    with StandInServer(chat=judge_chat, model_name="judge-model") as running:
        yield running


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in PROMPTS))
    return path


def v11_config(dataset, out, server, checkout, **overrides):
    settings = dict(
        model="my-model", dataset=str(dataset), output_dir=str(out), protocol="v1.1", num_samples=4,
        judge=f"llm:judge-model@{server.url}", judge_prompts=str(checkout), progress=False,
    )  # fmt: skip
    return EvaluationConfig(**{**settings, **overrides})


def test_v11_run_writes_upstreams_layout_and_numbers(tmp_path, dataset, server, checkout):
    out = tmp_path / "run" / "nb-curated"
    config = v11_config(dataset, out, server, checkout)
    assert config.max_new_tokens == 2048  # upstream's v1.1 budget
    summary = run_evaluation(config, generator=FixedGenerator())

    assert (out / "generations.jsonl").is_file()
    rows = {r["id"]: r for r in read_jsonl(out / "v1.1/scores.jsonl")}
    assert [r["id"] for r in read_jsonl(out / "v1.1/scores.jsonl")] == ["colour", "yes", "broken"]
    colour = rows["colour"]
    # the exact duplicate (3) joins 0 before the judge; the judge puts "red, like blood." with "Red is warm."
    assert colour["partition"] == [0, 1, 0, 0] and colour["distinct"] == 2
    assert colour["generation_scores"] == [3, 2, None, None]  # heads judged, repeats null
    assert colour["utility"] == pytest.approx((3 + 0.8 * 2) / (1 + 0.8 + 0.64 + 0.512))
    assert colour["partition_config"]["judge_model"] == "judge-model" and "score_key" in colour
    assert rows["yes"]["partition"] == [0, 0, 0, 0] and rows["yes"]["partition_scores"] == [1]
    broken = rows["broken"]
    assert broken["unscored"] == "invalid_partition" and broken["utility"] is None
    assert "missing [2, 3]" in broken["judge_error"]

    written = json.loads((out / "v1.1/summary.json").read_text())
    assert written == summary["v1.1"] == summarize(rows.values())
    assert written["unscored"] == 1 and written["n_scored"] == 2
    assert written["mean_distinct"] == 1.5
    # one partition call (none for identical responses) + 3 tries for the broken prompt, 2 + 1 head scores
    assert server.requests == 1 + 3 + 3


def test_every_stage_resumes_and_rejudges_only_what_changed(tmp_path, dataset, server, checkout):
    out = tmp_path / "nb-curated"
    generator = FixedGenerator()
    run_evaluation(v11_config(dataset, out, server, checkout), generator=generator)
    requests, calls = server.requests, generator.calls
    first = (out / "v1.1/scores.jsonl").read_text()

    run_evaluation(v11_config(dataset, out, server, checkout), generator=generator)
    assert (server.requests, generator.calls) == (requests, calls)  # nothing sampled or judged again
    assert (out / "v1.1/scores.jsonl").read_text() == first

    # a shuffled order changes every partition key: the two judged prompts are asked again; the
    # partitions come out the same, so no score is
    run_evaluation(v11_config(dataset, out, server, checkout, judge_seed=5), generator=generator)
    assert server.requests == requests + 1 + 3
    # lenient folding re-judges: the broken prompt's answer is folded (the two responses shown first
    # together, the two it left out alone)
    summary = run_evaluation(
        v11_config(dataset, out, server, checkout, judge_seed=5, lenient_partition=True), generator=generator
    )
    broken = read_jsonl(out / "v1.1/scores.jsonl")[2]
    shown = shuffled_order(PROMPTS[2]["prompt"], 4, 5)
    labels = broken["partition"]
    assert labels[shown[0]] == labels[shown[1]] and broken["distinct"] == 3 and broken["utility"] is not None
    assert "unscored" not in summary["v1.1"]


def test_an_interrupted_stage_keeps_its_finished_rows(tmp_path):
    rows = [{"id": str(i), "prompt": "p", "generations": [str(i)]} for i in range(5)]
    seen = []

    def failing(chunk):
        seen.extend(r["id"] for r in chunk)
        if len(seen) > 2:
            raise RuntimeError("judge went away")
        return [{"partition": [0], "distinct": 1} for _ in chunk]

    output = tmp_path / "v1.1/partitions.jsonl"
    output.parent.mkdir()
    with pytest.raises(RuntimeError):
        run_stage(
            rows, output, "partition_key", {"stage": "partition"}, failing, chunk_size=2, progress=False
        )
    assert not output.exists() and len(read_jsonl(output.with_name("partitions.jsonl.partial"))) == 2
    seen.clear()
    done = run_stage(rows, output, "partition_key", {"stage": "partition"}, lambda c: [{"partition": [0]}] * len(c),
                     chunk_size=2, progress=False)  # fmt: skip
    assert [r["id"] for r in done] == ["0", "1", "2", "3", "4"]
    assert not output.with_name("partitions.jsonl.partial").exists()


class DecliningEndpoint(ChatEndpoint):
    """Declines every request whose text mentions `secret` (a provider's content filter)."""

    def complete(self, payloads):
        answers = []
        for body in payloads:
            if "secret" in body["messages"][1]["content"]:
                answers.append(ChatAnswer("", "content_filter", True))
            else:
                answers.append(ChatAnswer(judge_chat(body["messages"]), "stop", False))
        return answers


def test_a_declined_prompt_is_unscored_and_a_fallback_judge_can_score_it(checkout):
    prompts = load_judge_prompts(checkout)
    judge = DecliningEndpoint("http://127.0.0.1:9", "first")
    rows = [
        {
            "id": "a",
            "prompt": "Tell a secret.",
            "generations": ["Red.", "Red."],
            "partition": [0, 0],
            "distinct": 1,
        },
        {
            "id": "b",
            "prompt": "Name one.",
            "generations": ["Blue sky.", "Red."],
            "partition": [0, 1],
            "distinct": 2,
        },
    ]
    declined, fine = HeadScorer(judge, prompts).score(rows)
    assert (
        declined["unscored"] == "judge_refusal" and declined["utility"] is None and declined["distinct"] == 1
    )
    assert fine["generation_scores"] == [2, 1]

    class Fallback(ChatEndpoint):
        def complete(self, payloads):
            return [ChatAnswer('{"score": 4}', "stop", False) for _ in payloads]

    rescued = HeadScorer(judge, prompts, fallback=Fallback("http://127.0.0.1:9", "second")).score(rows[:1])[0]
    assert rescued["generation_scores"] == [4, None] and "unscored" not in rescued

    part = SetLevelPartitioner(judge, prompts).partition([{**rows[0], "generations": ["Red.", "Blue."]}])[0]
    assert part == {"partition": None, "distinct": None, "unscored": "judge_refusal"}


def test_submission_is_slim_and_push_sends_the_full_files(tmp_path, dataset, server, checkout):
    run = tmp_path / "2026-12-07_my-model"
    run_evaluation(v11_config(dataset, run / "nb-curated", server, checkout), generator=FixedGenerator())
    fork = tmp_path / "fork/evaluation/2026-12-07_my-model"
    written = write_submission(run, fork)
    assert sorted(str(p.relative_to(fork)) for p in written) == [
        "nb-curated/generations.jsonl",
        "nb-curated/v1.1/partitions.jsonl",
        "nb-curated/v1.1/scores.jsonl",
        "nb-curated/v1.1/summary.json",
    ]
    slim = read_jsonl(fork / "nb-curated/v1.1/scores.jsonl")
    assert all("generations" not in row for row in slim)
    # the slim file alone reproduces the summary, as upstream's summarize does on the committed files
    assert summarize(slim) == json.loads((fork / "nb-curated/v1.1/summary.json").read_text())

    # the Hub, replaced at the HTTP layer: every request huggingface_hub sends is recorded and answered
    httpx = pytest.importorskip("httpx2")  # huggingface_hub's HTTP client
    from huggingface_hub import close_session, set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    sent = []

    def hub(request):
        path = request.url.path
        sent.append((request.method, path))
        if path == "/api/repos/create":
            return httpx.Response(200, json={"url": "https://huggingface.co/datasets/me/nb-results"})
        if path.endswith("/preupload/main"):
            files = json.loads(request.content)["files"]
            return httpx.Response(
                200,
                json={
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                    ]
                },
            )
        if path.endswith("/commit/main"):
            body = request.content
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            sent.append(("files", sorted(x["value"]["path"] for x in lines if x["key"] == "file")))
            sent.append(
                (
                    "contents",
                    {
                        x["value"]["path"]: base64.b64decode(x["value"]["content"])
                        for x in lines
                        if x["key"] == "file"
                    },
                )
            )
            return httpx.Response(
                200,
                json={
                    "commitUrl": "https://huggingface.co/datasets/me/nb-results/commit/abc",
                    "commitOid": "a" * 40,
                },
            )
        return httpx.Response(404, json={"error": f"unexpected {path}"})

    set_client_factory(lambda: httpx.Client(transport=httpx.MockTransport(hub)))
    close_session()
    try:
        info = push_results(run, "me/nb-results", token="hf_test")
    finally:
        set_client_factory(default_client_factory)
    assert info.oid == "a" * 40
    files = next(value for kind, value in sent if kind == "files")
    prefix = "results/2026-12-07_my-model/nb-curated/"
    assert files == [
        prefix + name
        for name in ("generations.jsonl", "v1.1/partitions.jsonl", "v1.1/scores.jsonl", "v1.1/summary.json")
    ]
    contents = next(value for kind, value in sent if kind == "contents")
    assert b"Red is warm." in contents[prefix + "v1.1/scores.jsonl"]  # the full files keep the responses


def test_partition_command_v11(tmp_path, server, checkout, capsys):
    source = tmp_path / "gens.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": r["id"], "prompt": r["prompt"], "generations": GENERATIONS[r["prompt"]]}) + "\n"
            for r in PROMPTS[:2]
        )
    )
    out = tmp_path / "partitions.jsonl"
    args = ["partition", str(source), "--protocol", "v1.1", "--judge", f"llm:judge-model@{server.url}",
            "--judge-prompts", str(checkout), "--output", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["mean_distinct"] == 1.5 and summary["unscored"] == 0
    assert [r["partition"] for r in read_jsonl(out)] == [[0, 1, 0, 0], [0, 0, 0, 0]]
    assert main(args) == 0 and server.requests == 1  # resumed: nothing judged again
    assert main([*args, "--mode", "greedy"]) == 2
    assert "--mode is a v1.0 setting" in capsys.readouterr().err


def test_v11_settings_are_checked_before_anything_runs(tmp_path, dataset, checkout):
    with pytest.raises(ValueError, match="llm:MODEL@URL"):
        EvaluationConfig(
            model="m", dataset=str(dataset), output_dir=str(tmp_path), protocol="v1.1", judge="lexical"
        )
    with pytest.raises(ValueError, match="JUDGE_KEY_UNSET"):
        EvaluationConfig(model="m", dataset=str(dataset), output_dir=str(tmp_path), protocol="v1.1",
                         judge="llm:x@http://127.0.0.1:9;key_env=JUDGE_KEY_UNSET")  # fmt: skip
    with pytest.raises(ValueError, match=r"add --protocol v1\.1"):
        EvaluationConfig(model="m", dataset=str(dataset), output_dir=str(tmp_path), judge_seed=1)
    config = EvaluationConfig(model="m", dataset=str(dataset), output_dir=str(tmp_path / "o"), protocol="v1.1",
                              judge="llm:x@http://127.0.0.1:9", judge_prompts=str(tmp_path / "missing"))  # fmt: skip
    with pytest.raises(FileNotFoundError, match="judge prompts were not found"):
        run_evaluation(config, generator=FixedGenerator())
    assert not (tmp_path / "o" / "samples.jsonl").exists()  # failed before sampling


@requires_shared_data
@pytest.mark.shared_data
@pytest.mark.parametrize("model", ["gemma-2-2b-it", "Llama-3.1-8B-Instruct"])
def test_replaying_upstreams_partitions_and_scores_reproduces_its_summary(tmp_path, checkout, model):
    # NoveltyBench's released evaluation of `model` (100 curated prompts): a stand-in judge answers
    # with upstream's own partition and head scores, so the whole v1.1 path (set-level answers,
    # null repeats, files, summary) must land on the means of upstream's summary.json.
    records = read_jsonl(NOVELTYBENCH / "generations" / f"curated_{model}.jsonl")
    reported = json.loads((NOVELTYBENCH / "generations" / f"curated_{model}.summary.json").read_text())
    by_prompt = {}
    for r in records:
        gens = get_list_field(r, "generations", r["id"])
        by_prompt[r["prompt"]] = (
            gens,
            get_list_field(r, "partition", r["id"]),
            get_list_field(r, "generation_scores", r["id"]),
        )

    def replay(messages):
        user = messages[1]["content"]
        prompt = re.search(r"<prompt>\n(.*?)\n</prompt>", user, re.S).group(1)
        gens, labels, scores = by_prompt[prompt]
        if messages[0]["content"] == PARTITION_SYSTEM:
            shown = re.findall(r'<response index="(\d+)">\n(.*?)\n</response>(?=\n\n<response|$)', user, re.S)
            groups: dict[int, list[int]] = {}
            for index, text in shown:
                groups.setdefault(labels[gens.index(text)], []).append(int(index))
            return json.dumps({"groups": list(groups.values())})
        text = re.search(r"<response>\n(.*)\n</response>$", user, re.S).group(1)
        return json.dumps({"score": scores[gens.index(text)]})

    eval_dir = tmp_path / "nb-curated"
    eval_dir.mkdir()
    (eval_dir / "generations.jsonl").write_text(
        "".join(
            json.dumps({"id": r["id"], "prompt": r["prompt"], "generations": by_prompt[r["prompt"]][0]})
            + "\n"
            for r in records
        )
    )
    prompts = load_judge_prompts(checkout)
    with StandInServer(chat=replay, model_name="replay") as server:
        judge = ChatEndpoint(server.url, "replay")
        summary = run_v11(
            eval_dir, SetLevelPartitioner(judge, prompts), HeadScorer(judge, prompts), progress=False
        )
    assert summary["mean_distinct"] == pytest.approx(reported["mean_distinct"], abs=1e-12)
    assert summary["mean_utility"] == pytest.approx(reported["mean_utility"], abs=1e-12)
    assert "unscored" not in summary


@pytest.mark.skipif(
    not (os.environ.get("DARLING_V11_JUDGE") and os.environ.get("NOVELTYBENCH_HOME")),
    reason="needs a real judge: DARLING_V11_JUDGE='llm:MODEL@http://host:port' (e.g. `vllm serve Qwen/Qwen3-8B`) "
    "and NOVELTYBENCH_HOME (a NoveltyBench checkout, for the judge prompts)",
)
def test_one_prompt_through_a_real_chat_server(tmp_path):
    from darling.evaluation.novelty_v11_eval import parse_endpoint

    eval_dir = tmp_path / "nb-curated"
    eval_dir.mkdir()
    generations = [
        "Red.",
        "Blue.",
        "Crimson red.",
        "Red.",
        "Green, like grass.",
        "Blue.",
        "Scarlet.",
        "Red!",
        "Teal.",
        "Navy blue.",
    ]
    row = {"id": "colour", "prompt": "Name a colour.", "generations": generations}
    (eval_dir / "generations.jsonl").write_text(json.dumps(row) + "\n")
    judge = parse_endpoint(os.environ["DARLING_V11_JUDGE"])
    prompts = load_judge_prompts()
    summary = run_v11(
        eval_dir, SetLevelPartitioner(judge, prompts), HeadScorer(judge, prompts), progress=False
    )
    scored = read_jsonl(eval_dir / "v1.1/scores.jsonl")[0]
    assert "unscored" not in scored, scored.get("judge_error")
    assert scored["partition"][0] == scored["partition"][3]  # identical texts, settled before the judge
    assert all(1 <= s <= 10 for s in scored["partition_scores"])
    assert summary["mean_distinct"] == len(scored["partition_scores"])


def test_the_v11_example_runs_both_splits_and_writes_the_submission(tmp_path):
    import importlib.util
    import sys

    from conftest import REPO_ROOT

    spec = importlib.util.spec_from_file_location(
        "example_noveltybench_v11", REPO_ROOT / "examples/noveltybench_v11.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    assert next(
        line.strip() for line in module.__doc__.splitlines() if line.strip().startswith("python ")
    ).startswith("python examples/noveltybench_v11.py")
    summaries = module.main(
        ["--smoke", "--run_dir", str(tmp_path / "run"), "--submission_dir", str(tmp_path / "sub")]
    )
    assert set(summaries) == {"nb-curated", "nb-wildchat"}
    for folder, summary in summaries.items():
        rows = read_jsonl(tmp_path / "run" / folder / "v1.1/scores.jsonl")
        assert len(rows) == 3 and summary == summarize(rows)
        assert summarize(read_jsonl(tmp_path / "sub" / folder / "v1.1/scores.jsonl")) == summary
    assert (tmp_path / "sub/nb-curated/generations.jsonl").is_file()
    assert not (tmp_path / "sub/nb-wildchat/generations.jsonl").exists()  # upstream commits curated text only


class RecordingEndpoint(ChatEndpoint):
    """Keeps the request bodies and answers one partition of singletons and score 5."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies = []

    def complete(self, payloads):
        self.bodies.extend(payloads)
        answers = []
        for body in payloads:
            if "partition" in body["response_format"]["json_schema"]["name"]:
                n = len(
                    body["response_format"]["json_schema"]["schema"]["properties"]["groups"]["items"]["items"]
                )
                answers.append(ChatAnswer(json.dumps({"groups": [[i] for i in range(n)]}), "stop", False))
            else:
                answers.append(ChatAnswer('{"score": 5}', "stop", False))
        return answers


def test_structured_output_schemas_bound_indices_and_scores(checkout):
    # Unbounded, a weak model held to the schema by a real vLLM server listed integers until max_tokens.
    prompts = load_judge_prompts(checkout)
    judge = RecordingEndpoint("http://127.0.0.1:9", "recorder")
    rows = [{"id": "a", "prompt": "Name a colour.", "generations": ["Red.", "Blue.", "Red.", "Teal."]}]
    parts = SetLevelPartitioner(judge, prompts).partition(rows)
    schema = judge.bodies[0]["response_format"]["json_schema"]["schema"]
    groups = schema["properties"]["groups"]
    assert groups["maxItems"] == 3 and groups["items"]["maxItems"] == 3  # three distinct texts shown
    assert (groups["items"]["items"]["minimum"], groups["items"]["items"]["maximum"]) == (0, 2)
    HeadScorer(judge, prompts).score([{**rows[0], **parts[0]}])
    score = judge.bodies[-1]["response_format"]["json_schema"]["schema"]["properties"]["score"]
    assert (score["minimum"], score["maximum"]) == (1, 10)
