"""CPU tagging through the first layer's gate tables gives the network's own logits."""
import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam

from conftest import SMALL_MODEL, tutorial_examples
from spacy_lstm_tagger.pytorch.gate_tables import MIN_TOKENS_PER_STEP, applies, logits, make_tables
from spacy_lstm_tagger.pytorch.network import LSTMTaggerNet


def network(bidirectional: bool, depth: int, char_width: int, new_value_rows: int) -> LSTMTaggerNet:
    torch.manual_seed(0)
    net = LSTMTaggerNet(n_features=3, embed_width=4, hidden_width=5, depth=depth, bidirectional=bidirectional,
                        char_width=char_width, new_value_rows=new_value_rows)
    net.resize([7, 6, 9] + ([12] if char_width else []), n_labels=4)
    if new_value_rows:
        torch.nn.init.normal_(net.new_values.weight[1:])
    return net.eval()


def ids_and_lengths(net: LSTMTaggerNet, lengths, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    n = sum(lengths)
    columns = [torch.randint(0, table.num_embeddings, (n, 1), generator=generator) for table in net.embeddings]
    if net.chars is not None:
        columns.append(torch.randint(0, net.chars.embedding.num_embeddings, (n, 6), generator=generator))
    if net.new_values is not None:
        new = torch.randint(1, net.new_values.num_embeddings, (n, 3 * 2), generator=generator)
        columns.append(new * (torch.rand((n, 1), generator=generator) < 0.3))  # about 30% of tokens
    return torch.cat(columns, dim=1), torch.tensor(lengths)


@pytest.mark.parametrize("bidirectional,depth,char_width,new_value_rows", [
    (True, 2, 8, 10), (True, 1, 0, 0), (False, 1, 8, 0), (False, 3, 0, 10), (True, 3, 8, 10),
])
def test_logits_are_the_networks(bidirectional, depth, char_width, new_value_rows):
    net = network(bidirectional, depth, char_width, new_value_rows)
    ids, lengths = ids_and_lengths(net, [5, 1, 9, 3, 9, 2])
    with torch.no_grad():
        expected = net(ids, lengths)
        fast = logits(net, make_tables(net), ids, lengths)
    torch.testing.assert_close(fast, expected, rtol=1e-5, atol=1e-6)
    if new_value_rows:
        assert ids[:, -6:].any()  # some tokens have new-value rows


def test_what_takes_the_path():
    """Tagging on a CPU, with enough tokens per time step; not training, static vectors, or a long
    sentence alone."""
    net = network(True, 2, 8, 10)
    many, many_lengths = ids_and_lengths(net, [3] * MIN_TOKENS_PER_STEP)
    few, few_lengths = ids_and_lengths(net, [3] * (MIN_TOKENS_PER_STEP - 1))
    with torch.no_grad():
        assert applies(net, many, many_lengths, None)
        assert not applies(net, few, few_lengths, None)
        assert not applies(net, many, many_lengths, torch.zeros((len(many), 2)))  # static vectors
        assert not applies(net, many[:0], many_lengths[:0], None)
        assert logits(net, make_tables(net), many[:0], many_lengths[:0]).shape == (0, 4)
    assert not applies(net, many, many_lengths, None)  # gradients on: training


def test_tables_follow_the_weights_through_updates_and_averages():
    """After each update, and inside use_params (the averaged weights spaCy evaluates and saves
    with), the component tags with tables of the weights in use: the network's own scores."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("lstm_tagger", config={"model": {**SMALL_MODEL, "depth": 2}})
    optimizer = nlp.initialize(lambda: tutorial_examples(nlp), sgd=Adam(0.01))
    shim = tagger.model.get_ref("network").shims[0]
    docs = [Doc(nlp.vocab, words=["The", "dog", "read", "that", "book"]) for _ in range(MIN_TOKENS_PER_STEP)]

    def check():
        fast = tagger.predict_uncalibrated(docs)[0]
        with torch.no_grad():
            (ids, lengths), _ = tagger.model.get_ref("features")(docs, False)
            expected = torch.softmax(shim.module(torch.from_numpy(ids), torch.from_numpy(lengths)), dim=1)
        numpy.testing.assert_allclose(fast, expected.numpy()[:5], rtol=1e-4, atol=1e-6)
        assert shim._gate_tables is not None  # tagged through the tables
        return fast

    before = check()
    for _ in range(3):
        nlp.update(tutorial_examples(nlp), sgd=optimizer)
        check()
    assert not numpy.allclose(before, check())
    with nlp.use_params(optimizer.averages):
        averaged = check()
    assert not numpy.allclose(averaged, check())
    example = Example(Doc(nlp.vocab, words=["wug"]), Doc(nlp.vocab, words=["wug"], tags=["NN"]))
    nlp.update([example], sgd=optimizer)
    check()
