"""The first layer's input gates that both CPU float32 tagging paths read, and their cache."""
import torch

from networks import ids_and_lengths, small_network
from spacy_lstm_tagger.pytorch import execution, first_gates, gate_tables, numpy_steps


def test_the_character_cnn_is_charcnns_for_any_padding():
    net = small_network(char_width=8)
    char_ids = torch.tensor([[3, 1, 4, 1, 5, 9], [2, 7, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 4, 0, 6, 0, 0], [11] * 6])
    first = first_gates.make_first_gates(net, gate_tables.make_tables(net))
    with torch.no_grad():
        expected = net.chars(char_ids)
    torch.testing.assert_close(torch.from_numpy(first_gates.char_cnn(char_ids.numpy(), *first.chars[:3])), expected)


def test_gates_are_made_once_per_distinct_id_row_for_both_paths(monkeypatch):
    net = small_network()
    ids, lengths = ids_and_lengths(net, [4, 6])
    repeated = torch.cat([ids, ids[:3], ids[5:6]])  # a third Doc of words the first two have
    repeated_lengths = torch.tensor([4, 6, 4])
    tables = gate_tables.make_tables(net)
    first = first_gates.make_first_gates(net, tables)
    made = []
    monkeypatch.setattr(first_gates, "_input_gates",
                        lambda *args, make=first_gates._input_gates: made.append(len(args[2])) or make(*args))
    with torch.no_grad():
        stepped = numpy_steps.logits(net, numpy_steps.make_weights(net, tables), first, repeated, repeated_lengths)
        again = numpy_steps.logits(net, numpy_steps.make_weights(net, tables), first, repeated, repeated_lengths)
        in_torch = gate_tables.logits(net, tables, first, repeated, repeated_lengths)
        expected = execution.packed(net, repeated, repeated_lengths, None, 0.0)
    assert made == [len(torch.unique(ids, dim=0))]
    torch.testing.assert_close(again, stepped, rtol=0, atol=0)
    torch.testing.assert_close(stepped, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(in_torch, expected, rtol=1e-5, atol=1e-6)


def test_static_vectors_bypass_the_cache():
    net = small_network(static_width=3)
    ids, lengths = ids_and_lengths(net, [4, 6])
    tables = gate_tables.make_tables(net)
    first = first_gates.make_first_gates(net, tables)
    with torch.no_grad():
        for static in (torch.randn(len(ids), 3), torch.randn(len(ids), 3)):
            gates = first_gates.first_layer_gates(net, first, ids.numpy(), static.numpy())
            stepped = gate_tables.logits(net, tables, first, ids, lengths, static)
            torch.testing.assert_close(stepped, execution.packed(net, ids, lengths, static, 0.0), rtol=1e-5, atol=1e-6)
    _, index, _ = first.cache._state
    assert gates.shape == (len(ids), tables.biases[0].numel()) and not index


def test_the_gate_cache_holds_at_most_its_budget(monkeypatch):
    net = small_network()
    monkeypatch.setattr(first_gates, "GATE_CACHE_BYTES", 5 * 2 * 4 * 5 * 4)  # 5 rows of 2 x 4 x 5 float32 gates
    tables = gate_tables.make_tables(net)
    weights, first = numpy_steps.make_weights(net, tables), first_gates.make_first_gates(net, tables)
    assert first.cache.max_keys == 5
    with torch.no_grad():
        for seed in range(4):
            ids, lengths = ids_and_lengths(net, [3], seed=seed)
            stepped = numpy_steps.logits(net, weights, first, ids, lengths)
            torch.testing.assert_close(stepped, execution.packed(net, ids, lengths, None, 0.0), rtol=1e-5, atol=1e-6)
            _, index, rows = first.cache._state
            assert len(index) <= 5 and len(rows) <= 5
