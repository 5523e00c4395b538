"""RewardModelReward: a scalar-head sequence-classification reward model as a TRL reward function."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from darling.rewards import RewardModelReward
from darling.tiny_models import tiny_sequence_classifier


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
    with pytest.raises(ValueError, match="`model_kwargs` apply when `model` is a path"):
        RewardModelReward(model, tokenizer, model_kwargs={"dtype": "bfloat16"})
    with pytest.raises(FileNotFoundError, match=r"No reward model at '\./no/such/rm'"):
        RewardModelReward("./no/such/rm")


def test_an_in_memory_model_takes_its_tokenizer_as_a_path(reward_model, tmp_path):
    model, tokenizer = reward_model
    tokenizer.save_pretrained(tmp_path)
    from_path = RewardModelReward(model, str(tmp_path))
    assert from_path(prompts=["p"], completions=["c"]) == pytest.approx(
        RewardModelReward(model, tokenizer)(prompts=["p"], completions=["c"]), abs=1e-6
    )


# --- Athene-format reward models (Llama body + bias-free v_head read at the last CLS token) ---

ATHENE_PROMPTS = [
    "Hi",
    "Tell me a story about a dragon who loved to read books.",
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a city"}],
    "What is the sum of two and three?",
]
ATHENE_COMPLETIONS = [
    "Hello!",
    "Once upon a time there was a dragon. " * 4,
    [{"role": "assistant", "content": "Rome"}],
    # The completion itself holds the CLS token text: the score is read at the appended (last) one.
    "The answer is <|reserved_special_token_1|> five, of course.",
]


@pytest.fixture(scope="module")
def athene_dir(tmp_path_factory):
    from darling.tiny_models import save_tiny_athene_reward_model

    # A directory name that says nothing about the format: detection reads the checkpoint.
    return save_tiny_athene_reward_model(str(tmp_path_factory.mktemp("athene") / "some-reward-model"))


def hand_athene_scores(path, prompts, completions, max_length=None):
    """The official computation, written out: the Llama body loaded from the safetensors file by hand,
    run on each conversation alone (no padding), last-layer hidden state after the final norm, dot
    product with ``v_head.weight`` at the last CLS position."""
    import json

    from safetensors.torch import load_file
    from transformers import AutoTokenizer, LlamaConfig, LlamaModel

    tokenizer = AutoTokenizer.from_pretrained(path)
    config = json.loads((Path(path) / "config.json").read_text())
    assert config["architectures"] == ["AtheneForSequenceClassification"] and "id2label" not in config
    weights = load_file(str(Path(path) / "model.safetensors"))
    v_head = weights.pop("v_head.weight")
    assert v_head.shape == (1, config["hidden_size"])
    body = LlamaModel(LlamaConfig.from_pretrained(path)).eval()
    body.load_state_dict({k.removeprefix("model."): v for k, v in weights.items()}, strict=True)
    cls_id = tokenizer.cls_token_id
    scores, first_cls_scores, lengths = [], [], []
    for prompt, completion in zip(prompts, completions):
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        text = completion if isinstance(completion, str) else completion[0]["content"]
        messages = [*messages, {"role": "assistant", "content": text}]
        templated = tokenizer.apply_chat_template(messages, tokenize=False) + tokenizer.cls_token
        ids = tokenizer(templated, add_special_tokens=False)["input_ids"]
        if max_length is not None and len(ids) > max_length:
            ids = [*ids[: max_length - 1], cls_id]
        with torch.no_grad():
            hidden = body(input_ids=torch.tensor([ids])).last_hidden_state[0]
        cls_positions = [i for i, t in enumerate(ids) if t == cls_id]
        scores.append(float(hidden[cls_positions[-1]] @ v_head[0]))
        first_cls_scores.append(float(hidden[cls_positions[0]] @ v_head[0]))
        lengths.append(len(ids))
    return scores, first_cls_scores, lengths


def test_athene_scores_equal_the_hand_computation_in_one_padded_batch(athene_dir):
    expected, first_cls, lengths = hand_athene_scores(athene_dir, ATHENE_PROMPTS, ATHENE_COMPLETIONS)
    assert len(set(lengths)) == len(lengths)  # every row of the batch is padded differently
    reward = RewardModelReward(athene_dir, batch_size=len(ATHENE_PROMPTS), device="cpu")
    assert reward.is_athene and "head='athene'" in repr(reward)
    batched = reward(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS)
    assert batched == pytest.approx(expected, abs=1e-5)
    # Padding changes nothing: one conversation a forward pass gives the same scores.
    single = RewardModelReward(athene_dir, batch_size=1, device="cpu")
    assert single(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS) == pytest.approx(expected, abs=1e-5)
    # The fourth text holds the CLS token twice; reading the first one would give another score.
    assert abs(first_cls[3] - expected[3]) > 1e-2
    assert len({round(s, 4) for s in batched}) == len(batched)


def test_athene_texts_are_the_chat_template_plus_the_cls_token(athene_dir):
    reward = RewardModelReward(athene_dir, device="cpu")
    assert reward.conversation_texts(["Hi"], ["Hello!"]) == [
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|reserved_special_token_1|>"
    ]
    with pytest.raises(ValueError, match=r"texts\[1\] does not end with the CLS token"):
        reward.score_texts([*reward.conversation_texts(["Hi"], ["Hello!"]), "no cls here"])


def test_athene_truncation_keeps_the_cls_token_last(athene_dir, caplog):
    expected, _, lengths = hand_athene_scores(athene_dir, ATHENE_PROMPTS, ATHENE_COMPLETIONS, max_length=20)
    assert max(lengths) == 20
    reward = RewardModelReward(athene_dir, batch_size=4, max_length=20, device="cpu")
    with caplog.at_level("WARNING", logger="darling.rewards.reward_model"):
        scores = reward(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS)
    assert scores == pytest.approx(expected, abs=1e-5)
    assert "exceed max_length=20" in caplog.text


def test_athene_in_memory_model_and_save_round_trip(athene_dir, tmp_path):
    from transformers import AutoTokenizer

    from darling.rewards import AtheneRewardModel

    expected, _, _ = hand_athene_scores(athene_dir, ATHENE_PROMPTS, ATHENE_COMPLETIONS)
    model = AtheneRewardModel.from_pretrained(athene_dir)
    tokenizer = AutoTokenizer.from_pretrained(athene_dir)
    assert model.v_head.bias is None
    reward = RewardModelReward(model, tokenizer, device="cpu")
    assert reward(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS) == pytest.approx(expected, abs=1e-5)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS) == pytest.approx(expected, abs=1e-5)
    # Saved by our class, the checkpoint keeps the Athene weight names and is detected again.
    model.save_pretrained(tmp_path / "resaved")
    tokenizer.save_pretrained(tmp_path / "resaved")
    again = RewardModelReward(str(tmp_path / "resaved"), device="cpu")
    assert again.is_athene
    assert again(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS) == pytest.approx(expected, abs=1e-5)


def test_athene_forward_needs_a_cls_token(athene_dir):
    from darling.rewards import AtheneRewardModel

    model = AtheneRewardModel.from_pretrained(athene_dir)
    ids = torch.tensor([[0, 10, 11, 3], [0, 10, 11, 12]])
    with pytest.raises(ValueError, match="cls_token_id"):
        model(input_ids=ids)
    with pytest.raises(ValueError, match=r"Rows \[1\] hold no CLS token \(id 3\)"):
        model(input_ids=ids, cls_token_id=3)
    # A CLS id equal to the pad id is never read at a padded position.
    masked = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    with pytest.raises(ValueError, match=r"Rows \[1\]"):
        model(input_ids=torch.tensor([[0, 10, 11, 3], [0, 10, 11, 3]]), attention_mask=masked, cls_token_id=3)


def test_sharded_athene_checkpoint_is_detected_from_its_index(tmp_path):
    from darling.tiny_models import save_tiny_athene_reward_model

    single = save_tiny_athene_reward_model(str(tmp_path / "one"), seed=1)
    sharded = save_tiny_athene_reward_model(str(tmp_path / "two"), seed=1, num_shards=2)
    assert (Path(sharded) / "model.safetensors.index.json").is_file()
    a = RewardModelReward(single, device="cpu")(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS)
    b = RewardModelReward(sharded, device="cpu")(prompts=ATHENE_PROMPTS, completions=ATHENE_COMPLETIONS)
    assert a == pytest.approx(b, abs=1e-6)


def test_detection_reads_the_checkpoint_not_its_name(reward_model, tmp_path):
    model, tokenizer = reward_model
    # A scalar-head model saved under an Athene-looking name still loads as a scalar classifier.
    model.save_pretrained(tmp_path / "Athene-RM-8B")
    tokenizer.save_pretrained(tmp_path / "Athene-RM-8B")
    reward = RewardModelReward(str(tmp_path / "Athene-RM-8B"), device="cpu")
    assert not reward.is_athene
    assert reward(prompts=["p"], completions=["c"]) == pytest.approx(
        RewardModelReward(model, tokenizer)(prompts=["p"], completions=["c"]), abs=1e-5
    )


def test_two_label_checkpoint_without_v_head_is_a_clear_error(causal_tokenizer, tmp_path):
    from darling.rewards.reward_model import load_reward_model

    two_labels, tokenizer = tiny_sequence_classifier("qwen3", tokenizer=causal_tokenizer, num_labels=2)
    path = tmp_path / "Athene-RM-8B"  # the name does not make it Athene-style
    two_labels.save_pretrained(path)
    tokenizer.save_pretrained(path)
    message = (
        r"Reward model '.*Athene-RM-8B' has neither supported head: found 2 labels .* no `v_head.weight`"
    )
    with pytest.raises(ValueError, match=message) as err:
        RewardModelReward(str(path))
    assert "num_labels=1" in str(err.value) and "Athene-style" in str(err.value)
    with pytest.raises(ValueError, match="neither supported head"):
        load_reward_model(str(path))


def test_athene_architecture_with_missing_v_head_weights_is_a_clear_error(athene_dir, tmp_path):
    """Without safetensors to inspect, the config names the class; missing weights must not be random."""
    import shutil

    from safetensors.torch import load_file

    path = tmp_path / "bin-checkpoint"
    shutil.copytree(athene_dir, path)
    weights = load_file(str(path / "model.safetensors"))
    del weights["v_head.weight"]
    (path / "model.safetensors").unlink()
    torch.save(weights, path / "pytorch_model.bin")
    with pytest.raises(ValueError, match=r"not found in the checkpoint: v_head.weight"):
        RewardModelReward(str(path))


def test_v_head_on_a_non_llama_body_is_a_clear_error(reward_model, tmp_path):
    from safetensors.torch import load_file, save_file

    model, tokenizer = reward_model
    model.save_pretrained(tmp_path / "qwen")
    tokenizer.save_pretrained(tmp_path / "qwen")
    weights = load_file(str(tmp_path / "qwen" / "model.safetensors"))
    weights["v_head.weight"] = torch.zeros(1, model.config.hidden_size)
    save_file(weights, str(tmp_path / "qwen" / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="'qwen3' body; only Llama bodies"):
        RewardModelReward(str(tmp_path / "qwen"))


def test_athene_model_with_a_tokenizer_without_cls_is_a_clear_error(athene_dir, causal_tokenizer):
    from darling.rewards import AtheneRewardModel

    model = AtheneRewardModel.from_pretrained(athene_dir)
    assert causal_tokenizer.cls_token is None
    with pytest.raises(ValueError, match=r"no `cls_token`.*128003"):
        RewardModelReward(model, causal_tokenizer)
