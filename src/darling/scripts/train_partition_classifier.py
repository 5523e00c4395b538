"""darling train-classifier --dataset pairs.jsonl --output_dir partition-classifier

(or ``python examples/train_partition_classifier.py ...``, which runs this same script.)

Trains a DARLING partition classifier (arXiv 2509.02534): a model that says whether two generations
are semantically equivalent, trained on human-labelled pairs in the NoveltyBench format
(``generation_0``, ``generation_1``, ``similar``). Defaults are the paper's recipe: a ModernBERT-base
cross-encoder, pairs in both orders, class-weighted cross-entropy, lr warmed up over 10 steps to 2e-5
then cosine to 2e-6 at step 80, effective batch 64. A dev split (grouped by prompt) picks the decision
threshold, stored in the saved classifier (a plain transformers checkpoint) and its model card.

Other ways to run it:

    # a recipe file (any script or training field), CLI flags override it
    darling train-classifier --config recipe.yaml
    # pairs from the hub instead of a local file
    darling train-classifier --dataset <user>/<pairs-dataset>
    # CPU-friendly: no fine-tuning, the offline MiniLM sentence-transformer with a cosine threshold fitted
    # on the training pairs (an EmbeddingJudge, saved as a sentence-transformers folder)
    darling train-classifier --dataset pairs.jsonl --architecture bi_encoder --model_name_or_path minilm \
        --output_dir minilm-judge
    # several GPUs
    accelerate launch examples/train_partition_classifier.py --dataset pairs.jsonl \
        --per_device_train_batch_size 8 --gradient_accumulation_steps 1
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

from darling.classifier import PartitionClassifier
from darling.classifier.training import (
    PartitionClassifierTrainer,
    PartitionClassifierTrainingArguments,
    load_pairs,
    pairs_and_labels,
    split_pairs,
)
from darling.partitioning.embedding import EmbeddingJudge, resolve_model_name
from darling.partitioning.pair_metrics import pair_metrics

ARCHITECTURES = ("cross_encoder", "bi_encoder")

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

    dataset: str | None = field(
        default=None,
        metadata={
            "help": "Labelled pairs (required): a local .json/.jsonl/.csv/.parquet file or a hub dataset id with "
            "generation_0, generation_1 and similar columns (NoveltyBench's format)."
        },
    )
    model_name_or_path: str = field(
        default="answerdotai/ModernBERT-base",
        metadata={"help": "Encoder to start from (hub id or path; 'minilm' = the offline all-MiniLM-L6-v2)."},
    )
    dataset_split: str = field(default="train", metadata={"help": "Split of a hub dataset."})
    architecture: str = field(
        default="cross_encoder",
        metadata={
            "help": "'cross_encoder' (fine-tune a two-label sequence classifier, the paper's recipe) or "
            "'bi_encoder' (a sentence-transformers EmbeddingJudge: only the cosine threshold is fitted)."
        },
    )
    max_tokens_per_text: int | None = field(
        default=None, metadata={"help": "Tokens kept from each text (default: the encoder family's)."}
    )
    dev_size: float = field(default=0.1, metadata={"help": "Fraction of pairs held out (grouped by prompt)."})
    smoke: bool = field(
        default=False, metadata={"help": "Train 2 steps on a tiny local model (offline, CPU)."}
    )

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"--architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}."
            )


def build_smoke_inputs(workdir: str) -> tuple[str, str]:
    """A tiny BERT encoder saved to disk and a small pair file in the NoveltyBench format."""
    from darling.tiny_models import tiny_sequence_classifier

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


def main(argv: list[str] | None = None) -> PartitionClassifierTrainer | EmbeddingJudge:
    """Parses ``argv`` (default: ``sys.argv[1:]``), trains, saves and returns the trainer.

    With ``--architecture bi_encoder`` it returns the fitted :class:`EmbeddingJudge` instead.
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
) -> PartitionClassifierTrainer | EmbeddingJudge:
    if not script_args.dataset:
        raise ValueError(
            "Pass --dataset: a file or hub dataset of labelled pairs (generation_0, generation_1, similar), e.g. "
            "NoveltyBench's human-labelled pairs."
        )
    pairs = load_pairs(script_args.dataset, split=script_args.dataset_split)
    train, dev = split_pairs(pairs, dev_size=script_args.dev_size, seed=training_args.seed)
    if script_args.architecture == "bi_encoder":
        return _fit_embedding_judge(script_args, train, dev, training_args)
    settings = {"training_data": script_args.dataset}
    if script_args.max_tokens_per_text is not None:
        settings["max_tokens_per_text"] = script_args.max_tokens_per_text
    encoder = resolve_model_name(script_args.model_name_or_path)
    clf = PartitionClassifier.from_encoder(encoder, **settings)
    trainer = PartitionClassifierTrainer(clf, training_args, train_dataset=train, eval_dataset=dev)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    print(f"threshold={clf.threshold:.4f} dev metrics: {clf.settings.metrics}")
    if training_args.push_to_hub:
        clf.push_to_hub(training_args.hub_model_id or training_args.output_dir)
    return trainer


def _fit_embedding_judge(script_args, train, dev, training_args) -> EmbeddingJudge:
    """The bi-encoder path: an EmbeddingJudge whose cosine threshold is fitted on the training pairs."""
    kwargs = {}
    if script_args.max_tokens_per_text is not None:
        kwargs["max_seq_length"] = script_args.max_tokens_per_text
    judge = EmbeddingJudge(script_args.model_name_or_path, **kwargs)
    fitted = judge.fit(*pairs_and_labels(train))
    dev_pairs, dev_labels = pairs_and_labels(dev)
    metrics = pair_metrics(judge.scores(dev_pairs), dev_labels, judge.threshold)
    judge.save_pretrained(training_args.output_dir)
    print(f"threshold={judge.threshold:.4f} train metrics: {fitted} dev metrics: {metrics}")
    return judge


if __name__ == "__main__":
    main()
