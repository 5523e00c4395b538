"""Training scripts shipped with the package, so the ``darling`` command works from any install."""
