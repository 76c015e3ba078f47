"""Long Docs go through the network in bounded, overlapping windows."""
import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from spacy_lstm_tagger.pytorch import windows
from spacy_lstm_tagger.pytorch.windows import plan_windows


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=1, max_size=8), st.integers(1, 60), st.integers(0, 20))
def test_every_token_is_taken_once_from_a_window_that_holds_it(lengths, window, context):
    lengths = numpy.asarray(lengths, dtype="int64")
    plan = plan_windows(lengths, window, context)
    if plan is None:
        assert lengths.max() <= window + 2 * context
        return
    total = int(lengths.sum())
    assert (plan.gather[plan.take] == numpy.arange(total)).all()
    assert plan.lengths.sum() == len(plan.gather) and (plan.lengths > 0).all()
    assert plan.lengths.max() <= window + 2 * context
    # Windows never cross from one sequence into the next.
    doc_of = numpy.repeat(numpy.arange(len(lengths)), lengths)
    starts = numpy.cumsum(plan.lengths) - plan.lengths
    for start, length in zip(starts, plan.lengths):
        assert len(set(doc_of[plan.gather[start : start + length]])) == 1


def test_groups_cover_the_windows_in_order_within_the_bound():
    plan = plan_windows(numpy.asarray([5000, 3, 2500]), window=100, context=10)
    groups = list(plan.groups(group_tokens=450))
    assert numpy.array_equal(numpy.concatenate([index for index, _ in groups]), plan.gather)
    assert all(lengths.sum() <= 450 and lengths.sum() == len(index) for index, lengths in groups)


def test_long_doc_runs_through_the_network_in_bounded_groups(tutorial_nlp, monkeypatch):
    monkeypatch.setattr(windows, "GROUP_TOKENS", 3000)
    network = tutorial_nlp.get_pipe("lstm_tagger").model.get_ref("network")
    sizes = []
    original = network._func

    def recording_forward(model, X, is_train):
        sizes.append(len(X[0]))
        return original(model, X, is_train)

    monkeypatch.setattr(network, "_func", recording_forward)
    words = ("The dog ate the apple . " * 4000).split()
    doc = tutorial_nlp(Doc(tutorial_nlp.vocab, words=words))
    assert sum(sizes) >= len(words) and max(sizes) <= 3000 + windows.WINDOW + 2 * windows.CONTEXT
    assert [t.tag_ for t in doc] == ["DET", "NN", "V", "DET", "NN", doc[5].tag_] * 4000


def test_windows_agree_with_the_whole_sequence(tutorial_nlp):
    words = ("The dog ate the apple . Everybody read that book . " * 300).split()
    model = tutorial_nlp.get_pipe("lstm_tagger").model
    (ids, lengths), _ = model.get_ref("features")([Doc(tutorial_nlp.vocab, words=words)], False)
    whole, _ = model.get_ref("network")((ids, lengths), False)
    windowed = model.predict([Doc(tutorial_nlp.vocab, words=words)])[0]
    assert len(words) > windows.WINDOW + 2 * windows.CONTEXT
    assert (windowed.argmax(axis=1) == whole.argmax(axis=1)).mean() == pytest.approx(1.0)
