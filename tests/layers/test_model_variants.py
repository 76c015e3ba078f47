"""Variants of the network, trained with the public spaCy API on the tutorial's sentences: each
learns them, its loss falls, and it tags the same after to_bytes / from_bytes."""
import numpy
import pytest
import spacy
from spacy.util import fix_random_seed
from thinc.api import Adam, set_dropout_rate

from conftest import V2_MODEL, TUTORIAL_DATA, tutorial_examples

STEPS = 60
LEARN_RATE = 0.01  # as configs/tutorial.cfg
VARIANTS = {
    "dropout": ({}, 0.2),
    "no character CNN": ({"char_width": 0}, 0.1),
    "depth 1": ({"depth": 1}, 0.1),
    "depth 2": ({"depth": 2}, 0.1),
    "one direction": ({"bidirectional": False}, 0.1),
}


def tags_of(nlp, text):
    return [token.tag_ for token in nlp(text)]


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def trained(request):
    """(pipeline, loss of each update) for a variant trained STEPS updates with its `drop`."""
    overrides, drop = VARIANTS[request.param]
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": {**V2_MODEL, **overrides}})
    examples = tutorial_examples(nlp)
    optimizer = nlp.initialize(lambda: examples, sgd=Adam(LEARN_RATE))
    losses = [nlp.update(examples, sgd=optimizer, drop=drop)["lstm_tagger"] for _ in range(STEPS)]
    return nlp, losses


def test_learns_the_tutorial(trained):
    """The loss of the last updates is a fraction of the first's, and the tags are the gold ones."""
    nlp, losses = trained
    assert sum(losses[-5:]) / 5 < 0.1 * losses[0], losses
    for words, tags in TUTORIAL_DATA:
        assert tags_of(nlp, " ".join(words)) == tags
    assert tags_of(nlp, "The dog read that book") == ["DET", "NN", "V", "DET", "NN"]


def test_same_tags_after_bytes_round_trip(trained):
    """A fresh pipeline of the same config, loaded from the bytes, tags as the trained one."""
    nlp, _ = trained
    loaded = spacy.blank("en")
    loaded.add_pipe("lstm_tagger", config={"model": nlp.config["components"]["lstm_tagger"]["model"]})
    loaded.from_bytes(nlp.to_bytes())
    texts = ["The dog read that book", "Everybody ate the apple", "The book read the dog"]
    assert [tags_of(loaded, text) for text in texts] == [tags_of(nlp, text) for text in texts]
    assert tags_of(loaded, "The dog read that book") == ["DET", "NN", "V", "DET", "NN"]
    docs = [nlp.make_doc(text) for text in texts]
    numpy.testing.assert_allclose(
        numpy.concatenate(loaded.get_pipe("lstm_tagger").model.predict(docs)),
        numpy.concatenate(nlp.get_pipe("lstm_tagger").model.predict(docs)),
        atol=1e-6,
    )


def test_drop_reaches_the_network(trained):
    """With a dropout rate above zero, two training passes over the same Docs differ; predicting
    (no dropout) gives the same twice."""
    nlp, _ = trained
    model = nlp.get_pipe("lstm_tagger").model
    docs = [nlp.make_doc(" ".join(words)) for words, _ in TUTORIAL_DATA]
    set_dropout_rate(model, 0.2)
    first, second = (numpy.concatenate(model.begin_update(docs)[0]) for _ in range(2))
    assert not numpy.array_equal(first, second)
    numpy.testing.assert_array_equal(numpy.concatenate(model.predict(docs)), numpy.concatenate(model.predict(docs)))
