"""`import darling` and `darling --help` stay cheap: nothing heavy is imported until it is used."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import REPO_ROOT

HEAVY = ("torch", "transformers", "trl", "datasets", "sentence_transformers", "sklearn", "accelerate")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return [name for name in out.strip().split(",") if name]


def test_import_darling_and_the_cli_parser_load_none_of_the_heavy_libraries():
    assert _loaded_after("import darling") == []
    assert _loaded_after("from darling import partition, DiversityRewardFunction, EmbeddingJudge") == []
    assert _loaded_after("from darling.cli import build_parser; build_parser().format_help()") == []


def test_names_are_imported_on_first_use_and_unknown_names_fail_clearly():
    import darling

    assert darling.DarlingConfig.__name__ == "DarlingConfig"  # loads the trainer now
    assert "PartitionClassifier" in dir(darling) and "partition" in darling.__all__
    try:
        darling.NoSuchThing  # noqa: B018
    except AttributeError as err:
        assert "no attribute 'NoSuchThing'" in str(err)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_import_darling_takes_well_under_a_second():
    # Generous bound (it takes ~0.02 s on a 2-core CPU) so a loaded CI machine does not flake.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import darling"], check=True)
    assert time.perf_counter() - start < 1.0


def test_import_time_benchmark_writes_its_table(tmp_path):
    script = REPO_ROOT / "benchmarks" / "import_time.py"
    out = tmp_path / "import_time.json"
    subprocess.run(
        [sys.executable, str(script), "--repeats", "1", "--output", str(out)], check=True, timeout=300
    )
    result = json.loads(out.read_text())
    assert [row["command"] for row in result["rows"]][:2] == ["import darling", "darling --help"]
    assert (
        result["rows"][-1]["ratio_to_baseline"] == 1.0 and result["heavy_modules_after_import_darling"] == []
    )
