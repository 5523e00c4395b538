"""The three parts of ``gpu_ready.py`` (a: precision, b: throughput and MFU, c: a DARLING step) and the goals.

``gpu_ready.py``'s docstring describes what each part measures and the FLOP formula.
"""

from __future__ import annotations

import copy
import random
import statistics
import tempfile
import time

from gpu_ready_models import (
    CLASSIFIERS,
    POLICY,
    Run,
    build_classifier,
    fmt,
    forward_flops,
    load_config,
    make_pairs,
    point_special_ids,
    release_memory,
    spread_head,
    time_forward,
    word_tokenizer,
    words,
)

GOAL_MFU, GOAL_MFU_BATCH, GOAL_SHARE = 0.35, 64, 0.10


def part_a(run: Run) -> None:
    """P(equivalent) in bf16 against fp32"""
    import torch

    from darling.classifier import PartitionClassifier

    args = run.args
    compare = "bf16 on CUDA vs fp32 on CPU" if run.cuda else "bf16 on CPU vs fp32 on CPU (no CUDA)"
    low, high = args.parity_words
    for key in run.args.classifiers:
        spec = CLASSIFIERS[key]
        setting = f"{spec['label']}-shaped, {args.parity_pairs} pairs of {low}-{high} tokens a text"
        if time.monotonic() > run.part_deadline:
            run.add("a", f"P(equivalent): {compare}", setting, "", "skipped: part a's time budget ran out")
            continue
        clf = build_classifier(key, args.tiny, run.device, torch.float32, args.tokens_per_text, args.seed)
        pairs = make_pairs(
            random.Random(args.seed), args.parity_pairs, low, high, clf.model.config.vocab_size - 8
        )
        spread_head(clf.model, clf.encode_pairs(pairs).to(run.device))
        reference = copy.deepcopy(clf.model).to("cpu") if run.cuda else clf.model
        tested = (clf.model if run.cuda else copy.deepcopy(clf.model)).to(run.device, torch.bfloat16)
        p_ref = PartitionClassifier(reference, clf.tokenizer, clf.settings).predict_proba(pairs, batch_size=8)
        p_test = PartitionClassifier(tested, clf.tokenizer, clf.settings).predict_proba(pairs, batch_size=8)
        diffs = [abs(a - b) for a, b in zip(p_ref, p_test)]
        t = clf.threshold
        flips = sum((a > t) != (b > t) for a, b in zip(p_ref, p_test))
        run.add(
            "a",
            f"P(equivalent): {compare}",
            setting,
            f"max abs diff {max(diffs):.4f} (mean {statistics.mean(diffs):.4f}); P(fp32) {min(p_ref):.2f}-"
            f"{max(p_ref):.2f}; {flips} of {len(pairs)} decisions flip at {t}",
            max_abs_diff=max(diffs),
            mean_abs_diff=statistics.mean(diffs),
            p_reference_min=min(p_ref),
            p_reference_max=max(p_ref),
            decisions_flipped=flips,
            threshold=t,
            pairs=len(pairs),
            compared="cuda-bf16/cpu-fp32" if run.cuda else "cpu-bf16/cpu-fp32",
        )
        del clf, reference, tested
        release_memory(run.device)


