"""The `darling` command line: help with examples, `darling partition`, and one-line input errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from darling.cli import main


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize("command", ["partition", "evaluate"])
def test_every_subcommand_help_shows_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"darling {command} " in out


def test_train_classifier_help_shows_examples_and_the_script_options(capsys):
    assert main(["train-classifier", "--help"]) == 0
    out = capsys.readouterr().out
    assert "darling train-classifier --config" in out
    assert "--output_dir" in out  # the training script's own options follow


def test_train_classifier_passes_bad_options_to_the_script_parser(capsys):
    assert main(["train-classifier", "--no-such-option"]) == 2
    assert "no-such-option" in capsys.readouterr().err


def test_train_classifier_smoke_run_saves_a_loadable_classifier(tmp_path):
    from darling import PartitionClassifier

    out = tmp_path / "clf"
    assert main(["train-classifier", "--smoke", "--output_dir", str(out)]) == 0
    clf = PartitionClassifier.from_pretrained(out)
    assert 0.0 <= clf.threshold <= 1.0 and clf.settings.metrics["dev_pairs"] > 0
    assert len(clf.predict_proba([("a cat", "a dog")])) == 1


def test_train_classifier_bi_encoder_fits_and_saves_an_embedding_judge(tmp_path, capsys):
    from darling.partitioning import EmbeddingJudge

    out = tmp_path / "judge"
    assert (
        main(["train-classifier", "--smoke", "--architecture", "bi_encoder", "--output_dir", str(out)]) == 0
    )
    assert "dev metrics" in capsys.readouterr().out
    saved = json.loads((out / "darling_judge.json").read_text())
    judge = EmbeddingJudge.from_pretrained(out)
    assert judge.threshold == saved["threshold"] != 0.8  # fitted, not the constructor's default
    assert len(judge.scores([("a cat", "a dog")])) == 1


def test_train_classifier_rejects_an_unknown_architecture_and_a_missing_dataset(capsys):
    assert main(["train-classifier", "--smoke", "--architecture", "siamese"]) == 2
    assert "--architecture must be one of cross_encoder, bi_encoder" in capsys.readouterr().err
    assert main(["train-classifier"]) == 2
    assert "Pass --dataset" in capsys.readouterr().err


def test_train_classifier_names_a_missing_or_malformed_pairs_file(tmp_path, capsys):
    missing = tmp_path / "nopairs.jsonl"
    assert main(["train-classifier", "--smoke", "--dataset", str(missing)]) == 2
    assert "nopairs.jsonl' does not exist" in capsys.readouterr().err  # not a hub lookup
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"text_a": "a", "text_b": "b", "label": 1}\n{oops\n')
    assert main(["train-classifier", "--smoke", "--dataset", str(bad)]) == 2
    assert "as jsonl: line 2 is not valid JSON" in capsys.readouterr().err


def test_top_level_help_lists_the_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("partition", "evaluate", "train-classifier"):
        assert command in out


def test_console_script_is_installed():
    local = Path(sys.executable).parent / "darling"
    exe = str(local) if local.exists() else shutil.which("darling")
    if exe is None:
        pytest.skip("the `darling` console script is not on PATH (run `pip install -e .`)")
    result = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("darling ")


def test_partition_writes_labels_distinct_diversity_and_a_summary(tmp_path, capsys):
    source = _write_jsonl(
        tmp_path / "in.jsonl",
        [
            # NoveltyBench files may hold lists as JSON strings inside the JSON.
            {"id": "p0", "generations": json.dumps(["A cat.", "a cat", "A dog!", "a DOG"])},
            {"id": "p1", "generations": ["one", "two", "three"]},
        ],
    )
    out = tmp_path / "out.jsonl"
    assert main(["partition", str(source), "--judge", "normalized", "--output", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["p0", "p1"]
    assert records[0]["partition"] == [0, 0, 1, 1]
    assert records[0]["distinct"] == 2
    assert records[0]["diversity"] == pytest.approx([2 / 3] * 4)
    assert records[1]["partition"] == [0, 1, 2] and records[1]["diversity"] == [1.0, 1.0, 1.0]
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["groups"] == 2
    assert summary["mean_distinct"] == pytest.approx(2.5)
    assert summary["mean_darling_diversity"] == pytest.approx((2 / 3 + 1) / 2)


def test_the_documented_partition_example_prints_what_the_docs_show(tmp_path):
    docs = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    commands, example = docs.split("Input and output of the first command", 1)
    # The first command of the code block just above the example.
    command = commands.rsplit("```bash\n", 1)[1].splitlines()[0]
    block = example.split("```json\n", 1)[1].split("```")[0]
    given, shown = (json.loads(line) for line in block.strip().splitlines())
    _write_jsonl(tmp_path / "generations.jsonl", [given])
    args = command.split()[1:]
    args[args.index("--output") + 1] = str(tmp_path / "partitions.jsonl")
    args[args.index("generations.jsonl")] = str(tmp_path / "generations.jsonl")
    assert main(args) == 0
    assert json.loads((tmp_path / "partitions.jsonl").read_text()) == shown


def test_partition_greedy_with_scores_adds_utility(tmp_path, capsys):
    source = _write_jsonl(
        tmp_path / "in.jsonl",
        [{"completions": ["x", "x", "y"], "quality": [4, 9, 2]}],
    )
    out = tmp_path / "out.jsonl"
    args = ["partition", str(source), "--field", "completions", "--judge", "exact", "--mode", "greedy"]
    assert main([*args, "--scores-field", "quality", "--patience", "0.5", "--output", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["partition"] == [0, 0, 1]
    assert record["utility"] == pytest.approx((4 + 0.25 * 2) / 1.75)
    assert json.loads(capsys.readouterr().out.strip())["mean_utility"] == pytest.approx(record["utility"])


def test_partition_missing_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["partition", str(tmp_path / "absent.jsonl"), "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "darling partition: error:" in err and "absent.jsonl" in err and "does not exist" in err


def test_a_failed_partition_run_keeps_the_input_and_an_earlier_output(tmp_path, capsys):
    # More than five words a text: the short-text rule does not settle the pairs, the judge is asked.
    records = [
        {"id": i, "generations": [f"the text number {i} of the first kind", f"text {i} two"]}
        for i in range(5)
    ]
    records[3]["generations"][1] = None
    source = _write_jsonl(tmp_path / "in.jsonl", records)
    before = source.read_text()
    # Output onto the input: the input survives the failure untouched.
    assert main(["partition", str(source), "--output", str(source)]) == 2
    assert "in.jsonl:4: `generations[1]` is None" in capsys.readouterr().err
    assert source.read_text() == before
    earlier = tmp_path / "out.jsonl"
    earlier.write_text('{"earlier": true}\n')
    assert main(["partition", str(source), "--output", str(earlier)]) == 2
    assert earlier.read_text() == '{"earlier": true}\n'
    # A judge that fails part-way (no server answers) leaves the earlier output too, in one line.
    good = _write_jsonl(tmp_path / "good.jsonl", records[:3])
    judge = "llm:m@http://127.0.0.1:9"  # nothing listens there: 4 refused attempts, about 4 s of backoff
    assert main(["partition", str(good), "--judge", judge, "--output", str(earlier)]) == 2
    assert "darling partition: error: No server of the pool answered" in capsys.readouterr().err
    assert earlier.read_text() == '{"earlier": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "good.jsonl",
        "in.jsonl",
        "out.jsonl",
    ]  # no temp file
    # A successful run replaces it, with a normal file's permissions.
    assert main(["partition", str(good), "--output", str(earlier)]) == 0
    assert len(earlier.read_text().splitlines()) == 3 and earlier.stat().st_mode & 0o644 == 0o644


def test_partition_output_and_score_problems_are_one_line_errors(tmp_path, capsys):
    good = _write_jsonl(
        tmp_path / "good.jsonl", [{"generations": ["a b c d e f", "a b c d e g"], "s": [1, None]}]
    )
    assert main(["partition", str(good), "--output", str(good / "o.jsonl")]) == 2
    assert "good.jsonl' is a file, not a folder" in capsys.readouterr().err
    assert main(["partition", str(good), "--output", str(tmp_path)]) == 2
    assert "is a directory; give a file path" in capsys.readouterr().err
    assert main(["partition", str(good), "--output", str(tmp_path / "o.jsonl"), "--scores-field", "q"]) == 2
    assert (
        "no field 'q' (fields: generations, s); pick the right one with --scores-field"
        in capsys.readouterr().err
    )
    assert main(["partition", str(good), "--output", str(tmp_path / "o.jsonl"), "--scores-field", "s"]) == 2
    assert "good.jsonl:1: s[1] must be a number, got None" in capsys.readouterr().err


def test_partition_malformed_line_names_the_line(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"generations": ["a", "b"]}\n{"generations": ["a", \n')
    assert main(["partition", str(source), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "in.jsonl:2: malformed JSON" in capsys.readouterr().err


def test_partition_unknown_judge_lists_the_choices(tmp_path, capsys):
    source = _write_jsonl(tmp_path / "in.jsonl", [{"generations": ["a", "b"]}])
    assert main(["partition", str(source), "--judge", "bleurt", "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "Unknown judge 'bleurt'" in err and "classifier:PATH_OR_HUB_ID" in err


def test_partition_missing_field_names_the_record(tmp_path, capsys):
    source = _write_jsonl(tmp_path / "in.jsonl", [{"generations": ["a"]}, {"texts": ["a"]}])
    assert main(["partition", str(source), "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "in.jsonl:2" in err and "no field 'generations'" in err and "--field" in err


def test_partition_mismatched_scores_are_reported(tmp_path, capsys):
    source = _write_jsonl(tmp_path / "in.jsonl", [{"generations": ["a", "b"], "s": [1]}])
    assert main(["partition", str(source), "--scores-field", "s", "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "2 generations but 1 scores" in capsys.readouterr().err


def test_evaluate_missing_dataset_is_a_one_line_error(tmp_path, capsys):
    args = ["evaluate", "--model", "unused", "--dataset", str(tmp_path / "none.jsonl")]
    assert main([*args, "--output-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "darling evaluate: error:" in err and "none.jsonl" in err


def test_evaluate_rejects_k_above_the_sample_count(tmp_path, capsys):
    args = ["evaluate", "--model", "m", "--dataset", "d.jsonl", "--task", "math", "--num-samples", "4"]
    assert main([*args, "--k-list", "1,8", "--output-dir", str(tmp_path)]) == 2
    assert "k = [8]" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["evaluate", "partition"])
def test_protocol_options_are_documented_in_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--protocol" in out and "upstream" in out and "darling" in out and "--max-tokens-per-text" in out


def test_bad_k_list_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--model", "m", "--dataset", "d", "--output-dir", "o", "--k-list", "1,x"])
    assert exit_info.value.code == 2
    assert "comma-separated integers" in capsys.readouterr().err


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    from darling.tiny_models import tiny_sequence_classifier

    model, tokenizer = tiny_sequence_classifier("bert", hidden_size=32, num_layers=1)
    path = tmp_path_factory.mktemp("classifier")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


LONG_TEXTS = [
    "the brown fox jumps over the lazy dog again today",
    "a boy and his dog walked to the river every morning",
    "once upon a time a dragon loved to read many books",
    "paris is the capital of france and rome is of italy",
]


def test_partition_with_a_classifier_path_matches_the_classifier(tmp_path, classifier_dir, capsys):
    from darling.classifier import PartitionClassifier

    source = _write_jsonl(
        tmp_path / "in.jsonl", [{"generations": LONG_TEXTS}, {"generations": LONG_TEXTS[::-1]}]
    )
    out = tmp_path / "out.jsonl"
    args = ["partition", str(source), "--judge", f"classifier:{classifier_dir}", "--mode", "greedy"]
    assert main([*args, "--output", str(out)]) == 0
    classifier = PartitionClassifier.from_pretrained(classifier_dir)
    for line, texts in zip(out.read_text().splitlines(), (LONG_TEXTS, LONG_TEXTS[::-1])):
        assert json.loads(line)["partition"] == classifier.partition(texts, mode="greedy")


@pytest.mark.parametrize(("threshold", "distinct"), [(0.0, 1), (1.0, 4)])
def test_partition_threshold_overrides_the_classifier_threshold(
    tmp_path, classifier_dir, threshold, distinct
):
    source = _write_jsonl(tmp_path / "in.jsonl", [{"generations": LONG_TEXTS}])
    out = tmp_path / "out.jsonl"
    args = [
        "partition",
        str(source),
        "--judge",
        f"classifier:{classifier_dir}",
        "--threshold",
        str(threshold),
    ]
    assert main([*args, "--output", str(out)]) == 0
    assert json.loads(out.read_text())["distinct"] == distinct  # P > 0 always, P > 1 never


def test_train_classifier_smoke_run_removes_its_generated_inputs(tmp_path):
    import glob
    import tempfile

    pattern = f"{tempfile.gettempdir()}/darling-classifier-smoke-*"
    before = set(glob.glob(pattern))
    assert main(["train-classifier", "--smoke", "--output_dir", str(tmp_path / "clf")]) == 0
    assert set(glob.glob(pattern)) == before


def test_evaluate_passes_top_k_and_stop_words_to_the_run(tmp_path, monkeypatch):
    import darling.cli.evaluate as evaluate_command

    seen = []
    monkeypatch.setattr(evaluate_command, "run_evaluation", lambda config: seen.append(config) or {})
    args = ["evaluate", "--model", "m", "--dataset", "d.jsonl", "--output-dir", str(tmp_path)]
    assert main([*args, "--top-k", "20", "--stop", "</s>", "<|im_end|>"]) == 0
    assert (seen[0].top_k, seen[0].stop) == (20, ["</s>", "<|im_end|>"])
    assert (seen[0].sampling().top_k, seen[0].sampling().stop) == (20, ("</s>", "<|im_end|>"))


def test_evaluate_rejects_a_negative_top_k_naming_the_flag(tmp_path, capsys):
    args = ["evaluate", "--model", "m", "--dataset", "d.jsonl", "--output-dir", str(tmp_path)]
    assert main([*args, "--top-k", "-1"]) == 2
    assert "--top-k" in capsys.readouterr().err
