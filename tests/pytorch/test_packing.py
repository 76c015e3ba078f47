"""packing.py reads sentences laid end to end in the order torch's PackedSequence does."""
import numpy
import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

from spacy_lstm_tagger.pytorch.packing import backward_steps, packing_order


@pytest.mark.parametrize("lengths", [[3, 1, 5, 3, 2], [4], [1]])
@pytest.mark.parametrize("reverse", [False, True])
def test_packing_order_matches_torch(lengths, reverse):
    tokens = torch.split(torch.arange(sum(lengths)), lengths)
    expected = pack_sequence([t.flip(0) if reverse else t for t in tokens], enforce_sorted=False)
    order, batch_sizes = packing_order(numpy.asarray(lengths), reverse=reverse)
    assert order.tolist() == expected.data.tolist()
    assert batch_sizes.tolist() == expected.batch_sizes.tolist()


@pytest.mark.parametrize("lengths", [[3, 1, 5, 3, 2], [4]])
def test_backward_steps_find_each_token_in_the_forward_order(lengths):
    lengths = numpy.asarray(lengths)
    forward, backward = packing_order(lengths)[0], packing_order(lengths, reverse=True)[0]
    assert forward[backward_steps(lengths)].tolist() == backward.tolist()
