"""The NoveltyBench v1.1 judge prompts, read at run time from upstream's source.

The judges' instructions are upstream's metric definition: a result is v1.1 only when its judges
read upstream's own text. darling therefore carries no copy of them; :func:`load_judge_prompts`
reads the two system prompts (``JUDGE_SYSTEM`` of ``src/partition.py`` and ``SCORE_SYSTEM`` of
``src/score.py``) from a NoveltyBench checkout, without importing it (upstream's modules import
torch, provider SDKs and more). Where to look, in order: the path given, ``$NOVELTYBENCH_HOME``,
an installed ``novelty-bench`` distribution (``pip install -e path/to/novelty-bench``).

A path may also be a JSON file ``{"partition_system": ..., "score_system": ...}`` (your own
judges: the results are then not v1.1 and should not be submitted as such).
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "NOVELTYBENCH_HOME"
UPSTREAM_URL = "https://github.com/novelty-bench/novelty-bench"
# (file inside the checkout, the module-level string constant holding the prompt)
SOURCES: dict[str, tuple[str, str]] = {
    "partition_system": ("src/partition.py", "JUDGE_SYSTEM"),
    "score_system": ("src/score.py", "SCORE_SYSTEM"),
}


@dataclass(frozen=True)
class JudgePrompts:
    """The system prompts of the two v1.1 judges, and where they were read from.

    Attributes:
        partition_system: The set-level partition judge's system prompt.
        score_system: The utility judge's system prompt.
        source: The checkout folder or file they came from.
    """

    partition_system: str
    score_system: str
    source: str


def _not_found(detail: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"NoveltyBench's v1.1 judge prompts were not found ({detail}). darling reads them from upstream's "
        f"source at run time: clone {UPSTREAM_URL} and pass its folder (--judge-prompts PATH, "
        f"judge_prompts=PATH) or set ${ENV_VAR}, or `pip install -e` the checkout."
    )


def _string_constant(path: Path, name: str) -> str:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
            raise _not_found(f"{path} assigns {name} something other than a string literal")
    raise _not_found(
        f"{path} has no {name}; that checkout predates metric v1.1 (update it: git pull) or is not NoveltyBench"
    )


def _from_checkout(root: Path) -> JudgePrompts:
    texts = {}
    for field, (relative, name) in SOURCES.items():
        path = root / relative
        if not path.is_file():
            raise _not_found(f"{root} has no {relative}; is it a NoveltyBench checkout?")
        texts[field] = _string_constant(path, name)
    return JudgePrompts(source=str(root), **texts)


def _from_json(path: Path) -> JudgePrompts:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: judge prompts file is not JSON ({err}).") from None
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k] for k in SOURCES):
        raise ValueError(
            f"{path}: a judge prompts file is a JSON object with non-empty {' and '.join(SOURCES)}."
        )
    return JudgePrompts(value["partition_system"], value["score_system"], str(path))


def _installed_checkout() -> Path | None:
    from importlib import metadata

    try:
        dist = metadata.distribution("novelty-bench")
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if str(file).replace("\\", "/").endswith(SOURCES["partition_system"][0]):
            return Path(str(dist.locate_file(file))).parents[1]
    direct = dist.read_text("direct_url.json")  # an editable install points at its checkout
    url = json.loads(direct).get("url", "") if direct else ""
    return Path(url.removeprefix("file://")) if url.startswith("file://") else None


def load_judge_prompts(source: str | os.PathLike | None = None) -> JudgePrompts:
    """Reads the v1.1 judge prompts from upstream NoveltyBench's source.

    Args:
        source: A NoveltyBench checkout folder, or a JSON file of your own prompts; ``None`` looks at
            ``$NOVELTYBENCH_HOME``, then at an installed ``novelty-bench`` distribution.

    Returns:
        The two system prompts and where they came from.

    Raises:
        FileNotFoundError: When no checkout is found, or it lacks the v1.1 prompts (the message says
            how to get one).
        ValueError: For a JSON file without both prompts.
    """
    if source is None:
        source = os.environ.get(ENV_VAR) or None
    if source is None:
        root = _installed_checkout()
        if root is None:
            raise _not_found(f"no path given, ${ENV_VAR} unset, no installed novelty-bench")
        return _from_checkout(root)
    path = Path(source).expanduser()
    if path.is_file():
        return _from_json(path)
    if not path.exists():
        raise _not_found(f"{path} does not exist")
    return _from_checkout(path)
