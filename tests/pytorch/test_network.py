"""The network's input vectors: the hashed rows of values first seen after initialize."""
import pytest
import torch

from spacy_lstm_tagger.pytorch.columns import NEW_VALUE_HASHES, NEW_VALUE_SCALE, IdColumns
from spacy_lstm_tagger.pytorch.execution import run
from spacy_lstm_tagger.pytorch.network import LSTMEncoderNet, LSTMTaggerNet


def test_new_value_rows_reach_only_the_tokens_that_have_them():
    """`embed` reads the hashed table for the tokens with a new value alone: the vectors and the
    gradients are those of adding every token's (mostly zero) rows."""
    torch.manual_seed(0)
    net = LSTMTaggerNet(IdColumns(2, 0, True), embed_width=4, hidden_width=3, depth=1, bidirectional=False,
                        new_value_rows=10)
    net.resize([5, 6], n_labels=3)
    torch.nn.init.normal_(net.new_values.weight[1:])
    ids = torch.tensor([[1, 2, 0, 0, 0, 0], [0, 3, 4, 7, 0, 0], [4, 0, 0, 0, 9, 1], [2, 5, 0, 0, 0, 0]])
    vectors = net.embed(net.input_parts(ids))
    vectors.sum().backward()
    fast_grad = net.new_values.weight.grad.clone()
    net.new_values.weight.grad = None
    rows = net.new_values(ids[:, 2:]).view(4, 2, NEW_VALUE_HASHES, 4).sum(dim=2).flatten(1)
    dense = torch.cat([net.embeddings[0](ids[:, 0]), net.embeddings[1](ids[:, 1])], dim=1) + NEW_VALUE_SCALE * rows
    dense.sum().backward()
    assert torch.equal(vectors, dense)
    assert torch.equal(fast_grad, net.new_values.weight.grad)
    assert not torch.equal(vectors[1:3], torch.cat([net.embeddings[0](ids[1:3, 0]), net.embeddings[1](ids[1:3, 1])], 1))


def test_starting_with_zero_states_zeroes_the_top_layer_alone():
    """The top layer's cell-input gate at zero makes its states zero for any input; the layer
    below keeps its random start, and every gate still gets a gradient."""
    torch.manual_seed(0)
    net = LSTMTaggerNet(IdColumns(1, 0, False), embed_width=4, hidden_width=3, depth=2, bidirectional=True)
    net.resize([6], n_labels=2)
    net.start_with_zero_states()
    ids, lengths = torch.tensor([[1], [2], [3], [4], [5]]), torch.tensor([3, 2])
    top = run(net, ids, lengths, training=False, states=True)
    below = run(net, ids, lengths, training=False, states=True, depth=1)
    assert torch.equal(top, torch.zeros_like(top)) and below.abs().min() > 0
    torch.nn.init.normal_(net.output.weight)
    (run(net, ids, lengths, training=True) * torch.randn(5, 2)).sum().backward()
    assert net.lstm.weight_ih_l1.grad[6:9].abs().sum() > 0


def test_an_encoder_gives_states_and_a_tagger_logits_from_one_forward():
    """One `forward` for both networks: the encoder's states are the tagger's LSTM states, the
    tagger's logits are its output layer over them, and `depth` is for states alone."""
    torch.manual_seed(0)
    net = LSTMTaggerNet(IdColumns(1, 0, False), embed_width=4, hidden_width=3, depth=2, bidirectional=True)
    net.resize([6], n_labels=2)
    encoder = LSTMEncoderNet(IdColumns(1, 0, False), embed_width=4, hidden_width=3, depth=2, bidirectional=True)
    encoder.resize([6])
    encoder.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("output.")})
    ids, lengths = torch.tensor([[1], [2], [3], [4], [5]]), torch.tensor([3, 2])
    states = encoder(ids, lengths)
    assert states.shape == (5, 6)
    assert torch.allclose(net(ids, lengths), net.output(states), atol=1e-6)
    with pytest.raises(ValueError, match="depth"):
        net(ids, lengths, depth=1)
    with pytest.raises(ValueError, match="int8"):
        encoder(ids, lengths, quantize=True)
