"""The one place that decides how the network runs, from what it is told.

| path | when | what runs the LSTM |
| --- | --- | --- |
| `padded` | training on a CPU | one-layer kernels over padded groups of similar length (padded_lstm.py), in bfloat16 where asked and native |
| `packed` | on a GPU; tagging on a CPU in another dtype than float32 | nn.LSTM over a PackedSequence |
| `gate_tables` | tagging on a CPU in float32, at least MIN_TOKENS_PER_STEP tokens per time step | the recurrence from gate tables, in torch (gate_tables.py) |
| `numpy_steps` | tagging on a CPU in float32, fewer tokens per time step (one Doc at a time, a few Docs, long Docs' windows) | the recurrence from gate tables, in NumPy (numpy_steps.py) |
| `int8` | tagging on a CPU with `quantize` | the packed path on an int8 copy of the LSTM and output layer (int8.py) |

An encoder network (the v3 architecture's, and `spacy pretrain`'s) asks for its LSTM states, not
logits: it trains on the `padded` path on a CPU and runs the `packed` path otherwise (tagging goes
through the whole tagger network, encoder and output layer joined, on the paths above).

The `padded`, `packed` and `int8` paths take their input vectors from `LSTMTaggerNet.input_parts`;
the two float32 CPU tagging paths take the first layer's input gates from first_gates.py, which
both share, with its cache. Every path takes its packing order from packing.py, its weights per
layer from lstm_weights.py and its dropout from dropout.py. When tagging, a very long sequence is
cut into overlapping windows first (windows.py), so that memory stays bounded. What is derived
from the weights (the gate tables, the first layer's gates and their cache, the step weights, the
int8 copy) is kept here, and made again when any weight changes.
"""
import functools
import warnings
from typing import Callable, NamedTuple, Optional, Tuple

import torch
from torch.nn.utils.rnn import PackedSequence

from . import gate_tables, numpy_steps
from .dropout import apply_dropout
from .first_gates import FirstGates, make_first_gates
from .lstm_weights import directions, layer_input, layer_weights
from .network import LSTMEncoderNet, LSTMTaggerNet
from .packing import packing_order
from .padded_lstm import run_lstm_by_length
from .windows import plan_windows

PADDED, PACKED, GATE_TABLES, NUMPY_STEPS, INT8 = "padded", "packed", "gate_tables", "numpy_steps", "int8"


class Head(NamedTuple):
    """What a call gives back: the LSTM states of the first `depth` layers, or (not `states`)
    the output layer's logits from all of them."""

    states: bool
    depth: int


LOGITS = Head(False, 0)


def choose_path(*, device: torch.device, training: bool, dtype: torch.dtype, quantize: bool,
                tokens_per_step: float, states: bool = False) -> str:
    """How a call runs, from the device, whether it trains, the weights' dtype, `quantize`, the
    tokens per time step (the number of tokens over the longest sentence's length), and whether
    it asks for the LSTM states rather than logits."""
    if states:
        if quantize:
            raise ValueError("lstm_tagger: quantize = true tags with int8 weights; an encoder's states are float")
        return PADDED if training and device.type == "cpu" else PACKED
    if quantize:
        if training:
            raise ValueError("lstm_tagger: quantize = true is for tagging, with int8 weights that cannot learn; "
                             "train with quantize = false (the saved weights are the float ones)")
        if device.type != "cpu":
            raise ValueError(f"lstm_tagger: quantize = true makes int8 weights for tagging on a CPU, but this "
                             f"pipeline runs on {device}; set quantize = false on a GPU, where float32 tags fastest")
        return INT8
    if device.type != "cpu":
        return PACKED
    if training:
        return PADDED
    if dtype != torch.float32:
        return PACKED
    return GATE_TABLES if tokens_per_step >= gate_tables.MIN_TOKENS_PER_STEP else NUMPY_STEPS


