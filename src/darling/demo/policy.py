"""The demo's policy: a tiny character-level causal LM, built from a seed and briefly warmed up.

The warm-up is ordinary supervised next-token training on correct answers drawn uniformly from
all valid answers. It plays the part of pre-training: it covers every target, held-out ones
included, while reinforcement learning later trains on the training targets only, so the held-out
targets measure how the RL-induced change carries over to prompts RL never saw. It is kept short
on purpose: the policy starts out right some of the time and varied, which is where RL begins in
the paper.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from darling.demo.task import SumTask

PAD, EOS = "<pad>", "<eos>"
ALPHABET = "0123456789+="


def char_tokenizer(alphabet: str = ALPHABET):
    """A character-level fast tokenizer, built in-process.

    Args:
        alphabet: Its characters (digits, ``+`` and ``=`` by default), with ids from 2 in this order.

    Returns:
        A ``transformers.PreTrainedTokenizerFast`` whose tokens are single characters, with
        ``<eos>`` as end-of-sequence and ``<pad>`` as padding token.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {PAD: 0, EOS: 1, **{c: i + 2 for i, c in enumerate(alphabet)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=PAD))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens([PAD, EOS])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS,
        pad_token=PAD,
        bos_token=None,
        unk_token=None,
        model_max_length=64,
    )


def build_policy(seed: int, hidden_size: int = 64, num_layers: int = 2, alphabet: str = ALPHABET):
    """A randomly initialised tiny Qwen3-style causal LM and its character tokenizer.

    Args:
        seed: Weight seed.
        hidden_size: Hidden size.
        num_layers: Transformer layers.
        alphabet: Characters of the tokenizer.

    Returns:
        ``(model, tokenizer)``.
    """
    from darling.tiny_models import tiny_causal_lm

    return tiny_causal_lm(char_tokenizer(alphabet), hidden_size=hidden_size, num_layers=num_layers, seed=seed)


@dataclass
class WarmupConfig:
    """Settings of the supervised warm-up.

    Attributes:
        steps: Optimizer steps.
        batch_size: Examples a step.
        learning_rate: AdamW learning rate (constant).
    """

    steps: int = 300
    batch_size: int = 64
    learning_rate: float = 3e-3


def warm_up(
    model,
    tokenizer,
    task: SumTask,
    config: WarmupConfig,
    seed: int,
    targets: Sequence[int] | None = None,
    progress: bool = True,
):
    """Supervised warm-up on uniformly drawn correct answers (loss on the answer tokens only).

    Args:
        model: The causal LM to train in place.
        tokenizer: Its tokenizer.
        task: The task.
        config: Warm-up settings.
        seed: Seed of the data order and of any randomness in training.
        targets: Targets to draw from; the task's ``warmup_targets`` when ``None``.
        progress: Show a progress bar.

    Returns:
        The mean training loss of the last 20 steps.
    """
    if config.steps < 0 or config.batch_size < 1:
        raise ValueError(f"Warm-up needs steps >= 0 and batch_size >= 1, got {config}.")
    rng = random.Random(seed)
    torch.manual_seed(seed)
    targets = tuple(targets) if targets is not None else task.warmup_targets
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.0)
    model.train()
    losses: list[float] = []
    for _ in tqdm(range(config.steps), desc="warm-up", disable=not progress, leave=False):
        prompts, answers = [], []
        for _ in range(config.batch_size):
            target = rng.choice(targets)
            prompts.append(task.prompt(target))
            answers.append(task.sample_answer(target, rng))
        input_ids, labels = _batch(tokenizer, prompts, answers)
        loss = model(
            input_ids=input_ids, attention_mask=(input_ids != tokenizer.pad_token_id).long(), labels=labels
        ).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    tail = losses[-20:]
    return sum(tail) / len(tail) if tail else float("nan")


def _batch(tokenizer, prompts: list[str], answers: list[str]):
    rows, label_rows = [], []
    for prompt, answer in zip(prompts, answers):
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        a = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append(p + a)
        label_rows.append([-100] * len(p) + a)
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    labels = torch.tensor([r + [-100] * (width - len(r)) for r in label_rows])
    return input_ids, labels


@torch.no_grad()
def sample(
    model, tokenizer, prompts: list[str], num_samples: int, temperature: float = 1.0, max_new_tokens: int = 8
):
    """Draws ``num_samples`` completions for each prompt (plain ancestral sampling).

    Args:
        model: The policy.
        tokenizer: Its tokenizer.
        prompts: Prompt texts; all prompts of one call are left-padded together.
        num_samples: Completions per prompt.
        temperature: Sampling temperature.
        max_new_tokens: Longest completion.

    Returns:
        One list of ``num_samples`` completion strings per prompt.
    """
    model.eval()
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    out = model.generate(
        input_ids=enc["input_ids"].repeat_interleave(num_samples, 0),
        attention_mask=enc["attention_mask"].repeat_interleave(num_samples, 0),
        do_sample=True,
        temperature=temperature,
        top_k=0,
        top_p=1.0,
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    texts = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return [texts[i * num_samples : (i + 1) * num_samples] for i in range(len(prompts))]
