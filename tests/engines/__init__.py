"""Tests against real serving engines (`make test-engines`); a package so its conftest is `engines.conftest`."""
