"""The batched loss gives what spaCy's Tagger.get_loss gives, Doc for Doc."""
import numpy
import pytest
from spacy.pipeline.tagger import Tagger
from spacy.tokens import Doc
from spacy.training import Example

from spacy.strings import get_string_id

from spacy_lstm_tagger.pipeline.labels import LabelHashes


def _examples(nlp):
    vocab = nlp.vocab
    same_words = Example(
        Doc(vocab, words="The dog ate the apple".split()),
        Doc(vocab, words="The dog ate the apple".split(), tags=["DET", "NN", "V", "DET", "NN"]),
    )
    missing_tags = Example(
        Doc(vocab, words="Everybody read that book".split()),
        Doc(vocab, words="Everybody read that book".split(), tags=["NN", "", "DET", ""]),
    )
    # "apple." is one predicted token for two gold tokens: no one-to-one gold tag.
    other_tokens = Example(
        Doc(vocab, words=["the", "dog", "ate", "apple."]),
        Doc(vocab, words=["the", "dog", "ate", "apple", "."], tags=["DET", "NN", "V", "NN", "DET"]),
    )
    empty = Example(Doc(vocab, words=[]), Doc(vocab, words=[]))
    return [same_words, missing_tags, empty, other_tokens]


def _both_losses(nlp, examples):
    tagger = nlp.get_pipe("lstm_tagger")
    scores = tagger.model.predict([eg.predicted for eg in examples])
    ours = tagger.get_loss(examples, scores)
    spacys = Tagger.get_loss(tagger, examples, scores)
    return ours, spacys


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_loss_and_gradient_equal_spacy_tagger(tutorial_nlp, label_smoothing):
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    saved = tagger.cfg["label_smoothing"]
    tagger.cfg["label_smoothing"] = label_smoothing
    try:
        (loss, d_scores), (expected_loss, expected_d_scores) = _both_losses(tutorial_nlp, _examples(tutorial_nlp))
    finally:
        tagger.cfg["label_smoothing"] = saved
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert len(d_scores) == len(expected_d_scores) == 4
    for ours, spacys in zip(d_scores, expected_d_scores):
        numpy.testing.assert_allclose(ours, spacys, atol=1e-6)
    assert not d_scores[1][1].any() and not d_scores[1][3].any()  # missing tags: no gradient
    assert not d_scores[3][3].any()  # "apple." has no one-to-one gold token


def test_negative_tags_take_spacys_loss(tutorial_nlp):
    words = "The dog ate the apple".split()
    vocab = tutorial_nlp.vocab
    example = Example(Doc(vocab, words=words), Doc(vocab, words=words, tags=["DET", "!NN", "V", "DET", "NN"]))
    (loss, d_scores), (expected_loss, expected_d_scores) = _both_losses(tutorial_nlp, [example])
    assert loss == pytest.approx(expected_loss)
    numpy.testing.assert_allclose(d_scores[0], expected_d_scores[0])


def test_unknown_gold_tag_is_reported(tutorial_nlp):
    words = ["The", "dog"]
    vocab = tutorial_nlp.vocab
    example = Example(Doc(vocab, words=words), Doc(vocab, words=words, tags=["DET", "ADVERBIAL"]))
    with pytest.raises(KeyError, match="ADVERBIAL"):
        _both_losses(tutorial_nlp, [example])


def test_label_rows():
    rows = LabelHashes(["DET", "NN", "V"])
    hashes = numpy.asarray([get_string_id(tag) for tag in ["V", "DET", "NN"]] + [0], dtype="uint64")
    assert rows.rows(hashes).tolist() == [2, 0, 1, -1]
    assert rows.rows(numpy.asarray([get_string_id("ADJ")], dtype="uint64")) is None
