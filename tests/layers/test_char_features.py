"""The optional character CNN in a pipeline: which characters it reads, training and saving."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc

from conftest import train_tutorial_tagger
from spacy_lstm_tagger.layers.features import n_features

CHAR_MODEL = {"char_width": 8, "char_length": 6}


@pytest.fixture(scope="module")
def char_nlp():
    return train_tutorial_tagger(**CHAR_MODEL)


def char_columns(nlp, words):
    features = nlp.get_pipe("lstm_tagger").model.get_ref("features")
    (ids, _), _ = features([Doc(nlp.vocab, words=words)], False)
    first = n_features(features)  # the character columns follow the features'
    return ids[:, first : first + CHAR_MODEL["char_length"]]


def test_characters_of_the_lowercase_form_are_read_head_and_tail(char_nlp):
    tagger = char_nlp.get_pipe("lstm_tagger")
    table = tagger.model.get_ref("features").attrs["tables"][-1]
    assert "".join(map(chr, table)) == "abdeghkloprtvy"  # the tutorial's characters, sorted

    def char_id(c):
        return int(numpy.searchsorted(table, ord(c))) + 2 if ord(c) in table else 1

    long, short, unknown = char_columns(char_nlp, ["Everybody", "THE", "zq"])
    assert long.tolist() == [char_id(c) for c in "eve" + "ody"]  # first 3, last 3
    assert short.tolist() == [char_id(c) for c in "the"] + [0, 0, 0]  # lowercase, then padding
    assert unknown.tolist() == [1, 1, 0, 0, 0, 0]


def test_character_model_learns_and_survives_saving(char_nlp, tmp_path):
    words = "The dog ate the apple".split()
    assert [t.tag_ for t in char_nlp(Doc(char_nlp.vocab, words=words))] == "DET NN V DET NN".split()
    char_nlp.to_disk(tmp_path)
    loaded = spacy.load(tmp_path)
    assert loaded.config["components"]["lstm_tagger"]["model"]["char_width"] == 8
    docs = [Doc(char_nlp.vocab, words=words + ["Zebras"])]
    numpy.testing.assert_array_equal(
        loaded.get_pipe("lstm_tagger").model.predict(docs)[0],
        char_nlp.get_pipe("lstm_tagger").model.predict(docs)[0],
    )


def test_characters_change_the_scores_of_unseen_words(char_nlp):
    """Two unseen words that share no affix table entry differ only through their characters."""
    model = char_nlp.get_pipe("lstm_tagger").model
    a, b = (model.predict([Doc(char_nlp.vocab, words=["the", word])])[0][1] for word in ("qzxw", "bdgh"))
    assert not numpy.allclose(a, b)
