"""Long Docs go through the network in bounded, overlapping windows."""
import numpy
from hypothesis import given, settings
from hypothesis import strategies as st

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
