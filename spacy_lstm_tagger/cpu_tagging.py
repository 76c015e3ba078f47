"""CPU tagging with the first LSTM layer's input gates read from tables.

The first layer's input projection is linear in the token's vector, which is its features'
embedding rows side by side (then the character CNN's output). So each feature table E_f can be
multiplied by its slice W_f of the input weights once, E_f W_f^T, and a token's input gates are
the sum of one row per feature (one `embedding_bag`), plus the projection of its character vector
and of its new-value rows, if any: a gather instead of a (directions x 4 x hidden) x (input
width) product per token, the largest in the network. Each layer's recurrence then runs step by
step over the packed sentences, both directions at once, with one sigmoid for all four gates (the
cell gate's weights are doubled, and tanh(x) = 2 sigmoid(2x) - 1: torch's tanh is several times
slower); a later layer's input gates are one matrix product for the whole batch.

The tables (about 80 MB for the default config) are made at the first prediction after the
weights change: the shim drops them whenever it changes the weights, and they are also checked
against each weight's identity and version. They are never saved or pickled. The logits are the
network's up to rounding (`tests/test_cpu_tagging.py`); the default model's dev tags are the same.
"""
from typing import List, NamedTuple, Optional

import torch
from torch import nn

from .network import LSTMTaggerNet, packing_order
from .util import NEW_VALUE_SCALE


class GateTables(NamedTuple):
    key: tuple  # the weights the tables were made from: (id, data pointer, version) of each
    rows: torch.Tensor  # (all feature tables' rows, directions x 4 x hidden): E_f W_f^T, stacked
    offsets: torch.Tensor  # (n_features,) each feature's first row in `rows`
    embed_weight: torch.Tensor  # (directions x 4 x hidden, n_features x embed width), for new-value rows
    char_weight: Optional[torch.Tensor]  # (directions x 4 x hidden, char width)
    input_weights: List[torch.Tensor]  # per layer, (directions x 4 x hidden, input width), both directions
    biases: List[torch.Tensor]  # per layer, (directions x 4 x hidden,), both biases added
    recurrent: List[torch.Tensor]  # per layer, (directions, hidden, 4 x hidden): W_hh transposed


MIN_TOKENS_PER_STEP = 16
"""The path pays for its Python loop over time steps only when each step has enough tokens: a
batch of 256 sentences has about 30 per step, and is tagged 1.5 times as fast; the windows of one
100,000-token Doc, about 8 per step, took 1.6 times as long as the network's own LSTM."""


def applies(network: LSTMTaggerNet, ids: torch.Tensor, lengths: torch.Tensor, static: Optional[torch.Tensor]) -> bool:
    """Whether a prediction takes this path: float32 weights and no gradients on a CPU, no static
    vectors, the network's own nn.LSTM (not the int8 one), and enough tokens per time step."""
    return (
        type(network.lstm) is nn.LSTM
        and ids.device.type == "cpu"
        and static is None
        and not torch.is_grad_enabled()
        and network.lstm.weight_ih_l0.dtype == torch.float32
        and len(lengths) > 0
        and len(ids) >= MIN_TOKENS_PER_STEP * int(lengths.max())
    )


def weights_key(network: nn.Module) -> tuple:
    return tuple((id(p), p.data_ptr(), p._version) for p in network.parameters())


def make_tables(network: LSTMTaggerNet) -> GateTables:
    """The gate tables and stacked weights for the network's current weights."""
    lstm = network.lstm
    directions = ["", "_reverse"][: 2 if lstm.bidirectional else 1]

    def stacked(name: str, layer: int) -> List[torch.Tensor]:
        return [getattr(lstm, f"{name}_l{layer}{direction}") for direction in directions]

    # The cell gate's weights doubled: tanh(x) = 2 sigmoid(2x) - 1, and torch's sigmoid is several
    # times as fast as its tanh, so one sigmoid serves all four gates (see _recurrence).
    scale = torch.ones(4 * lstm.hidden_size)
    scale[2 * lstm.hidden_size : 3 * lstm.hidden_size] = 2.0
    both_scales = scale.repeat(len(directions))  # for the directions' gates side by side
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
    return GateTables(weights_key(network), rows, sizes.cumsum(0) - sizes, first[:, : n_features * width].contiguous(),
                      char_weight, input_weights, biases, recurrent)


def logits(network: LSTMTaggerNet, tables: GateTables, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The network's logits (n_tokens, n_labels) for ids and lengths as `LSTMTaggerNet.forward`
    takes them, when tagging (no dropout). Everything runs in the forward direction's packed
    order; the backward direction's steps are a permutation of it."""
    if ids.shape[0] == 0:
        return torch.zeros((0, network.n_labels))
    order, batch_sizes = packing_order(lengths)
    backward = None
    if network.lstm.bidirectional:
        backward = _backward_steps(order, packing_order(lengths, reverse=True)[0])
    gates = _input_gates(network, tables, ids[order])
    for layer in range(network.lstm.num_layers):
        if layer:
            gates = torch.addmm(tables.biases[layer], hidden, tables.input_weights[layer].T)
        hidden = _layer(gates, batch_sizes, tables.recurrent[layer], backward)
    result = torch.empty((len(order), network.n_labels))
    result[order] = network.output(hidden)
    return result


def _backward_steps(forward_order: torch.Tensor, backward_order: torch.Tensor) -> torch.Tensor:
    """For each packed row of the backward direction, the packed row of the forward direction
    that holds the same token."""
    position = torch.empty_like(forward_order)
    position[forward_order] = torch.arange(len(forward_order))
    return position[backward_order]


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


def _input_gates(network: LSTMTaggerNet, tables: GateTables, ids: torch.Tensor) -> torch.Tensor:
    """Each token's first-layer input gates, both directions side by side, biases included."""
    gates = nn.functional.embedding_bag(ids[:, : len(network.embeddings)] + tables.offsets, tables.rows, mode="sum")
    gates += tables.biases[0]
    new = network.new_value_rows(ids)
    if new is not None:
        tokens, rows = new
        gates.index_add_(0, tokens, rows @ tables.embed_weight.T, alpha=NEW_VALUE_SCALE)
    if tables.char_weight is not None:
        gates.addmm_(network.chars(network.char_ids(ids)), tables.char_weight.T)
    return gates


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
