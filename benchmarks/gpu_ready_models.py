"""What the parts of ``gpu_ready.py`` share: the run's state, shapes, tokenizer, pairs, FLOPs, timing.

``gpu_ready.py``'s docstring describes what each part measures and the FLOP formula.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
CLASSIFIERS = {
    "modernbert-base": dict(
        file="modernbert-base-classifier.json", label="ModernBERT-base", layout="cls_sep", threshold=0.32
    ),
    "qwen3-embedding-4b": dict(
        file="qwen3-embedding-4b-classifier.json", label="Qwen3-Embedding-4B", layout="chatml", threshold=0.5
    ),
}
POLICY = dict(file="qwen2.5-0.5b-policy.json", label="Qwen2.5-0.5B")
# Tiny shapes (CPU, CI): the same architectures, a few layers of width 64.
TINY = {
    "modernbert": dict(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=3,
        num_attention_heads=4,
        local_attention=16,
    ),
    "qwen3": dict(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
    ),
    "qwen2": dict(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    ),
}
ENCODER_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CAUSAL_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>")


class BudgetExceeded(BaseException):
    """The whole run's time budget ran out (a BaseException, so no library's ``except Exception`` eats it)."""


@dataclass
class Run:
    """What the parts share: settings, device, deadlines and the rows written so far."""

    args: Any
    device: str
    deadline: float
    part_deadline: float = 0.0
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    part_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.device == "cuda"

    def add(
        self, part: str, measurement: str, setting: str, result: str, status: str = "ok", **values
    ) -> None:
        self.rows.append(
            dict(
                part=part,
                measurement=measurement,
                setting=setting,
                result=result,
                status=status,
                values=values,
            )
        )

    def sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()


def fmt(value: float) -> str:
    """A rate for the table: whole numbers from 100 up, else 3 significant digits."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def release_memory(device: str) -> None:
    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()


# --------------------------------------------------------------------------------------------------
# Shapes, tokenizer, texts


def load_config(file: str, tiny: bool):
    """A transformers config from ``configs/``; with ``tiny``, the same architecture at width 64."""
    from transformers import AutoConfig

    values = json.loads((CONFIG_DIR / file).read_text(encoding="utf-8"))
    model_type = values.pop("model_type")
    if tiny:
        values.update(TINY[model_type])
        # The hub's special-token ids lie outside a tiny vocabulary; point_special_ids sets them.
        values.update({key: None for key in values if key.endswith("_token_id")})
    return AutoConfig.for_model(model_type, **values)


def word_tokenizer(vocab_size: int, kind: str):
    """A word-level tokenizer with exactly ``vocab_size`` entries: special tokens, then ``w0``, ``w1``, ...

    ``"encoder"`` has BERT's special tokens (for the ``cls_sep`` layout), ``"causal"`` Qwen's (``chatml``).
    Whitespace splits words, so a text of k words is k tokens; decoding joins tokens with spaces.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ENCODER_SPECIALS if kind == "encoder" else CAUSAL_SPECIALS
    vocab = {token: i for i, token in enumerate(specials)}
    vocab.update({f"w{i}": len(specials) + i for i in range(vocab_size - len(specials))})
    unk = "[UNK]" if kind == "encoder" else "<|endoftext|>"
    backend = Tokenizer(models.WordLevel(vocab, unk_token=unk))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.add_special_tokens(list(specials))
    if kind == "encoder":
        names = dict(
            pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
        )
    else:
        names = dict(pad_token="<|pad|>", unk_token=unk, eos_token="<|im_end|>", bos_token=None)
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=1 << 20, **names)


def point_special_ids(config, tokenizer) -> None:
    """Points the config's special-token ids at this tokenizer's."""
    config.pad_token_id = tokenizer.pad_token_id
    if config.model_type == "modernbert":
        config.cls_token_id = config.bos_token_id = tokenizer.cls_token_id
        config.sep_token_id = config.eos_token_id = tokenizer.sep_token_id
    else:
        config.bos_token_id = None
        config.eos_token_id = tokenizer.eos_token_id


def words(rng: random.Random, count: int, vocab_words: int) -> str:
    return " ".join(f"w{rng.randrange(vocab_words)}" for _ in range(count))


def make_pairs(
    rng: random.Random, count: int, low: int, high: int, vocab_words: int
) -> list[tuple[str, str]]:
    """``count`` pairs of texts of ``low``-``high`` words; every other pair is a near-copy (a fifth changed)."""
    pairs = []
    for i in range(count):
        a = words(rng, rng.randint(low, high), vocab_words).split()
        if i % 2:
            b = [w if rng.random() > 0.2 else f"w{rng.randrange(vocab_words)}" for w in a]
        else:
            b = words(rng, rng.randint(low, high), vocab_words).split()
        pairs.append((" ".join(a), " ".join(b)))
    return pairs


def build_classifier(
    key: str, tiny: bool, device: str, dtype, tokens_per_text: int, seed: int, threshold=None
):
    """A random-initialised partition classifier of a released classifier's shape, layout and threshold."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from darling.classifier import ClassifierSettings, PartitionClassifier

    spec = CLASSIFIERS[key]
    config = load_config(spec["file"], tiny)
    tokenizer = word_tokenizer(config.vocab_size, "encoder" if spec["layout"] == "cls_sep" else "causal")
    point_special_ids(config, tokenizer)
    # A classifier's forward needs no KV cache (part b also measures Qwen3's shipped use_cache=True).
    config.use_cache = False
    torch.manual_seed(seed)
    with torch.device(device):
        model = AutoModelForSequenceClassification.from_config(config, dtype=dtype).eval()
    settings = ClassifierSettings(
        pair_layout=spec["layout"],
        threshold=spec["threshold"] if threshold is None else threshold,
        max_tokens_per_text=tokens_per_text,
    )
    return PartitionClassifier(model, tokenizer, settings)


