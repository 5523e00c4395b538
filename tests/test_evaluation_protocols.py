"""NoveltyBench's two protocols: one option picks the utility formula and the classifier's token limit."""

from __future__ import annotations

import json

import pytest

from darling.cli import main
from darling.evaluation import (
    EvaluationConfig,
    load_judge,
    noveltybench_metrics,
    noveltybench_summary,
    quality,
    utility,
)
from darling.evaluation.novelty import NOVELTYBENCH_PROTOCOLS, PROTOCOL_MAX_TOKENS_PER_TEXT, check_protocol

LABELS, SCORES = [0, 1, 0, 2], [8, 6, 9, 4]  # generation 2 repeats class 0


def test_protocol_names_and_token_limits():
    assert NOVELTYBENCH_PROTOCOLS == ("upstream", "darling")
    assert PROTOCOL_MAX_TOKENS_PER_TEXT == {"upstream": 128, "darling": 512}
    for name in NOVELTYBENCH_PROTOCOLS:
        assert check_protocol(name) == name


@pytest.mark.parametrize("bad", ["fork", "Darling", "", None, 1])
def test_unknown_protocol_lists_the_choices(bad):
    with pytest.raises(ValueError, match=r"Unknown NoveltyBench protocol .*'upstream'.*'darling'"):
        check_protocol(bad)
    with pytest.raises(ValueError, match="Unknown NoveltyBench protocol"):
        utility(LABELS, SCORES, protocol=bad)
    with pytest.raises(ValueError, match="Unknown NoveltyBench protocol"):
        noveltybench_summary([LABELS], [SCORES], protocol=bad)


def test_the_protocols_differ_only_in_utility_and_quality():
    upstream = noveltybench_metrics(LABELS, SCORES)
    darling = noveltybench_metrics(LABELS, SCORES, protocol="darling")
    weighted = (8 + 0.8 * 6 + 0.512 * 4) / (1 + 0.8 + 0.64 + 0.512)
    assert upstream == pytest.approx({"distinct": 3, "utility": weighted})
    # heads 8, 6, 4 over k = 4 generations, no patience; quality counts the repeat's own 9.
    assert darling == pytest.approx({"distinct": 3, "utility": 18 / 4, "quality": 27 / 4})
    assert utility(LABELS, SCORES) == upstream["utility"]  # "upstream" stays the default


def test_darling_utility_ignores_position_and_counts_every_generation_in_k():
    # The same class heads later in the order: patience would discount them, the fork does not.
    assert utility([0, 0, 0, 1], [5, 9, 9, 3], protocol="darling") == pytest.approx((5 + 3) / 4)
    assert utility([1, 0, 0, 0], [3, 5, 9, 9], protocol="darling") == pytest.approx((5 + 3) / 4)
    assert utility([], [], protocol="darling") == 0.0


def test_patience_belongs_to_upstream():
    with pytest.raises(ValueError, match="no patience discount"):
        utility(LABELS, SCORES, patience=0.8, protocol="darling")
    with pytest.raises(ValueError, match="patience"):
        utility(LABELS, SCORES, patience=2.0)
    assert utility(LABELS, SCORES, patience=1.0) == pytest.approx((8 + 6 + 4) / 4)


def test_quality_is_the_mean_of_all_scores_and_checks_them():
    assert quality([1, 2, 3, 10]) == 4.0
    with pytest.raises(TypeError, match=r"scores\[1\]"):
        quality([1, None])


def test_darling_summary_adds_mean_quality_and_warns_on_credited_scores():
    summary = noveltybench_summary([LABELS, [0, 1]], [SCORES, [2, 4]], protocol="darling")
    assert summary == pytest.approx(
        {"mean_distinct": 2.5, "mean_utility": (4.5 + 3) / 2, "mean_quality": (6.75 + 3) / 2}
    )
    assert set(noveltybench_summary([LABELS], [SCORES])) == {"mean_distinct", "mean_utility"}
    with pytest.warns(UserWarning, match="credited scores"):
        noveltybench_summary([LABELS], [[8, 6, 0, 4]], protocol="darling")


# --- the token limit reaches a classifier judge ---------------------------------------------------


def _save_classifier(tmp_path_factory, arch: str) -> str:
    from darling.tiny_models import tiny_sequence_classifier

    model, tokenizer = tiny_sequence_classifier(arch, hidden_size=32, num_layers=1)
    path = tmp_path_factory.mktemp(arch)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def deberta_dir(tmp_path_factory):
    # NoveltyBench's classifier family: relative positions, so 512 tokens a text fit.
    return _save_classifier(tmp_path_factory, "deberta-v2")


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    return _save_classifier(tmp_path_factory, "bert")


def _limit(judge) -> int:
    return judge.classifier.settings.max_tokens_per_text


