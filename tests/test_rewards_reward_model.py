"""RewardModelReward: a scalar-head sequence-classification reward model as a TRL reward function."""

from __future__ import annotations

import pickle

import pytest
import torch

from darling.rewards import RewardModelReward
from darling.testing import tiny_sequence_classifier


@pytest.fixture(scope="module")
def reward_model(causal_tokenizer):
    model, tokenizer = tiny_sequence_classifier("qwen3", tokenizer=causal_tokenizer, num_labels=1)
    return model, tokenizer


def manual_score(model, tokenizer, messages):
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        return model(**ids).logits[0, 0].item()


def test_scores_chat_templated_conversation(reward_model):
    model, tokenizer = reward_model
    reward = RewardModelReward(model, tokenizer, batch_size=2, device="cpu")
    texts = reward.conversation_texts(["What is 2+3?"], ["It is five."])
    assert texts == [
        "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\nIt is five.<|im_end|>\n"
    ]
    expected = manual_score(
        model,
        tokenizer,
        [{"role": "user", "content": "What is 2+3?"}, {"role": "assistant", "content": "It is five."}],
    )
    assert reward(prompts=["What is 2+3?"], completions=["It is five."]) == [
        pytest.approx(expected, abs=1e-5)
    ]


def test_batched_scores_equal_one_at_a_time(reward_model):
    model, tokenizer = reward_model
    prompts = ["Tell me a story", "Name a city", "Solve for x: 2x + 3 = 11", "Hi"]
    completions = ["Once upon a time there was a dragon.", "Paris", "x = 4", "A much longer answer " * 5]
    batched = RewardModelReward(model, tokenizer, batch_size=3)(prompts=prompts, completions=completions)
    single = RewardModelReward(model, tokenizer, batch_size=1)(prompts=prompts, completions=completions)
    assert batched == pytest.approx(single, abs=1e-5)
    assert len(set(round(s, 6) for s in batched)) == 4  # the prompt and completion both matter


def test_conversational_prompts_and_completions(reward_model):
    model, tokenizer = reward_model
    reward = RewardModelReward(model, tokenizer)
    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a city"}]
    completion = [{"role": "assistant", "content": "Rome"}]
    expected = manual_score(model, tokenizer, [*prompt, {"role": "assistant", "content": "Rome"}])
    assert reward(prompts=[prompt], completions=[completion]) == [pytest.approx(expected, abs=1e-5)]


def test_runs_on_its_own_device_without_grad_and_pickles(reward_model):
    model, tokenizer = reward_model
    reward = RewardModelReward(model, tokenizer, device="cpu")
    assert reward.device == torch.device("cpu") and reward.__name__ == "reward_model"
    assert not isinstance(reward, torch.nn.Module)  # TRL would otherwise bypass our chat template
    scores = reward(prompts=["a"], completions=["b"])
    assert isinstance(scores[0], float)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone(prompts=["a"], completions=["b"]) == pytest.approx(scores)


def test_loads_from_a_local_path(reward_model, tmp_path):
    model, tokenizer = reward_model
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    reward = RewardModelReward(str(tmp_path))
    direct = RewardModelReward(model, tokenizer)
    assert reward(prompts=["p"], completions=["c"]) == pytest.approx(
        direct(prompts=["p"], completions=["c"]), abs=1e-5
    )


def test_bad_input(reward_model, causal_tokenizer):
    model, tokenizer = reward_model
    reward = RewardModelReward(model, tokenizer)
    with pytest.raises(ValueError, match="2 prompts but 1 completions"):
        reward(prompts=["a", "b"], completions=["c"])
    with pytest.raises(TypeError, match=r"completions\[0\]` is None"):
        reward(prompts=["a"], completions=[None])
    two_labels, _ = tiny_sequence_classifier("qwen3", tokenizer=causal_tokenizer, num_labels=2)
    with pytest.raises(ValueError, match="num_labels=1"):
        RewardModelReward(two_labels, tokenizer)
    with pytest.raises(ValueError, match="tokenizer"):
        RewardModelReward(model)
