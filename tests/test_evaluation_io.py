"""JSONL helpers, judge specs, metric helpers and embedding diversity."""

from __future__ import annotations

import json

import pytest

from darling.evaluation import load_judge
from darling.evaluation.io import (
    JsonlError,
    append_jsonl,
    decode_field,
    get_list_field,
    read_jsonl,
    recover_jsonl,
)
from darling.partitioning import EmbeddingJudge, ExactMatchJudge, LexicalJudge


def test_read_jsonl_names_the_malformed_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2\n')
    with pytest.raises(JsonlError, match=r"bad\.jsonl:3: malformed JSON"):
        read_jsonl(path)
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(JsonlError, match=r":2: expected a JSON object"):
        read_jsonl(path)


def test_read_jsonl_missing_file_says_which():
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        read_jsonl("nope.jsonl")


def test_json_string_fields_are_decoded():
    assert decode_field('["x", "y"]') == ["x", "y"]
    assert decode_field("[not json") == "[not json"
    assert get_list_field({"g": "[1, 2]"}, "g", "rec") == [1, 2]
    with pytest.raises(KeyError, match="no field 'generations'"):
        get_list_field({"g": []}, "generations", "rec")
    with pytest.raises(ValueError, match="must be a list"):
        get_list_field({"g": 3}, "g", "rec")


def test_recover_jsonl_drops_only_an_unfinished_last_line(tmp_path):
    path = tmp_path / "samples.jsonl"
    with path.open("w") as f:
        append_jsonl(f, {"id": "a"})
        append_jsonl(f, {"id": "b"})
    with path.open("a") as f:
        f.write('{"id": "c", "gener')  # the run died mid-write
    assert [r["id"] for r in recover_jsonl(path)] == ["a", "b"]
    assert path.read_text() == '{"id": "a"}\n{"id": "b"}\n'
    path.write_text('{"id": "a"}\n{broken\n{"id": "c"}\n')
    with pytest.raises(JsonlError, match=":2:"):
        recover_jsonl(path)
    assert recover_jsonl(tmp_path / "absent.jsonl") == []


def test_load_judge_builds_each_kind():
    assert isinstance(load_judge("exact"), ExactMatchJudge) and not load_judge("exact").normalize
    assert load_judge("normalized").normalize
    lexical = load_judge("lexical:2", threshold=0.3)
    assert isinstance(lexical, LexicalJudge) and (lexical.n, lexical.threshold) == (2, 0.3)


def test_load_judge_embedding_with_a_local_model():
    from darling.partitioning.embedding import minilm_path

    judge = load_judge(f"embedding:{minilm_path()}", threshold=0.9)
    assert isinstance(judge, EmbeddingJudge) and judge.threshold == 0.9


def test_load_judge_rejects_unknown_and_misused_specs():
    with pytest.raises(ValueError, match="Unknown judge 'bleu'"):
        load_judge("bleu")
    with pytest.raises(ValueError, match="has no threshold"):
        load_judge("exact", threshold=0.5)
    with pytest.raises(ValueError, match="needs a model"):
        load_judge("embedding")
    with pytest.raises(ValueError, match="needs a path"):
        load_judge("classifier:")


def test_metrics_path_rejects_unknown_names():
    from darling import metrics

    with pytest.raises(ValueError, match="Unknown darling metric 'bleu'"):
        metrics.path("bleu")
    assert metrics.path("pass_at_k").endswith("pass_at_k")


@pytest.fixture(scope="module")
def minilm():
    from sentence_transformers import SentenceTransformer

    from darling.partitioning.embedding import minilm_path

    return SentenceTransformer(minilm_path())


def test_embedding_diversity_orders_paraphrases_below_unrelated_texts(minilm):
    from darling.evaluation import embedding_diversity

    same = embedding_diversity(["The cat sat on the mat.", "The cat sat on the mat."], minilm)
    close = embedding_diversity(["The cat sat on the mat.", "A cat was sitting on the mat."], minilm)
    far = embedding_diversity(["The cat sat on the mat.", "Quarterly revenue grew by four percent."], minilm)
    assert same == pytest.approx(0.0, abs=1e-5)
    assert 0.0 < close < far <= 2.0


def test_embedding_diversity_is_the_mean_pairwise_cosine_distance(minilm):
    from darling.evaluation import embedding_diversity

    texts = ["red apples", "green pears", "a fast car"]
    emb = minilm.encode(texts, normalize_embeddings=True, convert_to_tensor=True)
    pairs = [(0, 1), (0, 2), (1, 2)]
    expected = sum(1 - float(emb[i] @ emb[j]) for i, j in pairs) / 3
    assert embedding_diversity(texts, minilm) == pytest.approx(expected, abs=1e-5)
    with pytest.raises(ValueError, match="at least two"):
        embedding_diversity(["one"], minilm)


def test_json_roundtrip_of_appended_records_keeps_unicode(tmp_path):
    path = tmp_path / "u.jsonl"
    with path.open("w", encoding="utf-8") as f:
        append_jsonl(f, {"t": "中文 😀"})
    assert json.loads(path.read_text(encoding="utf-8"))["t"] == "中文 😀"
