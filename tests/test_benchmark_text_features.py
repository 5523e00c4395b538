"""The benchmarks-only features recipe: surface text features, the opening embedding and the head."""

from __future__ import annotations

import random

import numpy as np
import pytest

from darling.partitioning.pair_metrics import roc_auc
from feature_head import FeatureHead, cosines, embed, load_encoder
from text_features import FORMAT_FEATURES, SIMILARITY_FEATURES, TEXT_FEATURES, TextFeatures

NAMES = ["Alice", "Bruno", "Chiara", "Dmitri", "Esther", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
PLACES = ["Paris", "Lima", "Oslo", "Cairo", "Delhi", "Quito", "Rome", "Tokyo", "Accra", "Perth"]
VERBS = ["visited", "walked through", "dreamed of", "wrote about", "painted", "remembered"]


def _story(rng: random.Random, name: str, place: str) -> str:
    return f"{name} {rng.choice(VERBS)} {place} one {rng.choice(['morning', 'evening', 'winter'])}."


def synthetic_pairs(seed: int, n: int) -> tuple[list[tuple[str, str]], list[int]]:
    """Equivalent = the same character in the same place, worded differently; different otherwise."""
    rng = random.Random(seed)
    pairs, labels = [], []
    for index in range(n):
        name, place = rng.choice(NAMES), rng.choice(PLACES)
        if index % 2:
            pairs.append((_story(rng, name, place), _story(rng, name, place)))
            labels.append(1)
        else:
            other = rng.choice([x for x in NAMES if x != name])
            elsewhere = rng.choice([x for x in PLACES if x != place])
            pairs.append((_story(rng, name, place), _story(rng, other, elsewhere)))
            labels.append(0)
    return pairs, labels


# --------------------------------------------------------------------------------------------------
# The features


def test_features_have_their_definitions():
    features = TextFeatures()
    pairs = [
        ("Alice met Bob in Paris", "Bob met Alice in Rome today"),
        ("same words here", "same words here"),
        ("", ""),
        ("one two", ""),
    ]
    column = dict(zip(TEXT_FEATURES, features.fit(pairs).transform(pairs).T.tolist()))
    # word sets {alice, met, bob, in, paris} vs {bob, met, alice, in, rome, today}: 4 shared of 7.
    assert column["word_jaccard"][0] == pytest.approx(4 / 7)
    # bigrams: {alice met, met bob, bob in, in paris} vs {bob met, met alice, alice in, in rome, rome today}.
    assert column["word_bigram_jaccard"][0] == pytest.approx(0.0)
    # capitalized {Alice, Bob, Paris} vs {Bob, Alice, Rome}: 2 of 4.
    assert column["capitalized_jaccard"][0] == pytest.approx(2 / 4)
    assert column["length_ratio"][0] == pytest.approx(5 / 6)
    assert 0.0 < column["word_tfidf"][0] < 1.0 and 0.0 < column["char_tfidf"][0] < 1.0
    # Identical texts score 1 on every similarity feature; two empty texts are identical too.
    for row in (1, 2):
        assert [column[name][row] for name in SIMILARITY_FEATURES] == pytest.approx([1.0] * 7)
    # Against an empty text: no overlap at all.
    assert column["word_jaccard"][3] == 0.0 and column["word_tfidf"][3] == 0.0
    assert column["char_tfidf"][3] == 0.0 and column["length_ratio"][3] == 0.0
    for name in FORMAT_FEATURES:  # plain sentences have no digits, bold, lists or headings
        assert column[name] == [0.0, 0.0, 0.0, 0.0]


def test_bold_and_format_features_have_their_definitions():
    listing = "## Ideas\n\n1. **Bean There**: a pun.\n2. **Daily  Grind**: classic.\n- and 3 more"
    other_listing = "Here you go:\n* **daily grind** (safe)\n* **Brew Haven**"
    story = "Once upon a time, **Mira** found 2 maps."
    pairs = [(listing, other_listing), (listing, story), (story, "A plain story."), (listing, listing)]
    features = TextFeatures(["bold_jaccard", *FORMAT_FEATURES])
    column = dict(zip(features.names, features.transform(pairs).T.tolist()))
    # bold phrases, lower-cased, inner spaces collapsed: {bean there, daily grind} vs {daily grind, brew haven}.
    assert column["bold_jaccard"] == pytest.approx([1 / 3, 0.0, 0.0, 1.0])
    assert column["both_digits"] == [0.0, 1.0, 0.0, 1.0]  # other_listing has no digit
    assert column["both_bold"] == [1.0, 1.0, 0.0, 1.0]
    assert column["both_lists"] == [1.0, 0.0, 0.0, 1.0]  # "1." and "*" lines; the story has none
    assert column["both_headings"] == [0.0, 0.0, 0.0, 1.0]  # only listing has "## "
    assert features.transform([("no bold", "none here")])[0, 0] == 1.0  # neither has bold: they agree


def test_word_tfidf_is_the_cosine_of_sublinear_tfidf_vectors_fitted_on_training_texts():
    from sklearn.feature_extraction.text import TfidfVectorizer

    train = [
        ("the cat sat on the mat", "a dog ran on the road"),
        ("the cat the cat ate", "birds sing at dawn"),
    ]
    probe = [("the cat the cat ran ran ran", "a cat sat on the the road"), ("dawn birds", "the mat mat")]
    features = TextFeatures(["word_tfidf"]).fit(train)
    vectorizer = TfidfVectorizer(sublinear_tf=True, token_pattern=r"\w+").fit([t for p in train for t in p])
    for (a, b), value in zip(probe, features.transform(probe)[:, 0]):
        u, v = vectorizer.transform([a]).toarray()[0], vectorizer.transform([b]).toarray()[0]
        assert value == pytest.approx(float(u @ v), abs=1e-9)


def test_rare_and_unseen_shared_words_weigh_more_than_common_ones():
    corpus = [("the cat sat on the mat", f"the dog {i} ran on the road") for i in range(20)]
    features = TextFeatures(["word_tfidf"]).fit(corpus)
    common, rare, unseen = features.transform(
        [("the on a b", "the on c d"), ("cat mat a b", "cat mat c d"), ("zebra yak a b", "zebra yak c d")]
    )[:, 0]
    assert unseen > rare > common  # a word never seen in training counts as the rarest


def test_tfidf_features_need_fitting_and_names_are_checked():
    with pytest.raises(RuntimeError, match="fit"):
        TextFeatures(["char_tfidf"]).transform([("a", "b")])
    assert TextFeatures(["word_jaccard"]).transform([("a b", "b")]).tolist() == [[0.5]]  # no fit needed
    with pytest.raises(ValueError, match="distinct names"):
        TextFeatures(["word_jaccard", "nope"])
    with pytest.raises(ValueError, match="distinct names"):
        TextFeatures(["word_jaccard", "word_jaccard"])


# --------------------------------------------------------------------------------------------------
# The opening embedding and the head


def test_embed_gives_the_sentence_embedding_and_the_mean_of_the_first_token_states(tiny_encoder):
    model = load_encoder(tiny_encoder, max_seq_length=32)
    texts = ["the quick brown fox jumps over the lazy dog", "a boy and his dog", "paris"]
    vectors = embed(model, texts, opening_tokens=4, batch_size=2)
    sentence = model.encode(texts, normalize_embeddings=True)
    tokens = model.encode(texts, output_value="token_embeddings")  # real tokens only, [CLS] first
    for text, sent, states in zip(texts, sentence, tokens):
        opening = states[:4].float().mean(0).numpy()
        assert vectors[text][0] == pytest.approx(sent, abs=1e-5)
        assert vectors[text][1] == pytest.approx(opening / np.linalg.norm(opening), abs=1e-5)
    # A text shorter than the opening: its opening is the mean of all its states.
    short = tokens[2].float().mean(0).numpy()
    assert vectors["paris"][1] == pytest.approx(short / np.linalg.norm(short), abs=1e-5)
    pairs = [(texts[0], texts[1])]
    assert cosines(pairs, vectors, 0)[0] == pytest.approx(float(sentence[0] @ sentence[1]), abs=1e-5)


def test_feature_head_learns_what_the_surface_features_show(tiny_encoder):
    train_pairs, train_labels = synthetic_pairs(10, 120)
    test_pairs, test_labels = synthetic_pairs(12, 80)
    model = load_encoder(tiny_encoder, max_seq_length=32)
    vectors = embed(model, [t for p in train_pairs + test_pairs for t in p], opening_tokens=4)
    cosine_auc = roc_auc(cosines(test_pairs, vectors), test_labels)
    head = FeatureHead(vectors).fit(train_pairs, train_labels)
    probs = head.predict_proba(test_pairs)
    assert roc_auc(probs, test_labels) > 0.95 > cosine_auc  # the random encoder's cosine does not see names
    assert np.mean((probs > 0.5) == np.array(test_labels, dtype=bool)) > 0.9
    # Shared names and places decide this task: the head leans most on capitalized-word overlap.
    weights = dict(zip(["cosine", "opening", *TEXT_FEATURES], head.model[-1].coef_[0]))
    assert max(weights, key=lambda name: abs(weights[name])) == "capitalized_jaccard"
    assert weights["capitalized_jaccard"] > 0
    assert head.columns(test_pairs[:3]).shape == (3, 2 + len(TEXT_FEATURES))
    with pytest.raises(ValueError, match="both equivalent"):
        FeatureHead(vectors).fit(train_pairs[:4], [0] * 4)
