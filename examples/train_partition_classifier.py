"""python examples/train_partition_classifier.py --dataset pairs.jsonl --output_dir partition-classifier

Trains a DARLING partition classifier on human-labelled pairs in the NoveltyBench format
(``generation_0``, ``generation_1``, ``similar``) with the paper's recipe by default (ModernBERT-base
cross-encoder, both orders, class-weighted loss, threshold chosen on a prompt-grouped dev split).
The saved classifier is a plain transformers checkpoint. The script itself lives in the package
(``darling.scripts.train_partition_classifier``) so that ``darling train-classifier`` runs it from
any install; its docstring lists every way to run it.

    # a recipe file; CLI flags override it
    python examples/train_partition_classifier.py --config recipe.yaml
    # CPU-friendly, offline: the MiniLM sentence-transformer with a fitted cosine threshold (EmbeddingJudge)
    python examples/train_partition_classifier.py --dataset pairs.jsonl --architecture bi_encoder \\
        --model_name_or_path minilm --output_dir minilm-judge
    # several GPUs
    accelerate launch examples/train_partition_classifier.py --dataset pairs.jsonl --per_device_train_batch_size 8
    # offline smoke run on a tiny local model (CPU, seconds)
    python examples/train_partition_classifier.py --smoke
"""

from darling.scripts.train_partition_classifier import main

if __name__ == "__main__":
    main()
