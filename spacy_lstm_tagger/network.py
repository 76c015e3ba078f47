"""The PyTorch network: feature embeddings (and a character CNN) -> (Bi)LSTM over packed
sentences -> linear."""
import functools
import os
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from .dropout import apply_dropout
from .lstm_by_length import run_lstm_by_length
from .util import NEW_VALUE_HASHES, NEW_VALUE_SCALE


def _one_thread_in_child() -> None:
    """In every child forked from a process that imported this module: one torch thread.

    A forked child (a worker of `nlp.pipe(n_process=2)`, of gunicorn or of Celery) hangs in its
    first parallel CPU kernel if its parent had started torch's OpenMP thread pool, which any
    multi-threaded torch operation does (initializing or loading a model, tagging): the child
    inherits the pool without its threads. One thread each is also what several worker
    processes want. The README says how to undo it.
    """
    torch.set_num_threads(1)


os.register_at_fork(after_in_child=_one_thread_in_child)


@functools.lru_cache(maxsize=None)
def native_bfloat16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AVX-512 BF16 or AMX); warns, once, if
    not: there, bfloat16 would be emulated, slower than float32."""
    supported = bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())
    if not supported:
        warnings.warn("lstm_tagger: cpu_bfloat16 = true, but this CPU has no native bfloat16 "
                      "instructions (AVX-512 BF16 or AMX); training in float32")
    return supported


class LSTMTaggerNet(nn.Module):
    """Embed each token's feature ids, run an LSTM over each sentence, score each tag.

    The embedding tables and the output layer are sized by `resize`, once the
    feature vocabularies and the label set are known. Row 0 of every table is
    the unknown-feature row. The dropout rates come with each call to `forward`, never
    from the module's train/eval mode, so that threads tagging at once cannot change
    each other's results.

    n_features (int): Number of feature ids per token (one table each).
    embed_width (int): Width of each feature's embedding.
    hidden_width (int): LSTM hidden size per direction.
    depth (int): Number of stacked LSTM layers.
    bidirectional (bool): Whether to run the LSTM in both directions.
    char_width (int): Output width of the character CNN over the id columns after the
        features (0: no character CNN).
    new_value_rows (int): Rows of a hashed table, shared by the features, whose rows are
        added to the unknown row of a value the feature tables were built without (the
        last id columns, NEW_VALUE_HASHES per feature; 0 reads no row), times NEW_VALUE_SCALE.
        It starts at zero, so it changes nothing until training shows such values (0: no
        such table).
    zero_output (bool): Start the output layer at zero, so that every tag starts equally
        likely, as spaCy's Softmax_v2 does.
    static_vectors (bool): Add a learned linear projection of each token's static vector
        (given to `forward`) to its embeddings; `resize_static_vectors` sets the vectors' width.
    cpu_bfloat16 (bool): Train the LSTM's kernels in bfloat16 on a CPU that has native
        bfloat16 instructions (see `native_bfloat16`).
    """

    def __init__(
        self,
        n_features: int,
        embed_width: int,
        hidden_width: int,
        depth: int,
        bidirectional: bool,
        char_width: int = 0,
        new_value_rows: int = 0,
        zero_output: bool = False,
        static_vectors: bool = False,
        cpu_bfloat16: bool = False,
    ):
        super().__init__()
        self.cpu_bfloat16 = cpu_bfloat16
        self.embed_width = embed_width
        self.zero_output = zero_output
        self.embeddings = nn.ModuleList(nn.Embedding(1, embed_width) for _ in range(n_features))
        self.chars = CharCNN(char_width) if char_width else None
        self.new_values = None
        if new_value_rows:
            self.new_values = nn.Embedding(new_value_rows + 1, embed_width, padding_idx=0)
            nn.init.zeros_(self.new_values.weight)
        # Its between-layer dropout is set per call (see `_run_lstm`).
        self.lstm = nn.LSTM(n_features * embed_width + char_width, hidden_width, num_layers=depth,
                            bidirectional=bidirectional)
        self.output_width = hidden_width * (2 if bidirectional else 1)
        with warnings.catch_warnings():  # no labels yet: torch warns about initializing 0 rows
            warnings.simplefilter("ignore", UserWarning)
            self.output = nn.Linear(self.output_width, 0)
        input_width = n_features * embed_width + char_width
        self.static_vectors = nn.Linear(1, input_width, bias=False) if static_vectors else None

    @property
    def n_labels(self) -> int:
        return self.output.out_features

    def table_names(self) -> List[str]:
        """The state_dict names of the embedding tables `resize` sizes, in its order."""
        names = [f"embeddings.{i}.weight" for i in range(len(self.embeddings))]
        return names + (["chars.embedding.weight"] if self.chars is not None else [])

    def resize(self, n_rows: Sequence[int], n_labels: int) -> None:
        """Give the embedding tables (the features', then the characters') and the output
        layer their sizes, on the LSTM's device."""
        if len(n_rows) != len(self.table_names()):
            raise ValueError(f"Expected {len(self.table_names())} table sizes, got {len(n_rows)}")
        device = next(self.lstm.parameters()).device
        n_features = len(self.embeddings)
        self.embeddings = nn.ModuleList(
            nn.Embedding(n, self.embed_width) for n in n_rows[:n_features]
        ).to(device)
        if self.chars is not None:
            self.chars.resize(n_rows[n_features])
        self.output = nn.Linear(self.output_width, n_labels).to(device)
        if self.zero_output:
            nn.init.zeros_(self.output.weight)
            nn.init.zeros_(self.output.bias)

    def resize_static_vectors(self, width: int) -> None:
        """Give the static vectors' projection the vectors' width, on its device."""
        device = self.static_vectors.weight.device
        self.static_vectors = nn.Linear(width, self.static_vectors.out_features, bias=False).to(device)

    def forward(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        dropout: float = 0.0,
        feature_dropout: float = 0.0,
        static: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Score the tags of a batch of sentences laid end to end.

        ids (torch.Tensor): int64 (n_tokens, n_features [+ n_chars] [+ new-value columns]),
            the sentences concatenated.
        lengths (torch.Tensor): int64 on the CPU, each sentence's length, none zero.
        dropout (float): Dropout rate on the embeddings, between LSTM layers and before
            the output layer (0 when tagging).
        feature_dropout (float): Chance of replacing each feature with the unknown one.
        static (Optional[torch.Tensor]): float (n_tokens, width), each token's static vector,
            in the order of `ids`, if the network has a projection for them.
        RETURNS (torch.Tensor): Logits (n_tokens, n_labels), in the order of `ids`.
        """
        if ids.shape[0] == 0:
            return torch.zeros((0, self.n_labels), device=ids.device)
        n_features, n_new = len(self.embeddings), self.n_new_value_columns
        if feature_dropout > 0:
            unknown = torch.rand((ids.shape[0], n_features), device=ids.device) < feature_dropout
            columns = [ids[:, :n_features].masked_fill(unknown, 0), ids[:, n_features : ids.shape[1] - n_new]]
            if n_new:  # an unknown value has no new-value rows either
                columns.append(ids[:, -n_new:].masked_fill(unknown.repeat_interleave(NEW_VALUE_HASHES, dim=1), 0))
            ids = torch.cat(columns, dim=1)
        if torch.is_grad_enabled() and ids.device.type == "cpu":  # training on a CPU: see lstm_by_length.py
            vectors = apply_dropout(self._embed(ids, static), dropout)
            dtype = torch.bfloat16 if self.cpu_bfloat16 and native_bfloat16() else torch.float32
            hidden = run_lstm_by_length(self.lstm, vectors, lengths.numpy(), dropout, dtype)
            return self.output(apply_dropout(hidden, dropout))
        order, batch_sizes = packing_order(lengths)
        order = order.to(ids.device)
        vectors = apply_dropout(self._embed(ids[order], None if static is None else static[order]), dropout)
        hidden = self._run_lstm(PackedSequence(vectors, batch_sizes), dropout)
        packed_logits = self.output(apply_dropout(hidden.data, dropout))
        logits = torch.empty_like(packed_logits)
        logits[order] = packed_logits
        return logits

    def _embed(self, ids: torch.Tensor, static: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Each token's input vector: its features' rows (plus their new-value rows), then the
        character CNN's output; plus the projection of its static vector, if given."""
        vectors = [table(ids[:, i]) for i, table in enumerate(self.embeddings)]
        new = self.new_value_rows(ids)
        if new is not None:
            tokens, rows = new
            vectors = [torch.cat(vectors, dim=1).index_add(0, tokens, rows, alpha=NEW_VALUE_SCALE)]
        if self.chars is not None:
            vectors.append(self.chars(self.char_ids(ids)))
        if static is None:
            return torch.cat(vectors, dim=1)
        return torch.cat(vectors, dim=1) + self.static_vectors(static.to(vectors[0].dtype))

    def new_value_rows(self, ids: torch.Tensor) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """The tokens with a value `initialize` never saw, and their new-value rows summed per
        feature, (n, n_features x embed width), before NEW_VALUE_SCALE; None if no token has one.
        Only those tokens read the table: the others' rows are zero."""
        if self.new_values is None:
            return None
        n_features = len(self.embeddings)
        new_ids = ids[:, -self.n_new_value_columns :]
        tokens = new_ids.any(dim=1).nonzero().squeeze(1)
        if not len(tokens):
            return None
        rows = self.new_values(new_ids[tokens]).view(len(tokens), n_features, NEW_VALUE_HASHES, -1)
        return tokens, rows.sum(dim=2).flatten(1)

    @property
    def n_new_value_columns(self) -> int:
        """The number of new-value id columns, the last ones: NEW_VALUE_HASHES per feature, or 0."""
        return len(self.embeddings) * NEW_VALUE_HASHES if self.new_values is not None else 0

    def char_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """The character id columns of `ids` (between the features' and the new-value ones)."""
        return ids[:, len(self.embeddings) : ids.shape[1] - self.n_new_value_columns]

    def _run_lstm(self, packed: PackedSequence, dropout: float) -> PackedSequence:
        """The LSTM over the packed vectors, with `dropout` between its layers.

        nn.LSTM reads that rate, and whether to apply it, from its own attributes: the rate is
        set for a training call alone and is 0 otherwise, so whatever the module's mode, no
        other call drops anything. Training and tagging with one network from two threads at
        once is therefore not supported (the weights change under the tagger anyway).
        """
        if dropout == 0.0 or self.lstm.num_layers == 1:
            return self.lstm(packed)[0]
        mode = self.lstm.training
        self.lstm.dropout, self.lstm.training = dropout, True
        try:
            return self.lstm(packed)[0]
        finally:
            self.lstm.dropout, self.lstm.training = 0.0, mode


class CharCNN(nn.Module):
    """Embed each character of a word, convolve over 3-character windows, max-pool.

    The convolution is one matrix product over the windows laid side by side: on a CPU,
    `Conv1d` with so few channels is several times slower. Character id 0 is padding: its
    embedding is zero and it takes no part in the pooling.
    """

    def __init__(self, width: int, embed_width: int = 16):
        super().__init__()
        self.embed_width = embed_width
        self.embedding = nn.Embedding(2, embed_width, padding_idx=0)
        self.window = nn.Linear(3 * embed_width, width)

    def resize(self, n_rows: int) -> None:
        """Give the character table its size, on the convolution's device."""
        self.embedding = nn.Embedding(n_rows, self.embed_width, padding_idx=0).to(self.window.weight.device)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """char_ids: int64 (n_words, n_chars) -> float (n_words, width), computed once for each
        distinct row (a batch repeats its frequent words many times)."""
        distinct, inverse = unique_rows(char_ids)
        return self._encode(distinct)[inverse]

    def _encode(self, char_ids: torch.Tensor) -> torch.Tensor:
        chars = nn.functional.pad(self.embedding(char_ids), (0, 0, 1, 1))  # a zero row at each end
        windows = torch.cat([chars[:, :-2], chars[:, 1:-1], chars[:, 2:]], dim=2)
        # In place: a fresh (n_words, n_chars, width) tensor costs more in page faults than in work.
        hidden = self.window(windows).masked_fill_((char_ids == 0).unsqueeze(2), 0.0).relu_()
        return hidden.amax(dim=1)


def unique_rows(ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of a 2D int64 tensor, and for each row the index of its distinct row.

    On the CPU in NumPy, each row viewed as one opaque value: several times faster than
    torch.unique(dim=0), which sorts column by column.
    """
    if ids.device.type != "cpu":
        return torch.unique(ids, dim=0, return_inverse=True)
    array = numpy.ascontiguousarray(ids.numpy())
    rows = array.view(numpy.dtype((numpy.void, array.dtype.itemsize * array.shape[1]))).reshape(-1)
    _, first, inverse = numpy.unique(rows, return_index=True, return_inverse=True)
    return ids[torch.from_numpy(first)], torch.from_numpy(inverse.reshape(-1))


def packing_order(lengths: torch.Tensor, reverse: bool = False):
    """Where each step of a PackedSequence reads from, for sentences laid end to end.

    Vectorized over the whole batch, in NumPy (small CPU ops cost less there): no tensor
    per sentence, and no padded matrix, so a batch of many short sentences beside one
    very long one stays cheap.

    lengths (torch.Tensor): int64 on the CPU, each sentence's length, none zero.
    reverse (bool): Read each sentence from its last token to its first.
    RETURNS (Tuple[torch.Tensor, torch.Tensor]): The token index of each packed row, and
        the PackedSequence's batch sizes (sentences still running at each time step).
    """
    lengths = lengths.numpy()
    by_length = numpy.argsort(-lengths, kind="stable")
    starts = (numpy.cumsum(lengths) - lengths)[by_length]
    max_length = int(lengths[by_length[0]])
    ended_by = numpy.cumsum(numpy.bincount(lengths, minlength=max_length + 1))[:max_length]
    batch_sizes = len(lengths) - ended_by
    step_starts = numpy.cumsum(batch_sizes) - batch_sizes
    steps = numpy.repeat(numpy.arange(max_length), batch_sizes)
    ranks = numpy.arange(len(steps)) - numpy.repeat(step_starts, batch_sizes)
    if reverse:
        steps = lengths[by_length][ranks] - 1 - steps
    return torch.from_numpy(starts[ranks] + steps), torch.from_numpy(batch_sizes)
