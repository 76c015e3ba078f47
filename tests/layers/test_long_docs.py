"""A Doc longer than a window is tagged as its sentences are, through windows."""
from spacy.tokens import Doc

from spacy_lstm_tagger.pytorch import windows


def test_a_long_doc_is_tagged_as_its_sentences_are(tutorial_nlp):
    sentence = "The dog ate the apple . Everybody read that book .".split()
    expected = [t.tag_ for t in tutorial_nlp(Doc(tutorial_nlp.vocab, words=sentence * 2))][len(sentence):]
    repeats = 2 * (windows.WINDOW + 2 * windows.CONTEXT) // len(sentence)
    doc = tutorial_nlp(Doc(tutorial_nlp.vocab, words=sentence * repeats))
    assert len(doc) > windows.WINDOW + 2 * windows.CONTEXT
    assert [t.tag_ for t in doc][len(sentence):] == expected * (repeats - 1)
