"""Sampling many completions a prompt: batched transformers ``generate``, or vLLM when installed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BACKENDS: tuple[str, ...] = ("transformers", "vllm")


@dataclass
class SamplingSettings:
    """How completions are sampled (the paper's math evaluation: temperature 0.6, top-p 0.95, top-k 20).

    Attributes:
        temperature: Sampling temperature (0 means greedy decoding).
        top_p: Nucleus sampling mass.
        max_new_tokens: Token limit of a completion.
        seed: Base seed; each batch of prompts is seeded from it and the position of its first
            prompt, so a resumed run samples what an uninterrupted one would have.
        top_k: Sample among the ``top_k`` most likely tokens only (0: no top-k cut).
        stop: Stop words: a completion ends before the first of them (and generation stops there).

    Raises:
        ValueError: For a negative temperature, a ``top_p`` outside (0, 1], ``max_new_tokens`` < 1,
            a negative ``top_k`` or an empty stop word.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    seed: int = 0
    top_k: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The one home of these checks (EvaluationConfig builds a SamplingSettings); messages name the flags too.
        if not self.temperature >= 0:  # also refuses NaN
            raise ValueError(
                f"`temperature` (--temperature) must be >= 0 (0: greedy decoding), got {self.temperature}."
            )
        if not 0 < self.top_p <= 1:
            raise ValueError(f"`top_p` (--top-p) must be > 0 and <= 1 (1: no nucleus cut), got {self.top_p}.")
        if self.max_new_tokens < 1:
            raise ValueError(f"`max_new_tokens` (--max-new-tokens) must be >= 1, got {self.max_new_tokens}.")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(
                f"`top_k` (--top-k) must be a whole number >= 0 (0: no top-k cut), got {self.top_k!r}."
            )
        if isinstance(self.stop, str) or not all(isinstance(word, str) and word for word in self.stop):
            raise ValueError(
                f"`stop` (--stop) must be a list of non-empty stop words, e.g. ['<|im_end|>'], got {self.stop!r}."
            )
        self.stop = tuple(self.stop)


def cut_at_stop_words(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the first occurrence of any stop word (all of it when none occurs)."""
    end = min((index for index in (text.find(word) for word in stop) if index >= 0), default=len(text))
    return text[:end]


def format_prompts(tokenizer: Any, prompts: Sequence[Any], chat_template: str = "auto") -> list[str]:
    """Turns prompts (strings or message lists) into model input text.

    Args:
        tokenizer: The policy's tokenizer.
        prompts: Plain strings or lists of ``{"role", "content"}`` messages.
        chat_template: ``"auto"`` (use the tokenizer's chat template when it has one), ``"on"`` or ``"off"``.

    Raises:
        ValueError: For ``chat_template="on"`` without a template, or a message list with it off.
    """
    if chat_template not in ("auto", "on", "off"):
        raise ValueError(f"`chat_template` must be 'auto', 'on' or 'off', got {chat_template!r}.")
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if chat_template == "on" and not has_template:
        raise ValueError("The tokenizer has no chat template; use --chat-template off for a base model.")
    use = has_template if chat_template == "auto" else chat_template == "on"
    out = []
    for index, prompt in enumerate(prompts):
        if isinstance(prompt, str):
            messages = [{"role": "user", "content": prompt}]
        elif isinstance(prompt, (list, tuple)):
            messages = list(prompt)
        else:
            raise TypeError(
                f"Prompt {index} must be a string or a list of messages, got {type(prompt).__name__}."
            )
        if use:
            out.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        elif isinstance(prompt, str):
            out.append(prompt)
        else:
            raise ValueError(f"Prompt {index} is a list of messages but no chat template is used.")
    return out


class TransformersGenerator:
    """Samples with ``model.generate`` in left-padded batches of ``batch_size`` sequences.

    Args:
        model: A causal LM or a path/hub id to load one from.
        tokenizer: Its tokenizer (loaded from ``model`` when ``None``).
        batch_size: Sequences per ``generate`` call.
        settings: The sampling settings.
        device: Where to run; the first GPU when available, else the CPU.
        chat_template: ``"auto"``, ``"on"`` or ``"off"`` (see :func:`format_prompts`).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        batch_size: int = 16,
        settings: SamplingSettings | None = None,
        device: str | None = None,
        chat_template: str = "auto",
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if isinstance(model, str):
            tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(model)
            model = AutoModelForCausalLM.from_pretrained(model, dtype="auto")
        if tokenizer is None:
            raise ValueError("Pass the `tokenizer` of an in-memory model.")
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1, got {batch_size}.")
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.settings = settings or SamplingSettings()
        self.chat_template = chat_template

    def generate(self, prompts: Sequence[Any], num_samples: int, seed: int | None = None) -> list[list[str]]:
        """``num_samples`` completions of each prompt.

        Args:
            prompts: The prompts (strings or message lists).
            num_samples: Completions a prompt.
            seed: Seed of this call (``settings.seed`` when ``None``).

        Returns:
            One list of ``num_samples`` completion strings per prompt.
        """
        import torch

        s = self.settings
        torch.manual_seed(s.seed if seed is None else seed)
        texts = format_prompts(self.tokenizer, prompts, self.chat_template)
        flat = [text for text in texts for _ in range(num_samples)]
        kwargs: dict[str, Any] = {
            "max_new_tokens": s.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if s.temperature > 0:
            kwargs.update(do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k)
        else:
            kwargs.update(do_sample=False)
        kwargs.update(self._stopping())
        outputs: list[str] = []
        for start in range(0, len(flat), self.batch_size):
            batch = self.tokenizer(
                flat[start : start + self.batch_size],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(self.device)
            with torch.no_grad():
                ids = self.model.generate(**batch, **kwargs)
            outputs.extend(
                self.tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
            )
        outputs = [cut_at_stop_words(text, s.stop) for text in outputs]
        return [outputs[i * num_samples : (i + 1) * num_samples] for i in range(len(prompts))]

    def _stopping(self) -> dict[str, Any]:
        """``generate`` arguments that end a sequence at a stop word: its token id, or a stop string."""
        stop = self.settings.stop
        if not stop:
            return {}
        vocab = self.tokenizer.get_vocab()
        # A stop word that is one token (ChatML's <|im_end|>) ends like EOS; decoding may drop it as special.
        ids = [vocab[word] for word in stop if word in vocab]
        eos = self.model.generation_config.eos_token_id
        eos = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
        kwargs: dict[str, Any] = {"eos_token_id": list(dict.fromkeys([*eos, *ids]))} if ids else {}
        strings = [word for word in stop if word not in vocab]
        if strings:
            kwargs.update(stop_strings=strings, tokenizer=self.tokenizer)
        return kwargs


class VLLMGenerator:
    """Samples with vLLM (``pip install vllm``; a GPU): all of a call's prompts in one ``generate``.

    Args:
        model: A model path or hub id.
        settings: The sampling settings.
        chat_template: ``"auto"``, ``"on"`` or ``"off"`` (see :func:`format_prompts`).
        **llm_kwargs: Passed to ``vllm.LLM`` (e.g. ``tensor_parallel_size``).
    """

    def __init__(
        self,
        model: str,
        settings: SamplingSettings | None = None,
        chat_template: str = "auto",
        **llm_kwargs: Any,
    ) -> None:
        try:
            import vllm
        except ImportError as err:
            raise ImportError(
                "--backend vllm needs `pip install vllm`; or use --backend transformers."
            ) from err
        self.vllm = vllm
        self.settings = settings or SamplingSettings()
        self.llm = vllm.LLM(model=model, seed=self.settings.seed, **llm_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.chat_template = chat_template

    def generate(self, prompts: Sequence[Any], num_samples: int, seed: int | None = None) -> list[list[str]]:
        """``num_samples`` completions of each prompt (see :meth:`TransformersGenerator.generate`)."""
        s = self.settings
        params = self.vllm.SamplingParams(
            n=num_samples,
            temperature=s.temperature,
            top_p=s.top_p if s.temperature > 0 else 1.0,
            top_k=s.top_k if s.top_k > 0 and s.temperature > 0 else -1,  # -1: vLLM's "no top-k cut"
            max_tokens=s.max_new_tokens,
            seed=s.seed if seed is None else seed,
            stop=list(s.stop) or None,
        )
        texts = format_prompts(self.tokenizer, prompts, self.chat_template)
        results = self.llm.generate(texts, params, use_tqdm=False)
        # vLLM leaves the stop word out already; the cut also catches one it did not see (a special token).
        return [[cut_at_stop_words(out.text, s.stop) for out in result.outputs] for result in results]
