"""CPU tagging with the first LSTM layer's input gates read from tables.

The first layer's input projection is linear in the token's vector, which is its features'
embedding rows side by side (then the character CNN's output). So each feature table E_f can be
multiplied by its slice W_f of the input weights once, E_f W_f^T, and a token's input gates are
the sum of one row per feature, plus the projection of its character vector and of its new-value
rows, if any (first_gates.py, which both CPU tagging paths share): a gather instead of a
(directions x 4 x hidden) x (input width) product per token, the largest in the network. Here,
in torch, for batches with many tokens a time step, each layer's recurrence then runs step by
step over the packed sentences, both directions at once, with one sigmoid for all four gates (the
cell gate's weights are doubled, and tanh(x) = 2 sigmoid(2x) - 1: torch's tanh is several times
slower); a later layer's input gates are one matrix product for the whole batch.

The tables (about 80 MB for the default config) are made at the first prediction after the
weights change (execution.py keeps them). They are never saved or pickled. The logits are the
network's up to rounding (`tests/pytorch/test_gate_tables.py`); the default model's dev tags are the same.
"""
from typing import List, NamedTuple, Optional

import torch

from .first_gates import FirstGates, first_layer_gates
from .lstm_weights import WEIGHT_NAMES, directions, layer_weights
from .network import LSTMTaggerNet
from .packing import backward_steps, packing_order


class GateTables(NamedTuple):
    rows: torch.Tensor  # (all feature tables' rows, directions x 4 x hidden): E_f W_f^T, stacked
    offsets: torch.Tensor  # (n_features,) each feature's first row in `rows`
    embed_weight: torch.Tensor  # (directions x 4 x hidden, n_features x embed width), for new-value rows
    char_weight: Optional[torch.Tensor]  # (directions x 4 x hidden, char width)
    static_weight: Optional[torch.Tensor]  # (directions x 4 x hidden, vectors width): through the projection
    input_weights: List[torch.Tensor]  # per layer, (directions x 4 x hidden, input width), both directions
    biases: List[torch.Tensor]  # per layer, (directions x 4 x hidden,), both biases added
    recurrent: List[torch.Tensor]  # per layer, (directions, hidden, 4 x hidden): W_hh transposed


MIN_TOKENS_PER_STEP = 16
"""Tagging runs this path from this many tokens per time step, and numpy_steps.py below it. A step
costs a few operations whatever its width: NumPy's are cheaper for few tokens (a single sentence's
recurrence takes 2.5 times as long here, 5 tokens a step 1.5 times), torch's threads pay for many
(130 tokens a step: 1.5 times as fast with 2 threads); at 1 thread the two are even from about 16."""


def make_tables(network: LSTMTaggerNet) -> GateTables:
    """The gate tables and stacked weights for the network's current weights."""
    lstm = network.lstm

    def stacked(name: str, layer: int) -> List[torch.Tensor]:
        return [layer_weights(lstm, layer, backward)[WEIGHT_NAMES.index(name)] for backward in directions(lstm)]

    # The cell gate's weights doubled: tanh(x) = 2 sigmoid(2x) - 1, and torch's sigmoid is several
    # times as fast as its tanh, so one sigmoid serves all four gates (see _recurrence).
    scale = torch.ones(4 * lstm.hidden_size)
    scale[2 * lstm.hidden_size : 3 * lstm.hidden_size] = 2.0
    both_scales = scale.repeat(len(directions(lstm)))  # for the directions' gates side by side
    with torch.no_grad():
        layers = range(lstm.num_layers)
        input_weights = [torch.cat(stacked("weight_ih", layer)) * both_scales[:, None] for layer in layers]
        biases = [(torch.cat(stacked("bias_ih", layer)) + torch.cat(stacked("bias_hh", layer))) * both_scales
                  for layer in layers]
        recurrent = [torch.stack([w.T * scale for w in stacked("weight_hh", layer)]).contiguous() for layer in layers]
        width, n_features = network.embed_width, len(network.embeddings)
        first = input_weights[0]
        rows = torch.cat([table.weight @ first[:, i * width : (i + 1) * width].T
                          for i, table in enumerate(network.embeddings)])
        sizes = torch.tensor([table.num_embeddings for table in network.embeddings])
        char_weight = first[:, n_features * width :].contiguous() if network.chars is not None else None
        static_weight = first @ network.static_vectors.weight if network.static_vectors is not None else None
    return GateTables(rows, sizes.cumsum(0) - sizes, first[:, : n_features * width].contiguous(),
                      char_weight, static_weight, input_weights, biases, recurrent)


