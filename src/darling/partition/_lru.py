"""Least-recently-used bookkeeping shared by the caches of the judges and the text features."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any


def keep_recent(cache: OrderedDict[Any, Any], keys: Iterable[Any], max_size: int) -> None:
    """Marks ``keys`` (those present in ``cache``) as most recently used, then drops the oldest entries
    until ``cache`` holds at most ``max_size``."""
    for key in keys:
        if key in cache:
            cache.move_to_end(key)
    while len(cache) > max(0, max_size):
        cache.popitem(last=False)
