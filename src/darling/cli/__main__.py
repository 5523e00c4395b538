"""``python -m darling.cli``: the same as the ``darling`` command."""

from darling.cli import main

raise SystemExit(main())
