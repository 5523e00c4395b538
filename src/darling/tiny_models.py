"""Tiny, locally built models and tokenizers for tests, smoke modes and the offline demo.

Nothing here touches a hub: tokenizers are built in-process with the ``tokenizers`` library and
models are created from a config with random weights (seeded). Sizes follow TRL's own tiny test
models: a few layers, hidden size 16 to 64.
"""

from __future__ import annotations

import collections
import string
from collections.abc import Iterable

import torch

__all__ = [
    "save_tiny_athene_reward_model",
    "tiny_causal_lm",
    "tiny_sequence_classifier",
    "train_tiny_tokenizer",
]

_DEFAULT_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A boy and his dog walked to the river every morning.",
    "What is the sum of two and three? The answer is five.",
    "Tell me a story about a girl who found a map in the attic.",
    "Solve for x: 2x + 3 = 11, so x = 4.",
    "Brainstorm names for a coffee shop: Bean There, Daily Grind, Brew Haven.",
    "Paris is the capital of France. Rome is the capital of Italy.",
    "Once upon a time there was a dragon who loved to read books.",
    string.ascii_letters + string.digits + string.punctuation + " é ü ñ 中 文 😀",
]

ENCODER_ARCHITECTURES: tuple[str, ...] = ("bert", "deberta-v2", "modernbert", "qwen3")
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_tiny_tokenizer(
    texts: Iterable[str] | None = None,
    vocab_size: int = 400,
    kind: str = "encoder",
    model_max_length: int = 512,
):
    """Builds a small fast tokenizer in-process, the same for the same corpus on every run.

    Args:
        texts: Training corpus; a built-in English sample when ``None``.
        vocab_size: Vocabulary size cap (the encoder kind keeps every character, then frequent words).
        kind: ``"encoder"`` (WordPiece, ``[CLS] a [SEP] b [SEP]`` with token type ids, like BERT) or
            ``"causal"`` (byte-level BPE with ``<|im_start|>``/``<|im_end|>`` and a chat template).
        model_max_length: The tokenizer's maximum length.

    Returns:
        A ``transformers.PreTrainedTokenizerFast``.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    corpus = list(texts) if texts is not None else list(_DEFAULT_CORPUS)
    if kind == "encoder":
        special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        normalizer = normalizers.BertNormalizer(lowercase=True)
        pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        # The vocabulary is built directly rather than with WordPieceTrainer, whose merges break ties
        # differently from run to run: every character (alone and as a "##" continuation), then the
        # most frequent whole words (ties by spelling), up to vocab_size. Same corpus, same ids.
        counts: collections.Counter[str] = collections.Counter()
        for text in corpus:
            counts.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
        chars = sorted({c for word in counts for c in word})
        vocab_tokens = special + chars + [f"##{c}" for c in chars]
        words = sorted((w for w in counts if len(w) > 1), key=lambda w: (-counts[w], w))
        vocab_tokens += words[: max(0, vocab_size - len(vocab_tokens))]
        tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab_tokens)}, unk_token="[UNK]"))
        tok.normalizer = normalizer
        tok.pre_tokenizer = pre_tokenizer
        cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
        )
        tok.decoder = decoders.WordPiece()
        return PreTrainedTokenizerFast(
            tokenizer_object=tok,
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
            model_max_length=model_max_length,
        )
    if kind == "causal":
        special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
        return PreTrainedTokenizerFast(
            tokenizer_object=_byte_level_bpe(corpus, vocab_size, special),
            eos_token="<|im_end|>",
            pad_token="<|pad|>",
            bos_token=None,
            unk_token=None,
            model_max_length=model_max_length,
            chat_template=CHAT_TEMPLATE,
        )
    raise ValueError(f"Unknown tokenizer kind {kind!r}; choose 'encoder' or 'causal'.")


def _byte_level_bpe(corpus: list[str], vocab_size: int, special: list[str]):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on ``corpus`` with ``special`` tokens first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    return tok


def _encoder_config(arch: str, vocab_size: int, tokenizer, hidden: int, layers: int):
    from transformers import BertConfig, DebertaV2Config, ModernBertConfig, Qwen3Config

    common = dict(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4)
    pad = tokenizer.pad_token_id
    if arch == "bert":
        return BertConfig(
            **common, intermediate_size=2 * hidden, max_position_embeddings=1024, pad_token_id=pad
        )
    if arch == "deberta-v2":
        return DebertaV2Config(
            **common,
            intermediate_size=2 * hidden,
            max_position_embeddings=1024,
            relative_attention=True,
            position_biased_input=False,
            pos_att_type=["p2c", "c2p"],
            type_vocab_size=2,
            pad_token_id=pad,
        )
    if arch == "modernbert":
        return ModernBertConfig(
            **common,
            intermediate_size=2 * hidden,
            max_position_embeddings=1024,
            pad_token_id=pad,
            cls_token_id=tokenizer.cls_token_id,
            sep_token_id=tokenizer.sep_token_id,
            bos_token_id=tokenizer.cls_token_id,
            eos_token_id=tokenizer.sep_token_id,
            global_attn_every_n_layers=2,
            local_attention=64,
        )
    if arch == "qwen3":
        return Qwen3Config(
            **common,
            intermediate_size=2 * hidden,
            num_key_value_heads=2,
            head_dim=hidden // 4,
            max_position_embeddings=1024,
            pad_token_id=pad,
        )
    raise ValueError(f"Unknown architecture {arch!r}; choose one of {', '.join(ENCODER_ARCHITECTURES)}.")


def tiny_sequence_classifier(
    arch: str = "bert",
    tokenizer=None,
    num_labels: int = 2,
    hidden_size: int = 32,
    num_layers: int = 2,
    seed: int = 0,
):
    """A randomly initialised two-label sequence classifier of a released-checkpoint family.

    Args:
        arch: ``"bert"``, ``"deberta-v2"``, ``"modernbert"`` or ``"qwen3"``.
        tokenizer: The tokenizer to size the vocabulary from; a tiny encoder tokenizer when ``None``.
        num_labels: Output labels.
        hidden_size: Hidden size.
        num_layers: Transformer layers.
        seed: Weight seed.

    Returns:
        ``(model, tokenizer)``: a ``transformers`` ``*ForSequenceClassification`` model in eval mode.
    """
    from transformers import AutoModelForSequenceClassification

    tokenizer = tokenizer if tokenizer is not None else train_tiny_tokenizer(kind="encoder")
    config = _encoder_config(arch, len(tokenizer), tokenizer, hidden_size, num_layers)
    config.num_labels = num_labels
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    return model.eval(), tokenizer


def tiny_causal_lm(tokenizer=None, hidden_size: int = 64, num_layers: int = 2, seed: int = 0):
    """A randomly initialised Qwen3-style causal language model for policy tests and smoke runs.

    Args:
        tokenizer: A causal tokenizer; one is trained with :func:`train_tiny_tokenizer` when ``None``.
        hidden_size: Hidden size.
        num_layers: Transformer layers.
        seed: Weight seed.

    Returns:
        ``(model, tokenizer)``.
    """
    from transformers import AutoModelForCausalLM, Qwen3Config

    tokenizer = tokenizer if tokenizer is not None else train_tiny_tokenizer(kind="causal")
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=hidden_size // 4,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


LLAMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def _tiny_llama3_tokenizer(vocab_size: int = 400):
    """A byte-level BPE tokenizer with Llama-3's special tokens, chat format and Athene's CLS token."""
    from transformers import PreTrainedTokenizerFast

    special = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
        "<|reserved_special_token_1|>",  # Athene-RM's CLS token (id 128003 in the real vocabulary)
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
    ]
    return PreTrainedTokenizerFast(
        tokenizer_object=_byte_level_bpe(_DEFAULT_CORPUS, vocab_size, special),
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
        cls_token="<|reserved_special_token_1|>",
        model_max_length=1024,
        chat_template=LLAMA3_CHAT_TEMPLATE,
    )


def save_tiny_athene_reward_model(
    path: str, seed: int = 0, hidden_size: int = 32, num_layers: int = 2, num_shards: int = 1
) -> str:
    """Saves a random tiny reward model in exactly Athene-RM-8B's checkpoint layout.

    The layout, written without any darling class: ``config.json`` is a plain Llama config whose
    ``architectures`` name the model card's ``AtheneForSequenceClassification`` and which names no
    labels; the safetensors weights are a ``LlamaModel`` body under ``model.*`` plus a bias-free
    value head ``v_head.weight`` of shape ``(1, hidden_size)`` (sharded with an index file when
    ``num_shards > 1``); the tokenizer has Llama-3's chat template and special tokens, with
    ``<|reserved_special_token_1|>`` as its ``cls_token``. Weights use a larger initialiser range
    than Llama's default so that the context visibly changes the score.

    Args:
        path: Directory to write (created if needed).
        seed: Weight seed.
        hidden_size: Hidden size.
        num_layers: Decoder layers.
        num_shards: Number of safetensors files.

    Returns:
        ``path``.
    """
    import json
    import os

    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaModel

    os.makedirs(path, exist_ok=True)
    tokenizer = _tiny_llama3_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        initializer_range=0.2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    config.architectures = ["AtheneForSequenceClassification"]
    torch.manual_seed(seed)
    body = LlamaModel(config)
    weights = {f"model.{name}": tensor.detach().contiguous() for name, tensor in body.state_dict().items()}
    weights["v_head.weight"] = torch.randn(1, hidden_size)
    config.save_pretrained(path)
    tokenizer.save_pretrained(path)
    names = sorted(weights)
    if num_shards == 1:
        save_file(weights, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
        return path
    weight_map = {}
    for shard in range(num_shards):
        file = f"model-{shard + 1:05d}-of-{num_shards:05d}.safetensors"
        part = {name: weights[name] for name in names[shard::num_shards]}
        save_file(part, os.path.join(path, file), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, file))
    total = sum(t.numel() * t.element_size() for t in weights.values())
    with open(os.path.join(path, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    return path
