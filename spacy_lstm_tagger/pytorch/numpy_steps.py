"""CPU tagging of a few short sentences: the gate-table network (gate_tables.py), in NumPy.

One Doc at a time, each time step of the LSTM holds one token, and the time goes into calling
operations, not into arithmetic: a NumPy operation on a few hundred floats costs a fraction of a
torch one, whose dispatcher, cold after the table look-ups of the Doc before, costs more again.
So this path runs the whole network in NumPy, on arrays derived from the weights
(`make_weights`), from the first layer's input gates (first_gates.py): every LSTM step and the
output layer. Two matrix products alone go to torch (`first_gates.product`): a layer's input from
the layer below, and the static vectors'. Each step is one matrix product for both directions and
one tanh for all four gates: sigmoid(x) = (1 + tanh(x / 2)) / 2, so every gate's input is halved
(the tables' cell gate comes doubled, see gate_tables.py), and the hidden state is kept doubled,
h2 = 2 h, which the next layer's weights halve again.
The logits are the network's up to rounding (`tests/pytorch/test_numpy_steps.py`).
"""
from typing import List, NamedTuple, Optional, Tuple

import numpy
import torch

from .first_gates import FirstGates, first_layer_gates, product
from .gate_tables import GateTables
from .network import LSTMTaggerNet
from .packing import backward_steps, packing_order


class StepWeights(NamedTuple):
    """Arrays derived from the weights, scaled for tanh-only gates and a doubled h: NumPy arrays,
    and torch tensors for the larger matrix products (`first_gates.product`)."""

    input_weights: List[Optional[torch.Tensor]]  # per layer after the first, (input width, directions x 4 x hidden)
    biases: List[Optional[numpy.ndarray]]  # per layer after the first
    recurrent: List[numpy.ndarray]  # per layer, (directions, hidden, 4 x hidden)
    output_weight: numpy.ndarray  # (directions x hidden, n_labels)
    output_bias: numpy.ndarray  # (n_labels,)


def make_weights(network: LSTMTaggerNet, tables: GateTables) -> StepWeights:
    """The step weights from the network and its gate tables."""

    def array(tensor: torch.Tensor) -> numpy.ndarray:
        return tensor.detach().contiguous().numpy()

    # Every gate's input halved once the first layer's are summed; a weight on h2 = 2 h halved again.
    later = range(1, len(tables.input_weights))
    return StepWeights(
        [None] + [(tables.input_weights[layer].T * 0.25).contiguous() for layer in later],
        [None] + [array(tables.biases[layer] * 0.5) for layer in later],
        [array(recurrent * 0.25) for recurrent in tables.recurrent],
        array(network.output.weight.T * 0.5),
        array(network.output.bias),
    )


def logits(network: LSTMTaggerNet, weights: StepWeights, first: FirstGates, ids: torch.Tensor, lengths: torch.Tensor,
           static: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The network's logits (n_tokens, n_labels), as `gate_tables.logits` gives them."""
    order, batch_sizes = packing_order(lengths.numpy())
    backward = backward_steps(lengths.numpy()) if network.lstm.bidirectional else None
    gates = first_layer_gates(network, first, ids.numpy()[order], None if static is None else static.numpy()[order])
    gates *= 0.5
    sizes = batch_sizes.tolist()
    for layer, recurrent in enumerate(weights.recurrent):
        if layer:
            gates = product(hidden, weights.input_weights[layer])
            gates += weights.biases[layer]
        hidden = _layer(gates, sizes, recurrent, backward)
    packed_logits = hidden @ weights.output_weight
    packed_logits += weights.output_bias
    result = numpy.empty_like(packed_logits)
    result[order] = packed_logits
    return torch.from_numpy(result)


def _layer(gates: numpy.ndarray, sizes: List[int], recurrent: numpy.ndarray,
           backward: Optional[numpy.ndarray]) -> numpy.ndarray:
    """One layer's doubled output (n_tokens, directions x hidden) from its halved input gates
    (n_tokens, directions x 4 x hidden), both in the forward direction's packed order."""
    n_directions, _, gate_width = recurrent.shape
    by_direction = numpy.empty((n_directions, len(gates), gate_width), dtype=gates.dtype)
    by_direction[0] = gates[:, :gate_width]
    if backward is None:
        return _steps(by_direction, sizes, recurrent)[0]
    numpy.take(gates[:, gate_width:], backward, axis=0, out=by_direction[1])
    hidden = _steps(by_direction, sizes, recurrent)
    result = numpy.empty((len(gates), 2 * hidden.shape[2]), dtype=gates.dtype)
    result[:, : hidden.shape[2]] = hidden[0]
    result[backward, hidden.shape[2] :] = hidden[1]
    return result


def _steps(gates: numpy.ndarray, sizes: List[int], recurrent: numpy.ndarray) -> numpy.ndarray:
    """The doubled hidden states (directions, n_tokens, hidden) over packed, halved input gates
    (directions, n_tokens, 4 x hidden), every direction at each step at once. Every operation
    writes into an array made before the loop, through views made again only when the number
    of running sentences changes; each step's input gates and output come as views of one
    array per run of steps, one step after the other."""
    n_directions, n_tokens, _ = gates.shape
    hidden_size = recurrent.shape[1]
    out = numpy.empty((n_directions, n_tokens, hidden_size), dtype=gates.dtype)
    c = numpy.zeros((n_directions, sizes[0], hidden_size), dtype=gates.dtype)
    h2 = numpy.zeros_like(c)
    start = 0
    for size, n_steps in _runs(sizes):
        z = numpy.empty((n_directions, size, 4 * hidden_size), dtype=gates.dtype)
        p = numpy.empty_like(z)
        c, h2, tmp = c[:, :size], h2[:, :size], numpy.empty_like(c[:, :size])
        # torch's gate order: input, forget, cell, output.
        p_i, p_f, z_g, p_o = p[..., :hidden_size], p[..., hidden_size : 2 * hidden_size], \
            z[..., 2 * hidden_size : 3 * hidden_size], p[..., 3 * hidden_size :]
        end = start + n_steps * size
        for step_gates, h2_next in zip(_by_step(gates[:, start:end], n_steps), _by_step(out[:, start:end], n_steps)):
            numpy.matmul(h2, recurrent, out=z)
            z += step_gates
            numpy.tanh(z, out=z)  # tanh(x / 2) of the input, forget and output gates; tanh of the cell gate
            numpy.add(z, 1.0, out=p)  # 2 sigmoid(x) of the input, forget and output gates
            c *= p_f  # c = (2 f c + 2 i tanh(g)) / 2
            numpy.multiply(p_i, z_g, out=tmp)
            c += tmp
            c *= 0.5
            numpy.tanh(c, out=tmp)
            numpy.multiply(p_o, tmp, out=h2_next)  # h2 = 2 o tanh(c)
            h2 = h2_next
        start = end
    return out


def _by_step(rows: numpy.ndarray, n_steps: int) -> numpy.ndarray:
    """Rows (directions, n_steps x size, width) of a run of steps as (n_steps, directions, size,
    width): a view, which a loop walks one step at a time."""
    n_directions, n_rows, width = rows.shape
    return rows.reshape(n_directions, n_steps, n_rows // n_steps, width).swapaxes(0, 1)


def _runs(sizes: List[int]) -> List[Tuple[int, int]]:
    """(batch size, number of consecutive steps with it) along the packed steps."""
    runs: List[Tuple[int, int]] = []
    for size in sizes:
        if runs and runs[-1][0] == size:
            runs[-1] = (size, runs[-1][1] + 1)
        else:
            runs.append((size, 1))
    return runs
