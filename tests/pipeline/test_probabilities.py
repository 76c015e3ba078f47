"""`store_probabilities`: token._.tag_prob and token._.tag_alternatives against the model's output."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin, Token

WORDS = "The dog read that book".split()


@pytest.fixture(scope="module")
def saved_model(tutorial_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("tutorial") / "model"
    tutorial_nlp.to_disk(path)
    return path


def load(path, **settings):
    """The saved pipeline, with the tagger's config overridden by `settings`."""
    return spacy.load(path, config={"components": {"lstm_tagger": settings}})


def plain(alternatives):
    """Alternatives as lists: DocBin gives msgpack arrays back as tuples."""
    return [list(pair) for pair in alternatives]


def test_off_by_default_with_the_attributes_registered(tutorial_nlp):
    doc = tutorial_nlp(Doc(tutorial_nlp.vocab, words=WORDS))
    assert Token.has_extension("tag_prob") and Token.has_extension("tag_alternatives")
    assert all(t._.tag_prob is None and t._.tag_alternatives is None for t in doc)


def test_predict_gives_probabilities_whatever_the_setting(tutorial_nlp):
    """predict returns the same type with store_probabilities on or off: probabilities per Doc."""
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    docs = [Doc(tutorial_nlp.vocab, words=WORDS), Doc(tutorial_nlp.vocab, words=[]), Doc(tutorial_nlp.vocab, words=["dog"])]
    expected = [numpy.asarray(scores) for scores in tagger.model.predict(docs)]
    for setting in (False, True):
        tagger.store_probabilities = setting
        try:
            predicted = tagger.predict(docs)
        finally:
            tagger.store_probabilities = False
        assert [type(scores) for scores in predicted] == [numpy.ndarray] * 3
        assert [scores.shape for scores in predicted] == [(len(WORDS), 3), (0, 3), (1, 3)]
        for scores, reference in zip(predicted, expected):
            numpy.testing.assert_allclose(scores, reference, rtol=1e-6)


def test_values_match_the_model_probabilities(saved_model):
    nlp = load(saved_model, store_probabilities=True, top_k=3)
    tagger = nlp.get_pipe("lstm_tagger")
    labels = tagger.labels
    assert len(labels) == 3
    probs = tagger.model.predict([Doc(nlp.vocab, words=WORDS)])[0]
    assert numpy.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    doc = nlp(Doc(nlp.vocab, words=WORDS))
    for token, token_probs in zip(doc, probs):
        best = int(token_probs.argmax())
        assert token.tag_ == labels[best]
        assert type(token._.tag_prob) is float
        assert token._.tag_prob == pytest.approx(float(token_probs[best]))
        alternatives = token._.tag_alternatives
        assert alternatives[0] == [token.tag_, token._.tag_prob]
        assert [tag for tag, _ in alternatives] == [labels[i] for i in numpy.argsort(-token_probs)]
        assert all(p == pytest.approx(float(token_probs[labels.index(tag)])) for tag, p in alternatives)
        assert sum(p for _, p in alternatives) == pytest.approx(1.0, abs=1e-5)  # top_k = all labels


def test_top_k_limits_the_alternatives(saved_model):
    nlp = load(saved_model, store_probabilities=True, top_k=2)
    for token in nlp(Doc(nlp.vocab, words=WORDS)):
        assert len(token._.tag_alternatives) == 2
        assert token._.tag_alternatives[0][0] == token.tag_
        assert token._.tag_alternatives[0][1] >= token._.tag_alternatives[1][1]


def test_values_survive_serialization(saved_model):
    nlp = load(saved_model, store_probabilities=True)
    doc = nlp(Doc(nlp.vocab, words=WORDS))
    expected = [(t._.tag_prob, t._.tag_alternatives) for t in doc]
    from_bytes = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    docbin_bytes = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (from_docbin,) = DocBin(store_user_data=True).from_bytes(docbin_bytes).get_docs(nlp.vocab)
    for copy in (from_bytes, from_docbin):
        assert [(t._.tag_prob, plain(t._.tag_alternatives)) for t in copy] == expected


def test_kept_tags_get_values_only_where_the_model_agrees(saved_model):
    """With overwrite = false a pre-set tag stays; its token has values only if it is the model's best."""
    nlp = load(saved_model, store_probabilities=True)
    best = [t.tag_ for t in nlp(Doc(nlp.vocab, words=WORDS))]
    wrong = next(tag for tag in nlp.get_pipe("lstm_tagger").labels if tag != best[0])
    doc = nlp(Doc(nlp.vocab, words=WORDS, tags=[wrong, best[1], "", "", ""]))
    assert doc[0].tag_ == wrong and doc[0]._.tag_prob is None and doc[0]._.tag_alternatives is None
    for token in doc[1:]:
        assert token._.tag_alternatives[0][0] == token.tag_
    overwriting = load(saved_model, store_probabilities=True)
    overwriting.get_pipe("lstm_tagger").cfg["overwrite"] = True  # the saved cfg wins over a load override
    doc = overwriting(Doc(overwriting.vocab, words=WORDS, tags=[wrong, "", "", "", ""]))
    assert doc[0].tag_ == best[0] and doc[0]._.tag_alternatives[0][0] == best[0]


def test_empty_docs_and_bad_top_k(saved_model):
    nlp = load(saved_model, store_probabilities=True)
    assert len(nlp("")) == 0
    assert [[t._.tag_alternatives is not None for t in doc] for doc in nlp.pipe(["", "The dog"])] == [
        [], [True, True]]
    with pytest.raises(ValueError, match="top_k"):
        spacy.blank("en").add_pipe("lstm_tagger", config={"top_k": 0})