def run(network: LSTMEncoderNet, ids: torch.Tensor, lengths: torch.Tensor, static: Optional[torch.Tensor] = None, *,
        training: bool, dropout: float = 0.0, feature_dropout: float = 0.0, quantize: bool = False,
        states: bool = False, depth: Optional[int] = None) -> torch.Tensor:
    """For `LSTMEncoderNet.forward`'s arguments, the network's logits (n_tokens, n_labels); with
    `states`, the LSTM states (n_tokens, output_width) of its first `depth` layers (all if None)."""
    if depth is not None and not states:
        raise ValueError("lstm_tagger: depth runs an encoder's first layers; a tagger network uses all of them")
    if ids.shape[0] == 0:
        width = network.output_width if states else network.n_labels
        return torch.zeros((0, width), device=ids.device)
    head = Head(states, depth or network.lstm.num_layers)
    if not training:
        with torch.no_grad():
            windows = plan_windows(lengths.numpy())
            if windows is not None:
                return _in_windows(network, ids, static, windows, quantize, head)
            return _run_path(network, ids, lengths, static, False, 0.0, 0.0, quantize, head)
    return _run_path(network, ids, lengths, static, True, dropout, feature_dropout, quantize, head)


def _run_path(network: LSTMEncoderNet, ids, lengths, static, training: bool, dropout: float, feature_dropout: float,
              quantize: bool, head: Head) -> torch.Tensor:
    path = choose_path(device=ids.device, training=training, dtype=network.lstm.weight_ih_l0.dtype,
                       quantize=quantize, tokens_per_step=len(ids) / int(lengths.numpy().max()), states=head.states)
    if feature_dropout > 0:
        ids = network.drop_features(ids, feature_dropout)
    return PATHS[path](network, ids, lengths, static, dropout, head)


def padded(network: LSTMEncoderNet, ids, lengths, static, dropout: float, head: Head = LOGITS) -> torch.Tensor:
    """The `padded` path: the padded groups' kernels, in bfloat16 where asked and native."""
    vectors = apply_dropout(network.embed(network.input_parts(ids, static)), dropout)
    dtype = torch.bfloat16 if network.cpu_bfloat16 and native_bfloat16() else torch.float32
    hidden = run_lstm_by_length(network.lstm, vectors, lengths.numpy(), dropout, dtype, head.depth or None)
    return _head(network, apply_dropout(hidden, dropout), head)


def packed(network: LSTMEncoderNet, ids, lengths, static, dropout: float, head: Head = LOGITS) -> torch.Tensor:
    """The `packed` path: nn.LSTM over a PackedSequence."""
    order, batch_sizes = map(torch.from_numpy, packing_order(lengths.numpy()))
    order = order.to(ids.device)
    parts = network.input_parts(ids[order], None if static is None else static[order])
    vectors = apply_dropout(network.embed(parts), dropout)
    hidden = _packed_lstm(network.lstm, PackedSequence(vectors, batch_sizes), dropout, head.depth or None)
    packed_rows = _head(network, apply_dropout(hidden, dropout), head)
    rows = torch.empty_like(packed_rows)
    rows[order] = packed_rows
    return rows


def _head(network: LSTMEncoderNet, hidden: torch.Tensor, head: Head) -> torch.Tensor:
    return hidden if head.states else network.output(hidden)


def from_gate_tables(network: LSTMTaggerNet, ids, lengths, static, dropout: float = 0.0,
                     head: Head = LOGITS) -> torch.Tensor:
    """The `gate_tables` path (tagging only: no dropout)."""
    tables, first = _derived(network, GATE_TABLES, _gate_tables)
    return gate_tables.logits(network, tables, first, ids, lengths, static)


def from_numpy_steps(network: LSTMTaggerNet, ids, lengths, static, dropout: float = 0.0,
                     head: Head = LOGITS) -> torch.Tensor:
    """The `numpy_steps` path (tagging only: no dropout)."""
    weights, first = _derived(network, NUMPY_STEPS, _step_weights)
    return numpy_steps.logits(network, weights, first, ids, lengths, static)


def _gate_tables(network: LSTMTaggerNet) -> Tuple[gate_tables.GateTables, FirstGates]:
    """The gate tables, and the first layer's gates made from them (with their cache), which
    both float32 CPU tagging paths read."""
    tables = gate_tables.make_tables(network)
    return tables, make_first_gates(network, tables)


