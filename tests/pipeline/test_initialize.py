"""initialize as spaCy's Tagger has it: labels alone are enough, Docs without words are fine,
bad data fails with spaCy's kind of error and a message that names the problem."""
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam

from conftest import V2_MODEL, TUTORIAL_DATA


def blank_tagger(**model):
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {**V2_MODEL, **model}})
    return nlp, tagger


def test_labels_alone_then_update_learns_unseen_words():
    """Labels from add_label, no examples: nlp.update then learns words initialize never saw.
    NORM alone, no affixes or characters: only the words' own rows can tell them apart."""
    nlp, tagger = blank_tagger(attrs=["NORM"], prefix_lengths=[], suffix_lengths=[], char_width=0)
    for label in ("DET", "NN", "V"):
        tagger.add_label(label)
    optimizer = nlp.initialize(sgd=Adam(0.01))
    assert tagger.model.get_dim("nO") == 3
    examples = [Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=tags))
                for words, tags in TUTORIAL_DATA]
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    for words, tags in TUTORIAL_DATA:
        assert [t.tag_ for t in nlp(Doc(nlp.vocab, words=words))] == tags


def test_labels_from_init_labels_without_data():
    nlp, tagger = blank_tagger()
    nlp.config["initialize"]["components"]["lstm_tagger"] = {"labels": ["V", "NN", "DET"]}
    nlp.initialize()
    assert tagger.labels == ("V", "NN", "DET")
    assert [len(scores[0]) for scores in tagger.predict([nlp("The dog")])] == [3]


def test_docs_without_words_train_without_error():
    """spaCy's issue 4348, with a check that the update did nothing."""
    nlp, tagger = blank_tagger()
    tagger.add_label("A")
    empty = Example.from_dict(nlp.make_doc(""), {"tags": []})
    optimizer = nlp.initialize(lambda: [empty, empty])
    before = nlp.to_bytes()
    losses = nlp.update([empty, empty], sgd=optimizer)
    assert losses == {"lstm_tagger": 0.0}
    assert nlp("").text == "" and nlp.to_bytes() == before


@pytest.mark.parametrize(
    "get_examples,error,message",
    [
        (lambda: [], TypeError, "cannot read the training data"),
        (lambda: ["not an Example"], TypeError, "cannot read the training data"),
        (lambda: iter([]), ValueError, "the training data is empty"),
    ],
    ids=["empty list", "not Examples", "empty corpus"],
)
def test_bad_data_is_refused_as_spacy_refuses_it(get_examples, error, message):
    nlp, tagger = blank_tagger()
    tagger.add_label("A")
    with pytest.raises(error, match=message):
        nlp.initialize(get_examples)


def test_no_labels_and_no_tags_says_how_to_give_them():
    nlp, _ = blank_tagger()
    examples = [Example.from_dict(nlp.make_doc("I'm so happy"), {"cats": {"POSITIVE": 1.0}})]
    with pytest.raises(ValueError, match=r"has no tags.*no labels were given.*add_label"):
        nlp.initialize(lambda: examples)


def test_spacys_tagger_model_fits_and_gets_a_sample():
    """Any Model[List[Doc], List[Floats2d]] fits the component, as in spaCy's Tagger: spaCy's own
    tagger architecture trains and tags; it does not ask for every Doc, so it gets 10."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {
        "@architectures": "spacy.Tagger.v2",
        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "width": 32, "depth": 2, "embed_size": 500,
                    "window_size": 1, "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None},
    }})
    seen = []
    init = tagger.model.init
    tagger.model.init = lambda model, X=None, Y=None: seen.append(len(X)) or init(model, X=X, Y=Y)
    examples = [Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=tags))
                for words, tags in TUTORIAL_DATA] * 12
    optimizer = nlp.initialize(lambda: examples, sgd=Adam(0.01))
    assert seen == [10]
    for _ in range(30):
        nlp.update(examples[:2], sgd=optimizer)
    assert [t.tag_ for t in nlp("The dog read that book")] == ["DET", "NN", "V", "DET", "NN"]
