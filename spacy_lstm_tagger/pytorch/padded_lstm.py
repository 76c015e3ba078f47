"""Training an nn.LSTM on the CPU over sentences of similar length, padded, instead of packed.

For packed sequences, the CPU backward pass of nn.LSTM slices its input once per time step, and
each slice's gradient is a zero tensor the size of the whole input: its cost grows with the
batch's length times its size. Padded sequences take the fused oneDNN kernels, forward and
backward. So the sentences go, sorted by length, into a few padded groups; each direction of each
layer runs as its own one-layer LSTM (a reversed copy of each sentence for the backward
direction), so that no padding is ever read before a sentence's words. The result is the
packed LSTM's, up to rounding, with the same weights.
"""
from typing import List, NamedTuple, Optional

import numpy
import torch
from torch import nn

from .lstm_weights import directions, layer_input, layer_weights

# What one more group costs, in padded token steps: its kernel calls' fixed work.
GROUP_COST = 96


class Group(NamedTuple):
    """Sentences run together: for each (time step, sentence), the row of the token read in
    the forward and in the backward direction (the padding row past the last token)."""

    forward_rows: torch.Tensor
    backward_rows: torch.Tensor


class Plan(NamedTuple):
    groups: List[Group]
    valid: List[torch.Tensor]  # per group, the (step, sentence) places that hold a token
    forward_order: torch.Tensor  # where each token's forward output is, among the valid places
    backward_order: torch.Tensor


def run_lstm_by_length(
    lstm: nn.LSTM, vectors: torch.Tensor, lengths: numpy.ndarray, dropout: float, dtype: torch.dtype = torch.float32,
    depth: Optional[int] = None,
) -> torch.Tensor:
    """The (bi)LSTM's output for sentences laid end to end in `vectors` (n_tokens, width), with
    `dropout` between its layers: (n_tokens, hidden width x directions), in the same order, as
    float32; with `depth`, its first `depth` layers' output. With `dtype` bfloat16, the kernels
    read the inputs and weights in bfloat16 (the gradients reach the float32 weights through the
    casts)."""
    plan = plan_groups(lengths)
    hidden = vectors.to(dtype)
    for layer in range(depth or lstm.num_layers):
        hidden = layer_input(hidden, layer, dropout)
        with_padding = torch.cat([hidden, hidden.new_zeros((1, hidden.shape[1]))])  # the padding row last
        hidden = torch.cat([_direction(lstm, with_padding, plan, layer, backward) for backward in directions(lstm)],
                           dim=1)
    return hidden.float()


def plan_groups(lengths: numpy.ndarray) -> Plan:
    """Group the sentences, longest first, so as to minimize padded token steps plus GROUP_COST
    per group (exact dynamic programming over the sorted lengths)."""
    by_length = numpy.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[by_length]
    starts = numpy.cumsum(lengths) - lengths
    n_tokens = int(lengths.sum())
    best = numpy.zeros(len(lengths) + 1)
    cut = numpy.zeros(len(lengths) + 1, dtype="int64")
    for end in range(1, len(lengths) + 1):
        first = numpy.arange(end)  # a group of sentences first..end-1 is padded to the first's length
        costs = best[:end] + GROUP_COST + sorted_lengths[:end] * (end - first)
        cut[end] = int(costs.argmin())
        best[end] = costs[cut[end]]
    bounds, end = [], len(lengths)
    while end:
        bounds.append((cut[end], end))
        end = cut[end]
    groups, valid, forward_places, backward_places = [], [], [], []
    for first, end in reversed(bounds):
        members = by_length[first:end]
        member_lengths, member_starts = lengths[members], starts[members]
        steps = numpy.arange(member_lengths[0])[:, None]
        inside = steps < member_lengths[None, :]
        forward = numpy.where(inside, member_starts + steps, n_tokens)
        backward = numpy.where(inside, member_starts + member_lengths - 1 - steps, n_tokens)
        groups.append(Group(torch.from_numpy(forward), torch.from_numpy(backward)))
        places = numpy.flatnonzero(inside.reshape(-1))
        valid.append(torch.from_numpy(places))
        forward_places.append(forward.reshape(-1)[places])
        backward_places.append(backward.reshape(-1)[places])
    return Plan(groups, valid, _inverse(numpy.concatenate(forward_places)), _inverse(numpy.concatenate(backward_places)))


def _inverse(tokens: numpy.ndarray) -> torch.Tensor:
    """For each token, its position in `tokens` (a permutation of the token indices)."""
    inverse = numpy.empty_like(tokens)
    inverse[tokens] = numpy.arange(len(tokens))
    return torch.from_numpy(inverse)


def _direction(lstm: nn.LSTM, with_padding: torch.Tensor, plan: Plan, layer: int, backward: bool) -> torch.Tensor:
    """One direction of one layer, over all the groups: (n_tokens, hidden width), in token order.
    `with_padding` is the layer's input with a zero row after the last token's."""
    weights = [weight.to(with_padding.dtype) for weight in layer_weights(lstm, layer, backward)]
    outputs = []
    for group, valid in zip(plan.groups, plan.valid):
        rows = group.backward_rows if backward else group.forward_rows
        start = with_padding.new_zeros((1, rows.shape[1], lstm.hidden_size))
        inputs = with_padding.index_select(0, rows.reshape(-1)).view(*rows.shape, -1)
        hidden = torch.lstm(inputs, (start, start), weights, True, 1, 0.0, True, False, False)[0]
        outputs.append(hidden.reshape(-1, lstm.hidden_size).index_select(0, valid))
    order = plan.backward_order if backward else plan.forward_order
    return torch.cat(outputs).index_select(0, order)
