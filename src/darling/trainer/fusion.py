"""The fusion arithmetic, kept importable from its former home; it lives in :mod:`darling.rewards.fusion`.

The fused reward owns this math (the dependency runs rewards <- trainer); import from
``darling.rewards.fusion`` in new code.
"""

from darling.rewards.fusion import fuse_rewards, group_advantages, handle_negative_quality

__all__ = ["fuse_rewards", "group_advantages", "handle_negative_quality"]
