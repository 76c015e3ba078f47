"""The batched loss gives what spaCy's Tagger.get_loss gives, Doc for Doc."""
import numpy
import pytest
from spacy.pipeline.tagger import Tagger
from spacy.tokens import Doc
from spacy.training import Example


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


def test_a_negative_tag_pushes_down_only_that_tag(tutorial_nlp):
    """"!NN" says the token is not NN: its gradient is NN's probability in NN's column and 0
    elsewhere; the other tokens' gradients are `probabilities - truth`, as spaCy's Tagger has it."""
    words = "The dog ate the apple".split()
    vocab = tutorial_nlp.vocab
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    example = Example(Doc(vocab, words=words), Doc(vocab, words=words, tags=["DET", "!NN", "V", "DET", "NN"]))
    scores = tagger.model.predict([example.predicted])
    loss, d_scores = tagger.get_loss([example], scores)
    column = {label: i for i, label in enumerate(tagger.labels)}
    expected = scores[0] - numpy.eye(len(column), dtype="f")[[column[t] for t in ["DET", "NN", "V", "DET", "NN"]]]
    expected[1] = 0.0
    expected[1, column["NN"]] = scores[0][1, column["NN"]]
    numpy.testing.assert_allclose(d_scores[0], expected, atol=1e-6)
    assert loss == pytest.approx(float((expected**2).sum()), rel=1e-5)
