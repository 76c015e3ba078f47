"""Any text: tagging adds a tag to every token, the model's most probable one, and changes
nothing else; the tags are the same alone or batched.

Each check compares with something computed apart from the component: the text or words given,
a tokenization by a pipeline without the tagger, and the model's own probabilities."""
import numpy
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.attrs import (
    DEP, ENT_IOB, ENT_TYPE, HEAD, LEMMA, LOWER, MORPH, NORM, ORTH, POS, PREFIX, SENT_START, SHAPE, SPACY, SUFFIX,
)
from spacy.tokens import Doc

from conftest import TUTORIAL_DATA

SETTINGS = settings(max_examples=30, deadline=None)
AWKWARD = [" ", "\n", "\t\t", "\x00", "\x07\x1b[0m", "\u200b", "😀", "👩‍👩‍👧", "🇩🇪", "שלום", "مرحبا", "漢字", "한국어", "e\u0301", "\u0301\u0301"]
token = st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(AWKWARD))
words = st.lists(token, max_size=25)
# Everything of a Doc that the tagger must leave as it was.
UNTOUCHED = [
    ORTH, NORM, LOWER, SHAPE, PREFIX, SUFFIX, SPACY, LEMMA, POS, MORPH, HEAD, DEP, ENT_IOB, ENT_TYPE, SENT_START,
]
# A pipeline without the tagger: the reference for tokens and token attributes.
BLANK = spacy.blank("en")


def make_doc(nlp, words, tags=None):
    return Doc(nlp.vocab, words=list(words), tags=tags)


def tags(docs):
    return [[t.tag_ for t in doc] for doc in docs]


def assert_tagged(nlp, tagged_docs, untouched_docs):
    """Each tagged Doc is its untouched twin plus a tag on every token, the model's most probable.

    The probabilities come from `model.predict` on fresh Docs of the same tokens, apart from the
    component's predict and set_annotations; a tie between two best tags accepts either.
    """
    tagger = nlp.get_pipe("lstm_tagger")
    tagged_docs, untouched_docs = list(tagged_docs), list(untouched_docs)
    assert len(tagged_docs) == len(untouched_docs)
    for tagged, untouched in zip(tagged_docs, untouched_docs):
        assert not any(t.tag_ for t in untouched)
        assert tagged.text == untouched.text
        assert [t.text for t in tagged] == [t.text for t in untouched]
        assert [t.whitespace_ for t in tagged] == [t.whitespace_ for t in untouched]
        numpy.testing.assert_array_equal(tagged.to_array(UNTOUCHED), untouched.to_array(UNTOUCHED))
        assert all(t.tag_ for t in tagged), "a token was left untagged"
    fresh = [
        Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        for doc in untouched_docs if len(doc)
    ]
    if not fresh:
        return
    probabilities = tagger.model.ops.to_numpy(tagger.model.ops.flatten(tagger.model.predict(fresh)))
    chosen = [tagger.labels.index(t.tag_) for doc in tagged_docs for t in doc]
    numpy.testing.assert_array_equal(
        probabilities[numpy.arange(len(chosen)), chosen], probabilities.max(axis=1), "a tag is not the model's best"
    )


def assert_text_tagged(nlp, text):
    """`nlp(text)` keeps the text and the tokens of a tagger-less pipeline, and tags them."""
    doc = nlp(text)
    assert doc.text == text
    assert_tagged(nlp, [doc], [BLANK.make_doc(text)])


@SETTINGS
@given(words=words)
def test_any_tokens_keep_their_text_and_get_the_best_tag(tutorial_nlp, words):
    doc = tutorial_nlp(make_doc(tutorial_nlp, words))
    assert doc.text == "".join(word + " " for word in words)
    assert [t.text for t in doc] == words
    assert_tagged(tutorial_nlp, [doc], [make_doc(BLANK, words)])


@SETTINGS
@given(text=st.text(max_size=200))
def test_any_text_through_the_tokenizer_is_unchanged(tutorial_nlp, text):
    assert_text_tagged(tutorial_nlp, text)