def part_b(run: Run) -> None:
    """Classifier forward: pairs per second and MFU"""
    import torch

    args = run.args
    dtype = torch.bfloat16 if run.cuda else torch.float32
    peak = args.peak_tflops if run.cuda else args.cpu_peak_tflops
    where = f"{'bf16' if run.cuda else 'fp32'}, {run.device}"
    for key in run.args.classifiers:
        label = CLASSIFIERS[key]["label"]
        clf = build_classifier(key, args.tiny, run.device, dtype, args.tokens_per_text, args.seed)
        rng = random.Random(args.seed)
        per_pair_s, skip = None, None
        sizes = list(args.batch_sizes)
        cache_batch = min(args.batch_sizes, key=lambda b: (b < GOAL_MFU_BATCH, abs(b - GOAL_MFU_BATCH)))
        decoder = clf.model.config.model_type == "qwen3"  # the one with a KV cache to switch off
        cached = [cache_batch] if decoder else []
        for batch_size, use_cache in [(b, False) for b in sizes] + [(b, True) for b in cached]:
            n = args.tokens_per_text
            setting = f"{label}-shaped, batch {batch_size}, 2 x {n} tokens + specials a pair" + (
                ", use_cache=True as shipped" if use_cache else ""
            )
            measurement = f"classifier forward ({where})"
            cost = None if per_pair_s is None else per_pair_s * batch_size * (args.warmup + args.repeats)
            if cost is not None and time.monotonic() + cost > run.part_deadline:
                skip = skip or f"skipped: part b's time budget would run out (about {cost:.0f} s needed)"
            if skip:
                run.add("b", measurement, setting, "", skip)
                continue
            pairs = make_pairs(rng, batch_size, n, n, clf.model.config.vocab_size - 8)
            batch = clf.encode_pairs(pairs).to(run.device)
            tokens = int(batch["input_ids"].shape[1])
            try:
                extra = {"use_cache": use_cache} if decoder else {}
                seconds, timed = time_forward(run, clf.model, dict(batch), **extra)
            except torch.cuda.OutOfMemoryError:
                skip = f"skipped: out of GPU memory at batch {batch_size}"
                run.add("b", measurement, setting, "", skip)
                release_memory(run.device)
                continue
            per_pair_s = seconds / batch_size
            flops = forward_flops(clf.model, tokens) * batch_size / seconds
            mfu = flops / (peak * 1e12) if peak else None
            run.add(
                "b",
                measurement,
                setting,
                f"{fmt(batch_size / seconds)} pairs/s, {fmt(flops / 1e12)} TFLOP/s, MFU "
                + (f"{mfu:.1%}" if mfu is not None else "n/a (no peak given for CPU)"),
                model=key,
                batch=batch_size,
                tokens_per_pair=tokens,
                use_cache=use_cache,
                seconds_per_batch=seconds,
                timed_passes=timed,
                pairs_per_s=batch_size / seconds,
                tflops=flops / 1e12,
                mfu=mfu,
                peak_tflops=peak,
                attn_implementation=clf.model.config._attn_implementation,
            )
        del clf
        release_memory(run.device)


class _LengthQuality:
    """A cheap quality reward (longer is better, capped) that records each rollout's token count."""

    __name__ = "length_quality"

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def __call__(self, prompts, completions, completion_ids=None, **kwargs):
        self.lengths.extend(len(ids) for ids in completion_ids)
        return [1.0 + min(len(c), 2000) / 2000 for c in completions]


def part_c(run: Run) -> None:
    """DarlingGRPOTrainer step: diversity scoring's share"""
    import torch

    try:
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, TrainerCallback

        from darling.rewards import DiversityRewardFunction
        from darling.trainer import DarlingConfig, DarlingGRPOTrainer
    except ImportError as err:
        run.add("c", "DarlingGRPOTrainer step", "", "", f"skipped: {err} (install TRL and datasets)")
        return
    args = run.args
    n, length = args.rollouts, args.completion_tokens
    policy_config = load_config(POLICY["file"], args.tiny)
    tokenizer = word_tokenizer(policy_config.vocab_size, "causal")
    point_special_ids(policy_config, tokenizer)
    torch.manual_seed(args.seed)
    with torch.device(run.device):
        policy = AutoModelForCausalLM.from_config(
            policy_config, dtype=torch.bfloat16 if run.cuda else torch.float32
        )
    clf_dtype = torch.bfloat16 if run.cuda else torch.float32
    clf = build_classifier(
        "modernbert-base", args.tiny, run.device, clf_dtype, 1024, args.seed, threshold=args.grpo_threshold
    )
    calls: list[tuple[int, float]] = []  # (pairs, seconds) of each classifier call of the current step
    predict = clf.predict_proba

    def counted(pairs, *a, **k):
        start = time.perf_counter()
        out = predict(pairs, *a, **k)  # returns Python floats: the device work is done
        calls.append((len(pairs), time.perf_counter() - start))
        return out

    clf.predict_proba = counted

    class TimedDiversity(DiversityRewardFunction):
        seconds: list[float]

        # The fused reward scores diversity through _score_local (gathering included), not __call__.
        def _score_local(self, *a, **k):
            run.sync()
            start = time.perf_counter()
            out = super()._score_local(*a, **k)
            run.sync()
            self.seconds.append(time.perf_counter() - start)
            self.calls.append(list(calls))
            calls.clear()
            return out

    diversity = TimedDiversity(classifier=clf, short_text_rule="off", batch_size=args.classifier_batch_size)
    diversity.seconds, diversity.calls = [], []
    quality = _LengthQuality()

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []

        def on_step_begin(self, a, state, control, **k):
            run.sync()
            self.start = time.perf_counter()

        def on_step_end(self, a, state, control, **k):
            run.sync()
            self.times.append(time.perf_counter() - self.start)
            if time.monotonic() > run.part_deadline:
                control.should_training_stop = True

    rng = random.Random(args.seed)
    steps = args.grpo_steps + 1
    prompts = [words(rng, 16, policy_config.vocab_size - 8) for _ in range(args.prompts * steps)]
    timer = StepTimer()
    setting = (
        f"{POLICY['label']}-shaped policy ({'bf16' if run.cuda else 'fp32'}, {run.device}), {args.prompts} prompts x "
        f"{n} rollouts x {length} tokens; ModernBERT-base-shaped classifier in-process, threshold "
        f"{args.grpo_threshold} (every pair judged)"
    )
    with tempfile.TemporaryDirectory() as workdir:
        config = DarlingConfig(
            output_dir=workdir,
            max_steps=steps,
            per_device_train_batch_size=args.prompts * n,
            num_generations=n,
            max_completion_length=length,
            generation_kwargs={"min_new_tokens": length},
            use_cpu=not run.cuda,
            bf16=run.cuda,
            report_to="none",
            save_strategy="no",
            logging_steps=steps,
            seed=args.seed,
            disable_tqdm=True,
        )
        trainer = DarlingGRPOTrainer(
            model=policy,
            reward_funcs=[quality, diversity],
            args=config,
            train_dataset=Dataset.from_dict({"prompt": prompts}),
            processing_class=tokenizer,
            callbacks=[timer],
        )
        trainer.train()
    step_s, div_s = timer.times[1:], diversity.seconds[1 : len(timer.times)]
    if not step_s:
        run.add(
            "c", "DarlingGRPOTrainer step", setting, "", "skipped: part c's budget ended before a timed step"
        )
        return
    shares = [d / s for d, s in zip(div_s, step_s)]
    timed_calls = diversity.calls[1 : len(timer.times)]
    pairs_per_step = statistics.mean(sum(p for p, _ in c) for c in timed_calls)
    calls_per_step = statistics.mean(len(c) for c in timed_calls)
    classifier_s = [sum(s for _, s in c) for c in timed_calls]
    run.add(
        "c",
        f"DarlingGRPOTrainer step ({'bf16' if run.cuda else 'fp32'}, {run.device})",
        setting,
        f"step {statistics.median(step_s):.3g} s, diversity scoring {statistics.median(div_s):.3g} s = "
        f"{statistics.median(shares):.1%} of the step (median of {len(step_s)} steps after 1 warm-up); "
        f"{pairs_per_step:.0f} pairs in {calls_per_step:.0f} classifier calls a step taking "
        f"{statistics.median(classifier_s):.3g} s",
        step_s=step_s,
        diversity_s=div_s,
        share=statistics.median(shares),
        step_s_median=statistics.median(step_s),
        diversity_s_median=statistics.median(div_s),
        pairs_per_step=pairs_per_step,
        classifier_calls_per_step=calls_per_step,
        classifier_s=classifier_s,
        completion_tokens_min=min(quality.lengths),
        completion_tokens_max=max(quality.lengths),
        rollouts=n,
        prompts=args.prompts,
        timed_steps=len(step_s),
    )
    del trainer, policy, clf


