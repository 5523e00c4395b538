"""The demo pipeline: warm up a tiny policy, train it with GRPO and with DARLING, compare.

For each seed: build the policy, warm it up (the *base* policy), then train two copies of it with
the same steps, prompts, rollouts and seed: one with quality-only ``trl.GRPOTrainer`` (quality =
correctness), one with :class:`~darling.trainer.DarlingGRPOTrainer` and a
:class:`~darling.rewards.DiversityRewardFunction` (reward = correctness x diversity). All three are
evaluated on held-out targets.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict

import torch
from tqdm.auto import tqdm

from darling.demo.config import DemoConfig
from darling.demo.evaluate import EvalSettings, evaluate_policy
from darling.demo.policy import WarmupConfig, build_policy, warm_up
from darling.demo.task import CanonicalFormJudge
from darling.demo.tasks import Task, get_task
from darling.demo.training import train

METHODS = ("base", "grpo", "darling")
KERNEL_ENV = (
    "ATEN_CPU_CAPABILITY",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "ONEDNN_MAX_CPU_ISA",
    "OMP_NUM_THREADS",
)
"""Environment variables that change which CPU kernels torch, MKL and oneDNN run (recorded with the results)."""


def rule_judge(task: Task):
    """The default judge: equal canonical forms (the short-text rule is off; the form is exact)."""
    from darling.partitioning import CallableJudge

    return CallableJudge(CanonicalFormJudge(task), short_text_rule="off")


def run_seed(task: Task, config: DemoConfig, seed: int, judge, workdir: str) -> dict:
    """Everything for one seed: base, GRPO and DARLING policies, their metrics and timings."""
    settings = EvalSettings(config.eval_samples, config.k_max, config.temperature, seed=10_000 + seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    model, tokenizer = build_policy(
        seed, hidden_size=config.hidden_size, num_layers=config.num_layers, alphabet=task.alphabet
    )
    warm = WarmupConfig(steps=config.warmup_steps)
    warm_loss = warm_up(model, tokenizer, task, warm, seed=seed, progress=config.progress)
    timings["warmup_s"] = time.perf_counter() - start
    results = {"seed": seed, "warmup_loss": warm_loss, "metrics": {}, "train_metrics": {}, "logs": {}}
    results["metrics"]["base"] = evaluate_policy(model, tokenizer, task, settings)
    results["train_metrics"]["base"] = evaluate_policy(
        model, tokenizer, task, settings, targets=task.train_eval_targets
    )
    for method in ("grpo", "darling"):
        start = time.perf_counter()
        trained, log = train(method, model, tokenizer, task, config, seed, judge=judge, workdir=workdir)
        timings[f"{method}_s"] = time.perf_counter() - start
        results["metrics"][method] = evaluate_policy(trained, tokenizer, task, settings)
        results["train_metrics"][method] = evaluate_policy(
            trained, tokenizer, task, settings, targets=task.train_eval_targets
        )
        results["logs"][method] = log
    results["timings"] = timings
    return results


_QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
_QUIET_LOGGERS = ("transformers", "trl", "accelerate", "datasets")


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silences library chatter that would drown the demo's output, for the ``with`` block only.

    Inside the block: warnings are ignored, the libraries' loggers show errors only, and the offline
    environment variables are set (unless already set). Everything is restored on exit.
    """
    from transformers.utils import logging as hf_logging

    saved_env = {key: os.environ.get(key) for key in _QUIET_ENV}
    saved_levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    saved_verbosity = hf_logging.get_verbosity()
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore")
            for name in _QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
            hf_logging.set_verbosity_error()
            yield
    finally:
        hf_logging.set_verbosity(saved_verbosity)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(config: DemoConfig) -> dict:
    """Runs the whole demo and writes its table, PNG and JSON to ``config.output_dir``.

    Args:
        config: Demo settings.

    Returns:
        The results dict that is also written as ``results.json``.
    """
    with quiet_libraries():
        return _run_demo(config)


def _run_demo(config: DemoConfig) -> dict:
    from darling.demo.report import write_report

    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    task = get_task(config.task)
    start, load_start = time.perf_counter(), _load_average()
    seeds = [config.seed + i for i in range(config.seeds)]
    runs = []
    classifier_metrics = None
    try:
        with tempfile.TemporaryDirectory(prefix="darling-demo-") as workdir:
            judge = rule_judge(task)
            if config.judge == "classifier":
                from darling.demo.classifier import train_task_classifier

                judge = train_task_classifier(
                    task, seed=config.seed, fast=config.fast, workdir=workdir, progress=config.progress
                )
                classifier_metrics = {"threshold": judge.threshold, **judge.settings.metrics}
            for seed in tqdm(seeds, desc="seeds", disable=not config.progress or len(seeds) == 1):
                runs.append(run_seed(task, config, seed, judge, workdir))
    finally:
        torch.set_num_threads(threads)
    results = {
        "config": asdict(config),
        "task": task.describe(),
        "environment": machine_fingerprint(),
        "runs": runs,
    }
    if classifier_metrics is not None:
        results["classifier"] = classifier_metrics
    results["elapsed_s"] = time.perf_counter() - start
    # Other processes on the machine slow the run down: timings under load are upper bounds.
    results["load_average"] = {"start": load_start, "end": _load_average()}
    write_report(results, config.output_dir)
    return results


def _load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (``None`` where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_fingerprint() -> dict:
    """What decides the demo's floating-point trajectory besides its settings: CPU and library versions.

    The demo is deterministic on one machine, but its 1,200 optimizer steps amplify the last-bit
    differences between CPU kernels (AVX-512 against AVX2, MKL code paths) and library versions, so
    its numbers are only reproducible where these fields match.
    """
    from importlib.metadata import PackageNotFoundError, version

    def _version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    return {
        "machine": platform.machine(),
        "env": {name: os.environ[name] for name in KERNEL_ENV if name in os.environ},
        "cpu": _cpu_model(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        **{name: _version(name) for name in ("torch", "transformers", "trl", "tokenizers", "accelerate")},
    }
