"""``darling evaluate --protocol v1.1``: sample, then partition, score and summarize as NoveltyBench v1.1.

The output folder is one of upstream's eval folders (see
:mod:`~darling.evaluation.novelty_v11_run`): sampling goes through ``darling evaluate``'s
resumable sampler (``samples.jsonl``, 2,048 new tokens by default), the responses are written to
``generations.jsonl`` (an answer that is empty once reasoning is dropped becomes ``[empty]``), and
the two judges fill ``v1.1/``. Every stage resumes: a rerun samples only missing prompts and
judges only rows whose key changed.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from darling.evaluation.io import atomic_output
from darling.evaluation.novelty_judges import ChatEndpoint, HeadScorer, SetLevelPartitioner
from darling.evaluation.novelty_prompts import load_judge_prompts
from darling.evaluation.novelty_v11 import DEFAULT_JUDGE_MODEL, mark_generation
from darling.evaluation.novelty_v11_run import GENERATIONS_FILE, run_v11

_OPTIONS = {"key_env", "max_tokens", "temperature", "structured"}
JUDGE_SPEC = "llm:MODEL@URL[,URL...][;key_env=NAME][;max_tokens=N][;temperature=T][;structured=off]"


def parse_endpoint(spec: str, flag: str = "--judge") -> ChatEndpoint:
    """A v1.1 judge endpoint from ``llm:MODEL@URL[,URL...][;key_env=NAME][;max_tokens=N]...``.

    ``key_env`` names the environment variable holding a provider's API key (never the key itself,
    which would land in the run's settings); ``structured=off`` stops asking for schema-guided JSON.

    Raises:
        ValueError: For a spec of another form (the message shows one that works).

    Example:
        >>> parse_endpoint("llm:Qwen/Qwen3-32B@http://judge:8000;max_tokens=4096").max_tokens
        4096
    """
    example = f"llm:{DEFAULT_JUDGE_MODEL}@https://api.example.com;key_env=JUDGE_API_KEY or llm:Qwen/Qwen3-32B@http://node1:8000"
    if not isinstance(spec, str) or not spec.startswith("llm:") or "@" not in spec:
        raise ValueError(
            f"{flag} {spec!r}: metric v1.1 judges are LLMs behind OpenAI-compatible chat servers, given as "
            f"{JUDGE_SPEC}, e.g. {example}."
        )
    model, _, rest = spec[len("llm:") :].partition("@")
    urls, *options = rest.split(";")
    if not model or not urls.strip():
        raise ValueError(f"{flag} {spec!r} needs a model and server URLs, e.g. {example}.")
    settings: dict[str, Any] = {}
    for option in options:
        key, eq, value = (part.strip() for part in option.partition("="))
        if not eq or key not in _OPTIONS:
            raise ValueError(
                f"{flag}: unknown option {option!r}; a v1.1 judge takes {', '.join(sorted(_OPTIONS))}."
            )
        try:
            if key == "key_env":
                if value not in os.environ:
                    raise ValueError(f"the environment variable {value} (key_env) is not set")
                settings["api_key"] = os.environ[value]
            elif key == "max_tokens":
                settings["max_tokens"] = int(value)
            elif key == "temperature":
                settings["temperature"] = float(value)
            else:
                if value not in ("on", "off"):
                    raise ValueError("structured is on or off")
                settings["structured"] = value == "on"
        except ValueError as err:
            raise ValueError(f"{flag} {spec!r}: {err}.") from None
    return ChatEndpoint(urls, model, **settings)


def write_generations(records: list[dict[str, Any]], model: str, eval_dir: str | Path) -> Path:
    """Writes ``generations.jsonl`` (upstream's input rows) from ``samples.jsonl`` records, if changed."""
    path = Path(eval_dir) / GENERATIONS_FILE
    rows = []
    for record in records:
        if not isinstance(record["prompt"], str):
            raise TypeError(
                f"Metric v1.1 judges read text prompts; prompt {record['id']!r} is a {type(record['prompt']).__name__}."
            )
        gens = [mark_generation(text) for text in record["generations"]]
        rows.append({"id": record["id"], "prompt": record["prompt"], "model": model, "generations": gens})
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        with atomic_output(path) as f:
            f.write(text)
    return path


def judges_from_config(config: Any) -> tuple[SetLevelPartitioner, HeadScorer]:
    """The v1.1 partitioner and scorer an :class:`~darling.evaluation.EvaluationConfig` names."""
    prompts = load_judge_prompts(config.judge_prompts)
    partition_judge = parse_endpoint(config.judge, "--judge")
    score_judge = (
        partition_judge if config.score_judge is None else parse_endpoint(config.score_judge, "--score-judge")
    )
    partitioner = SetLevelPartitioner(
        partition_judge, prompts, seed=config.judge_seed, lenient=config.lenient_partition
    )
    patience = 0.8 if config.patience is None else config.patience
    return partitioner, HeadScorer(score_judge, prompts, patience=patience)


def check_v11_config(config: Any) -> None:
    """Checks the v1.1 settings of an evaluation before anything runs (judge specs, prompts source)."""
    if config.task != "open":
        raise ValueError("--protocol v1.1 scores open-ended prompts: use --task open.")
    if config.reward_model is not None:
        raise ValueError(
            "--protocol v1.1 scores with an LLM judge (--score-judge), not --reward-model; drop it."
        )
    parse_endpoint(config.judge, "--judge")
    if config.score_judge is not None:
        parse_endpoint(config.score_judge, "--score-judge")


def run_v11_evaluation(
    config: Any, generator: Any = None, partitioner: Any = None, scorer: Any = None
) -> dict[str, Any] | None:
    """Samples (resumably), then runs metric v1.1 on the output folder.

    Args:
        config: The :class:`~darling.evaluation.EvaluationConfig` (``protocol="v1.1"``).
        generator: Overrides the generator built from ``config``.
        partitioner: Overrides the partition judge built from ``config`` (``config()``, ``partition(rows)``).
        scorer: Overrides the utility judge built from ``config`` (``config()``, ``score(rows)``).

    Returns:
        The run's summary with the v1.1 numbers under ``"v1.1"``, or ``None`` when ``stop_after``
        stopped sampling early.
    """
    from darling.evaluation.resume import read_records
    from darling.evaluation.runner import SAMPLES_FILE, SUMMARY_FILE, load_items, sample_and_summarize

    judged = config.judge.lower() != "none"
    if judged and (partitioner is None or scorer is None):
        built = judges_from_config(config)  # before sampling: a missing prompts checkout fails fast
        partitioner = partitioner or built[0]
        scorer = scorer or built[1]
    # The judges do not shape the samples: sampling runs (and resumes) as a judge-less run.
    sampling = dataclasses.replace(config, judge="none", score_judge=None, plots=False)
    summary = sample_and_summarize(sampling, generator)
    if summary is None:
        return None
    out = Path(config.output_dir)
    records = read_records(out / SAMPLES_FILE)
    ordered = [records[item.id] for item in load_items(config)]  # the dataset's order, as upstream writes
    write_generations(ordered, config.model, out)
    if not judged:
        return summary
    summary["v1.1"] = run_v11(out, partitioner, scorer, progress=config.progress)
    summary["protocol"] = "v1.1"
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