def goal_rows(run: Run) -> list[dict]:
    """The issue's goals, judged from the rows (met / not met / n/a with the reason)."""
    rows = []
    b_rows = [
        r for r in run.rows if r["part"] == "b" and r["status"] == "ok" and not r["values"]["use_cache"]
    ]
    big = [r for r in b_rows if r["values"]["batch"] >= GOAL_MFU_BATCH]
    goal = f"classifier forward >= {GOAL_MFU:.0%} MFU at batch >= {GOAL_MFU_BATCH}"
    if not run.cuda or run.args.tiny:
        status, result = "n/a: measured on a GPU at full size only", ""
    elif not big or any(r["values"]["mfu"] is None for r in big):
        status, result = "n/a: no row at batch >= 64 was measured", ""
    else:
        best = {}
        for r in big:
            key = r["values"]["model"]
            best[key] = max(best.get(key, 0.0), r["values"]["mfu"])
        result = (
            ", ".join(f"{CLASSIFIERS[k]['label']} {v:.1%}" for k, v in best.items()) + " (best batch >= 64)"
        )
        status = "met" if all(v >= GOAL_MFU for v in best.values()) else "not met"
    rows.append(
        dict(part="goal", measurement=goal, setting="part b", result=result, status=status, values={})
    )
    c_rows = [r for r in run.rows if r["part"] == "c" and r["status"] == "ok"]
    goal = f"diversity scoring <= {GOAL_SHARE:.0%} of a DARLING step with 8 rollouts"
    if not c_rows:
        status, result = "n/a: part c was not measured", ""
    else:
        share = c_rows[0]["values"]["share"]
        result = f"{share:.1%}"
        if not run.cuda or run.args.tiny:
            status = "n/a: measured on a GPU at full size only"
        else:
            status = "met" if share <= GOAL_SHARE else "not met"
    rows.append(
        dict(part="goal", measurement=goal, setting="part c", result=result, status=status, values={})
    )
    return rows


PARTS = {"a": part_a, "b": part_b, "c": part_c}
