"""Continued training: a word first seen after initialize gets rows that training learns."""
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import Adam

from conftest import SMALL_MODEL, V2_MODEL, tutorial_examples

# NORM alone, no affixes or characters: only a word's own rows can tell two new words apart.
WORDS = {"attrs": ["NORM"], "prefix_lengths": [], "suffix_lengths": [], "char_width": 0}
WORDS_ONLY = {**V2_MODEL, **WORDS}
V1_WORDS_ONLY = {**SMALL_MODEL, **WORDS, "@architectures": "spacy_lstm_tagger.LSTMTagger.v1", "bidirectional": True,
                 "dropout": 0.0, "feature_dropout": 0.0}
NEW = [("wug", "NN"), ("gleeb", "V")]


def continued(model: dict):
    """Initialize on the tutorial, then update on it and on two words it never showed, alone."""
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_tagger", config={"model": model})
    optimizer = nlp.initialize(lambda: tutorial_examples(nlp), sgd=Adam(0.01))
    new = [Example(Doc(nlp.vocab, words=[word]), Doc(nlp.vocab, words=[word], tags=[tag])) for word, tag in NEW]
    for _ in range(60):
        nlp.update(tutorial_examples(nlp) + new, sgd=optimizer)
    return nlp


def test_new_words_are_learned():
    nlp = continued(WORDS_ONLY)
    assert [nlp(Doc(nlp.vocab, words=[word]))[0].tag_ for word, _ in NEW] == ["NN", "V"]
    assert [t.tag_ for t in nlp("The dog ate the apple")] == ["DET", "NN", "V", "DET", "NN"]


def test_v1_cannot_tell_new_words_apart():
    """What v2 adds: v1's frozen tables give both new words the one unknown row."""
    nlp = continued(V1_WORDS_ONLY)
    tags = [nlp(Doc(nlp.vocab, words=[word]))[0].tag_ for word, _ in NEW]
    assert tags[0] == tags[1]


def test_new_words_survive_saving(tmp_path):
    nlp = continued(WORDS_ONLY)
    nlp.to_disk(tmp_path)
    loaded = spacy.load(tmp_path)
    assert [loaded(Doc(loaded.vocab, words=[word]))[0].tag_ for word, _ in NEW] == ["NN", "V"]
