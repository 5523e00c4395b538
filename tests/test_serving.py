"""Served judges through a real HTTP server on 127.0.0.1 (a stand-in for vLLM/SGLang), faults included.

Every request loop here is bounded: few retries, short backoffs and timeouts, and each test that
waits on a server has a wall-clock bound.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import warnings

import pytest
import torch

from darling.classifier import ClassifierSettings, PartitionClassifier
from darling.partitioning import partition
from darling.rewards import AsyncDiversityRewardFunction, DiversityRewardFunction
from darling.serving import ServedClassifierJudge, ServedJudgeError, ServedLLMJudge
from darling.serving.classifier_judge import check_servable
from darling.serving.llm_judge import parse_verdict
from darling.serving.standin import StandInServer
from darling.tiny_models import tiny_sequence_classifier, train_tiny_tokenizer

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "A boy and his dog walked to the river every single morning.",
    "Paris is the capital of France and Rome is the capital of Italy.",
    "Once upon a time there was a dragon who loved to read books.",
    "Solve for x: 2x + 3 = 11, so x = 4, the answer is four.",
    "Brainstorm names for a coffee shop: Bean There, Daily Grind.",
]
PAIRS = [(a, b) for i, a in enumerate(TEXTS) for b in TEXTS[i + 1 :]]
FAST = {"retries": 1, "backoff": 0.01, "timeout": 5.0}


def _classifier(arch: str, tmp_path_factory, num_labels: int = 2) -> tuple[PartitionClassifier, str]:
    tokenizer = train_tiny_tokenizer(kind="causal" if arch == "qwen3" else "encoder")
    model, tokenizer = tiny_sequence_classifier(arch, tokenizer=tokenizer, num_labels=num_labels)
    if num_labels != 2:
        return model, tokenizer
    layout = "chatml" if arch == "qwen3" else "cls_sep"
    clf = PartitionClassifier(
        model, tokenizer, ClassifierSettings(pair_layout=layout, max_tokens_per_text=24)
    )
    # A threshold inside the spread of this random classifier's scores, so partitions are not trivial.
    clf.threshold = float(torch.tensor(clf.predict_proba(PAIRS)).median())
    path = tmp_path_factory.mktemp(arch)
    clf.save_pretrained(path)
    return clf, str(path)


@pytest.fixture(scope="module")
def modernbert(tmp_path_factory):
    return _classifier("modernbert", tmp_path_factory)


@pytest.fixture(scope="module")
def qwen3(tmp_path_factory):
    return _classifier("qwen3", tmp_path_factory)


# ---------------------------------------------------------------------------------------------------
# Served == in-process


@pytest.mark.parametrize("arch", ["modernbert", "qwen3"])
@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_served_probabilities_and_partitions_equal_the_in_process_ones(request, arch, engine):
    clf, path = request.getfixturevalue(arch)
    # Qwen with SGLang only where the user vouches for a fixed SGLang (see the next test).
    fixed = {"sglang_qwen_fixed": True} if (arch, engine) == ("qwen3", "sglang") else {}
    with StandInServer(clf, engine=engine) as server:
        judge = ServedClassifierJudge(
            path, [server.url], model="darling-classifier", engine=engine, pairs_per_request=4, **fixed
        )
        served = judge.scores(PAIRS)
        assert torch.allclose(torch.tensor(served), torch.tensor(clf.predict_proba(PAIRS)), atol=1e-5)
        for mode in ("all_pairs", "greedy"):
            assert partition(TEXTS, judge, mode=mode) == partition(TEXTS, clf, mode=mode)
        # Requests carried exactly the in-process token ids: vLLM batches 4 pairs a request, SGLang one.
        expected = -(-len(PAIRS) // 4) if engine == "vllm" else len(PAIRS)
        payloads = judge.payloads(PAIRS)
        assert len(payloads) == expected
        first = payloads[0]["input"]
        assert isinstance(first[0], int) if engine == "sglang" else isinstance(first[0], list)
    assert judge.token_ids(PAIRS[:1])[0] == clf.encode_pairs(PAIRS[:1])["input_ids"][0].tolist()


def test_sglang_is_refused_for_qwen_classifiers_it_serves_with_a_random_bias(qwen3, modernbert, tmp_path):
    _, path = qwen3
    with pytest.raises(ValueError, match=r"silently wrong.*sglang issue #38768.*Serve it with vLLM"):
        ServedClassifierJudge(path, ["http://127.0.0.1:9"], engine="sglang")
    # Qwen2 checkpoints have the same bug; other families and vLLM are served as they are.
    qwen2 = tmp_path / "qwen2"
    shutil.copytree(path, qwen2)
    config = json.loads((qwen2 / "config.json").read_text())
    config.update(model_type="qwen2", architectures=["Qwen2ForSequenceClassification"])
    (qwen2 / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"qwen2 classifier.*#38768"):
        ServedClassifierJudge(str(qwen2), ["http://127.0.0.1:9"], engine="sglang")
    ServedClassifierJudge(path, ["http://127.0.0.1:9"], engine="vllm")
    with pytest.warns(UserWarning, match="SGLang .* does not serve"):  # no ModernBERT model in SGLang
        ServedClassifierJudge(modernbert[1], ["http://127.0.0.1:9"], engine="sglang")


def test_overridden_settings_reach_the_served_token_ids(modernbert):
    clf, path = modernbert
    short = PartitionClassifier.from_pretrained(path, max_tokens_per_text=6, threshold=0.3)
    judge = ServedClassifierJudge(path, ["http://127.0.0.1:9"], max_tokens_per_text=6, threshold=0.3)
    assert judge.settings.max_tokens_per_text == 6 and judge.threshold == 0.3
    in_process = [short.encode_pairs([pair])["input_ids"][0].tolist() for pair in PAIRS]
    assert judge.token_ids(PAIRS) == in_process
    assert max(map(len, in_process)) < min(
        len(ids) for ids in ServedClassifierJudge(path, "http://a:1").token_ids(PAIRS)
    )
    with StandInServer(clf) as server:
        served = ServedClassifierJudge(path, server.url, max_tokens_per_text=6, **FAST)
        assert served.scores(PAIRS) == pytest.approx(short.predict_proba(PAIRS), abs=1e-5)
    with pytest.raises(ValueError, match="max_tokens_per_text"):
        ServedClassifierJudge(path, ["http://127.0.0.1:9"], max_tokens_per_text=0)


def test_two_servers_share_the_load(modernbert):
    clf, path = modernbert
    with StandInServer(clf) as one, StandInServer(clf) as two:
        judge = ServedClassifierJudge(path, [one.url, two.url], pairs_per_request=2, **FAST)
        assert judge.scores(PAIRS) == pytest.approx(clf.predict_proba(PAIRS), abs=1e-5)
        requests = len(judge.payloads(PAIRS))
        assert one.requests + two.requests == requests
        assert abs(one.requests - two.requests) <= 1  # round-robin


def test_a_server_down_mid_run_hands_its_requests_to_the_other_and_no_row_is_lost(modernbert):
    clf, path = modernbert
    healthy, failing = StandInServer(clf).start(), StandInServer(clf).start()
    try:
        judge = ServedClassifierJudge(path, [failing.url, healthy.url], pairs_per_request=1, **FAST)
        first = judge.scores(PAIRS[:4])
        failing.stop()  # goes down between two calls: connection refused from now on
        later = judge.scores(PAIRS)
        assert first == pytest.approx(later[:4], abs=1e-6)
        assert later == pytest.approx(clf.predict_proba(PAIRS), abs=1e-5)
        # A server that answers 503 (overloaded) is retried on the other one too.
        again = StandInServer(clf).start()
        again.fail_status = 503
        judge = ServedClassifierJudge(path, [again.url, healthy.url], pairs_per_request=1, **FAST)
        assert judge.scores(PAIRS) == pytest.approx(clf.predict_proba(PAIRS), abs=1e-5)
        assert again.requests > 0
        again.stop()
    finally:
        healthy.stop()


def test_all_servers_down_is_a_clear_error_after_bounded_retries(modernbert):
    _, path = modernbert
    servers = [StandInServer().start() for _ in range(2)]
    urls = [server.url for server in servers]
    for server in servers:
        server.stop()
    judge = ServedClassifierJudge(path, urls, retries=3, backoff=0.01, timeout=2.0)
    start = time.perf_counter()
    with pytest.raises(ServedJudgeError, match=r"No server of the pool answered .* after 4 attempts") as err:
        judge.scores(PAIRS[:2])
    assert time.perf_counter() - start < 10
    assert "running and reachable" in str(err.value) and urls[0] in str(err.value)


def test_a_slow_server_is_a_timeout_error(modernbert):
    clf, path = modernbert
    with StandInServer(clf) as slow:
        slow.delay = 1.5
        judge = ServedClassifierJudge(path, [slow.url], timeout=0.3, retries=1, backoff=0.01)
        start = time.perf_counter()
        with pytest.raises(ServedJudgeError, match=r"no answer within 0\.3 s.*raise `timeout`"):
            judge.scores(PAIRS[:1])
        assert time.perf_counter() - start < 5


# ---------------------------------------------------------------------------------------------------
# Clear errors


def test_a_missing_endpoint_says_how_to_start_a_server_that_has_it(modernbert):
    clf, path = modernbert
    with StandInServer(clf, engine="sglang") as server:  # serves /v1/classify, not vLLM's /classify
        judge = ServedClassifierJudge(path, [server.url], **FAST)
        with pytest.raises(
            ServedJudgeError, match=r"/classify does not exist \(HTTP 404.*vllm serve .*engine='sglang'"
        ):
            judge.scores(PAIRS[:1])


def test_a_model_name_the_server_does_not_hold_names_the_fix(modernbert):
    clf, path = modernbert
    with StandInServer(clf, model_name="partition-classifier") as server:
        judge = ServedClassifierJudge(path, [server.url], model="other", **FAST)
        with pytest.raises(
            ServedJudgeError, match=r"does not serve the requested model.*--served-model-name"
        ):
            judge.scores(PAIRS[:1])


def test_a_wrong_number_of_classes_and_a_malformed_answer_are_errors(modernbert, tmp_path_factory):
    clf, path = modernbert
    model, tokenizer = _classifier("modernbert", tmp_path_factory, num_labels=3)
    three = PartitionClassifier.__new__(PartitionClassifier)  # the server only needs .model and .pad_token_id
    three.model, three.tokenizer = model, tokenizer
    with StandInServer(three) as server:
        judge = ServedClassifierJudge(path, [server.url], **FAST)
        with pytest.raises(ServedJudgeError, match="answered 3 classes; a partition classifier has 2"):
            judge.scores(PAIRS[:1])
    with StandInServer(clf) as server:
        server.answer = lambda method, route, body: (
            200,
            {"object": "error", "message": "does not support Classification API"},
        )
        judge = ServedClassifierJudge(path, [server.url], **FAST)
        with pytest.raises(
            ServedJudgeError, match=r"without a `data` list .*does not support Classification"
        ):
            judge.scores(PAIRS[:1])


def test_logits_from_old_servers_are_turned_into_probabilities(modernbert):
    from darling.serving.classifier_judge import _probability

    assert _probability([0.2, 0.8], 1) == 0.8
    assert _probability([1.0, 3.0], 1) == pytest.approx(torch.tensor([1.0, 3.0]).softmax(-1)[1].item())


def test_which_released_classifier_shapes_can_be_served(tmp_path_factory):
    from transformers import AutoConfig

    modernbert = AutoConfig.for_model("modernbert", architectures=["ModernBertForSequenceClassification"])
    qwen3 = AutoConfig.for_model("qwen3", architectures=["Qwen3ForSequenceClassification"])
    deberta_v3 = AutoConfig.for_model(
        "deberta-v2", type_vocab_size=0, architectures=["DebertaV2ForSequenceClassification"]
    )
    bert = AutoConfig.for_model("bert", type_vocab_size=2, architectures=["BertForSequenceClassification"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_servable(modernbert, "dogtooth/similarity-classifier-f168-hf")  # served as is
        check_servable(qwen3, "dogtooth/qwen3-4b-emb-finetuned-step-70-hf")  # served as is
    with pytest.warns(UserWarning, match="vLLM and SGLang do not serve"):
        check_servable(deberta_v3, "yimingzhang/deberta-v3-large-generation-similarity")
    with pytest.raises(ValueError, match=r"token type .*segment.* Score it in-process"):
        check_servable(bert, "a BERT cross-encoder")
    _, bert_path = _bert_checkpoint(tmp_path_factory)
    with pytest.raises(ValueError, match="token type"):
        ServedClassifierJudge(bert_path, ["http://127.0.0.1:9"])


def _bert_checkpoint(tmp_path_factory):
    model, tokenizer = tiny_sequence_classifier("bert")
    path = tmp_path_factory.mktemp("bert")
    PartitionClassifier(model, tokenizer, ClassifierSettings(max_tokens_per_text=24)).save_pretrained(path)
    return model, str(path)


def test_bad_settings_fail_at_construction(modernbert):
    _, path = modernbert
    with pytest.raises(ValueError, match="Unknown engine"):
        ServedClassifierJudge(path, ["http://127.0.0.1:9"], engine="tgi")
    with pytest.raises(ValueError, match="not an http"):
        ServedClassifierJudge(path, ["node1:8000"])
    with pytest.raises(ValueError, match="at least one URL"):
        ServedClassifierJudge(path, [])
    with pytest.raises(ValueError, match="max_in_flight"):
        ServedClassifierJudge(path, ["http://127.0.0.1:9"], max_in_flight=0)
    with pytest.raises(TypeError, match="got None"):
        ServedClassifierJudge(path, None)  # e.g. an unset environment variable
    for name in ("timeout", "backoff"):
        with pytest.raises(ValueError, match=f"`{name}` must be"):
            ServedClassifierJudge(path, ["http://127.0.0.1:9"], **{name: None})
    with pytest.raises(ValueError, match="`timeout` must be a positive"):
        ServedLLMJudge(["http://127.0.0.1:9"], "m", timeout=0)


# ---------------------------------------------------------------------------------------------------
# The LLM judge


def _first_word_chat(messages):
    """A stand-in instruct model: equivalent iff both responses start with the same word."""
    text = messages[-1]["content"]
    a = text.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
    b = text.split("<<<\n", 2)[2].split("\n>>>", 1)[0]
    same = a.split()[0].lower() == b.split()[0].lower()
    return f"Both start with a word; comparing them. [[{'EQUIVALENT' if same else 'DIFFERENT'}]]"


def test_llm_judge_asks_the_chat_endpoint_and_parses_the_last_verdict():
    texts = [
        "Cats purr when they are happy and relaxed.",
        "cats sleep most of the day in the sun.",
        "Dogs bark.",
    ]
    with (
        StandInServer(chat=_first_word_chat, model_name="judge") as one,
        StandInServer(chat=_first_word_chat, model_name="judge") as two,
    ):
        judge = ServedLLMJudge([one.url, two.url], "judge", task="math", **FAST)
        assert partition(texts, judge) == [0, 0, 1]
        # Three rounds of one pair each ("Dogs bark." is short, but its partners are not), spread over both.
        assert (one.requests, two.requests) in ((2, 1), (1, 2))
        assert judge.payloads([("a", "b")])[0]["temperature"] == 0.0
    assert parse_verdict("first [[DIFFERENT]], then on reflection [[equivalent]]") is True


def test_llm_judge_without_a_verdict_is_an_error_not_a_default():
    with StandInServer(chat=lambda messages: "They look alike to me.", model_name="judge") as server:
        judge = ServedLLMJudge([server.url], "judge", **FAST)
        with pytest.raises(
            ServedJudgeError, match=r"without a \[\[EQUIVALENT\]\] or \[\[DIFFERENT\]\] verdict"
        ):
            judge.equivalent([("a long first response here", "a long second response here")])
    with pytest.raises(ValueError, match="Unknown task"):
        ServedLLMJudge(["http://127.0.0.1:9"], "judge", task="poetry")


def test_llm_judge_reads_the_verdict_after_the_reasoning_block():
    thinking = "<think>Both are about cats, so [[EQUIVALENT]]? No, one is about sleep.</think> They differ. [[DIFFERENT]]"
    with StandInServer(chat=lambda messages: thinking, model_name="judge") as server:
        judge = ServedLLMJudge([server.url], "judge", **FAST)
        assert judge.equivalent([("a long first response here", "a long second response here")]) == [False]
    # A verdict only inside the reasoning is no verdict.
    only_thought = "<think>I would say [[EQUIVALENT]] here.</think> Hard to say."
    with StandInServer(chat=lambda messages: only_thought, model_name="judge") as server:
        judge = ServedLLMJudge([server.url], "judge", **FAST)
        with pytest.raises(ServedJudgeError, match="outside <think> blocks"):
            judge.equivalent([("a long first response here", "a long second response here")])


def test_llm_judge_never_reads_an_answer_cut_off_at_max_tokens():
    # 12 words; the verdict in the first 8 is a thought, the answer is the last word.
    reply = "Maybe [[EQUIVALENT]] since both are cats, but no: [[DIFFERENT]] is it."

    def chat(messages):
        return reply

    pair = [("a long first response here", "a long second response here")]
    with StandInServer(chat=chat, model_name="judge") as server:
        cut = ServedLLMJudge([server.url], "judge", max_tokens=8, length_retries=0, **FAST)
        with pytest.raises(
            ServedJudgeError, match=r"cut off at max_tokens.*last at 8 tokens.*enable_thinking"
        ):
            cut.equivalent(pair)
        # One retry with twice the tokens reads the whole answer.
        retried = ServedLLMJudge([server.url], "judge", max_tokens=8, length_retries=1, **FAST)
        assert retried.equivalent(pair) == [False]
        assert [body["max_tokens"] for body in server.chat_bodies] == [8, 8, 16]
        assert asyncio.run(retried.aequivalent(pair)) == [False]


def test_llm_judge_sends_enable_thinking_and_extra_fields_only_when_asked():
    with StandInServer(chat=lambda messages: "[[EQUIVALENT]]", model_name="judge") as server:
        pair = [("a long first response here", "a long second response here")]
        ServedLLMJudge([server.url], "judge", **FAST).equivalent(pair)
        choice = {"structured_outputs": {"choice": ["[[EQUIVALENT]]", "[[DIFFERENT]]"]}}
        ServedLLMJudge([server.url], "judge", enable_thinking=False, extra_body=choice, **FAST).equivalent(
            pair
        )
        plain, asked = server.chat_bodies
    assert "chat_template_kwargs" not in plain and "structured_outputs" not in plain
    assert asked["chat_template_kwargs"] == {"enable_thinking": False}
    assert asked["structured_outputs"] == choice["structured_outputs"]
    with pytest.raises(ValueError, match="enable_thinking"):
        ServedLLMJudge(["http://127.0.0.1:9"], "judge", enable_thinking="no")
    with pytest.raises(ValueError, match="length_retries"):
        ServedLLMJudge(["http://127.0.0.1:9"], "judge", length_retries=-1)


def test_a_server_that_refuses_token_ids_names_the_versions_that_take_them(modernbert):
    clf, path = modernbert
    with StandInServer(clf, token_ids=False) as server:  # answers like vLLM 0.9 to 0.14
        judge = ServedClassifierJudge(path, [server.url], **FAST)
        with pytest.raises(ServedJudgeError, match=r"HTTP 400.*text-only on /classify.*vLLM >= 0.15") as info:
            judge.scores(PAIRS[:2])
    assert "--max-model-len" not in str(info.value)


# ---------------------------------------------------------------------------------------------------
# In the reward function, the judge specs and the trainer config


def test_async_diversity_reward_awaits_the_served_judge_and_equals_the_sync_one(modernbert):
    from trl.trainer.utils import is_async_callable

    clf, path = modernbert
    with StandInServer(clf) as server:
        served = AsyncDiversityRewardFunction.from_pretrained(path, servers=[server.url], num_generations=3)
        assert is_async_callable(served) and served.classifier_id == path
        local = DiversityRewardFunction.from_pretrained(path, num_generations=3)
        prompts, completions = ["p"] * 6, TEXTS
        assert asyncio.run(served(prompts=prompts, completions=completions)) == local(
            prompts=prompts, completions=completions
        )
    with pytest.raises(ValueError, match="pass `servers` too"):
        DiversityRewardFunction.from_pretrained(path, server_options={"timeout": 1.0})


def test_judge_specs_name_served_pools(modernbert):
    from darling.evaluation import load_judge

    clf, path = modernbert
    with StandInServer(clf, model_name="clf") as server:
        judge = load_judge(f"served:{path}@{server.url};model=clf", threshold=0.4)
        assert isinstance(judge, ServedClassifierJudge) and judge.threshold == 0.4 and judge.model == "clf"
        assert judge.scores(PAIRS[:3]) == pytest.approx(clf.predict_proba(PAIRS[:3]), abs=1e-5)
    # NoveltyBench's token limits reach the served judge's token ids as they reach a classifier: judge.
    for protocol, limit in (("upstream", 128), ("darling", 512)):
        assert (
            load_judge(f"served:{path}@http://a:1", protocol=protocol).settings.max_tokens_per_text == limit
        )
    assert load_judge(f"served:{path}@http://a:1", max_tokens_per_text=6).settings.max_tokens_per_text == 6
    llm = load_judge("llm:Qwen/Qwen2.5-7B-Instruct@http://a:9000,http://b:9000;task=math")
    assert (
        isinstance(llm, ServedLLMJudge)
        and llm.pool.urls == ["http://a:9000", "http://b:9000"]
        and llm.task == "math"
    )
    with pytest.raises(ValueError, match="needs a model and server URLs"):
        load_judge(f"served:{path}")
    with pytest.raises(ValueError, match="Unknown option 'temperature=0'"):
        load_judge("llm:m@http://a:9000;temperature=0")


def test_darling_config_names_a_served_pool(tmp_path, modernbert):
    from datasets import Dataset

    from darling.tiny_models import tiny_causal_lm
    from darling.trainer import DarlingConfig, DarlingGRPOTrainer

    _, path = modernbert
    with pytest.raises(ValueError, match="set diversity_classifier to the checkpoint"):
        DarlingConfig(output_dir=str(tmp_path), use_cpu=True, diversity_servers=["http://a:8000"])
    for empty in ("", " , ", []):  # an unset variable in a launch script must not mean "load it here"
        with pytest.raises(ValueError, match="diversity_servers is empty"):
            DarlingConfig(
                output_dir=str(tmp_path), use_cpu=True, diversity_classifier=path, diversity_servers=empty
            )
    config = DarlingConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to="none",
        per_device_train_batch_size=4,
        num_generations=4,
        diversity_classifier=path,
        diversity_servers="http://127.0.0.1:9",
        diversity_kwargs={"floor": 0.2, "server_options": {"model": "clf", "timeout": 3.0}},
    )
    assert config.diversity_servers == ["http://127.0.0.1:9"]
    policy, tokenizer = tiny_causal_lm()
    trainer = DarlingGRPOTrainer(
        model=policy,
        reward_funcs=[lambda prompts, completions, **kwargs: [1.0] * len(completions)],
        args=config,
        train_dataset=Dataset.from_dict({"prompt": ["a", "b"]}),
        processing_class=tokenizer,
    )
    reward = trainer.diversity_reward
    assert isinstance(reward, AsyncDiversityRewardFunction) and isinstance(
        reward.judge, ServedClassifierJudge
    )
    assert (reward.floor, reward.judge.model, reward.judge.pool.timeout) == (0.2, "clf", 3.0)


def test_reward_functions_with_a_classifier_or_a_served_judge_pickle_and_still_work(modernbert):
    import pickle

    clf, path = modernbert
    local = DiversityRewardFunction(classifier=clf, num_generations=3)
    texts = TEXTS
    local.judge.scores(PAIRS[:2])  # fills the token-id cache, which is not pickled
    clone = pickle.loads(pickle.dumps(local))
    assert clone(prompts=["p"] * 6, completions=texts) == local(prompts=["p"] * 6, completions=texts)
    with StandInServer(clf) as server:
        served = AsyncDiversityRewardFunction.from_pretrained(path, servers=[server.url], num_generations=3)
        served.judge.scores(PAIRS[:2])  # opens the pool's connections, which are not pickled either
        again = pickle.loads(pickle.dumps(served))
        assert asyncio.run(again(prompts=["p"] * 6, completions=texts)) == local(
            prompts=["p"] * 6, completions=texts
        )
        served.judge.pool.close()
        again.judge.pool.close()


def test_darling_partition_command_names_a_served_pool(tmp_path, modernbert, capsys):
    import json

    from darling.cli import main

    clf, path = modernbert
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "p0", "generations": TEXTS}) + "\n")
    out = tmp_path / "out.jsonl"
    with StandInServer(clf, model_name="clf") as server:
        spec = f"served:{path}@{server.url};model=clf"
        assert (
            main(["partition", str(source), "--judge", spec, "--mode", "greedy", "--output", str(out)]) == 0
        )
        assert server.inputs > 0
    record = json.loads(out.read_text())
    assert record["partition"] == partition(TEXTS, clf, mode="greedy")
    assert main(["partition", str(source), "--judge", f"served:{path}", "--output", str(out)]) == 2
    assert "needs a model and server URLs" in capsys.readouterr().err
