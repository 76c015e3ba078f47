"""The first LSTM layer's input gates of each token, for CPU tagging in float32: both such paths
(gate_tables.py in torch, numpy_steps.py in NumPy) read them from here.

A token's gates are the sum of one gate-table row per feature (gate_tables.py), the bias, the
projection of its new-value rows and of its character CNN's output, and of its static vector, if
any: the same pieces as `LSTMTaggerNet.input_parts`. They depend on the token's ids alone (and its
static vector), so without static vectors they are made once per distinct id row and found again
(`RowCache`, up to GATE_CACHE_BYTES of them, kept with these arrays and made again with them):
most words of a text have been seen before, and the table look-ups and the character CNN take a
quarter of a short Doc's time in the network, a sixth of a batch of 256 Docs'.
"""
from typing import TYPE_CHECKING, NamedTuple, Optional, Tuple

import numpy
import torch

from .columns import NEW_VALUE_HASHES, NEW_VALUE_SCALE
from .network import LSTMTaggerNet
from .row_cache import RowCache

if TYPE_CHECKING:
    from .gate_tables import GateTables

GATE_CACHE_BYTES = 32 * 2**20
"""The most memory the cache of gates takes: 8,192 id rows of the default config (4 KB each),
enough for the words that make up most of a text."""


class FirstGates(NamedTuple):
    """Arrays derived from the weights, with the cache of each id row's gates."""

    rows: numpy.ndarray  # the gate tables' rows (a view, not a copy), then `offsets` per feature
    offsets: numpy.ndarray
    bias: numpy.ndarray  # (directions x 4 x hidden,)
    chars: Optional[Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]]
    # ^ the character CNN: embedding, window weight (3 x char embed width, width), its bias, and
    #   the first layer's weight on its output (width, directions x 4 x hidden)
    new_values: Optional[Tuple[numpy.ndarray, numpy.ndarray]]  # the new-value table, and per feature the weight on its rows
    static_weight: Optional[torch.Tensor]  # (vectors width, directions x 4 x hidden)
    cache: RowCache  # the gates per id row, made as they are needed


def make_first_gates(network: LSTMTaggerNet, tables: "GateTables") -> FirstGates:
    """The arrays for the network and its gate tables, and an empty cache."""

    def array(tensor: torch.Tensor) -> numpy.ndarray:
        return tensor.detach().contiguous().numpy()

    chars = None
    if network.chars is not None:
        cnn = network.chars
        chars = (array(cnn.embedding.weight), array(cnn.window.weight.T), array(cnn.window.bias),
                 array(tables.char_weight.T))
    new_values = None
    if network.new_values is not None:
        weight = tables.embed_weight.T * NEW_VALUE_SCALE  # per feature, (embed width, directions x 4 x hidden)
        new_values = (array(network.new_values.weight), array(weight.reshape(len(network.embeddings), -1, weight.shape[1])))
    static_weight = tables.static_weight.T.contiguous() if tables.static_weight is not None else None
    row_bytes = tables.biases[0].numel() * tables.biases[0].element_size()
    return FirstGates(tables.rows.numpy(), tables.offsets.numpy(), array(tables.biases[0]), chars, new_values,
                      static_weight, RowCache(max(1, GATE_CACHE_BYTES // row_bytes)))


def first_layer_gates(network: LSTMTaggerNet, first: FirstGates, ids: numpy.ndarray,
                      static: Optional[numpy.ndarray]) -> numpy.ndarray:
    """Each token's first-layer input gates (n_tokens, directions x 4 x hidden), both directions
    side by side, biases included, as a new array; without static vectors, from the cache."""
    if static is not None:
        return _input_gates(network, first, ids, static)
    ids = numpy.ascontiguousarray(ids)
    keys = ids.view(numpy.dtype((numpy.void, ids.shape[1] * ids.itemsize))).reshape(-1)
    return first.cache.lookup(first, keys, lambda new_keys: _input_gates(
        network, first, numpy.frombuffer(b"".join(new_keys), dtype=ids.dtype).reshape(len(new_keys), ids.shape[1]), None))


def _input_gates(network: LSTMTaggerNet, first: FirstGates, ids: numpy.ndarray,
                 static: Optional[numpy.ndarray]) -> numpy.ndarray:
    columns = network.columns
    feature_rows = ids[:, columns.features] + first.offsets
    gates = first.rows[feature_rows[:, 0]]
    for feature in range(1, columns.n_features):
        gates += first.rows[feature_rows[:, feature]]
    gates += first.bias
    if first.new_values is not None:
        table, weight = first.new_values
        new_ids = ids[:, columns.new]
        tokens = new_ids.any(axis=1).nonzero()[0]
        if len(tokens):
            # Only the features with a new value read their slice of the weight: a new word's
            # other features are known, and the whole weight is larger than the CPU's cache.
            new_ids = new_ids[tokens].reshape(len(tokens), columns.n_features, NEW_VALUE_HASHES)
            for feature in new_ids.any(axis=(0, 2)).nonzero()[0]:
                gates[tokens] += _times(table[new_ids[:, feature]].sum(axis=1), weight[feature])
    if first.chars is not None:
        gates += _times(char_cnn(ids[:, columns.chars], *first.chars[:3]), first.chars[3])
    if static is not None:
        gates += product(static.astype(gates.dtype), first.static_weight)
    return gates


def product(rows: numpy.ndarray, weight: torch.Tensor) -> numpy.ndarray:
    """rows @ weight, by torch, as a NumPy array: torch's CPU kernel is the faster at the sizes
    of a few Docs (89 against NumPy's 168 µs for the second layer's input of a 13-token Doc)."""
    return torch.from_numpy(rows).matmul(weight).numpy()


NUMPY_PRODUCT_SIZE = 65536 * 4
"""`_times` leaves to NumPy a product of at most this many multiply-adds: the size up to which
NumPy's BLAS (OpenBLAS) runs it on the calling thread alone."""


def _times(rows: numpy.ndarray, weight: numpy.ndarray) -> numpy.ndarray:
    """rows (n, k) @ weight (k, m): NumPy's for a small product (a Doc's few new words), whose
    call costs less; torch's for a larger one, whose kernel is then the faster, on torch's
    threads. NumPy's BLAS would start threads of its own for it, which keep spinning beside
    torch's after the product: with 2 threads, batches of 256 Docs took twice as long."""
    if rows.size * weight.shape[1] <= NUMPY_PRODUCT_SIZE:
        return rows @ weight
    return product(rows, torch.from_numpy(weight))


def char_cnn(char_ids: numpy.ndarray, embedding: numpy.ndarray, window: numpy.ndarray,
             bias: numpy.ndarray) -> numpy.ndarray:
    """CharCNN's output (n_words, width): embed, convolve over 3-character windows, max-pool."""
    n_words, n_chars = char_ids.shape
    chars = numpy.zeros((n_words, n_chars + 2, embedding.shape[1]), dtype=embedding.dtype)  # a zero row at each end
    chars[:, 1:-1] = embedding[char_ids]
    # NumPy multiplies each word's (characters, 3 x char embed width) rows by the window weight
    # as one small BLAS call, which its BLAS runs on the calling thread alone.
    hidden = numpy.concatenate([chars[:, :-2], chars[:, 1:-1], chars[:, 2:]], axis=2) @ window
    hidden += bias
    hidden[char_ids == 0] = 0.0  # padding takes no part in the pooling
    numpy.maximum(hidden, 0.0, out=hidden)
    return hidden.max(axis=1)