def test_protocol_sets_the_classifier_token_limit_and_an_explicit_limit_wins(deberta_dir, bert_dir):
    spec = f"classifier:{deberta_dir}"
    assert _limit(load_judge(spec, protocol="upstream")) == 128
    assert _limit(load_judge(spec, protocol="darling")) == 512
    assert _limit(load_judge(spec, max_tokens_per_text=64, protocol="darling")) == 64
    long_text = " ".join(["word"] * 600)
    darling = load_judge(spec, protocol="darling").classifier.encode_pairs([(long_text, long_text)])
    upstream = load_judge(spec, protocol="upstream").classifier.encode_pairs([(long_text, long_text)])
    assert darling["input_ids"].shape[1] > upstream["input_ids"].shape[1]  # it reads more of each text
    # Without a protocol a classifier keeps its own limit (a generic BERT checkpoint: 256).
    assert _limit(load_judge(f"classifier:{bert_dir}")) == 256
    assert _limit(load_judge(f"classifier:{bert_dir}", protocol="upstream")) == 128


def test_token_limit_is_for_classifier_judges_only():
    with pytest.raises(ValueError, match="classifier judges only"):
        load_judge("lexical", max_tokens_per_text=128)
    assert load_judge("lexical", protocol="darling").threshold == load_judge("lexical").threshold
    with pytest.raises(ValueError, match="Unknown NoveltyBench protocol"):
        load_judge("lexical", protocol="fork")


# --- runner and command line ----------------------------------------------------------------------


def test_evaluation_config_validates_the_protocol_and_patience(tmp_path):
    base = dict(model="m", dataset="d.jsonl", output_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"'upstream'.*'darling'"):
        EvaluationConfig(**base, protocol="fork")
    with pytest.raises(ValueError, match="no patience discount"):
        EvaluationConfig(**base, protocol="darling", patience=0.8)
    assert EvaluationConfig(**base).noveltybench_protocol == "upstream"
    config = EvaluationConfig(**base, protocol="darling", max_tokens_per_text=256)
    assert {"protocol": "darling", "max_tokens_per_text": 256}.items() <= config.fingerprint().items()


def test_evaluate_unknown_protocol_is_a_one_line_error(tmp_path, capsys):
    args = ["evaluate", "--model", "m", "--dataset", "d.jsonl", "--output-dir", str(tmp_path)]
    assert main([*args, "--protocol", "fork"]) == 2
    err = capsys.readouterr().err
    assert "darling evaluate: error:" in err and "'upstream'" in err and "'darling'" in err


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


TEXTS = [
    "the first answer talks about a cat and a dog",
    "the first answer talks about a cat and a dog",
    "a second answer describes the sea at night time",
]


def test_partition_protocol_darling_is_greedy_and_adds_quality(tmp_path, capsys):
    source = _write(tmp_path / "in.jsonl", [{"generations": TEXTS, "s": [6, 9, 3]}])
    out = tmp_path / "out.jsonl"
    args = ["partition", source, "--judge", "exact", "--scores-field", "s", "--protocol", "darling"]
    assert main([*args, "--output", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["utility"] == pytest.approx((6 + 3) / 3) and record["quality"] == pytest.approx(6.0)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["protocol"], summary["mode"]) == ("darling", "greedy")
    assert summary["mean_quality"] == pytest.approx(6.0)
    assert main(["partition", source, "--judge", "exact", "--output", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["protocol"], summary["mode"]) == ("upstream", "all_pairs")  # unchanged without --protocol


def test_partition_rejects_patience_with_darling_and_an_unknown_protocol(tmp_path, capsys):
    source = _write(tmp_path / "in.jsonl", [{"generations": TEXTS, "s": [6, 9, 3]}])
    out = str(tmp_path / "out.jsonl")
    args = ["partition", source, "--scores-field", "s", "--output", out]
    assert main([*args, "--protocol", "darling", "--patience", "0.5"]) == 2
    assert "no patience discount" in capsys.readouterr().err
    assert main([*args, "--protocol", "nb"]) == 2
    assert "Unknown NoveltyBench protocol 'nb'" in capsys.readouterr().err


def test_partition_records_the_classifier_token_limit(tmp_path, deberta_dir, capsys):
    source = _write(tmp_path / "in.jsonl", [{"generations": TEXTS}])
    args = [
        "partition",
        source,
        "--judge",
        f"classifier:{deberta_dir}",
        "--output",
        str(tmp_path / "o.jsonl"),
    ]
    assert main([*args, "--protocol", "darling"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["max_tokens_per_text"] == 512
    assert main([*args, "--protocol", "darling", "--max-tokens-per-text", "32"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["max_tokens_per_text"] == 32