# --------------------------------------------------------------------------------------------------
# FLOPs and timing


def attended_pairs(tokens: int, causal: bool = False, half_window: int | None = None) -> int:
    """(query, key) pairs one attention layer computes over ``tokens`` tokens (see the docstring's K_l)."""
    if half_window is not None:
        w = half_window
        return sum(min(i, w) + min(tokens - 1 - i, w) + 1 for i in range(tokens))
    return tokens * (tokens + 1) // 2 if causal else tokens * tokens


def forward_flops(model, tokens: int) -> float:
    """Model FLOPs of one forward pass over one sequence of ``tokens`` tokens: 2 N T + attention."""
    config = model.config
    embedding = model.get_input_embeddings().weight
    params = sum(p.numel() for p in model.parameters() if p is not embedding)
    heads = config.num_attention_heads
    d_attn = heads * (getattr(config, "head_dim", None) or config.hidden_size // heads)
    causal = config.model_type != "modernbert"
    layer_types = getattr(config, "layer_types", None) or ["full_attention"] * config.num_hidden_layers
    half = getattr(config, "local_attention", 0) // 2
    attention = sum(
        attended_pairs(tokens, causal, half if kind == "sliding_attention" else None) for kind in layer_types
    )
    return 2.0 * params * tokens + 4.0 * d_attn * attention


def time_forward(run: Run, model, batch: dict, **kwargs) -> tuple[float, int]:
    """Median seconds of a forward pass (``--warmup`` untimed, then up to ``--repeats`` timed)."""
    import torch

    with torch.inference_mode():
        for _ in range(run.args.warmup):
            model(**batch, **kwargs)
        run.sync()
        times: list[float] = []
        while len(times) < run.args.repeats and (not times or time.monotonic() < run.part_deadline):
            start = time.perf_counter()
            model(**batch, **kwargs)
            run.sync()
            times.append(time.perf_counter() - start)
    return statistics.median(times), len(times)


def head_layer(model):
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == 2][-1]


def spread_head(model, batch: dict, margin_std: float = 2.0) -> None:
    """Sets the 2-label head so P(equivalent) spreads over (0, 1) on ``batch`` (mean margin 0, std ``margin_std``)."""
    import torch

    head = head_layer(model)
    seen: dict = {}
    hook = head.register_forward_pre_hook(lambda module, args: seen.setdefault("x", args[0].detach()))
    with torch.no_grad():
        model(**batch)
        hook.remove()
        x = seen["x"].float()
        if x.dim() == 3:  # decoder classifiers score every position and read the last real token's
            x = x[torch.arange(x.shape[0]), batch["attention_mask"].sum(1) - 1]
        u = (head.weight[1] - head.weight[0]).float()
        mean = x.mean(0)
        u = u - (u @ mean) / (mean @ mean) * mean
        u = u * (margin_std / (x @ u).std())
        head.weight[1] = head.weight[0] + u.to(head.weight.dtype)
        if head.bias is not None:
            head.bias.zero_()
