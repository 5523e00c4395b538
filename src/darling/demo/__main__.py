"""``python -m darling.demo``: DARLING against GRPO on a task that runs on a laptop CPU.

Examples:
    python -m darling.demo                 # one seed, about 3 minutes on a 2-core CPU
    python -m darling.demo --seeds 3       # mean and spread over 3 seeds
    python -m darling.demo --task required_digit   # held-out prompts that need exploration
    python -m darling.demo --fast          # a few steps: checks the pipeline in seconds
    python -m darling.demo --judge classifier
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> dict:
    """Parses the demo's flags (or ``--config demo.yaml``) and runs it."""
    from trl import TrlParser

    from darling.demo.config import DemoConfig
    from darling.demo.run import run_demo

    (config,) = TrlParser([DemoConfig]).parse_args_and_config(args=argv)
    return run_demo(config)


if __name__ == "__main__":
    main(sys.argv[1:])
