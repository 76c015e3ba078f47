"""The component: labels, overwrite, scoring, and company in a pipeline."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example

from conftest import V2_MODEL, TUTORIAL_DATA, train_tutorial_tagger, tutorial_examples


def test_labels_from_init_labels():
    """Labels given to initialize (as `spacy init labels` writes them) are used as given."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": V2_MODEL})
    nlp.config["initialize"]["components"]["lstm_tagger"] = {"labels": ["V", "NN", "DET", "JJ"]}
    nlp.initialize(lambda: tutorial_examples(nlp))
    assert tagger.labels == ("V", "NN", "DET", "JJ")
    assert tagger.model.get_dim("nO") == 4


def test_overwrite_respected():
    for overwrite, expected in ((False, "XX"), (True, "DET")):
        nlp = train_tutorial_tagger(steps=40)
        nlp.get_pipe("lstm_tagger").cfg["overwrite"] = overwrite
        doc = Doc(nlp.vocab, words="The dog".split(), tags=["XX", ""])
        doc = nlp(doc)
        assert [t.tag_ for t in doc] == [expected, "NN"]


def test_scores_tag_acc(tutorial_nlp):
    examples = tutorial_examples(tutorial_nlp)
    scores = tutorial_nlp.evaluate(examples)
    assert scores["tag_acc"] == 1.0


def test_beside_other_components():
    """A sentencizer before and an attribute ruler reading our tags after."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lstm_tagger", config={"model": V2_MODEL})
    ruler = nlp.add_pipe("attribute_ruler")
    examples = tutorial_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    ruler.add(patterns=[[{"TAG": "V"}]], attrs={"POS": "VERB"})
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    doc = nlp("The dog ate the apple")
    assert doc.has_annotation("SENT_START")
    assert [t.tag_ for t in doc] == ["DET", "NN", "V", "DET", "NN"]
    assert doc[2].pos_ == "VERB"


def test_partly_tagged_docs_train_on_the_known_tags():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": V2_MODEL})
    words, tags = TUTORIAL_DATA[0]
    partial = Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=tags[:2] + [""] * 3))
    examples = [partial] + tutorial_examples(nlp)[1:]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        nlp.update(examples, sgd=optimizer)
    assert "" not in tagger.labels
    assert set(tagger.labels) == {"DET", "NN", "V"}


def test_predictions_that_do_not_fit_the_docs_are_refused(tutorial_nlp):
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    docs = [Doc(tutorial_nlp.vocab, words=["The", "dog"]), Doc(tutorial_nlp.vocab, words=["ate"])]
    shifted = [numpy.zeros(1, dtype="int64"), numpy.zeros(2, dtype="int64")]  # right total, wrong split
    with pytest.raises(ValueError, match="do not match the Docs' lengths"):
        tagger.set_annotations(docs, shifted)
    assert [t.tag_ for doc in docs for t in doc] == ["", "", ""]
