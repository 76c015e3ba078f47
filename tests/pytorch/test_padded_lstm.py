"""CPU training runs the LSTM over padded groups of sentences: the packed LSTM's outputs and
gradients, with the same weights."""
import numpy
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from spacy_lstm_tagger.pytorch.padded_lstm import GROUP_COST, plan_groups, run_lstm_by_length
from spacy_lstm_tagger.pytorch.execution import native_bfloat16
from spacy_lstm_tagger.pytorch.packing import packing_order


def packed_lstm(lstm, vectors, lengths):
    order, batch_sizes = map(torch.from_numpy, packing_order(lengths))
    packed = lstm(PackedSequence(vectors[order], batch_sizes))[0].data
    return torch.empty_like(packed).index_copy(0, order, packed)


@pytest.mark.parametrize("depth,bidirectional", [(2, True), (1, True), (2, False)])
def test_outputs_and_gradients_match_the_packed_lstm(depth, bidirectional):
    torch.manual_seed(0)
    lengths = numpy.asarray([7, 1, 30, 12, 12, 3, 55, 2, 9], dtype="int64")
    lstm = nn.LSTM(10, 6, num_layers=depth, bidirectional=bidirectional)
    vectors = torch.randn(int(lengths.sum()), 10, requires_grad=True)
    weights = torch.randn(int(lengths.sum()), 6 * (2 if bidirectional else 1))
    results = []
    for run in (packed_lstm, lambda *args: run_lstm_by_length(*args, 0.0)):
        vectors.grad = None
        lstm.zero_grad()
        output = run(lstm, vectors, lengths)
        (output * weights).sum().backward()
        results.append([output.detach(), vectors.grad.clone(), *(p.grad.clone() for p in lstm.parameters())])
    for by_length, packed in zip(*results[::-1]):
        torch.testing.assert_close(by_length, packed, rtol=1e-4, atol=1e-5)


def test_groups_trade_padding_for_fewer_kernel_calls():
    lengths = numpy.asarray([40, 39, 38, 5, 5, 4, 4, 4], dtype="int64")
    plan = plan_groups(lengths)
    shapes = sorted(tuple(group.forward_rows.shape) for group in plan.groups)
    assert shapes == [(5, 5), (40, 3)]  # one group would pad 5 short sentences to 40 steps
    one_each = plan_groups(numpy.asarray([GROUP_COST * 4, 1], dtype="int64"))
    assert len(one_each.groups) == 2


@pytest.mark.skipif(not native_bfloat16(), reason="no native bfloat16 on this CPU")
def test_bfloat16_kernels_give_float32_outputs_and_gradients_close_to_float32s():
    """With dtype bfloat16 the kernels read bfloat16 copies; what comes out, and the gradients of
    the float32 weights, are float32 and within bfloat16's rounding of the float32 run."""
    torch.manual_seed(0)
    lengths = numpy.asarray([7, 1, 30, 12, 12, 3, 55, 2, 9], dtype="int64")
    lstm = nn.LSTM(10, 6, num_layers=2, bidirectional=True)
    vectors = torch.randn(int(lengths.sum()), 10, requires_grad=True)
    weights = torch.randn(int(lengths.sum()), 12)
    results = []
    for dtype in (torch.float32, torch.bfloat16):
        vectors.grad = None
        lstm.zero_grad()
        output = run_lstm_by_length(lstm, vectors, lengths, 0.0, dtype)
        (output * weights).sum().backward()
        results.append([output.detach(), vectors.grad.clone(), *(p.grad.clone() for p in lstm.parameters())])
    for float32, bfloat16 in zip(*results):
        assert bfloat16.dtype == torch.float32
        assert not torch.equal(float32, bfloat16)  # the kernels did run in bfloat16
        torch.testing.assert_close(bfloat16, float32, rtol=0.05, atol=0.05 * float(float32.abs().max()))