def _step_weights(network: LSTMTaggerNet) -> Tuple[numpy_steps.StepWeights, FirstGates]:
    """The NumPy path's step weights, and the first layer's gates it shares with the torch path."""
    tables, first = _derived(network, GATE_TABLES, _gate_tables)
    return numpy_steps.make_weights(network, tables), first


def int8(network: LSTMTaggerNet, ids, lengths, static, dropout: float = 0.0,
         head: Head = LOGITS) -> torch.Tensor:
    """The `int8` path: the packed path on the int8 copy (tagging only: no dropout)."""
    return packed(_derived(network, INT8, _int8_copy), ids, lengths, static, 0.0)


def _packed_lstm(lstm, sequence: PackedSequence, dropout: float, depth: Optional[int] = None) -> torch.Tensor:
    """The output rows of the LSTM's first `depth` layers (all if None) over a PackedSequence;
    with dropout between layers, or fewer layers, layer by layer."""
    depth = depth or lstm.num_layers
    if depth == lstm.num_layers and (dropout == 0.0 or lstm.num_layers == 1):
        return lstm(sequence)[0].data
    hidden = sequence.data
    for layer in range(depth):
        weights = [weight for backward in directions(lstm) for weight in layer_weights(lstm, layer, backward)]
        start = hidden.new_zeros((len(directions(lstm)), int(sequence.batch_sizes[0]), lstm.hidden_size))
        hidden = torch.lstm(layer_input(hidden, layer, dropout), sequence.batch_sizes, (start, start), weights,
                            True, 1, 0.0, True, lstm.bidirectional)[0]
    return hidden


def _in_windows(network: LSTMEncoderNet, ids, static, windows, quantize: bool, head: Head) -> torch.Tensor:
    """Tag sequences too long to run whole, window group by window group (see windows.py)."""
    pieces = []
    for index, window_lengths in windows.groups():
        rows = torch.from_numpy(index).to(ids.device)
        pieces.append(_run_path(network, ids[rows], torch.from_numpy(window_lengths),
                                None if static is None else static[rows], False, 0.0, 0.0, quantize, head))
    return torch.cat(pieces)[torch.from_numpy(windows.take).to(ids.device)]


def _derived(network: LSTMTaggerNet, name: str, make: Callable):
    """What `make(network)` derives from the weights, kept until any weight changes (a new
    tensor, or one changed in place: the optimizer, `load_state_dict`, averaging). The cache is
    one tuple, replaced whole, so that threads tagging at once each read a consistent one. It
    holds the network's parameters, which only `resize` replaces (and it drops the cache): walking
    the modules for them costs more than tagging a short Doc."""
    parameters, key, values = getattr(network, "_derived", (None, None, {}))
    if parameters is None:
        parameters = tuple(network.parameters())
    now = tuple((p.data_ptr(), p._version) for p in parameters)
    if key == now and name in values:
        return values[name]
    with torch.no_grad():
        made = make(network)
    _, key, values = getattr(network, "_derived", (None, None, {}))  # `make` may have derived more
    network._derived = (parameters, now, {**(values if key == now else {}), name: made})
    return made


PATHS = {PADDED: padded, PACKED: packed, GATE_TABLES: from_gate_tables, NUMPY_STEPS: from_numpy_steps, INT8: int8}
"""Each path's function: (network, ids, lengths, static, dropout, head) -> logits, or states for
the paths an encoder takes."""


def _int8_copy(network: LSTMTaggerNet) -> LSTMTaggerNet:
    from .int8 import int8_copy  # torch.ao only when asked for

    return int8_copy(network)


@functools.lru_cache(maxsize=None)
def native_bfloat16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AVX-512 BF16 or AMX); warns, once, if
    not: there, bfloat16 would be emulated, slower than float32."""
    supported = bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())
    if not supported:
        warnings.warn("lstm_tagger: cpu_bfloat16 = true, but this CPU has no native bfloat16 "
                      "instructions (AVX-512 BF16 or AMX); training in float32")
    return supported
