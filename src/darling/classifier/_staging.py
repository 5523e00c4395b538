"""Saving a checkpoint so that an interrupted save never leaves a half-written one."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Weight files a save may leave behind with another sharding; they would confuse a later load.
_WEIGHT_FILE = re.compile(r"^(model|pytorch_model)(-\d+-of-\d+)?\.(safetensors|bin)(\.index\.json)?$")


@contextmanager
def staged_save(save_directory: str | os.PathLike) -> Iterator[str]:
    """Yields a staging folder beside ``save_directory``; its files move in only once all are written.

    Until the block finishes, ``save_directory`` is untouched, so an error or an interruption keeps
    the previous checkpoint whole. On success each file is moved in with an atomic rename, weight
    files of an older save that the new one does not have (other shards) are removed, and the
    staging folder is deleted whatever happens.

    Raises:
        ValueError: If ``save_directory`` exists and is not a folder.
    """
    target = Path(save_directory)
    if target.exists() and not target.is_dir():
        raise ValueError(f"Cannot save a checkpoint to {str(target)!r}: it exists and is not a folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.saving-", dir=target.parent))
    try:
        yield str(staging)
        target.mkdir(exist_ok=True)
        written = {item.name for item in staging.iterdir()}
        for old in target.iterdir():
            if old.is_file() and old.name not in written and _WEIGHT_FILE.match(old.name):
                old.unlink()
        for item in staging.iterdir():
            destination = target / item.name
            if item.is_dir():
                shutil.rmtree(destination, ignore_errors=True)
                shutil.move(str(item), str(destination))
            else:
                os.replace(item, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
