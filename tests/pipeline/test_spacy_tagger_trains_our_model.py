"""spaCy's own `tagger` trains `spacy_lstm_tagger.LSTMTagger.v2`: a model of its type works in any
Tagger. spaCy's Tagger initializes a model from a 10-Doc sample: the model warns, and builds its
tables from those Docs (the lstm_tagger factory gives it every Doc)."""
import warnings

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed

from conftest import SMALL_MODEL, TUTORIAL_DATA
from spacy_lstm_tagger.layers.architectures import SPACY_SAMPLE_SIZE

V2 = {"@architectures": "spacy_lstm_tagger.LSTMTagger.v2", "attrs": ["NORM", "SHAPE"], "prefix_lengths": [1],
      "suffix_lengths": [2], "bidirectional": True, **SMALL_MODEL}


def examples(nlp, copies: int):
    """The tutorial's sentences, `copies` times each; the last one ends with the word "wug"."""
    data = [(words, tags) for _ in range(copies) for words, tags in TUTORIAL_DATA]
    data[-1] = (data[-1][0] + ["wug"], data[-1][1] + ["NN"])
    return [Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=tags)) for words, tags in data]


def pipeline(factory: str):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe(factory, config={"model": V2})
    return nlp


def test_spacys_tagger_trains_saves_and_loads_our_model(tmp_path):
    nlp = pipeline("tagger")
    data = examples(nlp, 1)
    optimizer = nlp.initialize(lambda: data)
    for _ in range(60):
        nlp.update(data, sgd=optimizer)
    for words, tags in TUTORIAL_DATA:
        assert [t.tag_ for t in nlp(Doc(nlp.vocab, words=words))] == tags
    nlp.to_disk(tmp_path)
    loaded = spacy.load(tmp_path)
    docs = [Doc(nlp.vocab, words=words) for words, _ in TUTORIAL_DATA]
    for ours, theirs in zip(nlp.get_pipe("tagger").predict(docs), loaded.get_pipe("tagger").predict(docs)):
        numpy.testing.assert_array_equal(ours, theirs)


def norm_table(nlp, name: str):
    return nlp.get_pipe(name).model.get_ref("features").attrs["tables"][0]


def test_spacys_sample_warns_and_builds_the_tables_from_it():
    nlp = pipeline("tagger")
    data = examples(nlp, SPACY_SAMPLE_SIZE)
    with pytest.warns(UserWarning, match="the sample that spaCy's own components give"):
        nlp.initialize(lambda: data)
    assert nlp.vocab.strings["wug"] not in norm_table(nlp, "tagger")  # in the 20th Doc only


def test_the_lstm_tagger_factory_builds_the_tables_from_every_doc():
    nlp = pipeline("lstm_tagger")
    data = examples(nlp, SPACY_SAMPLE_SIZE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nlp.initialize(lambda: data)
    assert not [w for w in caught if "spaCy's own components" in str(w.message)]
    assert nlp.vocab.strings["wug"] in norm_table(nlp, "lstm_tagger")
