"""``darling evaluate``: sample, score, partition and summarize, resumably.

One record per prompt is appended to ``samples.jsonl`` as soon as the prompt is finished (and
synced to disk). Prompts are sampled in fixed batches of ``B`` (``batch_size // num_samples`` with
transformers, 64 with vLLM): batch ``b`` is prompts ``b * B`` to ``(b + 1) * B - 1`` of the dataset,
seeded from ``seed + b * B``. A restarted run reads ``samples.jsonl``, samples again, whole, every
batch with a missing record and writes only the missing records, so the resumed run holds what an
uninterrupted one would have.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from darling.evaluation.data import EvalPrompt, load_prompts
from darling.evaluation.generation import BACKENDS, SamplingSettings, TransformersGenerator, VLLMGenerator
from darling.evaluation.io import append_jsonl
from darling.evaluation.judge_spec import load_judge
from darling.evaluation.majority import DEFAULT_RESAMPLES, extract_answer
from darling.evaluation.novelty import check_patience
from darling.evaluation.novelty_v11 import DEFAULT_MAX_NEW_TOKENS as V11_MAX_NEW_TOKENS
from darling.evaluation.novelty_v11 import PROTOCOL as V11_PROTOCOL
from darling.evaluation.plots import check_plotting, plot_distinct_histogram, plot_pass_at_k
from darling.evaluation.records import make_record, summarize
from darling.evaluation.resume import check_run_config, read_records, write_run_config
from darling.partitioning import partition_groups
from darling.partitioning.algorithms import check_mode

TASKS: tuple[str, ...] = ("math", "open")
SAMPLES_FILE = "samples.jsonl"
SUMMARY_FILE = "summary.json"
# Settings that change the samples: a run may only resume with the same values.
_FINGERPRINT = (
    "model", "dataset", "split", "task", "num_samples", "prompt_field", "answer_field", "id_field", "prompt_template",
    "judge", "threshold", "partition_mode", "reward_model", "score_bins", "temperature", "top_p", "top_k", "stop",
    "max_new_tokens", "seed", "chat_template", "protocol", "max_tokens_per_text", "patience", "limit",
)  # fmt: skip


def default_k_list(num_samples: int) -> list[int]:
    """Powers of two up to ``num_samples`` (and ``num_samples`` itself): 1, 2, 4, ..., n."""
    ks = [2**i for i in range(int(math.log2(num_samples)) + 1)]
    return ks if ks[-1] == num_samples else [*ks, num_samples]


@dataclass
class EvaluationConfig:
    """Settings of an evaluation run (the ``darling evaluate`` flags).

    Attributes:
        model: Policy path or hub id.
        dataset: Local file or hub dataset id.
        output_dir: Where ``samples.jsonl``, ``summary.json`` and the plots go.
        task: ``"math"`` (math-verify scoring, pass@k and maj@k) or ``"open"`` (reward model or no scoring).
        num_samples: Completions a prompt.
        k_list: pass@k and maj@k values (default: powers of two up to ``num_samples``).
        split: Hub dataset split.
        dataset_config: Hub dataset configuration name.
        prompt_field: Prompt column (found automatically when ``None``).
        answer_field: Gold-answer column for math (found automatically when ``None``).
        id_field: Column of unique prompt ids (``id`` when present, else the row number).
        prompt_template: Text around each prompt, with ``{prompt}`` where the prompt goes (e.g.
            ``"{prompt} Put your final answer within \\boxed{}."``); the prompt as is when ``None``.
        judge: Judge spec for partitioning (see :func:`~darling.evaluation.load_judge`), or ``"none"``.
        threshold: Overrides the judge's threshold.
        protocol: NoveltyBench protocol: ``"upstream"`` (NoveltyBench metric v1.0, patience-weighted),
            ``"darling"`` (the DARLING paper's fork: class heads' scores / k, plus ``quality``), or
            ``"v1.1"`` (NoveltyBench metric v1.1: set-level LLM partition and LLM utility, written
            in upstream's folder layout; ``judge`` is then ``llm:MODEL@URL...``, see
            :func:`~darling.evaluation.novelty_v11_eval.parse_endpoint`, and ``"none"`` stops after
            ``generations.jsonl``). ``"upstream"``/``"darling"`` also set a ``classifier:`` judge's
            per-text token limit (128 / 512); ``None`` scores as ``"upstream"`` and leaves the
            judge's limit alone.
        score_judge: v1.1 only: the utility judge (``llm:MODEL@URL...``; default: ``judge``).
        judge_prompts: v1.1 only: a NoveltyBench checkout (or prompts JSON) the judges' prompts are
            read from (default: ``$NOVELTYBENCH_HOME``, then an installed ``novelty-bench``).
        judge_seed: v1.1 only: shuffle the order responses are shown to the partition judge.
        lenient_partition: v1.1 only: fold a judge answer that is still not a partition after three
            tries as upstream's last resort does, instead of leaving the prompt unscored.
        max_tokens_per_text: Tokens of each text a ``classifier:`` judge reads (wins over ``protocol``).
        partition_mode: ``"greedy"`` (NoveltyBench) or ``"all_pairs"`` (DARLING training).
        reward_model: Reward model path or hub id for open-ended prompts (scores = its raw logit).
        score_bins: Ascending raw-score cut points; when set, a raw reward ``r`` becomes the 1-based
            bin ``bisect_left(score_bins, r) + 1`` (NoveltyBench maps its reward model to 1-10 so).
        embedding_model: Sentence-transformers model for embedding diversity (skipped when ``None``).
        backend: ``"transformers"`` (batched ``generate``) or ``"vllm"``.
        batch_size: Sequences per ``generate`` call (and reward-model batch).
        temperature: Sampling temperature (0: greedy decoding).
        top_p: Nucleus sampling mass.
        top_k: Sample among the ``top_k`` most likely tokens only (0: no top-k cut).
        stop: Stop words; a completion ends before the first of them.
        max_new_tokens: Token limit of a completion (default: 2,048 under ``"v1.1"``, as upstream; else 512).
        seed: Base sampling seed.
        chat_template: ``"auto"``, ``"on"`` or ``"off"``: whether prompts go through the chat template.
        patience: ``"upstream"`` utility patience (default 0.8; not for ``"darling"``).
        maj_resamples: maj@k draws of k samples with replacement per problem (0: vote over the
            first k samples).
        limit: Evaluate only the first ``limit`` prompts.
        stop_after: Stop after this many new prompts in this invocation (the run stays resumable).
        plots: Save ``pass_at_k.png`` and ``distinct_hist.png``.
        progress: Show a progress bar.

    Raises:
        ValueError: For an unknown choice or a setting out of range (the message names the flag).
    """

    model: str
    dataset: str
    output_dir: str
    task: str = "open"
    num_samples: int = 10
    k_list: list[int] | None = None
    split: str = "test"
    dataset_config: str | None = None
    prompt_field: str | None = None
    answer_field: str | None = None
    id_field: str | None = None
    prompt_template: str | None = None
    judge: str = "lexical"
    threshold: float | None = None
    protocol: str | None = None
    score_judge: str | None = None
    judge_prompts: str | None = None
    judge_seed: int | None = None
    lenient_partition: bool = False
    max_tokens_per_text: int | None = None
    partition_mode: str = "greedy"
    reward_model: str | None = None
    score_bins: list[float] | None = None
    embedding_model: str | None = None
    backend: str = "transformers"
    batch_size: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    stop: list[str] | None = None
    max_new_tokens: int | None = None
    seed: int = 0
    chat_template: str = "auto"
    patience: float | None = None
    maj_resamples: int = DEFAULT_RESAMPLES
    limit: int | None = None
    stop_after: int | None = None
    plots: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"Unknown task {self.task!r}; choose one of {', '.join(TASKS)}.")
        if self.backend not in BACKENDS:
            raise ValueError(f"Unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}.")
        check_mode(self.partition_mode)
        if self.plots:
            check_plotting()  # before hours of sampling, not after
        v11 = self.protocol == V11_PROTOCOL
        if self.max_new_tokens is None:
            self.max_new_tokens = V11_MAX_NEW_TOKENS if v11 else 512
        check_patience(
            self.patience, "upstream" if v11 else self.noveltybench_protocol
        )  # checks the protocol
        if v11 and self.judge.lower() != "none":
            from darling.evaluation.novelty_v11_eval import check_v11_config

            check_v11_config(self)
        elif not v11 and (self.score_judge, self.judge_prompts, self.judge_seed) != (None, None, None):
            raise ValueError(
                "--score-judge, --judge-prompts and --judge-seed are metric v1.1 settings: add --protocol v1.1."
            )
        if self.maj_resamples < 0:
            raise ValueError(
                f"--maj-resamples must be >= 0 (0: the first k samples), got {self.maj_resamples}."
            )
        if self.num_samples < 1:
            raise ValueError(f"--num-samples must be >= 1, got {self.num_samples}.")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {self.batch_size}.")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1 (leave it out for every prompt), got {self.limit}.")
        if self.stop_after is not None and self.stop_after < 1:
            raise ValueError(
                f"--stop-after must be >= 1 (leave it out to run to the end), got {self.stop_after}."
            )
        self.sampling()  # checks temperature, top_p, top_k, stop and max_new_tokens
        if self.prompt_template is not None and "{prompt}" not in self.prompt_template:
            raise ValueError(f"--prompt-template must contain {{prompt}}, got {self.prompt_template!r}.")
        if self.score_bins is not None and list(self.score_bins) != sorted(self.score_bins):
            raise ValueError(f"--score-bins must be ascending, got {self.score_bins}.")
        if self.k_list is None:
            self.k_list = default_k_list(self.num_samples)
        too_big = [k for k in self.k_list if k > self.num_samples or k < 1]
        if too_big and self.task == "math":
            raise ValueError(
                f"pass@k needs 1 <= k <= --num-samples ({self.num_samples}); got k = {too_big}. "
                "Raise --num-samples or drop those k."
            )

    @property
    def noveltybench_protocol(self) -> str:
        """The protocol ``utility`` follows: ``protocol``, or ``"upstream"`` when unset."""
        return "upstream" if self.protocol is None else self.protocol

    def sampling(self) -> SamplingSettings:
        """The sampling settings of this run (validated where they are defined)."""
        return SamplingSettings(
            self.temperature, self.top_p, self.max_new_tokens, self.seed, self.top_k, tuple(self.stop or ())
        )

    def fingerprint(self) -> dict[str, Any]:
        """The settings a resumed run must share with the run it continues."""
        values = asdict(self)
        return {key: values[key] for key in _FINGERPRINT}


def _make_generator(config: EvaluationConfig):
    settings = config.sampling()
    if config.backend == "vllm":
        return VLLMGenerator(config.model, settings, chat_template=config.chat_template)
    return TransformersGenerator(
        config.model, batch_size=config.batch_size, settings=settings, chat_template=config.chat_template
    )


def _make_scorer(
    config: EvaluationConfig,
) -> Callable[[Sequence[EvalPrompt], list[list[str]]], list[list]] | None:
    if config.task == "math":
        from darling.rewards.math import verify_math_answer

        def score_math(items, generations):
            return [
                [verify_math_answer(g, item.answer) for g in gens] for item, gens in zip(items, generations)
            ]

        return score_math
    if config.reward_model is None:
        return None
    from darling.rewards.reward_model import RewardModelReward

    reward = RewardModelReward(config.reward_model, batch_size=config.batch_size)

    def score_open(items, generations):
        prompts = [item.prompt for item, gens in zip(items, generations) for _ in gens]
        flat = reward(prompts=prompts, completions=[g for gens in generations for g in gens])
        if config.score_bins:
            flat = [bisect.bisect_left(config.score_bins, r) + 1 for r in flat]
        sizes = [len(gens) for gens in generations]
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        return [flat[s : s + n] for s, n in zip(starts, sizes)]

    return score_open


def _apply_template(template: str, item: EvalPrompt) -> EvalPrompt:
    if not isinstance(item.prompt, str):
        raise TypeError(
            f"--prompt-template needs text prompts; prompt {item.id!r} is a {type(item.prompt).__name__}."
        )
    # str.replace, not str.format: math templates hold LaTeX braces such as \boxed{}.
    return EvalPrompt(id=item.id, prompt=template.replace("{prompt}", item.prompt), answer=item.answer)


def load_items(config: EvaluationConfig) -> list[EvalPrompt]:
    """The run's prompts: the dataset's rows (the first ``limit``), inside ``prompt_template``."""
    items = load_prompts(
        config.dataset, config.split, config.prompt_field, config.answer_field, config.id_field,
        need_answer=config.task == "math", config_name=config.dataset_config,
    )  # fmt: skip
    if config.limit is not None:
        items = items[: config.limit]
    if config.prompt_template is not None:
        items = [_apply_template(config.prompt_template, item) for item in items]
    return items


def run_evaluation(
    config: EvaluationConfig, generator: Any = None, scorer: Any = None
) -> dict[str, Any] | None:
    """Runs (or resumes) an evaluation and writes ``samples.jsonl``, ``summary.json`` and plots.

    Args:
        config: The run's settings.
        generator: Overrides the generator built from ``config`` (anything with
            ``generate(prompts, num_samples, seed) -> list[list[str]]``).
        scorer: Overrides the scorer built from ``config`` (``(items, generations) -> scores``).

    Returns:
        The summary, or ``None`` when ``stop_after`` stopped the run before every prompt was done.
    """
    if config.protocol == V11_PROTOCOL:
        from darling.evaluation.novelty_v11_eval import run_v11_evaluation

        return run_v11_evaluation(config, generator=generator)
    return sample_and_summarize(config, generator, scorer)


def sample_and_summarize(
    config: EvaluationConfig, generator: Any = None, scorer: Any = None
) -> dict[str, Any] | None:
    """:func:`run_evaluation`'s sampling, scoring and partitioning, whatever the protocol."""
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples_path = out / SAMPLES_FILE
    records = read_records(samples_path)
    check_run_config(out, config.fingerprint(), has_records=bool(records))
    items = load_items(config)
    per_call = max(1, config.batch_size // config.num_samples) if config.backend == "transformers" else 64
    # Batches are fixed by position; one with a missing record is sampled again whole, so its
    # prompts get the same company and seed as in an uninterrupted run.
    blocks = sorted({i // per_call for i, item in enumerate(items) if item.id not in records})
    if blocks:
        judge = None
        if config.judge.lower() != "none":
            judge = load_judge(config.judge, config.threshold, config.max_tokens_per_text, config.protocol)
        generator = generator if generator is not None else _make_generator(config)
        scorer = scorer if scorer is not None else _make_scorer(config)
        _sample_blocks(config, items, blocks, per_call, records, out, generator, scorer, judge)
    if any(item.id not in records for item in items):
        return None
    finished = [records[item.id] for item in items]
    summary = summarize(finished, config)
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    if config.plots:
        if "pass@k" in summary:
            plot_pass_at_k(
                summary["pass@k"], out / "pass_at_k.png", title=f"pass@k: {Path(config.model).name}"
            )
        if "mean_distinct" in summary:
            plot_distinct_histogram(
                [r["distinct"] for r in finished], out / "distinct_hist.png", config.num_samples
            )
    return summary


def _sample_blocks(
    config: EvaluationConfig,
    items: list[EvalPrompt],
    blocks: list[int],
    per_call: int,
    records: dict[str, dict[str, Any]],
    out: Path,
    generator: Any,
    scorer: Any,
    judge: Any,
) -> None:
    """Samples, scores and partitions each block of ``per_call`` prompts; appends its missing records."""
    done_now = 0
    config_written = False
    missing = sum(item.id not in records for item in items)
    bar = tqdm(
        total=len(items),
        initial=len(items) - missing,
        desc="evaluate",
        unit="prompt",
        disable=not config.progress,
    )
    with (out / SAMPLES_FILE).open("a", encoding="utf-8") as f:
        for block in blocks:
            if config.stop_after is not None and done_now >= config.stop_after:
                break
            batch = items[block * per_call : (block + 1) * per_call]
            generations = generator.generate(
                [it.prompt for it in batch], config.num_samples, seed=config.seed + block * per_call
            )
            scores = scorer(batch, generations) if scorer is not None else [None] * len(batch)
            labels = (
                [r.labels for r in partition_groups(generations, judge, mode=config.partition_mode)]
                if judge is not None
                else [None] * len(batch)
            )
            answers = (
                [[extract_answer(g) for g in gens] for gens in generations]
                if config.task == "math"
                else [None] * len(batch)
            )
            for item, gens, sc, lab, ans in zip(batch, generations, scores, labels, answers):
                if item.id in records:
                    continue  # kept as it was; the block was sampled again for the others
                if not config_written:
                    # Only now does the folder hold this run: a start that failed (a mistyped path,
                    # a bad option) left nothing that would refuse the corrected command.
                    write_run_config(out, config.fingerprint())
                    config_written = True
                record = make_record(item, gens, sc, lab, config.patience, config.noveltybench_protocol, ans)
                append_jsonl(f, record)
                records[item.id] = record
                done_now += 1
                bar.update(1)
    bar.close()
