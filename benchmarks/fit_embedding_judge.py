"""Fits the library's bi-encoder judge (an EmbeddingJudge: MiniLM cosine, fitted threshold) and saves it.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 python benchmarks/fit_embedding_judge.py --output minilm-judge

:meth:`~darling.partitioning.EmbeddingJudge.fit` chooses the cosine threshold that maximizes balanced
accuracy on the pairs (by default the 1,000 shared NoveltyBench pairs); the saved folder is what
``partition_cost.py --judge`` and ``classifier_agreement.py --judge`` load.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench_io import PAIRS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS, help="NoveltyBench-format pair file")
    parser.add_argument("--model", default="minilm", help="sentence-transformers model (name or path)")
    parser.add_argument("--max-seq-length", type=int, default=256, help="tokens a text")
    parser.add_argument("--output", type=Path, required=True, help="folder to save the judge to")
    args = parser.parse_args(argv)
    if not args.pairs.is_file():
        print(f"Pair file not found at {args.pairs}; put ../shared beside the checkout or pass --pairs.")
        return 2
    from darling.classifier.pair_data import load_pairs, pairs_and_labels
    from darling.partitioning import EmbeddingJudge

    pairs, labels = pairs_and_labels(load_pairs(args.pairs))
    judge = EmbeddingJudge(args.model, max_seq_length=args.max_seq_length)
    metrics = judge.fit(pairs, labels)
    judge.save_pretrained(args.output)
    print(f"fitted on {len(pairs)} pairs (training metrics): {json.dumps(metrics)}")
    print(f"saved to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
