"""benchmarks/grader_agreement.py: darling's math-verify verdicts against the official grader's, pair by pair."""

from __future__ import annotations

import json

from grader_agreement import grade, main


def _official_file(tmp_path):
    # The official file's layout: completions ("code"), math_equal verdicts ("score"), extracted answers, gold.
    records = [
        {"gt": "4", "code": ["so \\boxed{4}", "so \\boxed{5}"], "score": [True, False], "pred": ["4", "5"]},
        {"gt": "10{,}000", "code": ["\\boxed{10000}"], "score": [False], "pred": ["10000"]},
        {"gt": "A", "code": ["\\boxed{A}"], "score": [True], "pred": ["A"]},
    ]
    path = tmp_path / "math_cot_100.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_grade_counts_each_pair_by_both_verdicts(tmp_path):
    counts, differing = grade(_official_file(tmp_path))
    assert counts == {(True, 1.0): 1, (False, 0.0): 1, (False, 1.0): 1, (True, None): 1}
    assert differing == [("10000", "10{,}000", False, 1.0), ("A", "A", True, None)]


def test_report_states_the_agreement_and_its_command(tmp_path):
    report = tmp_path / "report.md"
    main(["--official-file", str(_official_file(tmp_path)), "--report", str(report)])
    text = report.read_text()
    assert "they agree on 2 of 3 pairs (66.67%)" in text
    assert "| `10000` | `10{,}000` | wrong | correct |" in text
    assert f"--report {report}`" in text
