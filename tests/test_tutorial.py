"""The tutorial's example: overfit two sentences, then survive saving and loading."""
import pickle

import spacy

from conftest import TUTORIAL_DATA


def tags_of(nlp, words):
    from spacy.tokens import Doc

    return [token.tag_ for token in nlp(Doc(nlp.vocab, words=words))]


def test_tutorial_overfits(tutorial_nlp):
    for words, tags in TUTORIAL_DATA:
        assert tags_of(tutorial_nlp, words) == tags


def test_tutorial_round_trip_disk(tutorial_nlp, tmp_path):
    tutorial_nlp.to_disk(tmp_path)
    loaded = spacy.load(tmp_path)
    assert loaded.get_pipe("lstm_tagger").labels == ("DET", "NN", "V")
    for words, tags in TUTORIAL_DATA:
        assert tags_of(loaded, words) == tags
    doc = tutorial_nlp("The dog read that book")
    doc_loaded = loaded("The dog read that book")
    assert [t.tag_ for t in doc] == [t.tag_ for t in doc_loaded]
    scores = tutorial_nlp.get_pipe("lstm_tagger").model.predict([doc])[0]
    scores_loaded = loaded.get_pipe("lstm_tagger").model.predict([doc_loaded])[0]
    assert (abs(scores - scores_loaded) < 1e-6).all()


def test_tutorial_round_trip_bytes(tutorial_nlp):
    loaded = spacy.blank("en")
    loaded.add_pipe("lstm_tagger", config={"model": tutorial_nlp.config["components"]["lstm_tagger"]["model"]})
    loaded.from_bytes(tutorial_nlp.to_bytes())
    for words, tags in TUTORIAL_DATA:
        assert tags_of(loaded, words) == tags


def test_pickle(tutorial_nlp):
    loaded = pickle.loads(pickle.dumps(tutorial_nlp))
    for words, tags in TUTORIAL_DATA:
        assert tags_of(loaded, words) == tags


def test_pipe_agrees_with_call(tutorial_nlp):
    texts = ["The dog ate the apple", "Everybody read that book", "The book", ""] * 3
    piped = [[t.tag_ for t in doc] for doc in tutorial_nlp.pipe(texts, batch_size=4)]
    called = [[t.tag_ for t in tutorial_nlp(text)] for text in texts]
    assert piped == called


def test_pipe_multiprocess(tutorial_nlp):
    texts = ["The dog ate the apple", "Everybody read that book"] * 4
    piped = [[t.tag_ for t in doc] for doc in tutorial_nlp.pipe(texts, n_process=2, batch_size=2)]
    assert piped == [[t.tag_ for t in tutorial_nlp(text)] for text in texts]
