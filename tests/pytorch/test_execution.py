"""execution.py: which path a call takes, and that every path gives the same logits."""
import pytest
import torch

from networks import ids_and_lengths, small_network
from spacy_lstm_tagger.pytorch import execution, windows
from spacy_lstm_tagger.pytorch.execution import GATE_TABLES, INT8, NUMPY_STEPS, PACKED, PADDED, choose_path
from spacy_lstm_tagger.pytorch.gate_tables import MIN_TOKENS_PER_STEP

CPU, GPU = torch.device("cpu"), torch.device("cuda")


@pytest.mark.parametrize("device,training,dtype,quantize,tokens_per_step,expected", [
    (CPU, True, torch.float32, False, 30, PADDED),
    (CPU, False, torch.float32, False, MIN_TOKENS_PER_STEP, GATE_TABLES),
    (CPU, False, torch.float32, False, MIN_TOKENS_PER_STEP - 0.5, NUMPY_STEPS),
    (CPU, False, torch.float32, False, 1, NUMPY_STEPS),
    (CPU, False, torch.float64, False, 30, PACKED),
    (CPU, False, torch.float32, True, 30, INT8),
    (CPU, False, torch.float32, True, 1, INT8),
    (GPU, True, torch.float32, False, 30, PACKED),
    (GPU, False, torch.float32, False, 30, PACKED),
])
def test_the_path_follows_what_the_call_is_told(device, training, dtype, quantize, tokens_per_step, expected):
    assert choose_path(device=device, training=training, dtype=dtype, quantize=quantize,
                       tokens_per_step=tokens_per_step) == expected


@pytest.mark.parametrize("device,training,message", [
    (CPU, True, "int8 weights that cannot learn"), (GPU, False, "set quantize = false on a GPU"),
])
def test_quantize_is_refused_for_training_and_on_a_gpu(device, training, message):
    with pytest.raises(ValueError, match=message):
        choose_path(device=device, training=training, dtype=torch.float32, quantize=True, tokens_per_step=30)


def recording_paths(monkeypatch) -> list:
    """Replace each path by one that records its name and the number of tokens, then runs it."""
    seen = []
    for name, path in list(execution.PATHS.items()):
        def recording(network, ids, *args, name=name, path=path):
            seen.append((name, len(ids)))
            return path(network, ids, *args)
        monkeypatch.setitem(execution.PATHS, name, recording)
    return seen


def test_forward_runs_the_chosen_path(monkeypatch):
    """Training is what the call says (Thinc's is_train), not autograd's global state."""
    net = small_network()
    seen = recording_paths(monkeypatch)
    many, many_lengths = ids_and_lengths(net, [3] * MIN_TOKENS_PER_STEP)
    few, few_lengths = ids_and_lengths(net, [3] * (MIN_TOKENS_PER_STEP - 1))
    net(many, many_lengths, training=True)
    with torch.no_grad():
        net(many, many_lengths, training=True)
    net(many, many_lengths)
    net(few, few_lengths)
    net(few, few_lengths, quantize=True)
    assert [name for name, _ in seen] == [PADDED, PADDED, GATE_TABLES, NUMPY_STEPS, INT8]


@pytest.mark.parametrize("depth,bidirectional", [(2, True), (1, False)])
def test_every_path_gives_the_packed_paths_logits(depth, bidirectional):
    net = small_network(bidirectional, depth)
    ids, lengths = ids_and_lengths(net, [5, 1, 9, 3, 9, 2] * 4)
    with torch.no_grad():
        packed = execution.packed(net, ids, lengths, None, 0.0)
        torch.testing.assert_close(execution.padded(net, ids, lengths, None, 0.0), packed, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(execution.from_gate_tables(net, ids, lengths, None), packed, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(execution.from_numpy_steps(net, ids, lengths, None), packed, rtol=1e-5, atol=1e-6)
        int8 = execution.int8(net, ids, lengths, None)
    assert int8.shape == packed.shape and not torch.equal(int8, packed)
    assert float((int8 - packed).abs().max()) < 0.1 * float(packed.abs().max())  # int8 rounding, no more
    assert float((int8.argmax(dim=1) == packed.argmax(dim=1)).float().mean()) >= 0.9


def test_dropout_between_layers_runs_layer_by_layer_to_the_same_result():
    """A rate that rounds to no dropped values takes the layer-by-layer packed LSTM: the same
    logits as the whole nn.LSTM."""
    net = small_network(depth=3)
    ids, lengths = ids_and_lengths(net, [4, 7, 2])
    with torch.no_grad():
        torch.testing.assert_close(execution.packed(net, ids, lengths, None, 1e-9),
                                   execution.packed(net, ids, lengths, None, 0.0), rtol=1e-5, atol=1e-6)


def test_what_is_derived_follows_the_weights():
    """The gate tables, the NumPy step weights and the int8 copy are made again after a weight
    changes in place."""
    net = small_network()
    ids, lengths = ids_and_lengths(net, [3] * MIN_TOKENS_PER_STEP)
    with torch.no_grad():
        before = {path: execution.PATHS[path](net, ids, lengths, None, 0.0) for path in (GATE_TABLES, NUMPY_STEPS, INT8)}
        net.output.bias.add_(1.0)
        for path, logits in before.items():
            after = execution.PATHS[path](net, ids, lengths, None, 0.0)
            torch.testing.assert_close(after, logits + 1.0, rtol=1e-5, atol=1e-5)


def test_what_is_derived_is_not_pickled_or_copied():
    import copy
    import pickle

    net = small_network()
    ids, lengths = ids_and_lengths(net, [3] * MIN_TOKENS_PER_STEP)
    with torch.no_grad():
        net(ids, lengths)
    assert hasattr(net, "_derived")
    assert not hasattr(copy.deepcopy(net), "_derived")
    assert not hasattr(pickle.loads(pickle.dumps(net)), "_derived")


def test_a_long_sequence_runs_in_bounded_windows_close_to_the_whole(monkeypatch):
    net = small_network()
    length = 3 * windows.WINDOW + 7
    ids, lengths = ids_and_lengths(net, [length, 4])
    monkeypatch.setattr(windows, "GROUP_TOKENS", 2 * windows.WINDOW)
    seen = recording_paths(monkeypatch)
    with torch.no_grad():
        windowed = net(ids, lengths)
        whole = execution.packed(net, ids, lengths, None, 0.0)
    assert sum(n for _, n in seen) >= length + 4
    assert max(n for _, n in seen) <= 2 * windows.WINDOW + 2 * windows.CONTEXT
    assert windowed.shape == whole.shape
    torch.testing.assert_close(windowed, whole, rtol=1e-3, atol=1e-4)  # 50 tokens of context suffice
