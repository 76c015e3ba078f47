"""Any text: unchanged by tagging, every token tagged from the label set, the same alone or batched."""
import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

SETTINGS = settings(max_examples=30, deadline=None)
AWKWARD = [" ", "\n", "\t\t", "\x00", "\x07\x1b[0m", "\u200b", "😀", "👩‍👩‍👧", "🇩🇪", "שלום", "مرحبا", "漢字", "한국어", "e\u0301", "\u0301\u0301"]
token = st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(AWKWARD))
words = st.lists(token, max_size=25)


def make_doc(nlp, words, tags=None):
    return Doc(nlp.vocab, words=list(words), tags=tags)


def tags(docs):
    return [[t.tag_ for t in doc] for doc in docs]


def assert_tagged(nlp, doc, text, words):
    """The Doc keeps its text and tokens, and every token has a tag from the label set."""
    assert doc.text == text
    assert [t.text for t in doc] == list(words)
    assert all(t.tag_ in nlp.get_pipe("lstm_tagger").labels for t in doc)


@SETTINGS
@given(words=words)
def test_any_tokens_keep_their_text_and_get_a_label(tutorial_nlp, words):
    doc = tutorial_nlp(make_doc(tutorial_nlp, words))
    assert_tagged(tutorial_nlp, doc, "".join(word + " " for word in words), words)


@SETTINGS
@given(text=st.text(max_size=200))
def test_any_text_through_the_tokenizer_is_unchanged(tutorial_nlp, text):
    doc = tutorial_nlp(text)
    assert_tagged(tutorial_nlp, doc, text, [t.text for t in doc])


@SETTINGS
@given(words=words)
def test_tagging_is_deterministic(tutorial_nlp, words):
    model = tutorial_nlp.get_pipe("lstm_tagger").model
    first, second = (model.predict([make_doc(tutorial_nlp, words)])[0] for _ in range(2))
    numpy.testing.assert_array_equal(first, second)
    assert tags([tutorial_nlp(make_doc(tutorial_nlp, words))]) == tags([tutorial_nlp(make_doc(tutorial_nlp, words))])


@SETTINGS
@given(batch=st.lists(words, min_size=1, max_size=8), data=st.data())
def test_tags_do_not_depend_on_the_batch(tutorial_nlp, batch, data):
    alone = [tags([tutorial_nlp(make_doc(tutorial_nlp, w))])[0] for w in batch]
    order = data.draw(st.permutations(range(len(batch))))
    batch_size = data.draw(st.integers(1, len(batch)))
    docs = tutorial_nlp.pipe([make_doc(tutorial_nlp, batch[i]) for i in order], batch_size=batch_size)
    assert tags(docs) == [alone[i] for i in order]


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
    doc = tutorial_nlp(text)
    assert_tagged(tutorial_nlp, doc, text, [t.text for t in doc])


def test_100000_token_doc(tutorial_nlp):
    words = ("The dog ate the apple . " * 20_000).split()[:100_000]
    doc = tutorial_nlp(make_doc(tutorial_nlp, words))
    assert_tagged(tutorial_nlp, doc, " ".join(words) + " ", words)
    assert [t.tag_ for t in doc[:5]] == ["DET", "NN", "V", "DET", "NN"]


def test_10000_one_word_docs_in_one_pipe(tutorial_nlp):
    texts = [f"word{i}" if i % 3 else "dog" for i in range(10_000)]
    docs = list(tutorial_nlp.pipe(texts))
    assert [doc.text for doc in docs] == texts
    assert all(len(doc) == 1 and doc[0].tag_ in tutorial_nlp.get_pipe("lstm_tagger").labels for doc in docs)
    assert tags(docs[:30]) == [tags([tutorial_nlp(text)])[0] for text in texts[:30]]
