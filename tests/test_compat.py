"""A model saved by an earlier version of the plugin loads and tags the same.

tests/data/v1_tutorial was trained and saved by the plugin as of commit c71c6ef (architecture
spacy_lstm_tagger.LSTMTagger.v1), with the tags and probabilities it gave then beside it.
"""
import json

import numpy
import spacy
from spacy.tokens import Doc

from conftest import ROOT

DATA = ROOT / "tests" / "data"


def test_v1_model_loads_and_tags_as_when_saved():
    expected = json.loads((DATA / "v1_tutorial_expected.json").read_text(encoding="utf8"))
    nlp = spacy.load(DATA / "v1_tutorial")
    assert nlp.config["components"]["lstm_tagger"]["model"]["@architectures"] == "spacy_lstm_tagger.LSTMTagger.v1"
    doc = nlp(Doc(nlp.vocab, words=expected["words"]))
    assert [t.tag_ for t in doc] == expected["tags"]
    probabilities = nlp.get_pipe("lstm_tagger").predict([Doc(nlp.vocab, words=expected["words"])])[0]
    numpy.testing.assert_allclose(probabilities, expected["probabilities"], atol=1e-6)
