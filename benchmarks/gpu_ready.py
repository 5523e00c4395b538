"""GPU-ready check: classifier precision, classifier throughput and MFU, diversity's share of a DARLING step.

    python benchmarks/gpu_ready.py --output gpu_ready.json          # one H200/H100, offline, under 8 minutes
    python benchmarks/gpu_ready.py --tiny --output gpu_ready.json   # tiny sizes on CPU (what CI runs)
    python benchmarks/gpu_ready.py --markdown gpu_ready.json        # the table of a JSON a run wrote

``benchmarks/run_gpu_ready.sh`` runs it on a GPU machine without network (it installs TRL, datasets
and evaluate from carried wheels). Every model is random-initialised from the shapes in
``benchmarks/configs/`` (no weights), with a word-level tokenizer built in-process, so texts of
``k`` words are ``k`` tokens. It prints one table and writes it, with every number, as JSON.

(a) Precision. P(equivalent) from ``PartitionClassifier.predict_proba`` of the same random
    classifier in bf16 on CUDA and in fp32 on CPU (on a machine without CUDA: bf16 on CPU against
    fp32 on CPU, and the row says so), over fixed pairs of varied length; max absolute difference and
    the decisions that flip at the released threshold. A random head gives P close to 0.5 for every
    pair, which would hide differences, so the head is first set, in fp32, to be orthogonal to the
    mean pooled feature and scaled so the logit margins over these pairs have mean 0 and std 2 (P
    then spans about 0.02-0.98, as a trained classifier's does).
(b) Throughput. Forward passes of the ModernBERT-base- and Qwen3-Embedding-4B-shaped classifiers
    (bf16 on CUDA, fp32 on CPU) on pairs of two texts of ``--tokens-per-text`` tokens each (1,024:
    2 x 1,024 + 3 special tokens a pair), batch 1 to 128: median wall time of ``--repeats`` passes
    after ``--warmup`` passes, CUDA synchronised around each; pairs per second and model-FLOPs
    utilisation (MFU). FLOPs of one forward pass over a pair of T tokens:

        F(T) = 2 * N * T + 4 * d_attn * sum over layers of K_l(T)

    N: parameters outside the token-embedding table (each multiplies every token once: a
    multiply and an add; the pooling head, applied to one position, is over-counted by < 1%).
    d_attn = attention heads x head dim. K_l: (query, key) pairs layer l attends: T^2 for
    bidirectional attention, T(T+1)/2 for causal attention, sum_i (min(i, w) + min(T-1-i, w) + 1)
    for ModernBERT's local layers (w = local_attention / 2 tokens each side). The 4 counts Q K^T and
    softmax(.) V at 2 FLOPs a multiply-add. Norms, activations, softmax and rotary embeddings are not
    counted. MFU = F(T) x pairs/s / peak, with the peak ``--peak-tflops`` (790: the H200's and H100's
    measured dense bf16 matrix rate); on CPU ``n/a`` unless ``--cpu-peak-tflops`` is given. Qwen3's
    config ships ``use_cache=True``, with which a sequence-classification forward also builds a KV
    cache; the sweep runs with ``use_cache=False`` and one extra row measures the shipped setting.
(c) DARLING step. ``DarlingGRPOTrainer`` steps on the Qwen2.5-0.5B-shaped policy (bf16 on CUDA):
    ``--prompts`` prompts x 8 rollouts of exactly ``--completion-tokens`` tokens (EOS suppressed
    with ``min_new_tokens``), the ModernBERT-base-shaped classifier in-process on the same device.
    The ``DiversityRewardFunction`` call is timed (gathering, partitioning, classifier calls) and
    so is each step (synchronised at its start and end); the first step is a warm-up. With the
    threshold 1.0 no pair is ever equivalent, so every one of a group's 28 pairs is judged: the
    worst case for the classifier's share.

Guards: each part has a time budget (``--part-budget-s``) and the run one in all
(``--time-budget-s``, 450 s); what does not fit is a ``skipped`` row that says why, as is what
the machine lacks (CUDA, TRL) or runs out of (GPU memory). The exit status is 1 only when a part
raised an error (its traceback is in the JSON), 2 when ``--require-cuda`` finds no GPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_io import write_results
from gpu_ready_models import CLASSIFIERS, BudgetExceeded, Run, release_memory
from gpu_ready_parts import PARTS, goal_rows

# Defaults of the full-size (GPU) and tiny (CPU) runs; each is also an option.
PROFILES = {
    "full": dict(
        tokens_per_text=1024,
        batch_sizes=[1, 8, 32, 64, 128],
        parity_words=(8, 128),
        prompts=8,
        completion_tokens=256,
        grpo_steps=3,
        warmup=2,
        repeats=5,
    ),
    "tiny": dict(
        tokens_per_text=24,
        batch_sizes=[1, 2, 4, 8],
        parity_words=(4, 24),
        prompts=2,
        completion_tokens=16,
        grpo_steps=2,
        warmup=2,
        repeats=5,
    ),
}
COLUMNS = ("part", "measurement", "setting", "result", "status")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="tiny shapes and short texts (CPU, CI)")
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    parser.add_argument("--require-cuda", action="store_true", help="exit 2 at once when CUDA is unavailable")
    parser.add_argument("--parts", default="abc", help="which parts to run, e.g. 'ab' (default: abc)")
    parser.add_argument("--output", help="write the table and every number as JSON here")
    parser.add_argument(
        "--markdown", metavar="JSON", help="only print the Markdown table of a JSON a run wrote"
    )
    parser.add_argument("--peak-tflops", type=float, default=790.0, help="GPU dense bf16 peak for MFU")
    parser.add_argument("--cpu-peak-tflops", type=float, default=None, help="CPU peak for MFU (default: n/a)")
    parser.add_argument("--time-budget-s", type=float, default=450.0, help="the whole run's budget")
    parser.add_argument(
        "--part-budget-s", type=float, nargs=3, default=[90.0, 150.0, 180.0], metavar=("A", "B", "C")
    )
    for name, kind in [
        ("tokens-per-text", int),
        ("prompts", int),
        ("completion-tokens", int),
        ("grpo-steps", int),
        ("warmup", int),
        ("repeats", int),
    ]:
        parser.add_argument(f"--{name}", type=kind, default=None, help="default: the profile's")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    parser.add_argument(
        "--classifiers",
        nargs="+",
        default=list(CLASSIFIERS),
        choices=list(CLASSIFIERS),
        help="classifier shapes of parts a and b (default: both)",
    )
    parser.add_argument("--parity-pairs", type=int, default=16)
    parser.add_argument("--rollouts", type=int, default=8)
    parser.add_argument("--grpo-threshold", type=float, default=1.0, help="classifier threshold in part c")
    parser.add_argument("--classifier-batch-size", type=int, default=64, help="predict_proba batch in part c")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    profile = PROFILES["tiny" if args.tiny else "full"]
    for key, value in profile.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if not set(args.parts) <= set(PARTS) or not args.parts:
        parser.error(f"--parts takes letters of {''.join(PARTS)}, got {args.parts!r}")
    return args


def machine_info(device: str) -> dict:
    import torch
    import transformers

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
    }
    try:  # the CPU's model name, where Linux tells it
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        info["cpu"] = names[0] if names else info["cpu"]
    except OSError:
        pass
    for name in ("trl", "datasets", "accelerate"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1), cuda=torch.version.cuda
        )
    info["machine"] = (
        f"{info['gpu']} ({info['gpu_memory_gib']} GiB), CUDA {info['cuda']}"
        if device == "cuda"
        else f"{info['cpu']}, {info['cpu_count']} cores, no GPU"
    )
    return info


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: dict) -> str:
    """The Markdown table of a result (a caption line, then one table): what the docs page holds."""
    machine = result["machine"]
    caption = (
        f"`{result['command']}` on {machine['machine']} (torch {machine['torch']}, transformers "
        f"{machine['transformers']}, TRL {machine.get('trl') or 'absent'}), {result['date']}, "
        f"{result['elapsed_s']:.0f} s in all."
    )
    lines = [caption, "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in result["rows"]]
    return "\n".join(lines) + "\n"


def _alarm(signum, frame):
    raise BudgetExceeded("the whole run's time budget ran out")


def run_part(run: Run, part: str) -> None:
    """Runs one part under its budget; an exception becomes an ``error`` row (with its traceback kept)."""
    start = time.monotonic()
    budget = run.args.part_budget_s["abc".index(part)]
    run.part_deadline = min(start + budget, run.deadline)
    title = (PARTS[part].__doc__ or f"part {part}").strip().splitlines()[0]
    try:
        if start >= run.deadline:
            run.add(part, title, "", "", "skipped: the whole run's time budget was spent before this part")
        else:
            PARTS[part](run)
    except BudgetExceeded:
        run.add(
            part,
            title,
            "",
            "",
            f"skipped: the whole run's budget ({run.args.time_budget_s:.0f} s) ran out here",
        )
    except Exception as err:
        run.add(part, title, "", "", f"error: {type(err).__name__}: {err}")
        run.errors.append({"part": part, "traceback": traceback.format_exc()})
        traceback.print_exc()
    finally:
        run.part_seconds[part] = round(time.monotonic() - start, 2)
        release_memory(run.device)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown:
        print(render_markdown(json.loads(Path(args.markdown).read_text(encoding="utf-8"))), end="")
        return 0
    import torch

    if args.require_cuda and not torch.cuda.is_available():
        print("gpu_ready: --require-cuda, but torch sees no CUDA device.", file=sys.stderr)
        return 2
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    run = Run(args=args, device=device, deadline=time.monotonic() + args.time_budget_s)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, args.time_budget_s)
    started = time.monotonic()
    result = {
        "command": " ".join(
            ["python benchmarks/gpu_ready.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "device": device,
        "machine": machine_info(device),
        "settings": {k: v for k, v in vars(args).items() if k not in ("markdown",)},
    }
    try:
        for part in args.parts:
            run_part(run, part)
            result.update(rows=run.rows, elapsed_s=time.monotonic() - started)
            _write(args.output, result, run)  # what is done survives a kill
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    run.rows.extend(goal_rows(run))
    result.update(rows=run.rows, elapsed_s=round(time.monotonic() - started, 1))
    _write(args.output, result, run)
    print(render_markdown(result), end="")
    return 1 if run.errors else 0


def _write(path: str | None, result: dict, run: Run) -> None:
    if path:
        result.update(part_seconds=run.part_seconds, errors=run.errors)
        write_results(path, result, render_markdown(result))


if __name__ == "__main__":
    sys.exit(main())
