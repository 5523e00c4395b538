"""Lazy package exports (PEP 562): a name is imported from its module on first access.

``import darling`` stays cheap although the pieces behind it pull in torch, transformers and TRL.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` on first use.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> the module that defines it.

    Returns:
        ``(__getattr__, __dir__)`` to assign in the package's ``__init__``.

    Example:
        >>> getattr_, _ = lazy_exports("demo_pkg", {"sqrt": "math"})
        >>> getattr_("sqrt")(9.0)
        3.0
    """
    # The package's own globals (it is being initialized, so it is in sys.modules), where values are kept.
    namespace = sys.modules[package].__dict__ if package in sys.modules else {}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