def logits(network: LSTMTaggerNet, tables: GateTables, first: FirstGates, ids: torch.Tensor, lengths: torch.Tensor,
           static: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The network's logits (n_tokens, n_labels) for ids, lengths and static vectors as
    `LSTMTaggerNet.forward` takes them, when tagging (no dropout), from the first layer's input
    gates of first_gates.py. Everything runs in the forward direction's packed order; the
    backward direction's steps are a permutation of it."""
    order, batch_sizes = packing_order(lengths.numpy())
    backward = torch.from_numpy(backward_steps(lengths.numpy())) if network.lstm.bidirectional else None
    gates = torch.from_numpy(first_layer_gates(network, first, ids.numpy()[order],
                                               None if static is None else static.numpy()[order]))
    order, batch_sizes = torch.from_numpy(order), torch.from_numpy(batch_sizes)
    for layer in range(network.lstm.num_layers):
        if layer:
            gates = torch.addmm(tables.biases[layer], hidden, tables.input_weights[layer].T)
        hidden = _layer(gates, batch_sizes, tables.recurrent[layer], backward)
    result = torch.empty((len(order), network.n_labels))
    result[order] = network.output(hidden)
    return result


def _layer(gates: torch.Tensor, batch_sizes: torch.Tensor, recurrent: torch.Tensor,
           backward: Optional[torch.Tensor]) -> torch.Tensor:
    """One layer's output (n_tokens, directions x hidden) from its input gates (n_tokens,
    directions x 4 x hidden), both in the forward direction's packed order."""
    gate_width = recurrent.shape[2]
    by_direction = gates.new_empty((recurrent.shape[0], gates.shape[0], gate_width))
    by_direction[0] = gates[:, :gate_width]
    if backward is None:
        return _recurrence(by_direction, batch_sizes, recurrent)[0]
    torch.index_select(gates[:, gate_width:], 0, backward, out=by_direction[1])
    hidden = _recurrence(by_direction, batch_sizes, recurrent)
    return torch.cat([hidden[0], torch.empty_like(hidden[1]).index_copy_(0, backward, hidden[1])], dim=1)


def _recurrence(gates: torch.Tensor, batch_sizes: torch.Tensor, recurrent: torch.Tensor) -> torch.Tensor:
    """The LSTM's hidden states (directions, n_tokens, hidden) over packed input gates
    (directions, n_tokens, 4 x hidden), every direction at each step at once."""
    n_directions, n_tokens, _ = gates.shape
    hidden_size = recurrent.shape[1]
    sizes = batch_sizes.tolist()
    h = gates.new_zeros((n_directions, sizes[0], hidden_size))
    c = torch.zeros_like(h)
    out = gates.new_empty((n_directions, n_tokens, hidden_size))
    start = 0
    for size in sizes:
        h, c = h[:, :size], c[:, :size]
        step = torch.baddbmm(gates[:, start : start + size], h, recurrent)
        # torch's gate order: input, forget, cell, output; the cell gate's inputs come doubled,
        # so 2 sigmoid - 1 of it is its tanh. c = f c + i tanh(g); h = o tanh(c).
        i, f, g, o = step.sigmoid_().chunk(4, dim=2)
        c = torch.addcmul(f * c - i, i, g, value=2.0)
        h = torch.addcmul(-o, o, torch.sigmoid(c * 2.0), value=2.0)
        out[:, start : start + size] = h
        start += size
    return out
