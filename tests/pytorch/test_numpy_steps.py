"""CPU tagging stepped in NumPy gives the packed path's logits."""
import pytest
import torch

from networks import ids_and_lengths, small_network
from spacy_lstm_tagger.pytorch import execution, gate_tables, numpy_steps


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
        stepped = numpy_steps.logits(net, numpy_steps.make_weights(net, tables), ids, lengths, static)
    assert stepped.dtype == expected.dtype
    torch.testing.assert_close(stepped, expected, rtol=1e-5, atol=1e-6)


def test_the_character_cnn_is_charcnns_for_any_padding():
    net = small_network(char_width=8)
    char_ids = torch.tensor([[3, 1, 4, 1, 5, 9], [2, 7, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 4, 0, 6, 0, 0], [11] * 6])
    weights = numpy_steps.make_weights(net, gate_tables.make_tables(net))
    with torch.no_grad():
        expected = net.chars(char_ids)
    torch.testing.assert_close(torch.from_numpy(numpy_steps._char_cnn(char_ids.numpy(), *weights.chars[:3])), expected)


def test_first_layer_gates_are_made_once_per_distinct_id_row(monkeypatch):
    net = small_network()
    ids, lengths = ids_and_lengths(net, [4, 6])
    repeated = torch.cat([ids, ids[:3], ids[5:6]])  # a third Doc of words the first two have
    weights = numpy_steps.make_weights(net, gate_tables.make_tables(net))
    made = []
    monkeypatch.setattr(numpy_steps, "_input_gates",
                        lambda *args, make=numpy_steps._input_gates: made.append(len(args[2])) or make(*args))
    with torch.no_grad():
        first = numpy_steps.logits(net, weights, repeated, torch.tensor([4, 6, 4]))
        again = numpy_steps.logits(net, weights, repeated, torch.tensor([4, 6, 4]))
        expected = execution.packed(net, repeated, torch.tensor([4, 6, 4]), None, 0.0)
    assert made == [len(torch.unique(ids, dim=0))]
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    torch.testing.assert_close(first, expected, rtol=1e-5, atol=1e-6)


def test_the_gate_cache_holds_at_most_its_budget(monkeypatch):
    net = small_network()
    monkeypatch.setattr(numpy_steps, "GATE_CACHE_BYTES", 5 * 2 * 4 * 5 * 4)  # 5 rows of 2 x 4 x 5 float32 gates
    weights = numpy_steps.make_weights(net, gate_tables.make_tables(net))
    assert weights.first_gates.max_keys == 5
    with torch.no_grad():
        for seed in range(4):
            ids, lengths = ids_and_lengths(net, [3], seed=seed)
            stepped = numpy_steps.logits(net, weights, ids, lengths)
            torch.testing.assert_close(stepped, execution.packed(net, ids, lengths, None, 0.0), rtol=1e-5, atol=1e-6)
            _, index, rows = weights.first_gates._state
            assert len(index) <= 5 and len(rows) <= 5
