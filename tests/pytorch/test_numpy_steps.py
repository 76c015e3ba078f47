"""CPU tagging stepped in NumPy gives the packed path's logits."""
import pytest
import torch

from networks import ids_and_lengths, small_network
from spacy_lstm_tagger.pytorch import execution, gate_tables, numpy_steps
from spacy_lstm_tagger.pytorch.first_gates import make_first_gates


@pytest.mark.parametrize("bidirectional,depth,char_width,new_value_rows,static_width", [
    (True, 2, 8, 10, 0), (True, 1, 0, 0, 0), (False, 1, 8, 0, 0), (False, 3, 0, 10, 0), (True, 3, 8, 10, 0),
    (True, 2, 8, 10, 5), (False, 1, 0, 0, 3),
])
@pytest.mark.parametrize("lengths", [[5, 1, 9, 3, 9, 2], [1], [7]])
def test_logits_are_the_packed_paths(bidirectional, depth, char_width, new_value_rows, static_width, lengths):
    net = small_network(bidirectional, depth, char_width, new_value_rows, static_width)
    ids, lengths = ids_and_lengths(net, lengths)
    static = torch.randn(len(ids), static_width) if static_width else None
    with torch.no_grad():
        expected = execution.packed(net, ids, lengths, static, 0.0)
        tables = gate_tables.make_tables(net)
        weights, first = numpy_steps.make_weights(net, tables), make_first_gates(net, tables)
        stepped = numpy_steps.logits(net, weights, first, ids, lengths, static)
    assert stepped.dtype == expected.dtype
    torch.testing.assert_close(stepped, expected, rtol=1e-5, atol=1e-6)
