"""accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_creative.py --output_dir Llama-3.1-8B-Instruct-DARLING

Trains a chat policy with DARLING (arXiv 2509.02534) on non-verifiable prompts: reward = reward-model
score x semantic diversity of the rollouts, judged by the released ModernBERT partition classifier.
Defaults are the paper's non-verifiable recipe: Llama-3.1-8B-Instruct, 10k English first-turn
WildChat prompts, quality from Athene-RM-8B, classifier ``dogtooth/similarity-classifier-f168-hf``
at threshold 0.32, 8 rollouts a prompt, lr 1e-6, temperature 1.0, beta 0.001, prompts up to 512 and
responses up to 1,024 tokens. Athene-RM-8B is a Llama body with a value head read at its CLS token;
``RewardModelReward`` recognises that format from the checkpoint and scores it as the official code
does. Its scores can be negative: the official runs multiplied the raw score by diversity, and
``--negative_quality`` (a DarlingConfig setting, left at its default here) decides what happens.
The loss is the official one: dual-clip c = 3 (``delta``), a KL loss not multiplied by the policy
ratio, and with ``--use_vllm`` no vLLM importance weights unless ``--vllm_importance_sampling_correction
true`` asks for them (DarlingConfig's defaults).

This is ``examples/train_math.py`` with ``--recipe creative``: one script, one recipe per file.

Other ways to run it:

    # a recipe file (any DarlingConfig / script field), CLI flags override it
    accelerate launch --config_file examples/accelerate_configs/ddp.yaml examples/train_creative.py \
        --config examples/recipes/creative_llama_8b.yaml
    # generation with vLLM colocated on the training GPUs (no importance weights unless asked for)
    accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_creative.py \
        --use_vllm --vllm_mode colocate
    # offline smoke run on tiny local models, an Athene-format reward model included (CPU, seconds)
    python examples/train_creative.py --smoke
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_math import main

if __name__ == "__main__":
    main(recipe="creative")