@SETTINGS
@given(words=words)
def test_tagging_is_deterministic(tutorial_nlp, words):
    model = tutorial_nlp.get_pipe("lstm_tagger").model
    first, second = (model.predict([make_doc(tutorial_nlp, words)])[0] for _ in range(2))
    numpy.testing.assert_array_equal(first, second)
    assert tags([tutorial_nlp(make_doc(tutorial_nlp, words))]) == tags([tutorial_nlp(make_doc(tutorial_nlp, words))])


@SETTINGS
@given(
    batch=st.lists(st.one_of(words.map(lambda w: (w, None)), st.sampled_from(TUTORIAL_DATA)), min_size=1, max_size=8),
    data=st.data(),
)
def test_tags_do_not_depend_on_the_batch(tutorial_nlp, batch, data):
    """Random words and the tutorial's sentences, in any order and batch size: each Doc gets its
    tags alone, and the tutorial's sentences get their gold tags (DET, NN and V, not one tag)."""
    alone = [tags([tutorial_nlp(make_doc(tutorial_nlp, w))])[0] for w, _ in batch]
    order = data.draw(st.permutations(range(len(batch))))
    batch_size = data.draw(st.integers(1, len(batch)))
    docs = list(tutorial_nlp.pipe([make_doc(tutorial_nlp, batch[i][0]) for i in order], batch_size=batch_size))
    assert tags(docs) == [alone[i] for i in order]
    for doc, i in zip(docs, order):
        gold = batch[i][1]
        if gold is not None:
            assert [t.tag_ for t in doc] == gold
    assert_tagged(tutorial_nlp, docs, [make_doc(BLANK, batch[i][0]) for i in order])


@SETTINGS
@given(words=st.lists(token, min_size=1, max_size=25), data=st.data())
def test_existing_tags_are_kept_unless_overwrite(tutorial_nlp, words, data):
    tagger = tutorial_nlp.get_pipe("lstm_tagger")
    given_tags = data.draw(st.lists(st.sampled_from(["", "XX", "NN"]), min_size=len(words), max_size=len(words)))
    predicted = tags([tutorial_nlp(make_doc(tutorial_nlp, words))])[0]
    kept = tags([tutorial_nlp(make_doc(tutorial_nlp, words, given_tags))])[0]
    assert kept == [given or tag for given, tag in zip(given_tags, predicted)]
    tagger.cfg["overwrite"] = True
    try:
        assert tags([tutorial_nlp(make_doc(tutorial_nlp, words, given_tags))])[0] == predicted
    finally:
        tagger.cfg["overwrite"] = False


@pytest.mark.parametrize(
    "text",
    ["", "   ", " \n\t ", "\x00\x01\x7f \x1b[31mred", "a" * 10_000, "😀 👩‍👩‍👧 🇩🇪", "שלום עולם مرحبا بالعالم",
     "漢字とかなカナ 한국어", "e\u0301 n\u0303 \u0301\u0301 Z\u0351\u0315"],
)
def test_awkward_text(tutorial_nlp, text):
    assert_text_tagged(tutorial_nlp, text)


def test_100000_token_doc(tutorial_nlp):
    words = ("The dog ate the apple . " * 20_000).split()[:100_000]
    doc = tutorial_nlp(make_doc(tutorial_nlp, words))
    assert doc.text == " ".join(words) + " "
    assert_tagged(tutorial_nlp, [doc], [make_doc(BLANK, words)])
    assert [t.tag_ for t in doc[:5]] == ["DET", "NN", "V", "DET", "NN"]
    sentences = [[t.tag_ for t in doc[i : i + 5]] for i in range(0, len(doc) - 5, 6)]
    assert sum(tags == ["DET", "NN", "V", "DET", "NN"] for tags in sentences) > 0.9 * len(sentences)


def test_10000_one_word_docs_in_one_pipe(tutorial_nlp):
    texts = [f"word{i}" if i % 3 else "dog" for i in range(10_000)]
    docs = list(tutorial_nlp.pipe(texts))
    assert [doc.text for doc in docs] == texts
    assert all(len(doc) == 1 for doc in docs)
    assert_tagged(tutorial_nlp, docs, [BLANK.make_doc(text) for text in texts])
    assert {doc[0].tag_ for doc in docs[::3]} == {"NN"}  # every "dog", as in the training data
    assert tags(docs[:30]) == [tags([tutorial_nlp(text)])[0] for text in texts[:30]]
